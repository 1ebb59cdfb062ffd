#!/usr/bin/env bash
# Builds the app, starts it on a free port with a fresh SQLite database, waits for /readyz,
# runs the Playwright suite in Chromium, and stops the server.
#   scripts/e2e.sh             debug build (quick to rebuild while developing)
#   scripts/e2e.sh --release   the release build that `make run` serves (what `make test` uses)
set -euo pipefail
source "$(dirname "$0")/env.sh"

profile=debug
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  shift
  cargo leptos build --release
else
  cargo leptos build
fi

work=$(mktemp -d /tmp/aura-e2e.XXXXXX)
port=$(free_port)
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$AURA_ROOT/target/site" \
  AURA_DATABASE_URL="sqlite://$work/e2e.db" \
  "$CARGO_TARGET_DIR/$profile/aura" >"$work/server.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server never became ready" >&2; cat "$work/server.log" >&2; exit 1; }

if ! AURA_E2E_BASE_URL="http://127.0.0.1:$port" npx playwright test --config end2end/playwright.config.ts "$@"; then
  echo "---- server log (last 50 lines) ----" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
