#!/usr/bin/env bash
# Every check Aura has: formatting, lints, Rust tests on SQLite and on PostgreSQL, and the
# Playwright suite against a freshly built server. Fails on the first failure.
set -euo pipefail
source "$(dirname "$0")/env.sh"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

scripts/bootstrap.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (server, crates and tests)"
cargo clippy --all-targets -- -D warnings
step "cargo clippy (WASM front end)"
cargo clippy -p aura-frontend --target wasm32-unknown-unknown -- -D warnings

# A hang anywhere fails the stage well inside CI's 90 minutes instead of eating them.
limit() { timeout --kill-after=30s "$@"; }

# The suites leave a SQLite file per test app; start from none so they never pile up.
rm -rf "${TMPDIR:-/tmp}/aura-tests"

step "cargo test on SQLite"
limit 25m cargo test

step "OpenAPI document: openapi-spec-validator"
openapi=$(mktemp --suffix=.json)
cargo run -q -p aura-server --bin aura -- openapi >"$openapi"
"$HOME/.cache/aura/venv/bin/openapi-spec-validator" "$openapi"
rm -f "$openapi"

step "SARIF from aura analyze: Microsoft SARIF Multitool"
scripts/sarif.sh

step "cargo test on PostgreSQL (throwaway cluster)"
limit 25m scripts/with-postgres.sh cargo test

step "Playwright end-to-end tests in Chromium, against the release build"
limit 30m scripts/e2e.sh --release

step "Schemathesis: the REST API fuzzed from its OpenAPI document, with an API key"
limit 10m scripts/schemathesis.sh

step "Model calls against a real LiteLLM proxy, over both wire protocols"
limit 5m scripts/litellm.sh

step "all checks passed"
