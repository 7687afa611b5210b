//! The cloudflared backend against a fake `cloudflared` (tests/fixtures/fake-cloudflared.py, a
//! python3 script copied into a temp dir that goes first on the app's search path): the URL comes
//! from the metrics endpoint (stderr as the fallback), the tunnel survives the process dying and
//! restarting with a new hostname, and the provider webhooks follow it. Also: cloudflared failing
//! and not installed.
#![cfg(unix)]

mod support;
mod tunnel_common;

use std::path::PathBuf;

use faurya::app::LiveEvent;
use faurya::tunnel::BackendKind;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, error_code};
use tunnel_common::*;

/// The fake cloudflared in a temp dir of its own, and the files it is steered by.
struct FakeCloudflared {
    dir: tempfile::TempDir,
}

impl FakeCloudflared {
    fn new(mode: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-cloudflared.py");
        let target = dir.path().join("cloudflared");
        std::fs::copy(script, &target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        let fake = Self { dir };
        fake.set_mode(mode);
        fake
    }

    /// This dir first, then the usual PATH (python3 is found through it).
    fn search_path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.dir.path().to_path_buf()];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        std::env::join_paths(dirs).unwrap()
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("cloudflared")
    }

    fn set_mode(&self, mode: &str) {
        std::fs::write(self.dir.path().join("mode"), mode).unwrap();
    }

    fn read(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(name)).ok().map(|s| s.trim().to_string())
    }

    fn runs(&self) -> u32 {
        self.read("runs").and_then(|r| r.parse().ok()).unwrap_or(0)
    }

    fn pid(&self) -> String {
        self.read("pid").expect("the fake recorded its pid")
    }

    fn args(&self, run: u32) -> Vec<String> {
        serde_json::from_str(&self.read(&format!("args-{run}")).unwrap()).unwrap()
    }
}

fn kill(pid: &str) {
    let status = std::process::Command::new("kill").args(["-9", pid]).status().unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

fn alive(pid: &str) -> bool {
    std::process::Command::new("kill").args(["-0", pid]).stderr(std::process::Stdio::null()).status().unwrap().success()
}

async fn app_with(fake: &FakeCloudflared, fakes: Option<&faurya_fakes::FakeProviders>) -> TestApp {
    let search_path = fake.search_path();
    let bases = fakes.map(|f| (f.whop_base(), f.paddle_base()));
    TestApp::start_with(move |c| {
        quick_tunnel(c);
        if let Some((whop, paddle)) = bases {
            c.whop_api_base = Some(whop);
            c.paddle_api_base = Some(paddle);
        }
        c.tunnel.search_path = Some(search_path);
        c.tunnel.backend = Some(BackendKind::Cloudflared);
    })
    .await
}

#[tokio::test]
async fn the_quick_tunnel_url_is_found_and_webhooks_follow_a_restart() {
    let fake = FakeCloudflared::new("metrics");
    let fakes = faurya_fakes::FakeProviders::start().await;
    let t = app_with(&fake, Some(&fakes)).await;

    let s = wait_tunnel(&t, "up", |_| true).await;
    assert_eq!(s["tunnel"]["backend"], "cloudflared");
    assert_eq!(s["tunnel"]["url"], "https://quick-1.trycloudflare.com");
    assert_eq!(s["public_url"], "https://quick-1.trycloudflare.com");
    assert_eq!(s["public_url_source"], "tunnel");
    assert_eq!(s["tunnel"]["error"], Value::Null);
    assert_eq!(s["tunnel"]["cloudflared"]["installed"], true);
    assert_eq!(s["tunnel"]["cloudflared"]["path"], fake.binary().display().to_string());

    // Started the way the docs say, pointed at the public listener.
    let args = fake.args(1);
    assert_eq!(
        args[..5],
        ["tunnel", "--no-autoupdate", "--url", &format!("http://{}", t.app().addrs.public), "--metrics"]
    );
    assert!(args[5].starts_with("127.0.0.1:"), "{args:?}");
    assert_eq!(args.len(), 6, "{args:?}");

    let (whop, paddle) = connect_both(&t, &fakes).await;
    assert!(
        connection(&t, &whop).await["webhook_url"].as_str().unwrap().starts_with("https://quick-1.trycloudflare.com/")
    );
    let hooks =
        (connection(&t, &whop).await["webhook_id"].clone(), connection(&t, &paddle).await["webhook_id"].clone());

    // cloudflared dies: it is restarted, gets a new hostname, and the webhooks follow.
    let mut live = t.app().subscribe();
    let first = fake.pid();
    kill(&first);
    let s = wait_tunnel(&t, "up", |s| s["tunnel"]["url"] == "https://quick-2.trycloudflare.com").await;
    assert_eq!(s["tunnel"]["error"], Value::Null, "cleared once up again");
    let mut states = Vec::new();
    while let Ok(event) = live.try_recv() {
        if let LiveEvent::Tunnel(state) = event {
            states.push(state);
        }
    }
    assert_eq!(states, ["down", "starting", "up"], "the UI heard every step");
    wait_synced(&t, &[&whop, &paddle], "https://quick-2.trycloudflare.com").await;
    let patched = patched_urls(&fakes);
    assert!(patched.contains(&format!("https://quick-2.trycloudflare.com/webhooks/whop/{whop}")), "{patched:?}");
    assert!(patched.contains(&format!("https://quick-2.trycloudflare.com/webhooks/paddle/{paddle}")), "{patched:?}");
    assert_eq!(creates(&fakes), (1, 1), "no second webhook");
    assert_eq!(connection(&t, &whop).await["webhook_id"], hooks.0);
    assert_eq!(connection(&t, &paddle).await["webhook_id"], hooks.1);
    assert_eq!(fake.runs(), 2);

    // Stopping the app stops cloudflared.
    let second = fake.pid();
    assert_ne!(first, second);
    assert!(alive(&second));
    t.stop().await;
    wait_for("cloudflared to be stopped with the app", || async { (!alive(&second)).then_some(()) }).await;
}

#[tokio::test]
async fn stderr_is_the_fallback_when_the_metrics_do_not_name_the_tunnel() {
    let fake = FakeCloudflared::new("stderr");
    let t = app_with(&fake, None).await;
    let s = wait_tunnel(&t, "up", |_| true).await;
    assert_eq!(s["tunnel"]["url"], "https://quick-1.trycloudflare.com");
    t.stop().await;
}

#[tokio::test]
async fn a_failing_cloudflared_is_down_with_its_error_and_retried() {
    let fake = FakeCloudflared::new("fail");
    let t = app_with(&fake, None).await;
    let s = wait_for("the failure to be reported", || async {
        let s = settings(&t).await;
        s["tunnel"]["error"].as_str().is_some_and(|e| !e.is_empty()).then_some(s)
    })
    .await;
    let error = s["tunnel"]["error"].as_str().unwrap();
    assert!(error.starts_with("cloudflared exited (exit status: 1)"), "{error}");
    assert!(error.contains("failed to request quick Tunnel"), "the ERR line is quoted: {error}");
    assert!(!error.contains("INF"), "{error}");
    assert_eq!(s["public_url"], Value::Null);
    wait_for("a retry", || async { (fake.runs() >= 3).then_some(()) }).await;
    // Once cloudflared works again, the tunnel comes up by itself.
    fake.set_mode("metrics");
    let s = wait_tunnel(&t, "up", |_| true).await;
    assert!(s["tunnel"]["url"].as_str().unwrap().ends_with(".trycloudflare.com"));
    t.stop().await;
}

#[tokio::test]
async fn when_cloudflared_is_not_installed_the_state_says_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(WHOP_KEY, COMPANY, true);
    let (whop_base, search_path) = (fakes.whop_base(), empty.path().as_os_str().to_owned());
    let t = TestApp::start_with(move |c| {
        quick_tunnel(c);
        c.whop_api_base = Some(whop_base);
        c.tunnel.search_path = Some(search_path);
    })
    .await;
    // Chosen in Settings this time.
    let (status, s) = t.put("/settings", json!({"tunnel": {"backend": "cloudflared"}})).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["tunnel"]["cloudflared"]["installed"], false);
    assert_eq!(s["tunnel"]["cloudflared"]["path"], Value::Null);
    let hint = s["tunnel"]["cloudflared"]["install_hint"].as_str().unwrap().to_string();
    if cfg!(target_os = "linux") {
        assert!(
            hint.contains("dpkg")
                && hint.contains("apt")
                && hint.contains("github.com/cloudflare/cloudflared/releases"),
            "{hint}"
        );
    } else if cfg!(target_os = "macos") {
        assert!(hint.contains("brew install cloudflared"), "{hint}");
    }
    let s = wait_tunnel(&t, "down", |_| true).await;
    let error = s["tunnel"]["error"].as_str().unwrap();
    assert!(error.contains("cloudflared is not installed") && error.contains(&hint), "{error}");

    // Connecting now explains what to do instead of failing obscurely.
    let (status, body) = t
        .post("/connections/whop", json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(error_code(&body), "public_url_missing");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Cloudflare quick tunnel") && message.contains("Settings → Tunnel"), "{message}");
    assert!(message.contains("not installed") || message.contains("starting"), "{message}");
    assert!(fakes.requests().is_empty(), "Whop was not called");
    t.stop().await;
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// SIGKILL gives Faurya no chance to stop its child: the kernel must (PR_SET_PDEATHSIG).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn cloudflared_dies_with_faurya_even_on_sigkill() {
    let fake = FakeCloudflared::new("metrics");
    let data = tempfile::tempdir().unwrap();
    let mut faurya = std::process::Command::new(env!("CARGO_BIN_EXE_faurya"))
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--tunnel", "cloudflared"])
        .arg("--data-dir")
        .arg(data.path())
        .env("FAURYA_CLOUDFLARED", fake.binary())
        .env("FAURYA_MASTER_KEY", support::master_key_b64())
        .env("FAURYA_ADMIN_TOKEN", "an-admin-token-of-this-test-0123")
        .env("FAURYA_NO_KEYCHAIN", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("cloudflared to start", || fake.runs() >= 1 && fake.read("pid").is_some()).await;
    let child = fake.pid();
    // Neither the master key nor the admin token (nor any FAURYA_ setting) reaches the child.
    let inherited: Vec<String> = serde_json::from_str(&fake.read("env-1").unwrap()).unwrap();
    assert!(inherited.is_empty(), "the tunnel child inherited {inherited:?}");
    assert!(alive(&child));
    assert_eq!(std::fs::read_to_string(data.path().join("cloudflared.pid")).unwrap().trim(), child, "its pid is kept");
    faurya.kill().unwrap();
    faurya.wait().unwrap();
    wait_until("cloudflared to die with its parent", || !alive(&child)).await;
}

/// A cloudflared that a previous run left behind (and its pid file) is stopped at start.
#[tokio::test]
async fn a_leftover_cloudflared_is_stopped_at_start() {
    let fake = FakeCloudflared::new("metrics");
    let mut leftover = std::process::Command::new(fake.binary())
        .args(["tunnel", "--no-autoupdate", "--url", "http://127.0.0.1:9", "--metrics", "127.0.0.1:0"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = leftover.id().to_string();
    wait_until("the leftover to run", || fake.read("pid").as_deref() == Some(pid.as_str())).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/cloudflared.pid"), format!("{pid}\n")).unwrap();
    let t = TestApp::start_in(dir, |_| {}).await;
    let status = tokio::task::spawn_blocking(move || leftover.wait().unwrap()).await.unwrap();
    assert!(!status.success(), "killed: {status}");
    assert!(!t.data_dir().join("cloudflared.pid").exists());
    t.stop().await;

    // A pid file naming some other process (a recycled pid) is left alone.
    let mut other = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/cloudflared.pid"), other.id().to_string()).unwrap();
    let t = TestApp::start_in(dir, |_| {}).await;
    assert!(other.try_wait().unwrap().is_none(), "not cloudflared: not touched");
    other.kill().unwrap();
    let _ = other.wait();
    t.stop().await;
}
