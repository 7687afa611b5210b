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
