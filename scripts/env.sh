# Shared environment for Aura's scripts; source it, do not run it.
# shellcheck shell=bash
AURA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export AURA_ROOT
# Build outside the clone so fresh clones on the same machine (CI) start warm.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/aura/target}
# CI builds each clone once: incremental state would only pile up in the shared cache
# (it had reached 25 GB and filled the disk).
if [[ "${CI:-}" == "true" ]]; then
  export CARGO_INCREMENTAL=0
fi
export PATH="$AURA_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos sets this while building; setting it for plain cargo too keeps leptos'
# compile-time config identical, so `cargo test` and `cargo leptos build` share artefacts.
export LEPTOS_OUTPUT_NAME=aura
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cd "$AURA_ROOT"

# A TCP port on loopback that is free right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts the built `aura` ($1: debug or release) on a free port with a fresh SQLite
# database in a new temporary directory (or the database URL $2), stops it and removes the
# directory on exit, and waits for /readyz. Sets `work` (the directory, with server.log),
# `port` and `base`.
start_aura() {
  work=$(mktemp -d /tmp/aura-run.XXXXXX)
  port=$(free_port)
  base="http://127.0.0.1:$port"
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$AURA_ROOT/target/site" \
    AURA_DATABASE_URL="${2:-sqlite://$work/aura.db}" AURA_SECRET_KEY_FILE="$work/secret.key" \
    "$CARGO_TARGET_DIR/$1/aura" >"$work/server.log" 2>&1 &
  aura_pid=$!
  trap 'kill -TERM "$aura_pid" 2>/dev/null && wait "$aura_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 120); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$aura_pid" 2>/dev/null || { cat "$work/server.log" >&2; return 1; }
    sleep 0.5
  done
  echo "server never became ready" >&2
  cat "$work/server.log" >&2
  return 1
}
