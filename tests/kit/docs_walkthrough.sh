#!/usr/bin/env bash
# Runs the ```sh blocks of docs/platform-developers.md, in order, as one script from the
# repository root: ports 8080, 8090 and 8000 become free ones, the services come from
# CIVIC_ISSUER_BIN / CIVIC_VERIFIER_BIN, the sandbox lands in a temporary directory, and every
# process the page starts is stopped at the end. Checks the page's promises: the first
# verified resident (eligible, a pseudonym, the webhook received) and the wrong key's error.
#
#   bash tests/kit/docs_walkthrough.sh
#
# Prints "ok …"/"FAIL …" lines and "N passed, N failed"; exit 1 on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOC="$ROOT/docs/platform-developers.md"
BIN="${CIVIC_ISSUER_BIN:-$ROOT/target/debug/civic-issuer}"
VBIN="${CIVIC_VERIFIER_BIN:-$ROOT/target/debug/civic-verifier}"
WORK="$(mktemp -d)"
PGID=""
cleanup() { [ -n "$PGID" ] && kill -- "-$PGID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PASS=0; FAIL=0
result() { if [ "$1" = ok ]; then PASS=$((PASS + 1)); echo "ok   docs-$2"; else FAIL=$((FAIL + 1)); echo "FAIL docs-$2"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1="$(free_port)"; P2="$(free_port)"; P3="$(free_port)"
BINDIRS="$(dirname "$BIN"):$(dirname "$VBIN")"

# The blocks, with the ports and the binaries' folder replaced; the script ends by stopping the
# servers it started in the background.
{
  echo 'set -euo pipefail'
  awk '/^```sh$/ {on=1; next} /^```/ {on=0} on' "$DOC" \
    | sed -e "s/:8080\b/:$P1/g" -e "s/:8090\b/:$P2/g" -e "s/:8000\b/:$P3/g" \
          -e "s|\"\$REPO/target/debug:|\"$BINDIRS:|"
  echo 'echo "walkthrough: done"'
} > "$WORK/walkthrough.sh"
# In a session and process group of its own (setsid: a background child of this shell is no
# group leader, so setsid does not fork and $! is the group's id): every server the page starts
# in the background stays in that group and is stopped with it. At most 120 s.
cd "$ROOT"
TMPDIR="$WORK" setsid bash "$WORK/walkthrough.sh" >"$WORK/out.txt" 2>"$WORK/err.txt" &
PGID=$!
for _ in $(seq 1 1200); do kill -0 "$PGID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PGID" 2>/dev/null; then rc="timeout"; else wait "$PGID"; rc=$?; fi
if [ "$rc" = 0 ] && grep -q '^walkthrough: done$' "$WORK/out.txt"; then result ok every-command-runs; else
  result fail every-command-runs; echo "     exit $rc"; tail -n 15 "$WORK/err.txt" | sed 's/^/     /'; fi
grep -q '^error: civic-verifier answered 401 invalid_client: unknown API key$' "$WORK/err.txt" && grep -q '^exit status 1$' "$WORK/out.txt" \
  && result ok wrong-key-as-shown || result fail wrong-key-as-shown
grep -q '^openid4vp://?client_id=redirect_uri' "$WORK/out.txt" && result ok first-session-link-as-shown || result fail first-session-link-as-shown
python3 - "$WORK/out.txt" <<'PYEOF' && result ok first-verified-resident || result fail first-verified-resident
import json, sys
views = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"id"')]
v = views[-1] if views else {}
print(json.dumps(v), file=sys.stderr)
sys.exit(0 if v.get("status") == "complete" and v.get("eligible") is True and v.get("pseudonym") and v.get("notified") is True else 1)
PYEOF
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
