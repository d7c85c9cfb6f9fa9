#!/usr/bin/env bash
# Runs the peer-vs-peer matrix (no Rust involved): every producer's file is
# verified/decoded by every consumer.  Prints one line per case and a closing
# "N passed, N failed" line; exits non-zero if anything failed.
# Needs tests/interop/setup.sh to have been run.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/interop"
PY="$ROOT/.tools/venv/bin/python"
export NODE_PATH="$ROOT/.tools/node/node_modules"
OUT="${INTEROP_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
pass=0; fail=0
run() { # name, command...
  local name="$1"; shift
  if "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then
    pass=$((pass + 1)); echo "PASS $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/    /' "$OUT/$name.err" | tail -n 5
  fi
}
run py-issue        "$PY" "$HERE/python/interop.py" issue "$OUT/py.json"
run js-issue        node  "$HERE/js/interop.cjs"    issue "$OUT/js.json"
run py-issue.py-verify "$PY" "$HERE/python/interop.py" verify "$OUT/py.json"
run py-issue.js-verify node  "$HERE/js/interop.cjs"    verify "$OUT/py.json"
run js-issue.py-verify "$PY" "$HERE/python/interop.py" verify "$OUT/js.json"
run js-issue.js-verify node  "$HERE/js/interop.cjs"    verify "$OUT/js.json"
run js-status-encode node  "$HERE/js/interop.cjs"    status-encode "$OUT/js-status.json"
run py-status-encode "$PY" "$HERE/python/interop.py" status-encode "$OUT/py-status.json"
for producer in js py; do
  run "$producer-status.js-decode" node  "$HERE/js/interop.cjs"    status-decode "$OUT/$producer-status.json"
  run "$producer-status.py-decode" "$PY" "$HERE/python/interop.py" status-decode "$OUT/$producer-status.json"
done
echo "outputs in $OUT"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
