#!/usr/bin/env bash
# Builds the app, starts it on a free port with a fresh SQLite database, waits for /readyz,
# runs the Playwright suite in Chromium, and stops the server.
#   scripts/e2e.sh             debug build (quick to rebuild while developing)
#   scripts/e2e.sh --release   the release build that `make run` serves (what `make test` uses)
# Every front-end build needs `--split`: the builder and run pages are a lazily loaded WASM
# chunk, and without the split step the page cannot load.
set -euo pipefail
source "$(dirname "$0")/env.sh"

profile=debug
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  shift
  cargo leptos build --release --split
else
  cargo leptos build --split
fi

start_aura "$profile"

if ! AURA_E2E_BASE_URL="$base" npx playwright test --config end2end/playwright.config.ts "$@"; then
  echo "---- server log (last 50 lines) ----" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
