//! "Send test payment": proves the whole delivery path before a real customer pays.
//!
//! Via Faurya: a realistic payment delivery for the connection's provider is built, signed with
//! the connection's real webhook secret, and sent to the public URL, so the tunnel, signature
//! check, parsing, storage and the UI are all exercised. Via the provider: Whop's
//! `POST /webhooks/{id}/test` or Paddle's simulator sends one from the provider's own servers.
//!
//! Each step says in plain words where it failed. The payment is marked `test` (see
//! `store::test_runs` for how, and why nothing in a payload can claim it), which no total or
//! report counts, and it can be removed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::{AppState, LiveEvent};
use crate::connections::{self, ProviderApi, WEBHOOK_SECRET_PURPOSE, aad, webhook_url};
use crate::http::error::ApiError;
use crate::providers::{Provider, paddle, whop};
use crate::store::{self, now_ms, rfc3339, test_runs};

/// How long a sent delivery may take through the tunnel.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for a stored delivery to be processed (a burst defers processing).
const PROCESS_WAIT: Duration = Duration::from_secs(10);
/// How long Paddle's simulator may take to send its notification.
const SIMULATION_WAIT: Duration = Duration::from_secs(45);
/// What the test payment is for: $49.00 (Whop in major units, Paddle in minor).
const AMOUNT_MINOR: i64 = 4900;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Faurya,
    Provider,
}

impl Via {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "faurya" => Some(Via::Faurya),
            "provider" => Some(Via::Provider),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Via::Faurya => "faurya",
            Via::Provider => "provider",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Ok,
    Failed,
    Skipped,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub key: String,
    pub label: String,
    pub state: StepState,
    pub detail: Option<String>,
}

/// One run, as the API answers it and as it is kept for the connection card.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TestRun {
    pub id: String,
    pub connection_id: String,
    pub provider: String,
    pub via: Via,
    pub ok: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub failed_step: Option<String>,
    pub message: String,
    pub steps: Vec<Step>,
    pub delivery_id: Option<String>,
    pub payment_id: Option<i64>,
}

impl TestRun {
    fn new(id: String, connection_id: &str, provider: Provider, via: Via) -> Self {
        let name = provider.display_name();
        let labels: Vec<(&str, String)> = match via {
            Via::Faurya => vec![
                ("public_url", "Public URL".into()),
                ("sign", "Signed with this connection's secret".into()),
                ("send", "Sent through the public URL".into()),
                ("verify", "Signature verified and stored".into()),
                ("process", "Parsed into a test payment".into()),
            ],
            Via::Provider => vec![
                ("public_url", "Public URL".into()),
                (
                    "ask_provider",
                    match provider {
                        Provider::Whop => "Asked Whop to send a test".into(),
                        Provider::Paddle => "Asked Paddle's simulator to send a test".into(),
                    },
                ),
                ("send", format!("{name}'s servers reached the public URL")),
                ("verify", "Signature verified and stored".into()),
                ("process", "Parsed into a test payment".into()),
            ],
        };
        Self {
            id,
            connection_id: connection_id.to_string(),
            provider: provider.as_str().to_string(),
            via,
            ok: false,
            started_at: rfc3339(now_ms()),
            finished_at: None,
            failed_step: None,
            message: String::new(),
            steps: labels
                .into_iter()
                .map(|(key, label)| Step { key: key.into(), label, state: StepState::Skipped, detail: None })
                .collect(),
            delivery_id: None,
            payment_id: None,
        }
    }

    fn pass(&mut self, key: &str, detail: impl Into<Option<String>>) {
        if let Some(step) = self.steps.iter_mut().find(|s| s.key == key) {
            step.state = StepState::Ok;
            step.detail = detail.into();
        }
    }

    /// Fails `key` with `detail`; `message` is the sentence the founder reads first.
    fn fail(&mut self, key: &str, detail: impl Into<String>, message: impl Into<String>) {
        if let Some(step) = self.steps.iter_mut().find(|s| s.key == key) {
            step.state = StepState::Failed;
            step.detail = Some(detail.into());
        }
        self.failed_step = Some(key.to_string());
        self.message = message.into();
    }
}

/// Runs a test payment for a connection and keeps the outcome. A failed step is an answer
/// (`ok: false`), not an error; errors are for a connection that does not exist.
pub async fn run(state: &AppState, connection_id: &str, via: Via) -> Result<TestRun, ApiError> {
    let row = connections::load_active(state, connection_id).await?;
    let provider = Provider::parse(&row.provider).ok_or_else(|| ApiError::Internal("provider".into()))?;
    let id = format!("test_{}", random_hex(8)?);
    let mut run = TestRun::new(id.clone(), &row.id, provider, via);

    // The payment id a payload Faurya builds will carry (also for Paddle's simulator): registered
    // before anything is sent, so processing marks it a test whenever it arrives.
    let payment_id = match (via, provider) {
        (Via::Provider, Provider::Whop) => None,
        (_, Provider::Whop) => Some(format!("pay_test{}", random_hex(7)?)),
        (_, Provider::Paddle) => Some(format!("txn_test{}", random_hex(11)?)),
    };
    {
        let (id, connection, payment) = (id.clone(), row.id.clone(), payment_id.clone());
        state
            .store
            .write(move |conn| test_runs::start(conn, &id, &connection, via.as_str(), payment.as_deref()))
            .await?;
    }

    let outcome = match state.effective_public_url() {
        None => {
            let status = state.tunnel.status();
            let why = crate::tunnel::missing_url_message(&status, state.addrs.public, "A test payment");
            run.fail("public_url", why.clone(), why);
            None
        }
        Some(public_url) => {
            let url = webhook_url(&public_url, provider, &row.id);
            run.pass("public_url", Some(public_url));
            match via {
                Via::Faurya => send_ourselves(state, &row, provider, &url, payment_id.as_deref(), &mut run).await?,
                Via::Provider => ask_provider(state, &row, provider, payment_id.as_deref(), &mut run).await?,
            }
        }
    };
    if let Some(delivery) = outcome {
        check_processing(state, &id, delivery, &mut run).await?;
    }

    run.ok = run.failed_step.is_none();
    if run.ok {
        run.message = format!(
            "The test payment went all the way: {} reached Faurya, was verified, stored and recorded as a test. \
             Test payments never count in revenue.",
            match via {
                Via::Faurya => "the signed delivery".to_string(),
                Via::Provider => format!("{}'s own delivery", provider.display_name()),
            }
        );
    }
    if run.ok
        && let Some(url) = state.effective_public_url()
        && let Some(why) = unreachable_from_outside(&url)
    {
        run.message.push_str(&format!(
            " But {why}: this proves the path from this computer only. Providers need a public https address \
             (start a tunnel in Settings)."
        ));
    }
    run.finished_at = Some(rfc3339(now_ms()));
    let text = serde_json::to_string(&run).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (run_id, ok) = (id.clone(), run.ok);
    state.store.write(move |conn| test_runs::finish(conn, &run_id, ok, &text)).await?;
    state.publish(LiveEvent::Connection(row.id.clone()));
    tracing::info!(connection = %row.id, via = via.as_str(), ok, failed_step = ?run.failed_step, "test payment");
    Ok(run)
}

/// Builds, signs and sends the delivery; the stored delivery's row id when Faurya took it.
async fn send_ourselves(
    state: &AppState,
    row: &store::connections::ConnectionRow,
    provider: Provider,
    url: &str,
    payment_id: Option<&str>,
    run: &mut TestRun,
) -> Result<Option<i64>, ApiError> {
    let payment_id = payment_id.expect("a payment id for Faurya's own test");
    let sealed = row.webhook_secret_sealed.as_deref().ok_or_else(|| ApiError::Internal("no webhook secret".into()))?;
    let secret = state.sealer.open_str(sealed, aad(&row.id, WEBHOOK_SECRET_PURPOSE))?;
    let now = now_ms();
    let (body, headers, event) = match provider {
        Provider::Whop => {
            let body = serde_json::to_vec(&whop_payment(payment_id, &row.account_id, now)).expect("JSON");
            let message_id = format!("msg_test{}", random_hex(10)?);
            let ts = now.div_euclid(1000);
            let signature = whop::signature::sign(secret.expose(), &message_id, ts, &body);
            let headers = vec![
                (whop::signature::ID_HEADER, message_id),
                (whop::signature::TIMESTAMP_HEADER, ts.to_string()),
                (whop::signature::SIGNATURE_HEADER, signature),
            ];
            (body, headers, "payment.succeeded")
        }
        Provider::Paddle => {
            let envelope = json!({
                "event_id": format!("evt_test{}", random_hex(11)?),
                "event_type": "transaction.completed",
                "occurred_at": rfc3339(now),
                "notification_id": format!("ntf_test{}", random_hex(11)?),
                "data": paddle_transaction(payment_id, now),
            });
            let body = serde_json::to_vec(&envelope).expect("JSON");
            let signature = paddle::signature::sign(secret.expose(), now.div_euclid(1000), &body);
            (body, vec![(paddle::signature::SIGNATURE_HEADER, signature)], "transaction.completed")
        }
    };
    run.pass("sign", Some(format!("{event} for USD {}.{:02} ({payment_id})", AMOUNT_MINOR / 100, AMOUNT_MINOR % 100)));

    let mut request = state
        .http
        .post(url)
        .timeout(SEND_TIMEOUT)
        .header("content-type", "application/json")
        .header("user-agent", concat!("faurya-test-payment/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = match request.body(body).send().await {
        Ok(response) => response,
        Err(error) => {
            let (detail, message) = unreachable_words(url, &error);
            run.fail("send", detail, message);
            return Ok(None);
        }
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok(read_answer(status, &text, run, None))
}

/// Asks the provider to send one itself.
async fn ask_provider(
    state: &AppState,
    row: &store::connections::ConnectionRow,
    provider: Provider,
    payment_id: Option<&str>,
    run: &mut TestRun,
) -> Result<Option<i64>, ApiError> {
    let name = provider.display_name();
    let Some(webhook_id) = row.webhook_id.clone() else {
        run.fail(
            "ask_provider",
            "no webhook id is stored for this connection",
            format!("This connection has no {name} webhook on record; remove it and connect again."),
        );
        return Ok(None);
    };
    match connections::open_api(state, row, provider)? {
        ProviderApi::Whop { client, .. } => {
            let answer = match client.test_webhook(&webhook_id, "payment.succeeded").await {
                Ok(answer) => answer,
                Err(error) => {
                    run.fail("ask_provider", error.message.clone(), format!("Whop refused: {}", error.message));
                    return Ok(None);
                }
            };
            run.pass("ask_provider", Some(format!("webhook {webhook_id}, event payment.succeeded")));
            match answer.status {
                Some(status) => Ok(read_answer(status, answer.body.as_deref().unwrap_or(""), run, Some(name))),
                None if answer.success => {
                    run.fail(
                        "send",
                        "Whop reported success without the endpoint's answer",
                        "Whop says it sent the test but did not say what Faurya answered; look for it in Webhooks.",
                    );
                    Ok(None)
                }
                None => {
                    run.fail(
                        "send",
                        "Whop could not deliver the test",
                        "Whop's servers could not reach the public URL: check that the tunnel is up and the URL is \
                         public.",
                    );
                    Ok(None)
                }
            }
        }
        ProviderApi::Paddle(client) => {
            let payment_id = payment_id.expect("a transaction id for Paddle's simulator");
            let payload = paddle_transaction(payment_id, now_ms());
            let started =
                match client.run_simulation(&webhook_id, "Faurya test payment", "transaction.completed", payload).await
                {
                    Ok(run) => run,
                    Err(error) => {
                        run.fail("ask_provider", error.message.clone(), format!("Paddle refused: {}", error.message));
                        return Ok(None);
                    }
                };
            run.pass("ask_provider", Some(format!("simulation {}, run {}", started.simulation, started.run)));
            let deadline = tokio::time::Instant::now() + SIMULATION_WAIT;
            loop {
                match client.simulation_events(&started).await {
                    Ok(events) => {
                        let answered =
                            events.iter().find_map(|e| e.response.as_ref().filter(|r| r.status_code.is_some()));
                        if let Some(response) = answered {
                            let status = response.status_code.unwrap_or(0.0) as u16;
                            return Ok(read_answer(status, response.body.as_deref().unwrap_or(""), run, Some(name)));
                        }
                        if events.iter().any(|e| matches!(e.status.as_deref(), Some("failed") | Some("aborted"))) {
                            run.fail(
                                "send",
                                "the simulation's notification failed without an answer",
                                "Paddle's servers could not reach the public URL: check that the tunnel is up and \
                                 the URL is public.",
                            );
                            return Ok(None);
                        }
                    }
                    Err(error) => tracing::debug!(error = %error.message, "reading the simulation run"),
                }
                if tokio::time::Instant::now() >= deadline {
                    run.fail(
                        "send",
                        format!("no answer recorded after {} s", SIMULATION_WAIT.as_secs()),
                        "Paddle has not sent the simulated notification yet. If it arrives later it is recorded \
                         as a test payment.",
                    );
                    return Ok(None);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Reads what the webhook endpoint answered (to Faurya's request, or as the provider reports
/// it): the stored delivery's row id, or the failed step in plain words.
fn read_answer(status: u16, body: &str, run: &mut TestRun, provider: Option<&str>) -> Option<i64> {
    let sender = provider.map(|p| format!("{p}'s request")).unwrap_or_else(|| "The delivery".into());
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let receipt_id = parsed
        .as_ref()
        .filter(|_| (200..300).contains(&status))
        .and_then(|v| v.get("id")?.as_str()?.strip_prefix("d_")?.parse::<i64>().ok());
    if let Some(delivery) = receipt_id {
        run.pass("send", Some(format!("answered {status}")));
        let duplicate = parsed.as_ref().and_then(|v| v.get("duplicate")?.as_bool()).unwrap_or(false);
        run.pass("verify", Some(format!("stored as d_{delivery}{}", if duplicate { " (a repeat)" } else { "" })));
        run.delivery_id = Some(format!("d_{delivery}"));
        return Some(delivery);
    }
    let error = parsed.as_ref().and_then(|v| v.get("error")).filter(|e| e.get("code").is_some());
    let Some(error) = error else {
        let cut: String = body.chars().take(200).collect();
        run.fail(
            "send",
            format!("answered {status}: {cut}"),
            format!(
                "The public URL answered {status} but not as Faurya: the tunnel does not lead to this app (is another \
                 program on that URL, or is the tunnel pointed at another port?)."
            ),
        );
        return None;
    };
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("").to_string();
    run.pass("send", Some(format!("Faurya answered {status}")));
    let plain = match code {
        "bad_signature" | "missing_header" | "malformed_header" | "no_secret" | "duplicate_header" => {
            format!("Signature rejected: {message}")
        }
        "timestamp_too_old" | "timestamp_in_future" => {
            format!("Signature rejected because of the clock: {message} Check this computer's date and time.")
        }
        "unknown_connection" | "connection_removed" => format!(
            "The public URL leads to a Faurya that does not know this connection ({message}): is it pointed at \
             another copy of Faurya?"
        ),
        "storage_unavailable" | "unavailable" | "rate_limited" => {
            format!("Faurya could not store it right now: {message}")
        }
        _ => format!("{sender} was refused ({status} {code}): {message}"),
    };
    run.fail("verify", format!("{status} {code}: {message}"), plain);
    None
}

/// Waits for the stored delivery to be processed and checks it became a test payment.
async fn check_processing(state: &AppState, run_id: &str, delivery: i64, run: &mut TestRun) -> Result<(), ApiError> {
    // Whop's own test payload carries no id Faurya chose: the delivery is what ties it to the run.
    let id = run_id.to_string();
    let tied = state.store.write(move |conn| test_runs::attach_delivery(conn, &id, delivery)).await?;
    if !tied {
        run.fail(
            "process",
            format!("d_{delivery} is not a delivery of this connection from this run"),
            "The answer named a delivery that is not this test's: is the public URL pointed at another copy of \
             Faurya?",
        );
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    let found = loop {
        let current = state.store.read(move |conn| test_runs::delivery_state(conn, delivery)).await?;
        match current {
            Some(found) if found.status != "received" => break Some(found),
            _ if tokio::time::Instant::now() >= deadline => break None,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let Some(found) = found else {
        run.fail(
            "process",
            format!("d_{delivery} is stored but not processed after {} s", PROCESS_WAIT.as_secs()),
            "The delivery was stored but not processed yet (Faurya is busy); it will be, and it stays a test.",
        );
        return Ok(());
    };
    match (found.status.as_str(), found.payment_id) {
        ("processed", Some(payment)) => {
            let origin: Option<String> = state
                .store
                .read(move |conn| {
                    use rusqlite::OptionalExtension;
                    Ok(conn
                        .query_row("SELECT origin FROM payments WHERE id = ?1", [payment], |r| r.get(0))
                        .optional()?)
                })
                .await?;
            if origin.as_deref() == Some("test") {
                run.pass("process", found.note.clone());
                run.payment_id = Some(payment);
            } else {
                run.fail(
                    "process",
                    format!("payment {payment} is not marked as a test"),
                    "The delivery was recorded, but as an existing payment rather than a new test payment.",
                );
            }
        }
        ("failed", _) => {
            let error = found.error.unwrap_or_default();
            run.fail("process", error.clone(), format!("Parse failed: {error}"));
        }
        (status, _) => {
            let note = found.note.unwrap_or_default();
            run.fail(
                "process",
                format!("{status}: {note}"),
                format!("The delivery was {status}, not recorded as a payment: {note}"),
            );
        }
    }
    Ok(())
}

/// Why providers could not reach `public_url` although Faurya can (a loopback or private
/// address), if so.
fn unreachable_from_outside(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    let host = url.host()?;
    let private = match host {
        url::Host::Domain(name) => name == "localhost" || name.ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        url::Host::Ipv6(ip) => ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00,
    };
    private.then(|| format!("{} is an address only this computer or network reaches", url.host_str().unwrap_or("")))
}

/// The plain words for a request that got no HTTP answer at all.
fn unreachable_words(url: &str, error: &reqwest::Error) -> (String, String) {
    let detail = crate::providers::transport::describe_send_error(error);
    let message = if error.is_timeout() {
        format!("The tunnel is unreachable: {url} gave no answer within {} s.", SEND_TIMEOUT.as_secs())
    } else {
        format!("The tunnel is unreachable: {url} could not be reached ({detail}). Check the tunnel in Settings.")
    };
    (detail, message)
}

/// A Whop `payment.succeeded` delivery as Whop sends it (v1 API shapes), for $49.00.
pub fn whop_payment(payment_id: &str, company_id: &str, now: i64) -> Value {
    let at = rfc3339(now);
    json!({
        "id": format!("msg_{payment_id}"),
        "api_version": "v1",
        "type": "payment.succeeded",
        "timestamp": at,
        "company_id": company_id,
        "data": {
            "id": payment_id,
            "status": "paid",
            "substatus": "succeeded",
            "currency": "usd",
            "total": 49.00,
            "subtotal": 49.00,
            "usd_total": 49.00,
            "refunded_amount": 0,
            "paid_at": at,
            "created_at": at,
            "metadata": {"faurya_test": true},
            "product": {"id": "prod_test", "title": "Faurya test payment", "metadata": {}},
            "user": {"id": "user_test", "email": "test@faurya.invalid", "name": "Test Buyer", "username": "test-buyer"},
            "company": {"id": company_id, "title": "Test"}
        }
    })
}

/// A completed Paddle transaction entity for $49.00.
pub fn paddle_transaction(transaction_id: &str, now: i64) -> Value {
    let at = rfc3339(now);
    let minor = AMOUNT_MINOR.to_string();
    json!({
        "id": transaction_id,
        "status": "completed",
        "customer_id": "ctm_test",
        "currency_code": "USD",
        "origin": "api",
        "collection_mode": "automatic",
        "custom_data": {"faurya_test": true},
        "created_at": at,
        "updated_at": at,
        "billed_at": at,
        "details": {"totals": {
            "subtotal": minor, "discount": "0", "tax": "0", "total": minor, "grand_total": minor,
            "fee": null, "earnings": null, "currency_code": "USD"
        }},
        "items": [{"price": {"id": "pri_test", "description": "Faurya test payment"}, "quantity": 1}]
    })
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::Internal(format!("random id: {e}")))?;
    Ok(hex::encode(buf))
}
