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
