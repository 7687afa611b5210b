#!/usr/bin/env bash
# Installs what `make run` / `make test` need and is missing. Fast when nothing is missing.
#   scripts/install-deps.sh build   Rust, Node.js, the Tauri system libraries
#   scripts/install-deps.sh test    the above, plus Xvfb, Chromium, ImageMagick, D-Bus, curl
# Debian/Ubuntu: missing packages come from apt (with sudo when not root). macOS and others:
# it checks and says what to install.
set -euo pipefail

what=${1:-build}
node_min_major=20
node_min_minor=19

build_pkgs=(build-essential pkg-config curl wget file libssl-dev libwebkit2gtk-4.1-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev)
test_pkgs=(xvfb x11-utils xdotool imagemagick dbus-daemon chromium faketime)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'install-deps: %s\n' "$*" >&2; exit 1; }

sudo_cmd() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

node_ok() {
  command -v node >/dev/null || return 1
  local v major minor
  v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt "$node_min_major" ] || { [ "$major" -eq "$node_min_major" ] && [ "$minor" -ge "$node_min_minor" ]; }
}

apt_install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing with apt: ${missing[*]}"
  sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_rust() {
  if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
  if ! command -v cargo >/dev/null; then
    say "installing Rust with rustup (https://rustup.rs)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
}

# The licence/bans/sources check of `make lint` (a Rust tool, from crates.io).
ensure_cargo_deny() {
  [ "$what" = test ] || return 0
  command -v cargo-deny >/dev/null && return 0
  say "installing cargo-deny (licence and source checks; a few minutes, once)"
  cargo install --locked cargo-deny
}

case "$(uname -s)" in
  Linux)
    if command -v apt-get >/dev/null; then
      pkgs=("${build_pkgs[@]}")
      [ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
      node_ok || pkgs+=(nodejs npm)
      apt_install_missing "${pkgs[@]}"
      node_ok || die "Node.js >= $node_min_major.$node_min_minor is needed (this system's apt has $(node -v 2>/dev/null || echo none)). Install it from https://nodejs.org or with nvm, then run make again."
    else
      say "not a Debian/Ubuntu system: install the Tauri prerequisites for your distribution (https://v2.tauri.app/start/prerequisites/), Node.js >= 20.19, and for tests Xvfb, Chromium and ImageMagick"
    fi
    ensure_rust
    ensure_cargo_deny
    ;;
  Darwin)
    xcode-select -p >/dev/null 2>&1 || die "install the Xcode command line tools first: xcode-select --install"
    node_ok || die "install Node.js >= 20.19 (e.g. brew install node)"
    ensure_rust
    ensure_cargo_deny
    ;;
  *)
    say "on Windows, use WSL2 (Ubuntu) and run make there, or install Rust (MSVC), Node.js >= 20.19 and WebView2 natively"
    ;;
esac
