#!/usr/bin/env bash
# Checks `aura analyze --format sarif` with an independent validator: Microsoft's SARIF
# Multitool (npm @microsoft/sarif-multitool) validates the log against the SARIF 2.1.0
# schema and its rules. Fails on any result of level "error"; warnings are printed.
# Uses the debug `aura` that `cargo test` built.
set -euo pipefail
source "$(dirname "$0")/env.sh"

work=$(mktemp -d /tmp/aura-sarif.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/my dir"
printf 'import os\n\napi_key = "sk_live_4f9a8b7c6d5e4f3a2b1c"\n\ndef run(code):\n    return eval(code)\n' >"$work/src/app.py"
printf 'const password = "hunter2hunter2hunter2";\nfunction f(a) { return eval(a); }\n' >"$work/src/my dir/ui.js"
printf 'fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n' >"$work/src/lib.rs"

status=0
(cd "$work" && "$CARGO_TARGET_DIR/debug/aura" analyze src --format sarif >aura.sarif) || status=$?
if [[ $status -ne 1 ]]; then
  echo "aura analyze exited $status on files with secrets; expected 1" >&2
  exit 1
fi
sarif-multitool validate "$work/aura.sarif" --output "$work/validation.sarif" --quiet >/dev/null || true
python3 - "$work/aura.sarif" "$work/validation.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
results = log["runs"][0]["results"]
rules = {r["ruleId"] for r in results}
assert "security.hardcoded-secret" in rules, rules
assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/my%20dir/ui.js" for r in results)
validation = json.load(open(sys.argv[2]))["runs"]
invocations = [i for run in validation for i in run.get("invocations", [])]
if not invocations or not all(i.get("executionSuccessful") for i in invocations):
    sys.exit(f"SARIF Multitool did not run: {invocations}")
found = [r for run in validation for r in run.get("results", [])]
for r in found:
    message = r["message"].get("text") or r["message"].get("id")
    print(f'{r.get("level", "warning")}: {r["ruleId"]}: {message}', file=sys.stderr)
errors = [r for r in found if r.get("level", "warning") == "error"]
if errors:
    sys.exit(f"SARIF Multitool found {len(errors)} errors in aura's SARIF")
print(f"SARIF valid: {len(results)} results, {len(found)} validator notes (no errors)")
PY
