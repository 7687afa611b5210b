//! What a verified delivery means for revenue, in provider-neutral terms. Each provider's
//! `payload` module turns its JSON into a [`Parsed`]; ingest applies the [`Effect`] to the store.

/// A delivery body, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The event type as the provider names it (`payment.succeeded`, `transaction.completed`).
    pub event_type: String,
    /// The provider's id of the event inside the body (`msg_...`, `evt_...`), when present.
    pub body_event_id: Option<String>,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Money received: record (or update) one payment.
    Payment(PaymentFact),
    /// A refund (or refund-like adjustment): record (or update) one refund row.
    Refund(RefundFact),
    /// Understood, deliberately not revenue (payment.failed, payment.pending, disputes, unknown
    /// event types). `reason` is shown in the inspector.
    Ignored { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFact {
    pub provider_payment_id: String,
    /// Minor units of `currency` (cents for USD, yen for JPY, fils/1000 for KWD).
    pub amount_minor: i64,
    /// Upper-case ISO 4217.
    pub currency: String,
    /// The provider's status word (`succeeded`, `paid`, `completed`).
    pub status: String,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub attribution_token: Option<String>,
    pub order_id: Option<String>,
    pub customer_email: Option<String>,
    /// Unix milliseconds, when the provider says when it was paid.
    pub paid_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFact {
    pub provider_refund_id: String,
    pub provider_payment_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    /// True once the refund is final (Whop `succeeded`, Paddle `approved`): only then does it
    /// reduce the payment's net revenue.
    pub counts: bool,
}

/// Why a verified body could not be understood. The delivery is kept and marked `failed` with
/// this message; it can be reprocessed after a fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
