//! Attribution: tying payments to the visits that produced them. So far the signed token the
//! event endpoint hands the browser; linking, the models and the revenue API build on it.

pub mod token;
