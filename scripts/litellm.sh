#!/usr/bin/env bash
# Aura's model calls against a real third-party server: LiteLLM's proxy (1.81.16, from
# PyPI, in the venv the bootstrap makes) answering from mock responses, on both wire
# protocols. It starts the release build (built by scripts/e2e.sh --release) with the
# proxy as its environment provider (OpenAI protocol, streaming), adds the proxy again as an
# Anthropic-protocol provider through the REST API, checks "test connection" on both,
# and runs a workflow that calls both through the CLI. Fails on any difference.
set -euo pipefail
source "$(dirname "$0")/env.sh"

litellm_port=$(free_port)
master="sk-litellm-master"
proxy_dir=$(mktemp -d /tmp/aura-litellm.XXXXXX)
cat >"$proxy_dir/config.yaml" <<YAML
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-not-used
      mock_response: "Hello from LiteLLM"
general_settings:
  master_key: $master
YAML
"$HOME/.cache/aura/litellm/bin/litellm" --config "$proxy_dir/config.yaml" --host 127.0.0.1 \
  --port "$litellm_port" >"$proxy_dir/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$litellm_port/health/liveliness" >/dev/null 2>&1 && break
  kill -0 "$proxy_pid" 2>/dev/null || { cat "$proxy_dir/proxy.log" >&2; exit 1; }
  sleep 0.5
done

AURA_LLM_BASE_URL="http://127.0.0.1:$litellm_port" AURA_LLM_API_KEY="$master" \
  AURA_LLM_MODEL=mock-gpt RUST_LOG=warn start_aura release
# `|| true`: errexit holds inside the trap, and wait reports the SIGTERM it just sent.
trap 'kill -TERM "$aura_pid" "$proxy_pid" 2>/dev/null; wait "$aura_pid" "$proxy_pid" 2>/dev/null || true; rm -rf "$work" "$proxy_dir"' EXIT

jar="$work/cookies"
curl -fsS -c "$jar" -b "$jar" -X POST "$base/api/auth/sign_up" -H "Accept: application/json" \
  --data-urlencode "email=llm@example.com" --data-urlencode "display_name=LLM" \
  --data-urlencode "password=correct horse battery staple" >/dev/null
key=$(curl -fsS -c "$jar" -b "$jar" -X POST "$base/api/keys/create" \
  -d "name=litellm&read=on&write=on&run=on&admin=on&expires_in_days=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
api() { curl -sS -H "Authorization: Bearer $key" -H "Content-Type: application/json" "$@"; }

api -X POST "$base/api/v1/models/providers" -d "{\"name\": \"claude-proxy\", \"protocol\": \"anthropic\",
  \"base_url\": \"http://127.0.0.1:$litellm_port/v1\", \"api_key\": \"$master\",
  \"models\": [{\"name\": \"mock-gpt\"}]}" >"$work/provider.json"
for model in default claude-proxy/mock-gpt; do
  api -X POST "$base/api/v1/models/test" -d "{\"model\": \"$model\"}" >"$work/test.json"
  python3 - "$work/test.json" "$model" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["data"]
assert data["ok"] and data["message"] == "Hello from LiteLLM", (sys.argv[2], data)
print(f"test connection {sys.argv[2]}: {data['model']} answered in {data['latency_ms']} ms")
PY
done

export AURA_CLI_CONFIG="$work/cli.toml"
echo "$key" | "$CARGO_TARGET_DIR/release/aura" login --url "$base" >/dev/null
cat >"$work/wf.json" <<'JSON'
{"name": "both protocols", "definition": {"steps": [
  {"id": "openai", "type": "llm", "config": {"model": "default", "prompt": "Say hello to {{ input.name }}"}, "next": [{"to": "anthropic"}]},
  {"id": "anthropic", "type": "llm", "config": {"model": "claude-proxy/mock-gpt", "prompt": "{{ steps.openai.output.text }}"}}
]}}
JSON
"$CARGO_TARGET_DIR/release/aura" workflows push "$work/wf.json" >/dev/null
"$CARGO_TARGET_DIR/release/aura" --json runs start "both protocols" --input '{"name": "Ada"}' --wait >"$work/run.json"
python3 - "$work/run.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
steps = {s["step_id"]: s for s in run["steps"]}
for step, target in [("openai", "openai/mock-gpt"), ("anthropic", "claude-proxy/mock-gpt")]:
    out = steps[step]["output"]
    assert out["text"] == "Hello from LiteLLM" and out["target"] == target, (step, out)
    assert out["stop_reason"] == "end_turn" and out["usage"]["output_tokens"] > 0, (step, out)
print("a workflow called LiteLLM over both protocols:", [steps[s]["output"]["target"] for s in steps])
PY
