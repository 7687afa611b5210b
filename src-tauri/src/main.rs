//! Faurya's desktop shell. Deliberately thin: it starts `faurya::App` in this process, opens a
//! window on the admin login URL, and adds a tray icon and single-instance behaviour. The UI
//! talks to the app over HTTP like any browser does; there are no Tauri commands.

#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

use std::sync::Mutex;

use clap::Parser;
use faurya::config::{Cli, Command};
use faurya::{App, Config, RunningApp, StartError};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};

const MAIN_WINDOW: &str = "main";

/// The running app, taken out and shut down when the shell exits.
struct Running(Mutex<Option<RunningApp>>);

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("faurya=info,faurya_desktop=info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: a log file or journald gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let app = tauri::Builder::default()
        // A second launch hands over to the first one, which comes to the front.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| show_main_window(app)))
        .setup(|app| {
            let handle = app.handle().clone();
            match tauri::async_runtime::block_on(start()) {
                Ok(running) => {
                    // The addresses only: the window signs itself in, and the admin token stays
                    // out of terminals, logs and whatever captures this process's output.
                    println!("Admin listener: {}", running.admin_url());
                    println!("Public listener: {}", running.public_listener_url());
                    let url = running.login_url().parse()?;
                    main_window(&handle, WebviewUrl::External(url), None)?;
                    app.manage(Running(Mutex::new(Some(running))));
                }
                Err(error) => {
                    eprintln!("faurya: {error}");
                    main_window(&handle, WebviewUrl::App("index.html".into()), Some(error.to_string()))?;
                    app.manage(Running(Mutex::new(None)));
                }
            }
            tray(&handle)?;
            exit_on_signal(handle);
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the desktop shell could not start");

    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let running = handle.state::<Running>().0.lock().ok().and_then(|mut slot| slot.take());
            if let Some(running) = running {
                tauri::async_runtime::block_on(running.shutdown());
            }
        }
    });
}

/// The desktop uses the same FAURYA_* variables as `faurya serve`. Unless told otherwise, the
/// admin listener takes a free port (only this window uses it), and the public listener keeps
/// its well-known port when free (a reverse proxy may point at it) or takes a free one.
async fn start() -> Result<RunningApp, StartError> {
    let args = match Cli::try_parse_from(["faurya", "serve"]).map(|cli| cli.command) {
        Ok(Command::Serve(args) | Command::Config(args)) => args,
        Ok(Command::Backup { args, .. } | Command::Restore { args, .. } | Command::RotateKey(args)) => args,
        Err(e) => return Err(StartError::Task(e.to_string())),
    };
    let mut config = Config::from_args(args, |name| std::env::var(name).ok())?;
    if std::env::var_os("FAURYA_ADMIN_ADDR").is_none() {
        config.admin_addr.set_port(0);
    }
    let public_is_default = std::env::var_os("FAURYA_PUBLIC_ADDR").is_none();
    match App::start(config.clone()).await {
        Err(StartError::Bind { what: "public listener", .. }) if public_is_default => {
            config.public_addr.set_port(0);
            App::start(config).await
        }
        other => other,
    }
}

fn main_window(app: &AppHandle, url: WebviewUrl, error: Option<String>) -> tauri::Result<()> {
    let mut builder = WebviewWindowBuilder::new(app, MAIN_WINDOW, url)
        .title("Faurya")
        .inner_size(1280.0, 820.0)
        .min_inner_size(900.0, 600.0);
    if let Some(error) = error {
        // The splash page shows this instead of "Starting…".
        let literal = serde_json::to_string(&error).unwrap_or_else(|_| "\"\"".into());
        builder = builder.initialization_script(format!("window.__FAURYA_START_ERROR__ = {literal};"));
    }
    builder.build()?;
    Ok(())
}

fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

fn tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Faurya", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut builder = TrayIconBuilder::with_id("faurya").tooltip("Faurya").menu(&menu).on_menu_event(|app, event| {
        match event.id().as_ref() {
            "open" => show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        }
    });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// SIGINT/SIGTERM end the shell the same way Quit does: listeners drain, the store flushes.
fn exit_on_signal(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                signal.recv().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
        app.exit(0);
    });
}
