#!/usr/bin/env bash
# Webhook throughput: sustained GitHub-signed deliveries → runs started per second, async
# mode, measured with wrk against the release build. Prints a Markdown row per round.
#   scripts/bench-webhooks.sh                                  SQLite
#   scripts/with-postgres.sh scripts/bench-webhooks.sh         PostgreSQL (throwaway cluster)
# AURA_BENCH_SECS (20), AURA_BENCH_ROUNDS (3), AURA_BENCH_CONNECTIONS (32); AURA_WORKERS
# passes through (4 by default: the runs execute while deliveries arrive).
set -euo pipefail
source "$(dirname "$0")/env.sh"

secs=${AURA_BENCH_SECS:-20}
rounds=${AURA_BENCH_ROUNDS:-3}
connections=${AURA_BENCH_CONNECTIONS:-32}
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi
cargo build -q --release -p aura-server --bin aura

database=""
if [[ -n "${AURA_TEST_POSTGRES_URL:-}" ]]; then
  name="aura_bench_$$"
  psql -q "$AURA_TEST_POSTGRES_URL" -c "CREATE DATABASE $name"
  database="${AURA_TEST_POSTGRES_URL%/*}/$name"
fi
# No trigger may be slowed by the operator's cap here: the rate limit is not what is measured.
export AURA_WEBHOOK_MAX_RATE_PER_MINUTE=1000000
start_aura release "$database"

jar="$work/cookies"
curl -fsS -c "$jar" -b "$jar" -H "Origin: $base" \
  --data-urlencode "email=bench@example.com" --data-urlencode "display_name=Bench" \
  --data-urlencode "password=correct horse battery staple" "$base/api/auth/sign_up" >/dev/null
api() { curl -fsS -c "$jar" -b "$jar" -H "Origin: $base" -H 'content-type: application/json' "$@"; }
workflow=$(api -d '{"name": "bench", "definition": {"steps": [{"id": "say", "type": "template", "config": {"template": "{{ input.body.action }} #{{ input.body.number }}"}}]}}' \
  "$base/api/v1/workflows" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
secret="bench-secret-0123456789abcdef"
hook=$(api -d '{"name": "bench", "rate_per_minute": 1000000, "verification": {"kind": "hmac", "secret": "'"$secret"'"}}' \
  "$base/api/v1/workflows/$workflow/webhooks")
url=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["url"])' "$hook")
hook_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["id"])' "$hook")

body='{"action":"opened","number":42,"repository":{"full_name":"octo/hello"},"sender":{"login":"octocat"}}'
signature="sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-github-event"] = "pull_request"
wrk.headers["x-hub-signature-256"] = "$signature"
LUA

runs() { api "$base/api/v1/webhooks/$hook_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["runs"])'; }
backend=$([[ -n "$database" ]] && echo PostgreSQL || echo SQLite)
echo "Warm-up (5 s)…" >&2
wrk -t2 -c"$connections" -d5s -s "$work/post.lua" "$url" >/dev/null
echo "| Database | Round | Deliveries/s (202) | Latency p50 | p99 | Non-202 | Runs started = 202s |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  before=$(runs)
  out=$(wrk -t2 -c"$connections" -d"${secs}s" --latency -s "$work/post.lua" "$url")
  after=$(runs)
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non=${non:-0}
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  started=$((after - before))
  echo "| $backend | $round | $rps | $p50 | $p99 | $non | $started = $((total - non)) |"
done
