#!/usr/bin/env bash
# Desktop smoke test: launch the Tauri shell under Xvfb (and a private D-Bus session, so the
# single-instance guard is real), wait for the window and the in-process app, take a screenshot,
# check that a second launch hands over and exits, close the window (Ctrl+W, as a founder would)
# and check Faurya keeps receiving with its WebKit processes gone, reopen it with a launch, then
# stop it with SIGTERM and expect a clean exit. Prints the memory (PSS) with the window open and
# closed. Usage: tests/desktop/smoke.sh [path/to/faurya-desktop]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/debug/faurya-desktop}
shot=${SCREENSHOT:-$root/docs/screenshots/desktop.png}
work=$(mktemp -d)
trap 'kill -TERM "${xvfb_pid:-}" "${dbus_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

fail() { echo "desktop smoke: FAIL: $*" >&2; echo "--- app output ---" >&2; cat "$work/app.log" >&2 || true; exit 1; }

# The process and every descendant (WebKit's web and network processes).
tree() { local p; echo "$1"; for p in $(pgrep -P "$1" 2>/dev/null); do tree "$p"; done; }
# Proportional set size in kB of one process (0 when gone).
pss() { awk '/^Pss:/ {print $2; exit}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# "total_kB webprocess_kB" over the app's tree.
footprint() {
  local total=0 web=0 p kb
  for p in $(tree "$1"); do
    kb=$(pss "$p"); total=$((total + kb))
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in WebKitWebProces*) web=$((web + kb)) ;; esac
  done
  echo "$total $web"
}
# WebKit's web processes (the page); its network process is shared and stays while the app runs.
webkit_children() { local n=0 p; for p in $(tree "$1"); do case "$(cat "/proc/$p/comm" 2>/dev/null)" in WebKitWebProces*) n=$((n + 1)) ;; esac; done; echo "$n"; }

[ -x "$bin" ] || fail "no desktop binary at $bin (run: cargo build -p faurya-desktop)"

# A display of our own, whatever the environment has.
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do xwininfo -display "$display" -root >/dev/null 2>&1 && break; sleep 0.1; done
export DISPLAY=$display

# A session bus of our own for the single-instance guard.
dbus_pid=""
if command -v dbus-daemon >/dev/null; then
  dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 3>"$work/dbus.addr" 4>"$work/dbus.pid" || true
  if [ -s "$work/dbus.addr" ]; then
    export DBUS_SESSION_BUS_ADDRESS=$(head -1 "$work/dbus.addr")
    dbus_pid=$(head -1 "$work/dbus.pid")
  fi
fi

export FAURYA_DATA_DIR=$work/data
# Start at login writes a login item under $HOME: a home of our own.
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
export FAURYA_NO_KEYCHAIN=1
export FAURYA_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export FAURYA_PUBLIC_ADDR=127.0.0.1:0
# The shell prints no token (only the listener addresses): the test brings its own.
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FAURYA_ADMIN_TOKEN=$token
# Software rendering: Xvfb has no GPU.
export WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1

"$bin" >"$work/app.log" 2>&1 &
app_pid=$!

admin=""
for _ in $(seq 600); do
  admin=$(grep -o 'Admin listener: http://127.0.0.1:[0-9]*' "$work/app.log" | head -1 | sed 's/^Admin listener: //' || true)
  [ -n "$admin" ] && break
  kill -0 "$app_pid" 2>/dev/null || fail "the desktop app exited early"
  sleep 0.1
done
[ -n "$admin" ] || fail "no admin listener address within 60 s"
grep -q "$token" "$work/app.log" && fail "the desktop app printed the admin token"

curl -fsS -H "Authorization: Bearer $token" "$admin/api/health" | grep -q '"ok":true' || fail "in-process API not healthy"

# The window exists and is titled Faurya.
for _ in $(seq 300); do
  xwininfo -display "$display" -root -tree 2>/dev/null | grep -q '"Faurya"' && break
  sleep 0.1
done
xwininfo -display "$display" -root -tree | grep -q '"Faurya"' || fail "no window titled Faurya"

# Give the webview time to load the UI through the login redirect, then look at it.
for _ in $(seq 100); do
  sleep 0.3
  window=$(xwininfo -display "$display" -name Faurya 2>/dev/null | awk '/Window id:/ {print $4}')
  import -display "$display" -window "${window:-root}" "$work/shot.png" 2>/dev/null || continue
  colors=$(identify -format '%k' "$work/shot.png" 2>/dev/null || echo 0)
  [ "$colors" -gt 300 ] && break
done
[ "${colors:-0}" -gt 300 ] || fail "the window looks blank or the UI did not start ($colors colours)"
# The page is up; give its first data a moment so the picture is not of loading placeholders.
sleep 2
import -display "$display" -window "${window:-root}" "$work/shot.png" 2>/dev/null || true
mkdir -p "$(dirname "$shot")"
cp "$work/shot.png" "$shot"
echo "desktop smoke: screenshot $shot ($colors colours)"

# A second launch must not start a second app: it hands over and exits 0.
if [ -n "$dbus_pid" ]; then
  timeout 30 "$bin" >"$work/second.log" 2>&1 || fail "second launch did not exit cleanly: $(cat "$work/second.log")"
  grep -q 'Admin listener' "$work/second.log" && fail "a second instance started its own app"
  kill -0 "$app_pid" 2>/dev/null || fail "the first instance died when the second launched"
  echo "desktop smoke: second launch handed over to the first"
fi

# "Start Faurya at login" adds and removes the login item (XDG autostart on Linux), which
# starts Faurya in the tray (--hidden).
api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
api -X PUT -d '{"start_at_login": true}' "$admin/api/settings" | grep -q '"start_at_login":true' || fail "the switch was not saved"
for _ in $(seq 50); do ls "$HOME"/.config/autostart/*.desktop >/dev/null 2>&1 && break; sleep 0.1; done
item=$(ls "$HOME"/.config/autostart/*.desktop 2>/dev/null | head -1)
[ -n "$item" ] || fail "no login item after switching start at login on"
grep -q -- '--hidden' "$item" || fail "the login item does not start Faurya in the tray: $(cat "$item")"
api -X PUT -d '{"start_at_login": false}' "$admin/api/settings" >/dev/null
for _ in $(seq 50); do [ -e "$item" ] || break; sleep 0.1; done
[ -e "$item" ] && fail "the login item stayed after switching start at login off"
echo "desktop smoke: start at login adds and removes $(basename "$item")"

# Memory with the window open (the UI loaded), after a moment to settle.
sleep 2
read -r open_total open_web <<<"$(footprint "$app_pid")"
[ "$(webkit_children "$app_pid")" -gt 0 ] || fail "no WebKit web process under the app while the window is open"

# Closing the window keeps Faurya running in the tray: Ctrl+W is the menu's "Close Window".
public=$(grep -o 'Public listener: http://127.0.0.1:[0-9]*' "$work/app.log" | head -1 | sed 's/^Public listener: //')
window=$(xwininfo -display "$display" -name Faurya 2>/dev/null | awk '/Window id:/ {print $4}')
xdotool windowfocus --sync "$window" 2>/dev/null || xdotool windowfocus "$window" || true
xdotool key --clearmodifiers ctrl+w
for _ in $(seq 100); do
  xwininfo -display "$display" -root -tree 2>/dev/null | grep -q '"Faurya"' || break
  sleep 0.1
done
xwininfo -display "$display" -root -tree | grep -q '"Faurya"' && fail "Ctrl+W did not close the window"
sleep 1
kill -0 "$app_pid" 2>/dev/null || fail "closing the window quit the app"
grep -q 'keeps receiving in the tray' "$work/app.log" || fail "no word that Faurya keeps running in the tray"
curl -fsS -H "Authorization: Bearer $token" "$admin/api/health" | grep -q '"ok":true' || fail "the API stopped with the window"
curl -fsS "$public/healthz" >/dev/null || fail "the public listener stopped with the window"
for _ in $(seq 50); do [ "$(webkit_children "$app_pid")" -eq 0 ] && break; sleep 0.2; done
[ "$(webkit_children "$app_pid")" -eq 0 ] || fail "WebKit's web process outlived the closed window"
sleep 2
read -r closed_total closed_web <<<"$(footprint "$app_pid")"
echo "desktop smoke: PSS window open: $((open_total / 1024)) MB in all, $((open_web / 1024)) MB of it WebKit's web process"
echo "desktop smoke: PSS window closed: $((closed_total / 1024)) MB in all (web process gone)"
if [ -n "${FOOTPRINT_OUT:-}" ]; then
  echo "$open_total $open_web $closed_total" >"$FOOTPRINT_OUT"
fi

# Opening it again (a launch, as from the app menu or the dock) makes a new window.
if [ -n "$dbus_pid" ]; then
  timeout 30 "$bin" >"$work/third.log" 2>&1 || fail "the reopening launch did not exit cleanly"
  for _ in $(seq 300); do
    xwininfo -display "$display" -root -tree 2>/dev/null | grep -q '"Faurya"' && break
    sleep 0.1
  done
  xwininfo -display "$display" -root -tree | grep -q '"Faurya"' || fail "the window did not come back"
  echo "desktop smoke: the window closed to the tray and came back"
fi

kill -TERM "$app_pid"
for _ in $(seq 100); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app_pid" 2>/dev/null && fail "did not exit within 10 s of SIGTERM"
wait "$app_pid" && status=0 || status=$?
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
curl -fsS "$admin/api/health" >/dev/null 2>&1 && fail "the admin listener still answers after exit"

# Started by the login item (--hidden): running in the tray, no window.
"$bin" --hidden >"$work/hidden.log" 2>&1 &
hidden_pid=$!
for _ in $(seq 600); do grep -q 'Admin listener' "$work/hidden.log" && break; kill -0 "$hidden_pid" 2>/dev/null || break; sleep 0.1; done
grep -q 'Admin listener' "$work/hidden.log" || fail "a --hidden start did not start the app: $(cat "$work/hidden.log")"
sleep 2
xwininfo -display "$display" -root -tree | grep -q '"Faurya"' && fail "a --hidden start opened a window"
kill -TERM "$hidden_pid"
wait "$hidden_pid" || fail "the --hidden instance did not exit cleanly"
echo "desktop smoke: a --hidden start runs in the tray without a window"
echo "desktop smoke: OK"
