//! Paddle Billing: the notification-settings API client, `Paddle-Signature` verification, and
//! payload parsing. Facts: shared/providers/paddle.md and the OpenAPI spec.

pub mod client;
pub mod payload;
pub mod signature;
