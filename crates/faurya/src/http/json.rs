//! `JsonBody<T>`: axum's `Json` extractor with its rejections turned into [`ApiError`], so a
//! malformed body gets the same `{"error": ...}` answer as every other failure.

use axum::Json;
use axum::extract::{FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(JsonBody(value))
    }
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`, a value →
/// `Some(Some(v))`. Lets a partial update tell "leave it" from "clear it".
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
