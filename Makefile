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
TEMPLATES := template.yaml template-jwt.yaml template-authorizer.yaml
# Plain CloudFormation examples (attach the authorizer to an existing API): linted, not SAM-checked.
EXAMPLE_TEMPLATES := examples/existing-http-api.yaml examples/existing-rest-api.yaml
# Where `make watch` serves the Lambda Runtime API and `make invoke-*` sends events (IPv4 loopback:
# cargo-lambda's default, ::1, does not exist on every machine).
WATCH_ADDRESS ?= 127.0.0.1
WATCH_PORT ?= 9000
WATCH_FLAGS = --invoke-address $(WATCH_ADDRESS) --invoke-port $(WATCH_PORT)

# say <text>: print what a target is about to do.
say = @printf '\033[1m==> %s\033[0m\n' "$(1)"
# need <command>,<install hint>: stop with a one-line hint when a tool is missing.
need = @command -v $(1) >/dev/null 2>&1 || { echo "error: '$(1)' not found. Install it: $(2)" >&2; exit 127; }

# make build LAMBDA_ARCH=x86_64: no extra Rust target needed on an x86_64 machine (arm64 needs
# `rustup target add aarch64-unknown-linux-gnu`, which downloads from rustup's server, not PyPI).
LAMBDA_ARCH ?= arm64
LAMBDA_ARCH_FLAG = $(if $(filter x86_64 x86-64,$(LAMBDA_ARCH)),--x86-64,$(if $(filter arm64 aarch64,$(LAMBDA_ARCH)),--arm64,$(error LAMBDA_ARCH must be arm64 or x86_64, not $(LAMBDA_ARCH))))
# samconfig.toml environment for deploy, outputs and delete: default (template.yaml) or authorizer
# (template-authorizer.yaml); see samconfig.toml.example.
SAM_ENV ?= default

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
lint: fmt-check clippy check-templates check-readme ## cargo fmt --check, clippy -D warnings, template and README checks

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
		for t in $(TEMPLATES) $(EXAMPLE_TEMPLATES); do printf '\033[1m==> %s\033[0m\n' "sam validate --lint -t $$t"; sam validate --lint -t $$t; done; \
		printf '\033[1m==> %s\033[0m\n' "cfn-lint $(TEMPLATES) $(EXAMPLE_TEMPLATES)"; cfn-lint $(TEMPLATES) $(EXAMPLE_TEMPLATES); \
	else \
		echo "warning: sam validate --lint and cfn-lint skipped: not installed. Install them: $(SAM_HINT) cfn-lint" >&2; \
		if [ -n "$${CI:-}" ]; then exit 1; fi; \
	fi

.PHONY: check-readme
check-readme: ## every README code block is marked with what checks it; shell parses, make targets dry-run, links resolve
	$(call say,scripts/check_readme.py (README.md, events/README.md))
	python3 scripts/check_readme.py
	python3 scripts/check_readme.py --self-test >/dev/null || python3 scripts/check_readme.py --self-test

.PHONY: readme-tools
readme-tools: ## run the README's `tools` commands that need no server (after make tools): make build LAMBDA_ARCH=x86_64, ...
	python3 scripts/check_readme.py --run-tools

.PHONY: check-templates-self-test
check-templates-self-test: ## prove scripts/check_template.py catches each mistake it claims to
	python3 scripts/check_template.py --self-test

.PHONY: build
build: ## cargo lambda build --release --arm64 (target/lambda/<fn>/bootstrap); LAMBDA_ARCH=x86_64 for x86_64
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	$(call say,cargo lambda build --release $(LAMBDA_ARCH_FLAG) (cross-compiles with zig))
	cargo lambda build --release $(LAMBDA_ARCH_FLAG) $(addprefix --bin ,$(FUNCTIONS))

.PHONY: sam-build
sam-build: ## sam build: the same binaries, laid out for sam deploy under .aws-sam/
	$(call need,sam,$(SAM_HINT))
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	$(call say,sam build (runs cargo lambda build --release --arm64 for each function))
	sam build $(if $(TEMPLATE),--template-file $(TEMPLATE))

# sam local: the architecture of this machine (the template's Architecture parameter defaults to
# arm64, which an x86_64 host cannot run without qemu). SAM_LOCAL_FLAGS=--skip-pull-image when the
# Lambda base image is already in the local Docker (no registry), as with ../shared/sam-local.
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
SAM_LOCAL_PORT ?= 3100
SAM_LOCAL_FLAGS ?=
# Where ../shared/sam-local/make_build.py is, for machines without cargo-lambda, and the cargo
# profile it builds the host binaries with (dev is minutes faster than the LTO release build).
SAM_LOCAL_SHIM ?= ../shared/sam-local
SAM_LOCAL_PROFILE ?= release
SAM_LOCAL_BIN_DIR = target/$(if $(filter dev,$(SAM_LOCAL_PROFILE)),debug,$(SAM_LOCAL_PROFILE))
# --parameter-overrides for sam local: the architecture, plus JWT_ISSUER/JWT_AUDIENCE from this shell
# when set (sam local gives the functions nothing from the shell otherwise; other variables: --env-vars
# in SAM_LOCAL_FLAGS).
SAM_LOCAL_PARAMETERS = Architecture=$(HOST_ARCH) \
	$(if $(JWT_ISSUER),JwtIssuer=$(JWT_ISSUER)) $(if $(JWT_AUDIENCE),JwtAudience=$(JWT_AUDIENCE))

.PHONY: sam-local-build
sam-local-build: ## build every function for this machine's architecture into .aws-sam/build (sam build, or make_build.py without cargo-lambda)
	$(call need,sam,$(SAM_HINT))
	@if command -v cargo-lambda >/dev/null 2>&1; then \
		printf '\033[1m==> %s\033[0m\n' "sam build --parameter-overrides Architecture=$(HOST_ARCH) (cargo lambda build for $(HOST_ARCH))"; \
		sam build --parameter-overrides Architecture=$(HOST_ARCH); \
	elif [ "$(HOST_ARCH)" = x86_64 ] && [ -f "$(SAM_LOCAL_SHIM)/make_build.py" ]; then \
		printf '\033[1m==> %s\033[0m\n' "cargo build --profile $(SAM_LOCAL_PROFILE) + $(SAM_LOCAL_SHIM)/make_build.py (no cargo-lambda: host binaries)"; \
		cargo build --profile $(SAM_LOCAL_PROFILE) $(addprefix --bin ,$(FUNCTIONS)); \
		"$$(dirname "$$(command -v sam)")/python3" "$(SAM_LOCAL_SHIM)/make_build.py" . $(SAM_LOCAL_BIN_DIR); \
	else \
		echo "error: needs cargo-lambda ($(CARGO_LAMBDA_HINT)), or on x86_64 SAM_LOCAL_SHIM=<dir with make_build.py>" >&2; exit 127; \
	fi

.PHONY: sam-local
sam-local: sam-local-build ## sam local start-api on 127.0.0.1:3100 for this machine's architecture (needs Docker)
	$(call say,sam local start-api on 127.0.0.1:$(SAM_LOCAL_PORT) --parameter-overrides $(SAM_LOCAL_PARAMETERS))
	sam local start-api --host 127.0.0.1 --port $(SAM_LOCAL_PORT) $(SAM_LOCAL_FLAGS) \
		--parameter-overrides $(SAM_LOCAL_PARAMETERS)

# sam-invoke-<event>: sam local invoke the function an events/<event>.json file is for.
.PHONY: sam-invoke-%
sam-invoke-%: ## sam local invoke with an event: make sam-invoke-public, make sam-invoke-authorizer-http-v2 (after sam-local-build)
	$(call need,sam,$(SAM_HINT))
	@test -f events/$*.json || { echo "error: no events/$*.json; see events/README.md" >&2; exit 2; }
	@fn=$$(case "$*" in authorizer*) echo Authorizer;; public*) echo Public;; private*) echo Private;; \
		me*) echo Me;; shows*) echo Shows;; token*) echo Token;; esac)Function; \
		printf '\033[1m==> %s\033[0m\n' "sam local invoke $$fn -e events/$*.json"; \
		sam local invoke $$fn -e events/$*.json $(SAM_LOCAL_FLAGS) --parameter-overrides $(SAM_LOCAL_PARAMETERS)

# Non-interactive: everything comes from samconfig.toml (start from samconfig.toml.example).
# PARAMS="Key=value ..." replaces its parameter_overrides for one run; CONFIG=examples/x.json adds
# AuthorizerConfig=<that document>, on one line and in single quotes: SAM cuts an unquoted value at
# its first space.
COMPACT_JSON = python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))'
# Given to sam build too, so that an Architecture override builds for the architecture it deploys.
OVERRIDES = $(if $(PARAMS)$(CONFIG),--parameter-overrides $(PARAMS) $(if $(CONFIG),"AuthorizerConfig='$$($(COMPACT_JSON) $(CONFIG))'"))
.PHONY: deploy
deploy: ## sam build + sam deploy, no questions, from samconfig.toml (SAM_ENV=authorizer: the authorizer alone)
	$(call need,sam,$(SAM_HINT))
	$(call need,cargo-lambda,$(CARGO_LAMBDA_HINT))
	@test -f samconfig.toml || { echo "error: no samconfig.toml. Start from the example: cp samconfig.toml.example samconfig.toml, set JwtIssuer and JwtAudience (or run make deploy-guided)" >&2; exit 2; }
	$(call say,sam build --config-env $(SAM_ENV) && sam deploy --config-env $(SAM_ENV) (settings from samconfig.toml))
	sam build --config-env $(SAM_ENV) $(OVERRIDES)
	sam deploy --config-env $(SAM_ENV) --no-progressbar $(OVERRIDES)

.PHONY: deploy-authorizer
deploy-authorizer: ## the authorizer alone (template-authorizer.yaml), for an API you already have
	$(MAKE) deploy SAM_ENV=authorizer

.PHONY: deploy-guided
deploy-guided: sam-build ## sam build + sam deploy --guided: asks every template parameter (TEMPLATE=template-authorizer.yaml asks fewer)
	$(call say,sam deploy --guided (answers are saved in samconfig.toml))
	sam deploy --guided

# The stack's outputs; OUTPUT=ApiUrl prints that one value alone, without its trailing slash, so
# API_URL=$$(make -s stack-output OUTPUT=ApiUrl) and curl "$$API_URL/private" work as written.
.PHONY: stack-output
stack-output: ## print the deployed stack's outputs (OUTPUT=ApiUrl: just that value, for API_URL)
	$(call need,sam,$(SAM_HINT))
ifdef OUTPUT
	@sam list stack-outputs --config-env $(SAM_ENV) --output json \
		| python3 -c 'import json,sys; v=[o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"]==sys.argv[1]]; v or sys.exit("error: the stack has no output "+sys.argv[1]); print(v[0].rstrip("/"))' "$(OUTPUT)"
else
	sam list stack-outputs --config-env $(SAM_ENV)
endif

.PHONY: delete
delete: ## sam delete: remove the deployed stack and the artifacts SAM uploaded for it
	$(call need,sam,$(SAM_HINT))
	sam delete --config-env $(SAM_ENV) $(if $(filter 1 yes true,$(YES)),--no-prompts)

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
FUZZ_TARGETS ?= token event path_rules config_document local_request

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
	$(call say,cargo build --release -p testkit --bins && cargo bench -p authorizer)
	@# runtime_overhead compares the authorizer with testkit's floor runtimes, built the same way.
	cargo build --release -p testkit --bins
	cargo bench -p authorizer

.PHONY: bench-overhead
bench-overhead: ## per-invocation latency and CPU through a Runtime API stand-in, authorizer vs minimal runtimes
	$(call say,cargo build --release -p testkit --bins && cargo bench -p authorizer --bench runtime_overhead)
	cargo build --release -p testkit --bins
	cargo bench -p authorizer --bench runtime_overhead

.PHONY: bench-concurrency
bench-concurrency: ## throughput and memory at 1, 8 and 64 concurrent invocations (AWS_LAMBDA_MAX_CONCURRENCY)
	$(call say,cargo bench -p authorizer --bench concurrency)
	cargo bench -p authorizer --bench concurrency

# jwks-snapshot: fetch and validate the issuers' keys (JWT_ISSUER/JWT_AUDIENCE/JWKS_URI or
# AUTHORIZER_CONFIG from this shell, as the function reads them) into $(JWKS_SNAPSHOT).
JWKS_SNAPSHOT ?= jwks-snapshot.json
.PHONY: jwks-snapshot
jwks-snapshot: ## fetch + validate the issuers' keys into $(JWKS_SNAPSHOT) for JWKS_SNAPSHOT_FILE (opt-in)
	$(call say,cargo run --release -p authorizer -- jwks-snapshot $(JWKS_SNAPSHOT))
	cargo run --quiet --release -p authorizer -- jwks-snapshot $(JWKS_SNAPSHOT)

.PHONY: bench-node
bench-node: ## side by side with the Node peer (aws-jwt-verify): bench/node-peer, needs Node 20 + npm
	$(call need,node,Node.js 20 from https://nodejs.org or apt-get install nodejs npm)
	$(call say,cargo build --release -p authorizer && (cd bench/node-peer && npm ci && node bench.mjs))
	cargo build --release -p authorizer
	cd bench/node-peer && npm ci --no-audit --no-fund --loglevel=error && node bench.mjs $(ARGS)

# The Python tools come from PyPI; the arm64 Rust standard library comes from rustup's own server
# (static.rust-lang.org). Where only PyPI is reachable, the second step fails with a note and
# x86_64 builds still work: make build LAMBDA_ARCH=x86_64.
.PHONY: tools
tools: ## install cargo-lambda, SAM CLI, cfn-lint and zig into .venv (PyPI) + the arm64 Rust target (rustup's server)
	$(call say,python3 -m venv $(VENV) && pip install cargo-lambda aws-sam-cli cfn-lint ziglang (from PyPI))
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade cargo-lambda aws-sam-cli cfn-lint ziglang
	$(call say,rustup target add aarch64-unknown-linux-gnu (downloads from rustup's server, not PyPI))
	@rustup target add aarch64-unknown-linux-gnu || { \
		echo "note: the arm64 Rust target could not be installed (rustup's server unreachable?)." >&2; \
		echo "      Build for x86_64 instead: make build LAMBDA_ARCH=x86_64, and deploy with Architecture=x86_64." >&2; \
		echo "      An arm64 build without it fails with: error[E0463]: can't find crate for std" >&2; }

.PHONY: ci
ci: ## what CI runs (.ci/run)
	bash .ci/run

.PHONY: clean
clean: ## remove build output (target/, .aws-sam/)
	cargo clean
	rm -rf .aws-sam
