//! Faurya's desktop shell. Deliberately thin: it starts `faurya::App` in this process, opens a
//! window on the admin login URL, and adds a tray icon, single-instance behaviour, payment
//! notifications and start at login. The UI talks to the app over HTTP like any browser does;
//! there are no Tauri commands. What the switches mean and what a notification says live in
//! `faurya::desktop`, tested without a window.
//!
//! Closing the window does not quit: webhooks, the tunnel and pageviews keep arriving while
//! Faurya sits in the tray. The window (and its WebKit processes) is destroyed on close and made
//! again on open, so the idle footprint is the core's. Quit is in the tray menu and the app menu.

#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use clap::Parser;
use faurya::app::LiveEvent;
use faurya::config::{Cli, Command};
use faurya::{App, Config, RunningApp, StartError};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt as _};
use tauri_plugin_notification::NotificationExt as _;

const MAIN_WINDOW: &str = "main";
/// Passed by the login item: start in the tray, without a window.
const HIDDEN_FLAG: &str = "--hidden";
const QUIT_LABEL: &str = "Quit Faurya (deliveries stop)";

/// The running app, taken out and shut down when the shell exits.
struct Running(Mutex<Option<RunningApp>>);

/// Where the window goes when it is opened again (the login URL, or the splash page with the
/// start error).
struct Entry {
    url: WebviewUrl,
    error: Option<String>,
}

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
    let hidden = std::env::args().any(|arg| arg == HIDDEN_FLAG);

    let app = tauri::Builder::default()
        // A second launch hands over to the first one, which comes to the front.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| show_main_window(app)))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(MacosLauncher::LaunchAgent, Some(vec![HIDDEN_FLAG])))
        .setup(move |app| {
            let handle = app.handle().clone();
            let entry = match tauri::async_runtime::block_on(start()) {
                Ok(running) => {
                    // The addresses only: the window signs itself in, and the admin token stays
                    // out of terminals, logs and whatever captures this process's output.
                    println!("Admin listener: {}", running.admin_url());
                    println!("Public listener: {}", running.public_listener_url());
                    let entry = Entry { url: WebviewUrl::External(running.login_url().parse()?), error: None };
                    watch(&handle, running.state().clone());
                    app.manage(Running(Mutex::new(Some(running))));
                    entry
                }
                Err(error) => {
                    eprintln!("faurya: {error}");
                    app.manage(Running(Mutex::new(None)));
                    Entry { url: WebviewUrl::App("index.html".into()), error: Some(error.to_string()) }
                }
            };
            // A start error always shows, also at login: the founder must see it.
            if !hidden || entry.error.is_some() {
                main_window(&handle, &entry)?;
            }
            app.manage(entry);
            handle.set_menu(app_menu(&handle)?)?;
            tray(&handle)?;
            exit_on_signal(handle);
            Ok(())
        })
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_main_window(app),
            "close" => {
                if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                    let _ = window.close();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(tauri::generate_context!())
        .expect("the desktop shell could not start");

    app.run(|handle, event| match event {
        // The last window closed: keep running in the tray. Quit (tray, app menu, a signal)
        // asks with an exit code and is let through.
        RunEvent::ExitRequested { code: None, api, .. } => {
            api.prevent_exit();
            println!("Window closed: Faurya keeps receiving in the tray.");
        }
        // macOS: a click on the Dock icon opens the window again.
        #[cfg(target_os = "macos")]
        RunEvent::Reopen { .. } => show_main_window(handle),
        RunEvent::Exit => {
            let running = handle.state::<Running>().0.lock().ok().and_then(|mut slot| slot.take());
            if let Some(running) = running {
                tauri::async_runtime::block_on(running.shutdown());
            }
        }
        _ => {}
    });
}

/// The desktop uses the same FAURYA_* variables as `faurya serve`. Unless told otherwise, the
/// admin listener takes a free port (only this window uses it), and the public listener keeps
/// its well-known port when free (a reverse proxy may point at it) or takes a free one.
async fn start() -> Result<RunningApp, StartError> {
    let args = match Cli::try_parse_from(["faurya", "serve"]).map(|cli| cli.command) {
        Ok(Command::Serve(args) | Command::Config(args)) => args,
        Ok(
            Command::Backup { args, .. }
            | Command::Restore { args, .. }
            | Command::RotateKey(args)
            | Command::TestPayment { args, .. },
        ) => args,
        Err(e) => return Err(StartError::Task(e.to_string())),
    };
    let mut config = Config::from_args(args, |name| std::env::var(name).ok())?;
    config.desktop = true;
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

fn main_window(app: &AppHandle, entry: &Entry) -> tauri::Result<()> {
    let mut builder = WebviewWindowBuilder::new(app, MAIN_WINDOW, entry.url.clone())
        .title("Faurya")
        .inner_size(1280.0, 820.0)
        .min_inner_size(900.0, 600.0);
    if let Some(error) = &entry.error {
        // The splash page shows this instead of "Starting…".
        let literal = serde_json::to_string(error).unwrap_or_else(|_| "\"\"".into());
        builder = builder.initialization_script(format!("window.__FAURYA_START_ERROR__ = {literal};"));
    }
    builder.build()?;
    Ok(())
}

/// Brings the window to the front, making it again if it was closed.
fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let entry = app.state::<Entry>();
    if let Err(e) = main_window(app, &entry) {
        eprintln!("faurya: could not open the window: {e}");
    }
}

/// The window's menu: closing keeps Faurya receiving; quitting says that deliveries stop.
fn app_menu(app: &AppHandle) -> tauri::Result<Menu<tauri::Wry>> {
    let open = MenuItem::with_id(app, "open", "Open Faurya", true, None::<&str>)?;
    let close = MenuItem::with_id(app, "close", "Close Window (keeps receiving)", true, Some("CmdOrCtrl+W"))?;
    let quit = MenuItem::with_id(app, "quit", QUIT_LABEL, true, Some("CmdOrCtrl+Q"))?;
    let separator = PredefinedMenuItem::separator(app)?;
    let faurya = Submenu::with_items(app, "Faurya", true, &[&open, &close, &separator, &quit])?;
    Menu::with_items(app, &[&faurya])
}

fn tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Faurya", true, None::<&str>)?;
    let note = MenuItem::with_id(app, "note", "Receiving webhooks while this runs", false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", QUIT_LABEL, true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &note, &separator, &quit])?;
    let mut builder = TrayIconBuilder::with_id("faurya").tooltip("Faurya: receiving payments").menu(&menu);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Follows the app's live events: a native notification for each new payment (as the
/// founder's switches allow), and the login item kept in line with "Start Faurya at login".
fn watch(app: &AppHandle, state: faurya::app::AppState) {
    let app = app.clone();
    let mut live = state.live.subscribe();
    tauri::async_runtime::spawn(async move {
        let announced: Announced = Arc::default();
        sync_login_item(&app, &state).await;
        loop {
            let event = match live.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            match event {
                LiveEvent::Payment(id) => {
                    // A moment's grace: a provider's own test is marked as one just after it is
                    // recorded (when the provider reports Faurya's answer).
                    let (app, state, announced) = (app.clone(), state.clone(), announced.clone());
                    tauri::async_runtime::spawn(async move {
                        tokio::time::sleep(NOTICE_GRACE).await;
                        announce(&app, &state, &announced, id).await;
                    });
                }
                LiveEvent::Settings | LiveEvent::Connection(_) => sync_login_item(&app, &state).await,
                _ => {}
            }
        }
    });
}

/// Payments already announced, by (id, created at).
type Announced = Arc<Mutex<HashSet<(i64, i64)>>>;
/// How long after a payment is recorded its notification waits (see `watch`).
const NOTICE_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Shows the notification for payment `id` if one is due and it was not shown yet.
async fn announce(app: &AppHandle, state: &faurya::app::AppState, announced: &Announced, id: i64) {
    let notice = match state.store.read(move |conn| faurya::desktop::payment_notice(conn, id, true)).await {
        Ok(Some(notice)) => notice,
        // Not due: off, a test payment, an older payment changing (refund, attribution).
        Ok(None) => return,
        Err(e) => return tracing::warn!(error = %e, "could not read a payment to announce"),
    };
    if !announced.lock().map(|mut seen| seen.insert(notice.key)).unwrap_or(false) {
        return;
    }
    if let Err(e) = app.notification().builder().title(&notice.title).body(&notice.body).show() {
        tracing::warn!(error = %e, "could not show a payment notification");
    }
}

async fn sync_login_item(app: &AppHandle, state: &faurya::app::AppState) {
    let prefs = match state.store.read(|conn| faurya::desktop::load(conn, true)).await {
        Ok(prefs) => prefs,
        Err(e) => return tracing::warn!(error = %e, "could not read the start-at-login switch"),
    };
    let login = app.autolaunch();
    let enabled = login.is_enabled().unwrap_or(false);
    let outcome = match (prefs.start_at_login, enabled) {
        (true, false) => login.enable(),
        (false, true) => login.disable(),
        _ => return,
    };
    match outcome {
        Ok(()) => tracing::info!(on = prefs.start_at_login, "start at login updated"),
        Err(e) => tracing::warn!(error = %e, "could not change start at login"),
    }
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
