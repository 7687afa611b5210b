//! Whop: the webhook API client, Standard Webhooks signature verification, and payload parsing.
//! Facts: shared/providers/whop.md.

pub mod client;
pub mod payload;
pub mod signature;
