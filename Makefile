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

.PHONY: help run serve test build bundle deps deps-test ui ui-deps e2e-deps lint audit fuzz \
        test-rust test-ui test-e2e test-clock test-desktop desktop clean

# The host triple, to give cargo a test runner (the shifted-clock stage runs tests through faketime).
HOST_TRIPLE = $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
RUNNER_VAR = CARGO_TARGET_$(shell echo '$(HOST_TRIPLE)' | tr 'a-z-' 'A-Z_')_RUNNER
# How far `make test-clock` moves the clock: tests must pass on any day, not just the one they
# were written on.
CLOCK_SHIFT ?= +400d
# Prints how long each stage of `make test` took.
STAGE = scripts/stage.sh

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

test: ## run every test: lints, Rust, UI, browser, hostile HTTP, shifted clock, desktop, crash
	@$(STAGE) deps $(MAKE) --no-print-directory deps-test ui e2e-deps
	@$(STAGE) lint $(MAKE) --no-print-directory lint
	@$(STAGE) test-rust $(MAKE) --no-print-directory test-rust
	@$(STAGE) test-ui $(MAKE) --no-print-directory test-ui
	@$(STAGE) test-e2e $(MAKE) --no-print-directory test-e2e
	@$(STAGE) test-hostile $(MAKE) --no-print-directory test-hostile
	@$(STAGE) test-clock $(MAKE) --no-print-directory test-clock
	@$(STAGE) test-desktop $(MAKE) --no-print-directory test-desktop
	@$(STAGE) test-crash $(MAKE) --no-print-directory test-crash
	@$(STAGE) --summary
	@echo "make test: all tests passed"

lint: ui-deps ## formatting and lints: rustfmt, clippy (warnings are errors), cargo-deny, prettier, svelte-check
	$(CARGO) fmt --all --check
	$(CARGO) deny --log-level error check licenses bans sources
	$(CARGO) clippy --workspace --exclude faurya-desktop --all-targets -- -D warnings
	cd ui && npm run lint

audit: ## RustSec advisories for every dependency (needs github.com for the advisory database)
	$(CARGO) deny check advisories

# Coverage-guided fuzzing of the parsers with cargo-fuzz (nightly only; `make test` runs the same
# targets on stable through proptest). FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz:
	@rustup toolchain list | grep -q nightly || { echo "make fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2; exit 1; }
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	# New inputs go to fuzz/work (ignored); the checked-in corpus is read only. A crash lands in
	# fuzz/artifacts/<target>/: minimise it (cargo fuzz tmin), fix, and add it to corpus/<target>.
	cd fuzz && for target in $$(sed -n 's/^name = "\(.*\)"$$/\1/p' Cargo.toml | grep -v faurya-fuzz); do \
	  mkdir -p work/$$target && \
	  cargo +nightly fuzz run $$target work/$$target corpus/$$target -- -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	  || exit 1; done

test-rust:
	$(CARGO) test --workspace --exclude faurya-desktop

# The Rust integration tests and the browser tests again, with the clock of every process
# (tests, server, Chromium) moved by CLOCK_SHIFT through libfaketime: a test that compares a
# fixed date with "now" fails here, whatever day it is.
test-clock:
	@command -v faketime >/dev/null || { echo "faketime is missing: run make deps-test" >&2; exit 1; }
	env '$(RUNNER_VAR)=faketime -f $(CLOCK_SHIFT)' $(CARGO) test --workspace --exclude faurya-desktop --test '*'
	$(CARGO) build -p faurya -p faurya-fakes
	cd tests/e2e && FAURYA_BIN=$(CURDIR)/target/debug/faurya FAURYA_FAKES_BIN=$(CURDIR)/target/debug/faurya-fakes \
	  faketime -f $(CLOCK_SHIFT) npm test

test-ui:
	cd ui && npm test

test-e2e:
	$(CARGO) build -p faurya -p faurya-fakes
	cd tests/e2e && FAURYA_BIN=$(CURDIR)/target/debug/faurya FAURYA_FAKES_BIN=$(CURDIR)/target/debug/faurya-fakes npm test

# The crash test (tests/crash/README.md): the release-built `faurya serve` under a load of signed
# deliveries and revenue API calls, SIGKILLed and restarted at random moments; everything that got
# a 2xx must be stored byte-exact and counted once. About a minute once built.
.PHONY: test-crash
test-crash: ## SIGKILL the release binary under load: nothing acknowledged may be lost or counted twice
	$(CARGO) build --release -p faurya -p faurya-fakes
	FAURYA_BIN=$(CURDIR)/target/release/faurya FAURYA_FAKES_BIN=$(CURDIR)/target/release/faurya-fakes node tests/crash/crash.mjs

# Hostile HTTP requests (tests/hostile/corpus) replayed against the built binaries; builds
# nothing: run after test-e2e (or a cargo build -p faurya -p faurya-fakes).
.PHONY: test-hostile
test-hostile: ## replay the hostile HTTP corpus against the running binary
	cd tests/hostile && FAURYA_BIN=$(CURDIR)/target/debug/faurya FAURYA_FAKES_BIN=$(CURDIR)/target/debug/faurya-fakes \
	  node --test --test-timeout=120000 --test-reporter=spec hostile.test.mjs

test-desktop: desktop
	$(CARGO) clippy -p faurya-desktop -- -D warnings
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
