#!/usr/bin/env bash
# The builder's browser benchmark (end2end/bench/builder.mjs) against the release build:
# builds it, starts a server with a fresh SQLite database, and prints a Markdown table for
# docs/benchmarks.md.
#   scripts/bench-builder.sh [sizes…]     default 100 500 1000; AURA_BENCH_RUNS=3
set -euo pipefail
source "$(dirname "$0")/env.sh"
cargo leptos build --release --split
start_aura release
AURA_BENCH_BASE_URL="$base" node "$AURA_ROOT/end2end/bench/builder.mjs" "$@"
