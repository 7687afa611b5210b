//! The `deliveries` table group.
