//! The `payments` table group.
