#!/usr/bin/env bash
# Installs everything Aura needs to build, run and test, on a machine that has the Rust
# toolchain, Node.js and apt. Quick and idempotent when everything is already there.
set -euo pipefail
source "$(dirname "$0")/env.sh"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v wasm-opt >/dev/null || missing+=(binaryen)
command -v chromium >/dev/null || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null)" != *" 0.3.7"* ]]; then
  step "cargo install cargo-leptos 0.3.7 (about 11 minutes)"
  cargo install cargo-leptos --version 0.3.7 --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]]; then
  step "cargo install wasm-bindgen-cli $wbg"
  cargo install wasm-bindgen-cli --version "$wbg"
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Monaco is served from the site, never committed: copy its AMD build out of the npm
# package into public/ (cargo-leptos copies public/ into the site) when it changed.
monaco_version=$(node -p 'require("./node_modules/monaco-editor/package.json").version')
if [[ "$(cat public/monaco/VERSION 2>/dev/null)" != "$monaco_version" ]]; then
  step "copy monaco-editor $monaco_version into public/monaco"
  rm -rf public/monaco
  mkdir -p public/monaco
  cp -r node_modules/monaco-editor/min/vs public/monaco/vs
  echo "$monaco_version" >public/monaco/VERSION
fi

# Python tools the test command uses, in a venv outside the clone: an independent
# OpenAPI validator for the document the server generates, and Schemathesis to fuzz the
# API from it, and the official Python client's parser for the Prometheus text format
# `/metrics` must produce. Pinned, so every run checks the same way.
venv="$HOME/.cache/aura/venv"
# grep reads all of pip's output (no -q): stopping early would kill pip with SIGPIPE, and
# pipefail would take that for "not installed".
pip_has() { "$venv/bin/pip" show "$1" 2>/dev/null | grep -x "Version: $2" >/dev/null; }
if ! pip_has schemathesis 4.32.5 || ! pip_has openapi-spec-validator 0.9.0 \
  || ! pip_has prometheus_client 0.26.0; then
  step "python venv with openapi-spec-validator, schemathesis and prometheus_client"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "openapi-spec-validator==0.9.0" "schemathesis==4.32.5" "prometheus_client==0.26.0"
fi

# LiteLLM's proxy (pinned: later versions are missing from the registry here, and one
# published version was compromised) is the third-party model server scripts/litellm.sh
# runs Aura's model calls against. Its own venv: it brings many dependencies.
litellm="$HOME/.cache/aura/litellm"
if ! "$litellm/bin/pip" show litellm 2>/dev/null | grep -x "Version: 1.81.16" >/dev/null; then
  step "python venv with litellm[proxy] 1.81.16"
  python3 -m venv "$litellm"
  "$litellm/bin/pip" install -q --disable-pip-version-check "litellm[proxy]==1.81.16"
fi
