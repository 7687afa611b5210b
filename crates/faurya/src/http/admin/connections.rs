//! `/api/connections`: list, connect Whop or Paddle, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::connections::{self, ConnectRequest, ConnectionView, Removed};
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{JsonBody, PathParams, QueryParams, present};
use crate::providers::{Environment, Provider};
use crate::secrets::Secret;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connections", get(list))
        .route("/connections/whop", post(connect_whop))
        .route("/connections/paddle", post(connect_paddle))
        .route("/connections/{id}", get(show).patch(edit).delete(remove))
        .route("/connections/{id}/backfill", post(backfill))
        .route("/connections/{id}/test-payment", post(test_payment))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    site: Option<String>,
}

async fn list(State(state): State<AppState>, QueryParams(q): QueryParams<ListQuery>) -> Result<Json<Value>, ApiError> {
    let site = q.site.filter(|s| !s.is_empty());
    Ok(Json(json!({ "connections": connections::list(&state, site.as_deref()).await? })))
}

/// The optional `site_id` of a connect form; a wrong type is a field error.
fn site_field(value: Option<&Value>, fields: &mut FieldErrors) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(_) => {
            fields.insert("site_id", "Give the id of one of your sites (site_…).".into());
            None
        }
    }
}

async fn show(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(connections::get_view(&state, &id).await?))
}

/// `POST /api/connections/{id}/backfill`: "Check for missed payments" now. The answer is the
/// check's state (what was recovered, or why the provider refused); 404 for no such connection.
async fn backfill(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<crate::backfill::BackfillState>, ApiError> {
    Ok(Json(crate::backfill::check(&state, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestPaymentForm {
    #[serde(default)]
    via: Option<Value>,
}

/// `POST /api/connections/{id}/test-payment`: sends a test payment through the public URL
/// (`via: "faurya"`, the default) or asks the provider to send one (`"provider"`). A failed step
/// is a 200 with `ok: false` and the step; 404 for no such connection.
async fn test_payment(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    JsonBody(form): JsonBody<TestPaymentForm>,
) -> Result<Json<crate::test_payment::TestRun>, ApiError> {
    let via = match form.via {
        None | Some(Value::Null) => crate::test_payment::Via::Faurya,
        Some(Value::String(text)) => crate::test_payment::Via::parse(&text).ok_or_else(|| {
            ApiError::field("via", "Choose \"faurya\" (Faurya sends it) or \"provider\" (the provider sends it).")
        })?,
        Some(_) => return Err(ApiError::field("via", "Give via as text: \"faurya\" or \"provider\".")),
    };
    Ok(Json(crate::test_payment::run(&state, &id, via).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditForm {
    #[serde(default, deserialize_with = "present")]
    forward_url: Option<Option<Value>>,
}

/// `PATCH /api/connections/{id}`: `{"forward_url": "http://localhost:3000/…"}` or null to stop.
async fn edit(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    JsonBody(form): JsonBody<EditForm>,
) -> Result<Json<ConnectionView>, ApiError> {
    match form.forward_url {
        None => {}
        Some(None) | Some(Some(Value::Null)) => crate::forwarding::set_target(&state, &id, None).await?,
        Some(Some(Value::String(url))) => crate::forwarding::set_target(&state, &id, Some(&url)).await?,
        Some(Some(_)) => {
            return Err(ApiError::field("forward_url", "Give the URL as text, or null to stop forwarding."));
        }
    }
    Ok(Json(connections::get_view(&state, &id).await?))
}

/// Fields arrive as loose JSON so a wrong type becomes a field error, not a parse failure.
#[derive(Deserialize)]
struct WhopForm {
    api_key: Option<Value>,
    company_id: Option<Value>,
    environment: Option<Value>,
    site_id: Option<Value>,
}

#[derive(Deserialize)]
struct PaddleForm {
    api_key: Option<Value>,
    environment: Option<Value>,
    site_id: Option<Value>,
}

async fn connect_whop(
    State(state): State<AppState>,
    JsonBody(form): JsonBody<WhopForm>,
) -> Result<(StatusCode, Json<ConnectionView>), ApiError> {
    let mut fields = FieldErrors::new();
    let api_key = api_key(form.api_key.as_ref(), "Whop API Key", &mut fields);
    let company_id = whop_company_id(form.company_id.as_ref(), &mut fields);
    let environment = environment(form.environment.as_ref(), "Production", &mut fields);
    let site = site_field(form.site_id.as_ref(), &mut fields);
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    let request = ConnectRequest {
        provider: Provider::Whop,
        environment: environment.expect("validated"),
        api_key: api_key.expect("validated"),
        account_id: company_id,
        site_id: state.tracking.sites.resolve_for_connection(site).await?,
    };
    Ok((StatusCode::CREATED, Json(connections::connect(&state, request).await?)))
}

async fn connect_paddle(
    State(state): State<AppState>,
    JsonBody(form): JsonBody<PaddleForm>,
) -> Result<(StatusCode, Json<ConnectionView>), ApiError> {
    let mut fields = FieldErrors::new();
    let api_key = api_key(form.api_key.as_ref(), "Paddle API Key", &mut fields);
    let environment = environment(form.environment.as_ref(), "Live", &mut fields);
    if let (Some(key), Some(env)) = (&api_key, environment) {
        // Current Paddle keys say which environment they belong to; older keys do not.
        let mismatch = match env {
            Environment::Production if key.expose().starts_with("pdl_sdbx_") => {
                Some("This is a Sandbox key (pdl_sdbx_…): choose Sandbox, or paste a Live key.")
            }
            Environment::Sandbox if key.expose().starts_with("pdl_live_") => {
                Some("This is a Live key (pdl_live_…): choose Live, or paste a Sandbox key.")
            }
            _ => None,
        };
        if let Some(message) = mismatch {
            fields.insert("environment", message.into());
        }
    }
    let site = site_field(form.site_id.as_ref(), &mut fields);
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    let request = ConnectRequest {
        provider: Provider::Paddle,
        environment: environment.expect("validated"),
        api_key: api_key.expect("validated"),
        account_id: None,
        site_id: state.tracking.sites.resolve_for_connection(site).await?,
    };
    Ok((StatusCode::CREATED, Json(connections::connect(&state, request).await?)))
}

#[derive(Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    force: bool,
}

async fn remove(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    QueryParams(query): QueryParams<RemoveQuery>,
) -> Result<Json<Removed>, ApiError> {
    Ok(Json(connections::remove(&state, &id, query.force).await?))
}

/// The usual ways a pasted key goes wrong, caught before the provider sees it.
fn api_key(value: Option<&Value>, label: &str, fields: &mut FieldErrors) -> Option<Secret> {
    let text = match value {
        Some(Value::String(text)) => text.trim(),
        None | Some(Value::Null) => "",
        Some(_) => {
            fields.insert("api_key", format!("The {label} must be text."));
            return None;
        }
    };
    let problem = if text.is_empty() {
        Some(format!("Paste the {label}."))
    } else if text.to_ascii_lowercase().starts_with("bearer ") {
        Some("Paste the key without the word “Bearer”.".to_string())
    } else if text.starts_with(['"', '\'', '“', '‘']) || text.ends_with(['"', '\'', '”', '’']) {
        Some("Remove the quotes around the key.".to_string())
    } else if text.chars().any(char::is_whitespace) {
        Some("The key contains spaces or line breaks: copy it again in one piece.".to_string())
    } else if text.len() < 8 {
        Some(format!("This is too short to be a {label}: copy the whole key."))
    } else if text.len() > 512 || !text.is_ascii() {
        Some(format!("This does not look like a {label}: copy the key again."))
    } else {
        None
    };
    match problem {
        Some(message) => {
            fields.insert("api_key", message);
            None
        }
        None => Some(Secret::new(text)),
    }
}

fn whop_company_id(value: Option<&Value>, fields: &mut FieldErrors) -> Option<String> {
    let text = match value {
        Some(Value::String(text)) => text.trim(),
        None | Some(Value::Null) => "",
        Some(_) => {
            fields.insert("company_id", "The Whop Company ID must be text.".into());
            return None;
        }
    };
    let problem = if text.is_empty() {
        Some("Paste the Whop Company ID (it starts with biz_).")
    } else if !text.starts_with("biz_") {
        Some("A Whop Company ID starts with biz_: find it in the Whop dashboard URL or under Settings.")
    } else if text.len() < 6 || text.len() > 64 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some("This does not look like a Whop Company ID (biz_ followed by letters and digits).")
    } else {
        None
    };
    match problem {
        Some(message) => {
            fields.insert("company_id", message.into());
            None
        }
        None => Some(text.to_string()),
    }
}

fn environment(value: Option<&Value>, production_label: &str, fields: &mut FieldErrors) -> Option<Environment> {
    match value.and_then(Value::as_str).and_then(Environment::parse) {
        Some(environment) => Some(environment),
        None => {
            fields.insert("environment", format!("Choose {production_label} or Sandbox."));
            None
        }
    }
}
