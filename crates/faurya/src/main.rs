//! `faurya`: the headless server (`faurya serve`) and its configuration check (`faurya config`).

use std::process::ExitCode;

use clap::Parser;
use faurya::App;
use faurya::config::{Cli, Command, Config};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("faurya=info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: a log file or journald gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let (args, serve) = match cli.command {
        Command::Serve(args) => (args, true),
        Command::Config(args) => (args, false),
        Command::Backup { path, args } => return backup_or_restore(args, path, false),
        Command::Restore { path, args } => return backup_or_restore(args, path, true),
        Command::RotateKey(args) => return rotate_key(args),
        Command::TestPayment { connection, via, args } => return test_payment(args, &connection, &via),
    };
    let config = match Config::from_args(args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    if !serve {
        println!("{}", serde_json::to_string_pretty(&config.describe()).expect("JSON"));
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    runtime.block_on(serve_until_signal(config))
}

fn rotate_key(args: faurya::config::ServeArgs) -> ExitCode {
    let config = match Config::from_args(args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    match faurya::rotate_key::rotate(&config.data_dir, &config.db_path(), config.master_key.as_deref(), config.keychain)
    {
        Ok(rotated) => {
            if rotated.finished_earlier {
                println!("Finished an interrupted rotation: the store was already sealed with the new key.");
            } else {
                println!("Sealed {} stored secrets again under a new master key, in one transaction.", rotated.secrets);
            }
            println!("The new key is in {}.", rotated.key_now);
            if let Some(key) = rotated.new_env_key {
                println!(
                    "Set FAURYA_MASTER_KEY to this before the next start (the old value no longer opens the store):"
                );
                println!("{key}");
            }
            if let Some(retired) = rotated.retired {
                println!(
                    "The old key is kept as {}: backups made before now need it. Delete it once you no longer need them.",
                    retired.display()
                );
            } else {
                println!("Backups made before now need the old key.");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Asks the running app for a test payment through its admin API, and prints the steps.
fn test_payment(args: faurya::config::ServeArgs, connection: &str, via: &str) -> ExitCode {
    let config = match Config::from_args(args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    // Where the running app's admin API is: an address given here (flag or FAURYA_ADMIN_ADDR), else
    // the one the running app noted in the data dir (its port may have been chosen by the OS).
    let given = std::env::args().any(|a| a == "--admin-addr" || a.starts_with("--admin-addr="))
        || std::env::var_os("FAURYA_ADMIN_ADDR").is_some();
    let noted = std::fs::read_to_string(config.data_dir.join(faurya::app::ADMIN_ADDR_FILE))
        .ok()
        .and_then(|text| text.trim().parse::<std::net::SocketAddr>().ok());
    let addr = match noted {
        Some(noted) if !given => noted,
        _ => config.admin_addr,
    };
    // A listener on every interface is reached on loopback (the admin API only answers to
    // localhost names anyway).
    let addr = faurya::tunnel::forward_target(addr);
    let token = match &config.admin_token {
        Some(token) => token.clone(),
        None => match std::fs::read_to_string(config.data_dir.join(faurya::app::ADMIN_TOKEN_FILE)) {
            Ok(token) => token.trim().to_string(),
            Err(e) => {
                return fail(&format!(
                    "no admin token in {} ({e}): is Faurya running with this data dir? Start it with `faurya serve`, \
                     or set FAURYA_ADMIN_TOKEN.",
                    config.data_dir.display()
                ));
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    let url = format!(
        "http://{addr}/api/connections/{}/test-payment",
        faurya::providers::transport::path_segment(connection)
    );
    let answer = runtime.block_on(async {
        let response = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(90))
            .build()?
            .post(&url)
            .bearer_auth(&token)
            .json(&serde_json::json!({ "via": via }))
            .send()
            .await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    });
    let (status, body) = match answer {
        Ok(answer) => answer,
        Err(e) => {
            return fail(&format!(
                "could not reach Faurya's admin API at {addr} ({}): is Faurya running?",
                faurya::providers::transport::describe_send_error(&e)
            ));
        }
    };
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let message = value.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or(body.as_str());
        return fail(&format!("{} ({status})", message.trim()));
    }
    let run: faurya::test_payment::TestRun = match serde_json::from_value(value) {
        Ok(run) => run,
        Err(e) => return fail(&format!("an answer this faurya does not understand ({e}): is it the same version?")),
    };
    let who = match run.via {
        faurya::test_payment::Via::Faurya => "sent by Faurya",
        faurya::test_payment::Via::Provider => "sent by the provider",
    };
    println!("Test payment for {} connection {} ({who}):", run.provider, run.connection_id);
    for step in &run.steps {
        let mark = match step.state {
            faurya::test_payment::StepState::Ok => "ok  ",
            faurya::test_payment::StepState::Failed => "FAIL",
            faurya::test_payment::StepState::Skipped => "  - ",
        };
        match &step.detail {
            Some(detail) => println!("  [{mark}] {}: {detail}", step.label),
            None => println!("  [{mark}] {}", step.label),
        }
    }
    println!("{}", run.message);
    if let (Some(delivery), Some(payment)) = (&run.delivery_id, run.payment_id) {
        println!("Delivery {delivery}, payment {payment} (marked as a test: it never counts in revenue).");
    }
    if run.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn backup_or_restore(args: faurya::config::ServeArgs, path: std::path::PathBuf, restore: bool) -> ExitCode {
    let config = match Config::from_args(args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    if restore {
        match faurya::backup::restore(&path, &config.data_dir, &config.db_path()) {
            Ok((summary, kept)) => {
                println!(
                    "Restored {} ({} payments, {} deliveries, {} sessions) into {}.",
                    path.display(),
                    summary.payments,
                    summary.deliveries,
                    summary.sessions,
                    config.db_path().display()
                );
                if let Some(kept) = kept {
                    println!("The database it replaced is kept as {}.", kept.display());
                }
                println!("Start Faurya with the master key that sealed this backup's secrets.");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        }
    } else {
        match faurya::backup::backup(&config.db_path(), &path) {
            Ok(summary) => {
                println!(
                    "Wrote {} ({} bytes: {} payments, {} deliveries, {} sessions).",
                    path.display(),
                    summary.bytes,
                    summary.payments,
                    summary.deliveries,
                    summary.sessions
                );
                println!(
                    "Its secrets are sealed: keep the master key too (OS keychain entry \"faurya\" or master.key)."
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        }
    }
}

async fn serve_until_signal(config: Config) -> ExitCode {
    let app = match App::start(config).await {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    let public_url = match app.state().public_url().await {
        Ok(Some(url)) => url,
        _ => {
            let status = app.state().tunnel.status();
            match status.state {
                faurya::tunnel::TunnelState::Starting => {
                    format!(
                        "none yet: the {} is starting (its URL is logged when it is up)",
                        status.backend.display_name()
                    )
                }
                faurya::tunnel::TunnelState::Down => {
                    format!("none: {}", status.error.unwrap_or_else(|| "the tunnel is down".into()))
                }
                _ => "none yet: choose a tunnel in Settings, or pass --public-url / --tunnel".to_string(),
            }
        }
    };
    // Tests and scripts parse these lines: keep their prefixes stable.
    println!("Faurya {} is running.", env!("CARGO_PKG_VERSION"));
    println!("Admin login URL: {}", app.login_url());
    println!("Public listener: {}", app.public_listener_url());
    println!("Public URL: {public_url}");
    println!("Data dir: {}", app.state().config.data_dir.display());
    println!("Press Ctrl+C to stop.");
    wait_for_signal().await;
    tracing::info!("shutting down");
    app.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("faurya: {error}");
    ExitCode::FAILURE
}
