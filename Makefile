# Developer commands. `make` alone lists them.
#
# The two that matter on a fresh machine (Rust toolchain only):
#   make local   the whole API on http://127.0.0.1:3000 with an embedded dev issuer
#   make test    every test
# The rest (build, deploy, watch/invoke) need cargo-lambda, zig and the SAM CLI: `make tools`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# `make tools` installs the Python-packaged tools (cargo-lambda, SAM CLI, cfn-lint, zig) here.
# Putting its bin/ first on PATH also lets cargo-lambda find zig (`python3 -m ziglang`).
VENV := .venv
ifneq ($(wildcard $(VENV)/bin/python3),)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
endif
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY ?= 0

FUNCTIONS := authorizer public private me shows token
TEMPLATES := template.yaml template-jwt.yaml
# Where `make watch` serves the Lambda Runtime API and `make invoke-*` sends events (IPv4 loopback:
# cargo-lambda's default, ::1, does not exist on every machine).
WATCH_ADDRESS ?= 127.0.0.1
WATCH_PORT ?= 9000
WATCH_FLAGS = --invoke-address $(WATCH_ADDRESS) --invoke-port $(WATCH_PORT)

# say <text>: print what a target is about to do.
say = @printf '\033[1m==> %s\033[0m\n' "$(1)"
# need <command>,<install hint>: stop with a one-line hint when a tool is missing.
need = @command -v $(1) >/dev/null 2>&1 || { echo "error: '$(1)' not found. Install it: $(2)" >&2; exit 127; }

CARGO_LAMBDA_HINT := make tools  (or: pip install cargo-lambda ziglang)
SAM_HINT := make tools  (or: pip install aws-sam-cli)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-22s %s\n", $$1, $$2}'

.PHONY: local
local: ## run the API on http://127.0.0.1:3000 with an embedded dev issuer (cargo run -p local-api)
	$(call say,cargo run -p local-api: routes from template.yaml; set JWT_ISSUER/JWT_AUDIENCE to use a real IdP)
	cargo run -p local-api -- $(ARGS)

.PHONY: test
test: ## run every test: the doctests, then cargo nextest run --workspace
	$(call say,cargo test --workspace --doc (nextest does not run doctests))
	cargo test --workspace --doc
	$(call say,cargo nextest run --workspace (unit and integration tests with real tokens and loopback JWKS servers))
	@# Last, so the run closes on the summary of all tests rather than on a crate with no doctest.
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --workspace --no-fail-fast; \
	else \
		echo "note: cargo-nextest not found (cargo install --locked cargo-nextest); running cargo test instead" >&2; \
		cargo test --workspace --no-fail-fast --lib --bins --tests; \
	fi

.PHONY: lint
lint: fmt-check clippy check-templates ## cargo fmt --check, clippy -D warnings, template checks

.PHONY: fmt-check
fmt-check:
	$(call say,cargo fmt --all --check)
	cargo fmt --all --check

.PHONY: fmt
fmt: ## format the code
	cargo fmt --all

.PHONY: clippy
clippy:
	$(call say,cargo clippy --workspace --all-targets -- -D warnings)
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: check-templates
check-templates: ## template checks: our own (scripts/check_template.py), then sam validate --lint and cfn-lint
	$(call say,scripts/check_template.py: references in Auth.Authorizers + invoke permission + binaries + env vars)
	python3 scripts/check_template.py $(TEMPLATES)
	python3 scripts/check_template.py --self-test >/dev/null || python3 scripts/check_template.py --self-test
	@if command -v sam >/dev/null 2>&1 && command -v cfn-lint >/dev/null 2>&1; then \
		for t in $(TEMPLATES); do printf '\033[1m==> %s\033[0m\n' "sam validate --lint -t $$t"; sam validate --lint -t $$t; done; \
		printf '\033[1m==> %s\033[0m\n' "cfn-lint $(TEMPLATES)"; cfn-lint $(TEMPLATES); \
	else \
		echo "warning: sam validate --lint and cfn-lint skipped: not installed. Install them: $(SAM_HINT) cfn-lint" >&2; \
		if [ -n "$${CI:-}" ]; then exit 1; fi; \
	fi

.PHONY: check-templates-self-test
check-templates-self-test: ## prove scripts/check_template.py catches each mistake it claims to
	python3 scripts/check_template.py --self-test

.PHONY: build
build: ## cargo lambda build --release --arm64 (target/lambda/<fn>/bootstrap)
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	$(call say,cargo lambda build --release --arm64 (cross-compiles with zig))
	cargo lambda build --release --arm64 $(addprefix --bin ,$(FUNCTIONS))

.PHONY: sam-build
sam-build: ## sam build: the same binaries, laid out for sam deploy under .aws-sam/
	$(call need,sam,$(SAM_HINT))
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	$(call say,sam build (runs cargo lambda build --release --arm64 for each function))
	sam build $(if $(TEMPLATE),--template-file $(TEMPLATE))

.PHONY: deploy
deploy: sam-build ## sam build + sam deploy --guided (asks for JwtIssuer, JwtAudience, ...)
	$(call say,sam deploy --guided (answers are saved in samconfig.toml))
	sam deploy --guided

.PHONY: watch
watch: ## cargo lambda watch: a local Lambda Runtime API on :9000 for the invoke-* targets
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	$(call say,cargo lambda watch on $(WATCH_ADDRESS):$(WATCH_PORT); the authorizer reads JWT_ISSUER/JWT_AUDIENCE from this shell)
	cargo lambda watch $(WATCH_FLAGS)

# invoke-<fn>[-<variant>]: feed events/<fn>[-<variant>].json to the function <fn> under `make watch`.
# TOKEN=<jwt> replaces the sample token in the event (only useful for the authorizer).
.PHONY: invoke-%
invoke-%: ## invoke a function with an event: make invoke-private, make invoke-authorizer-http-v2 TOKEN=...
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	@test -f events/$*.json || { echo "error: no events/$*.json; see events/README.md" >&2; exit 2; }
	$(call say,cargo lambda invoke $(firstword $(subst -, ,$*)) --data-file events/$*.json$(if $(TOKEN), (with TOKEN)))
ifdef TOKEN
	@python3 -c 'import re,sys; sys.stdout.write(re.sub(r"Bearer [A-Za-z0-9_.-]+", "Bearer " + sys.argv[2], open(sys.argv[1]).read()))' \
		events/$*.json "$(TOKEN)" > "$${TMPDIR:-/tmp}/invoke-$*.json"
	cargo lambda invoke $(WATCH_FLAGS) $(firstword $(subst -, ,$*)) --data-file "$${TMPDIR:-/tmp}/invoke-$*.json"
else
	cargo lambda invoke $(WATCH_FLAGS) $(firstword $(subst -, ,$*)) --data-file events/$*.json
endif

.PHONY: invoke-all
invoke-all: ## invoke every function with every sample event (under make watch)
	@for e in events/*.json; do n=$$(basename $$e .json); $(MAKE) invoke-$$n || true; echo; done

# make fuzz: every fuzz target under libFuzzer for FUZZ_SECONDS each (fuzz/README.md). cargo-fuzz
# needs nightly -Z flags: on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= token event path_rules config_document

.PHONY: fuzz
fuzz: ## run each fuzz target with libFuzzer for FUZZ_SECONDS (default 60); needs cargo install cargo-fuzz
	$(call need,cargo-fuzz,cargo install cargo-fuzz)
	@for t in $(FUZZ_TARGETS); do \
		printf '\033[1m==> %s\033[0m\n' "cargo fuzz run $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p fuzz/libfuzzer/corpus/$$t && cp -n fuzz/corpus/$$t/* fuzz/libfuzzer/corpus/$$t/ 2>/dev/null || true; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz/libfuzzer $$t fuzz/libfuzzer/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

.PHONY: bench
bench: ## the benchmarks behind the README's performance figures (release build)
	$(call say,cargo bench -p authorizer)
	cargo bench -p authorizer

.PHONY: bench-node
bench-node: ## side by side with the Node peer (aws-jwt-verify): bench/node-peer, needs Node 20 + npm
	$(call need,node,Node.js 20 from https://nodejs.org or apt-get install nodejs npm)
	$(call say,cargo build --release -p authorizer && (cd bench/node-peer && npm ci && node bench.mjs))
	cargo build --release -p authorizer
	cd bench/node-peer && npm ci --no-audit --no-fund --loglevel=error && node bench.mjs $(ARGS)

.PHONY: tools
tools: ## install cargo-lambda, SAM CLI, cfn-lint and zig into .venv (from PyPI) + the arm64 Rust target
	$(call say,python3 -m venv $(VENV) && pip install cargo-lambda aws-sam-cli cfn-lint ziglang)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade cargo-lambda aws-sam-cli cfn-lint ziglang
	$(call say,rustup target add aarch64-unknown-linux-gnu)
	rustup target add aarch64-unknown-linux-gnu

.PHONY: ci
ci: ## what CI runs (.ci/run)
	bash .ci/run

.PHONY: clean
clean: ## remove build output (target/, .aws-sam/)
	cargo clean
	rm -rf .aws-sam
