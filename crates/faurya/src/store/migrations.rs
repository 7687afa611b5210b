//! Schema migrations: plain `.sql` files in `crates/faurya/migrations/`, applied in order at
//! start. The applied version lives in SQLite's `user_version`. A database a newer Faurya has
//! migrated further is refused instead of being opened with the wrong idea of its schema.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, MigrationDefinitionError, Migrations};

use super::{Result, StoreError};

/// The migrations, oldest first. Never edit a released file: add the next one.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../migrations/0001_init.sql")),
    M::up(include_str!("../../migrations/0002_delivery_search.sql")),
    M::up(include_str!("../../migrations/0003_tracking.sql")),
    // Rebuilds `connections`: checked for dangling references before it commits.
    M::up(include_str!("../../migrations/0004_attribution.sql")).foreign_key_check(),
    M::up(include_str!("../../migrations/0005_revenue_rollups.sql")),
    M::up(include_str!("../../migrations/0006_payment_refunded.sql")),
    M::up(include_str!("../../migrations/0007_attribution_rollups.sql")),
    M::up(include_str!("../../migrations/0008_test_payments_forwarding.sql")),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], all in one transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, known: SCHEMA_VERSION });
    }
    // A migration that rebuilds a table (SQLite cannot alter a constraint in place) drops the old
    // one while other tables still point at it: foreign keys are off while migrating (they cannot
    // be switched inside the migration's transaction), and such migrations run SQLite's
    // foreign_key_check before committing instead.
    conn.pragma_update(None, "foreign_keys", false)?;
    let migrated = Migrations::from_slice(MIGRATIONS).to_latest(conn).map_err(|e| match e {
        rusqlite_migration::Error::MigrationDefinition(MigrationDefinitionError::DatabaseTooFarAhead) => {
            StoreError::TooNew { path: path.to_path_buf(), found, known: SCHEMA_VERSION }
        }
        other => StoreError::Migration(other.to_string()),
    });
    conn.pragma_update(None, "foreign_keys", true)?;
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        Migrations::from_slice(MIGRATIONS).validate().unwrap();
    }
}
