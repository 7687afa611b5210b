//! Attribution: tying payments to the visits that produced them. The signed token the event
//! endpoint hands the browser (`token`), which visitor and session a payment's checkout names
//! (`link`), the three models (`models`), the revenue API (`revenue_api`) and the reports
//! (`reports`).

pub mod link;
pub mod models;
pub mod reports;
pub mod revenue_api;
pub mod token;
