//! A tunnel child process (cloudflared) must never outlive Faurya: with it gone, the tunnel would
//! still claim a public URL that nothing answers, and a second Faurya would start a second one.
//!
//! Two guards: on Linux the child asks the kernel for SIGKILL when its parent dies
//! (`PR_SET_PDEATHSIG`, which also covers Faurya being SIGKILLed); and its pid is recorded in the
//! data dir, so a leftover from a run that could not clean up (another OS, a crash before the
//! signal could be set) is found and stopped at the next start.

use std::path::Path;

use tokio::process::Command;

/// Keeps Faurya's own secrets out of a child's environment: a tunnel client needs neither the
/// master key nor the admin token, and a child's environment is readable by its own plugins
/// and crash reporters.
pub fn scrub_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FAURYA_") {
            command.env_remove(name);
        }
    }
}

/// Makes the child die with this process (Linux; elsewhere the pid file is the guard).
pub fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls are allowed; prctl, getppid
        // and _exit are.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the request took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Remembers the running child's pid.
pub fn record(pid_file: &Path, pid: u32) {
    if let Err(e) = std::fs::write(pid_file, format!("{pid}\n")) {
        tracing::warn!(file = %pid_file.display(), error = %e, "could not record the tunnel process id");
    }
}

/// Forgets the child after it was stopped.
pub fn forget(pid_file: &Path) {
    let _ = std::fs::remove_file(pid_file);
}

/// Stops a child a previous run left behind, if it is still there and still cloudflared.
/// Answers whether one was stopped.
pub fn stop_leftover(pid_file: &Path, name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(pid_file) else { return false };
    forget(pid_file);
    let Ok(pid) = text.trim().parse::<u32>() else { return false };
    if !is_running(pid, name) {
        return false;
    }
    tracing::warn!(pid, "stopping a {name} left running by a previous Faurya");
    kill(pid);
    true
}

#[cfg(unix)]
fn kill(pid: u32) {
    // SAFETY: kill(2) with a pid we checked names our old child.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill(pid: u32) {
    let _ = std::process::Command::new("taskkill").args(["/F", "/PID", &pid.to_string()]).status();
}

/// Whether `pid` is a live process whose command line mentions `name` (a recycled pid that is
/// now something else is left alone).
fn is_running(pid: u32, name: &str) -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|cmd| String::from_utf8_lossy(&cmd).contains(name))
            .unwrap_or(false)
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        std::process::Command::new("ps")
            .args(["-p", &pid.to_string(), "-o", "command="])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(name))
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, name);
        false
    }
}
