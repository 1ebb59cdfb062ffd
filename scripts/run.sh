#!/usr/bin/env bash
# Builds Aura in release mode and serves it on SQLite at http://127.0.0.1:3000.
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/bootstrap.sh
cargo leptos build --release --split
exec "$CARGO_TARGET_DIR/release/aura"
