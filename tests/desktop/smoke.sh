#!/usr/bin/env bash
# Desktop smoke test: launch the Tauri shell under Xvfb (and a private D-Bus session, so the
# single-instance guard is real), wait for the window and the in-process app, take a screenshot,
# check that a second launch hands over and exits, then stop it with SIGTERM and expect a clean
# exit. Usage: tests/desktop/smoke.sh [path/to/faurya-desktop]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/target/debug/faurya-desktop}
shot=${SCREENSHOT:-$root/docs/screenshots/desktop.png}
work=$(mktemp -d)
trap 'kill -TERM "${xvfb_pid:-}" "${dbus_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

fail() { echo "desktop smoke: FAIL: $*" >&2; echo "--- app output ---" >&2; cat "$work/app.log" >&2 || true; exit 1; }

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

kill -TERM "$app_pid"
for _ in $(seq 100); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app_pid" 2>/dev/null && fail "did not exit within 10 s of SIGTERM"
wait "$app_pid" && status=0 || status=$?
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
curl -fsS "$admin/api/health" >/dev/null 2>&1 && fail "the admin listener still answers after exit"
echo "desktop smoke: OK"
