//! Payment providers. Each provider module has the same shape: an API client for its webhook
//! endpoints, signature verification of deliveries, and payload parsing into payments and
//! refunds. Everything shared (sealing, storage, dedupe, the inspector) lives outside them.

pub mod event;
pub mod fields;
pub mod paddle;
pub mod signature;
pub mod transport;
pub mod whop;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Which of a provider's two worlds a connection lives in. They share no keys or accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "production" => Some(Environment::Production),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }
}

/// The providers Faurya connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Whop,
    Paddle,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Whop => "whop",
            Provider::Paddle => "paddle",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "whop" => Some(Provider::Whop),
            "paddle" => Some(Provider::Paddle),
            _ => None,
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Whop => "Whop",
            Provider::Paddle => "Paddle",
        }
    }
}

/// What went wrong talking to a provider, with a message the founder can act on.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// The key was rejected (wrong key, or the other environment's key).
    Unauthorized,
    /// The key is valid but may not do this (missing permission, other account).
    Forbidden,
    /// The thing addressed does not exist (unknown company, deleted webhook).
    NotFound,
    /// The provider refuses a duplicate.
    Conflict,
    /// The provider rejected the request's content.
    Invalid,
    RateLimited,
    Timeout,
    Unreachable,
    /// Any other error answer, or an answer not in the documented shape.
    Upstream,
}

impl ProviderError {
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What Faurya answers when a provider call fails. A refusal of what the founder typed (the
    /// key, its permissions, the company id, the request) is the founder's to fix: 422 with the
    /// provider's reason. 502 and 504 are kept for the provider being down, broken or slow, where
    /// retrying later is the fix.
    pub fn http_status(&self) -> StatusCode {
        match self.kind {
            ProviderErrorKind::Unauthorized
            | ProviderErrorKind::Forbidden
            | ProviderErrorKind::NotFound
            | ProviderErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ProviderErrorKind::Conflict => StatusCode::CONFLICT,
            ProviderErrorKind::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
            ProviderErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ProviderErrorKind::Unreachable | ProviderErrorKind::Upstream => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn code(&self) -> &'static str {
        match self.kind {
            ProviderErrorKind::Unauthorized => "provider_unauthorized",
            ProviderErrorKind::Forbidden => "provider_forbidden",
            ProviderErrorKind::NotFound => "provider_not_found",
            ProviderErrorKind::Conflict => "provider_conflict",
            ProviderErrorKind::Invalid => "provider_invalid_request",
            ProviderErrorKind::RateLimited => "provider_rate_limited",
            ProviderErrorKind::Timeout => "provider_timeout",
            ProviderErrorKind::Unreachable => "provider_unreachable",
            ProviderErrorKind::Upstream => "provider_error",
        }
    }
}
