//! One error type for every handler, turned into the HTTP answer
//! `{"error": {"code", "message", "fields"?}}` with a status that fits.
//!
//! Messages are written for the founder reading them in the UI: say what happened and what to
//! do. Internal details (SQL errors, panics) go to the log, never into an answer.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::providers::ProviderError;
use crate::secrets::SecretError;
use crate::store::StoreError;

/// Field name → what is wrong with it, shown under that field in the UI.
pub type FieldErrors = BTreeMap<&'static str, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Sign in first: open the admin login URL that `faurya serve` printed, or send the admin token as a Bearer header."
    )]
    Unauthorized,
    #[error(
        "This admin listener only answers requests for 127.0.0.1 or localhost, not {0:?}. Use http://127.0.0.1:<port>, or start with --admin-host if a proxy forwards another name."
    )]
    ForbiddenHost(String),
    #[error("Cross-origin request refused: the admin API only accepts changes from its own UI.")]
    ForbiddenOrigin,
    #[error("{0}")]
    NotFound(String),
    #[error("This path does not accept {0} requests.")]
    MethodNotAllowed(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("Some fields need fixing.")]
    Invalid(FieldErrors),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Refused for who is asking (a page on a domain the site does not list, a wrong key).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The revenue API's site id and write key do not match a site.
    #[error(
        "Send the x-faurya-site-id and x-faurya-write-key headers of one of your sites (Faurya's Tracking page shows both)."
    )]
    BadCredentials,
    #[error("Too many requests from this address; try again in {retry_after_secs} s.")]
    TooManyRequests { retry_after_secs: u64 },
    /// Faurya cannot take this now (the store is saturated); the sender should retry.
    #[error("{message}")]
    Unavailable { message: String, retry_after_secs: u64 },
    #[error("{0}")]
    PublicUrlMissing(String),
    #[error("{0}")]
    Gone(String),
    #[error("The request body is larger than the {limit} bytes this endpoint accepts.")]
    PayloadTooLarge { limit: usize },
    #[error("Send the body as JSON with the header Content-Type: application/json.")]
    UnsupportedMediaType,
    /// The body (or the whole request) did not arrive or finish in time.
    #[error("The request took too long to arrive; nothing was stored. Send it again.")]
    RequestTimeout,
    /// A webhook that failed verification; status, code and message come from the verifier.
    #[error("{message}")]
    Rejected { status: StatusCode, code: &'static str, message: String },
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("The database is not available: {0}")]
    Store(#[from] StoreError),
    #[error("A stored secret could not be opened: {0}")]
    Secret(#[from] SecretError),
    #[error("Something went wrong on our side; the log has the details.")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest { code: "bad_request", message: message.into() }
    }

    pub fn field(name: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid(FieldErrors::from([(name, message.into())]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::ForbiddenHost(_) | ApiError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PublicUrlMissing(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Rejected { status, .. } => *status,
            ApiError::Provider(e) => e.http_status(),
            ApiError::Store(StoreError::Closed) | ApiError::Store(StoreError::Unavailable(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            ApiError::Store(_) | ApiError::Secret(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized | ApiError::BadCredentials => "unauthorized",
            ApiError::ForbiddenHost(_) => "forbidden_host",
            ApiError::ForbiddenOrigin => "forbidden_origin",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Invalid(_) => "invalid_input",
            ApiError::Conflict { code, .. } => code,
            ApiError::Forbidden { code, .. } => code,
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::PublicUrlMissing(_) => "public_url_missing",
            ApiError::Gone(_) => "gone",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::Rejected { code, .. } => code,
            ApiError::Provider(e) => e.code(),
            ApiError::Store(StoreError::Closed) => "unavailable",
            ApiError::Store(StoreError::Unavailable(_)) => "storage_unavailable",
            ApiError::Store(StoreError::NotFound) => "not_found",
            ApiError::Store(StoreError::Conflict(_)) => "conflict",
            ApiError::Store(_) | ApiError::Secret(_) | ApiError::Internal(_) => "internal",
        }
    }

    fn public_message(&self) -> String {
        match self {
            // Never echo SQL or crypto internals to the client.
            ApiError::Store(StoreError::Closed) => "Faurya is shutting down; try again in a moment.".into(),
            ApiError::Store(StoreError::Unavailable(_)) => "Faurya cannot write to its database (the disk is full or read-only), \
                 so nothing was stored: try again later. It recovers by itself once there is space."
                .into(),
            ApiError::Store(StoreError::NotFound) => "Not found.".into(),
            ApiError::Store(StoreError::Conflict(message)) => message.clone(),
            ApiError::Store(_) | ApiError::Internal(_) => {
                "Something went wrong on our side; the log has the details.".into()
            }
            ApiError::Secret(_) => "A stored secret could not be opened: is this the master key that sealed this data dir? The log has the details.".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, detail = ?self, "request failed");
        }
        let mut error = json!({ "code": self.code(), "message": self.public_message() });
        if let ApiError::Invalid(fields) = &self {
            error["fields"] = json!(fields);
        }
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs } | ApiError::Unavailable { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            ApiError::Store(StoreError::Unavailable(_) | StoreError::Closed) => Some(30),
            ApiError::Provider(e) if e.http_status() == StatusCode::SERVICE_UNAVAILABLE => Some(30),
            _ => None,
        };
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
                code: "invalid_json",
                message: format!("The body is not valid JSON: {}", e.body_text()),
            },
            JsonRejection::JsonDataError(e) => ApiError::BadRequest {
                code: "invalid_json",
                message: format!("The JSON does not have the expected shape: {}", e.body_text()),
            },
            JsonRejection::BytesRejection(e) => ApiError::from(e),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: super::ADMIN_BODY_LIMIT }
        } else {
            ApiError::bad_request(format!("The request body could not be read: {}", rejection.body_text()))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest { code: "invalid_query", message: rejection.body_text() }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}
