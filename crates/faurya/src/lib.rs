//! Faurya: self-hosted revenue attribution. Provider webhooks (Whop, Paddle) arrive through a
//! tunnel at the public listener, are verified, stored byte-exact in SQLite, deduplicated, and
//! turned into payments tied to the visitor and session that started checkout. The admin
//! listener serves the UI and its API.
//!
//! This crate is the whole product and knows nothing of Tauri; the desktop shell only starts
//! [`App`] and opens a window on its admin URL.

pub mod app;
pub mod attribution;
pub mod backfill;
pub mod backup;
pub mod config;
pub mod connections;
pub mod desktop;
pub mod forwarding;
pub mod fuzz_targets;
pub mod http;
pub mod ingest;
pub mod live;
pub mod money;
pub mod providers;
pub mod rotate_key;
pub mod secrets;
pub mod store;
pub mod test_payment;
pub mod tracking;
pub mod tunnel;
pub mod webhook_sync;

pub use app::{App, AppState, RunningApp, StartError};
pub use config::Config;
