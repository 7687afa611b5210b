//! Migrations on an empty and on an existing database, and the refusal of a newer one.

use faurya::store::{SCHEMA_VERSION, Store, StoreError, settings};

fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

fn tables(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn an_empty_database_gets_the_whole_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let names = tables(&path);
    for table in ["connections", "deliveries", "payments", "refunds", "rejected_deliveries", "settings"] {
        assert!(names.iter().any(|n| n == table), "missing {table} in {names:?}");
    }
    let mode: String = store.read(|c| Ok(c.pragma_query_value(None, "journal_mode", |r| r.get(0))?)).await.unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    store.close().await;
}

#[tokio::test]
async fn an_existing_database_keeps_its_data_across_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let store = Store::open(&path).unwrap();
    store.write(|c| settings::set(c, "public_url", "https://kept.example.com")).await.unwrap();
    store.close().await;
    drop(store);

    let store = Store::open(&path).unwrap();
    let value = store.read(|c| settings::get(c, "public_url")).await.unwrap();
    assert_eq!(value.as_deref(), Some("https://kept.example.com"));
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    store.close().await;
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    Store::open(&path).unwrap().close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    drop(conn);
    match Store::open(&path) {
        Err(StoreError::TooNew { found, known, .. }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(known, SCHEMA_VERSION);
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer database must be refused"),
    }
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = faurya::Config::ephemeral(dir.path().join("data"));
    config.master_key = Some(base64_key(1));
    config.admin_token = Some("x".repeat(32));
    faurya::App::start(config.clone()).await.unwrap().shutdown().await;
    config.master_key = Some(base64_key(2));
    let err = faurya::App::start(config).await.err().expect("refused");
    assert!(err.to_string().contains("not the key that sealed them"), "{err}");
}

fn base64_key(byte: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// A database left at version 1 (as an older Faurya wrote it) is brought to the current schema
/// with its data intact, and the search index covers the deliveries stored before it existed.
#[tokio::test]
async fn a_version_1_database_is_migrated_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql")).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO connections (id, provider, environment, account_id, key_last4, status, created_at)
               VALUES ('con_old', 'whop', 'production', 'biz_1', 'abcd', 'active', 0);
             INSERT INTO deliveries (connection_id, provider, delivery_id, received_at, headers, body, status)
               VALUES ('con_old', 'whop', 'msg_old', 1, '[]', CAST('{\"data\":{\"id\":\"pay_from_before\"}}' AS BLOB), 'processed');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let filter = faurya::store::deliveries::Filter { query: Some("pay_from_before".into()), ..Default::default() };
    let found = store.read(move |c| faurya::store::deliveries::list(c, &filter, None, 10)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].delivery_id, "msg_old");
    assert_eq!(found[0].note, None, "the new column exists, empty for old rows");
    store.close().await;
}
