//! The `connections` table group.
