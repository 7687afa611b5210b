# Faurya Desktop. The two commands that matter:
#   make run    install what is missing, build, open the desktop app
#   make test   install what is missing, run every test (Rust, UI, browser, desktop)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
# Arguments for `make serve`, e.g. make serve ARGS="--public-url https://hooks.example.com"
ARGS ?=

.PHONY: help run serve test build bundle deps deps-test ui ui-deps e2e-deps \
        test-rust test-ui test-e2e test-desktop desktop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

deps: ## install missing build prerequisites (apt on Debian/Ubuntu)
	@scripts/install-deps.sh build

deps-test: ## install missing build and test prerequisites
	@scripts/install-deps.sh test

ui-deps:
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	  cd ui && npm ci --no-audit --no-fund; fi

e2e-deps:
	@if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then \
	  cd tests/e2e && npm ci --no-audit --no-fund; fi

ui: ui-deps ## build the UI into ui/dist (type-checked)
	cd ui && npm run build

desktop: ui
	$(CARGO) build -p faurya-desktop

run: deps ui ## build and open the desktop app
	@if [ "$$(uname -s)" = Linux ] && [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "No display here: 'make serve' runs the same app headless and prints a login URL." >&2; exit 1; fi
	$(CARGO) run -p faurya-desktop

serve: deps ui ## run headless; prints the admin login URL
	$(CARGO) run -p faurya -- serve $(ARGS)

test: deps-test ui e2e-deps test-rust test-ui test-e2e test-desktop ## run every test
	@echo "make test: all tests passed"

test-rust:
	$(CARGO) test --workspace --exclude faurya-desktop

test-ui:
	cd ui && npm test

test-e2e:
	$(CARGO) build -p faurya -p faurya-fakes
	cd tests/e2e && FAURYA_BIN=$(CURDIR)/target/debug/faurya FAURYA_FAKES_BIN=$(CURDIR)/target/debug/faurya-fakes npm test

test-desktop: desktop
	@if [ "$$(uname -s)" = Linux ]; then tests/desktop/smoke.sh $(CURDIR)/target/debug/faurya-desktop; \
	else echo "desktop smoke test skipped: it needs Xvfb (Linux)"; fi

build: deps ui ## release binaries: target/release/faurya and target/release/faurya-desktop
	$(CARGO) build --release -p faurya -p faurya-desktop
	@echo "built target/release/faurya and target/release/faurya-desktop"

bundle: build ## installable packages (.deb, AppImage / .dmg / .msi) with the Tauri CLI
	cd src-tauri && npx --yes @tauri-apps/cli@2 build

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules tests/e2e/node_modules
