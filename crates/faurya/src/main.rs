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
