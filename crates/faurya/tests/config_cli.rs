//! Configuration precedence and the CLI, through the real `faurya` binary.

use std::process::{Command, Stdio};

use serde_json::Value;

fn faurya() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faurya"));
    // Start from a clean slate: no FAURYA_* from the developer's shell leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("FAURYA_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FAURYA_NO_KEYCHAIN", "1");
    cmd
}

fn faurya_config() -> Command {
    let mut cmd = faurya();
    cmd.arg("config");
    cmd
}

fn config(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn defaults_apply_without_flags_or_env() {
    let home = tempfile::tempdir().unwrap();
    let c = config(faurya_config().env("HOME", home.path()).env("XDG_DATA_HOME", home.path().join("xdg")));
    assert_eq!(c["public_addr"], "127.0.0.1:8787");
    assert_eq!(c["admin_addr"], "127.0.0.1:8788");
    assert_eq!(c["public_url"], Value::Null);
    assert!(c["data_dir"].as_str().unwrap().ends_with("faurya"), "{c}");
}

#[test]
fn env_beats_default_and_flag_beats_env() {
    let c = config(
        faurya_config()
            .env("FAURYA_DATA_DIR", "/tmp/from-env")
            .env("FAURYA_PUBLIC_ADDR", "127.0.0.1:9001")
            .env("FAURYA_ADMIN_ADDR", "127.0.0.1:9002")
            .env("FAURYA_PUBLIC_URL", "https://env.example.com/"),
    );
    assert_eq!(c["data_dir"], "/tmp/from-env");
    assert_eq!(c["public_addr"], "127.0.0.1:9001");
    assert_eq!(c["admin_addr"], "127.0.0.1:9002");
    assert_eq!(c["public_url"], "https://env.example.com");

    let c = config(
        faurya_config()
            .env("FAURYA_DATA_DIR", "/tmp/from-env")
            .env("FAURYA_PUBLIC_ADDR", "127.0.0.1:9001")
            .env("FAURYA_ADMIN_ADDR", "127.0.0.1:9002")
            .env("FAURYA_PUBLIC_URL", "https://env.example.com")
            .args(["--data-dir", "/tmp/from-flag"])
            .args(["--public-addr", "127.0.0.1:7001"])
            .args(["--admin-addr", "127.0.0.1:7002"])
            .args(["--public-url", "https://flag.example.com"]),
    );
    assert_eq!(c["data_dir"], "/tmp/from-flag");
    assert_eq!(c["public_addr"], "127.0.0.1:7001");
    assert_eq!(c["admin_addr"], "127.0.0.1:7002");
    assert_eq!(c["public_url"], "https://flag.example.com");
}

#[test]
fn env_only_settings_are_read_and_never_printed() {
    let c = config(
        faurya_config()
            .env("FAURYA_ADMIN_TOKEN", "a-very-secret-admin-token")
            .env("FAURYA_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyEh")
            .env("FAURYA_WHOP_API_BASE", "http://127.0.0.1:1/api/v1/")
            .env("FAURYA_PADDLE_API_BASE", "http://127.0.0.1:2"),
    );
    let text = c.to_string();
    assert!(!text.contains("a-very-secret-admin-token"));
    assert!(!text.contains("c2VjcmV0"));
    assert_eq!(c["whop_api_base"], "http://127.0.0.1:1/api/v1");
    assert_eq!(c["paddle_api_base"], "http://127.0.0.1:2");
}

#[test]
fn bad_values_are_clear_errors() {
    let out = faurya().args(["config", "--public-addr", "not-an-address"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--public-addr"));

    let out = faurya().args(["config", "--public-url", "hooks.example.com"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"), "{}", String::from_utf8_lossy(&out.stderr));

    let out = faurya().arg("config").env("FAURYA_ADMIN_TOKEN", "short").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16"));
}

#[test]
fn help_explains_every_option() {
    let out = faurya().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("serve"), "{text}");
    let out = faurya().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--data-dir",
        "FAURYA_DATA_DIR",
        "--public-addr",
        "FAURYA_PUBLIC_ADDR",
        "--admin-addr",
        "FAURYA_ADMIN_ADDR",
        "--public-url",
        "FAURYA_PUBLIC_URL",
        "FAURYA_ADMIN_TOKEN",
        "FAURYA_MASTER_KEY",
        "FAURYA_WHOP_API_BASE",
        "FAURYA_PADDLE_API_BASE",
        "--admin-host",
        "--no-keychain",
        "--ui-dir",
        "RUST_LOG",
    ] {
        assert!(text.contains(needle), "serve --help lacks {needle}:\n{text}");
    }
}

#[test]
fn serve_binds_port_zero_prints_addresses_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = faurya()
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut login = None;
    let mut public = None;
    while login.is_none() || public.is_none() {
        let line = lines.next().expect("serve printed its addresses").unwrap();
        if let Some(url) = line.strip_prefix("Admin login URL: ") {
            login = Some(url.to_string());
        }
        if let Some(url) = line.strip_prefix("Public listener: ") {
            public = Some(url.to_string());
        }
    }
    let login = login.unwrap();
    assert!(!login.contains(":8788/"), "port 0 means a free port: {login}");
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap();
    assert!(login.ends_with(&format!("token={}", token.trim())));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "data dir");
        assert_eq!(mode(&data.join("admin-token")), 0o600, "admin token");
        assert_eq!(mode(&data.join("master.key")), 0o600, "key file");
        assert_eq!(mode(&data.join("faurya.db")), 0o600, "database");
    }

    let health = std::process::Command::new("curl").args(["-s", &format!("{}/healthz", public.unwrap())]).output();
    if let Ok(out) = health {
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"ok\":true"));
    }

    unsafe_kill_term(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

#[test]
fn a_database_from_a_newer_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let conn = rusqlite::Connection::open(data.join("faurya.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let out = faurya()
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("newer Faurya") && stderr.contains("99"), "{stderr}");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = faurya()
        .args(["serve", "--admin-addr", "127.0.0.1:0", "--public-addr", &addr, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&addr) && stderr.contains("--public-addr"), "{stderr}");
}

fn unsafe_kill_term(pid: u32) {
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn an_admin_token_file_others_can_read_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let token = data.join("admin-token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = faurya()
        .env("FAURYA_MASTER_KEY", support_key())
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("can be read by other users") && stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn an_existing_store_without_its_key_is_not_given_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A store that exists (made with a key from the environment, say), started without its key.
    let conn = rusqlite::Connection::open(data.join("faurya.db")).unwrap();
    conn.execute_batch("CREATE TABLE earlier (x)").unwrap();
    drop(conn);
    let out = faurya()
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no master key was found") && stderr.contains("FAURYA_MASTER_KEY"), "{stderr}");
    assert!(!data.join("master.key").exists(), "no new key file was written");
}

fn support_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}
