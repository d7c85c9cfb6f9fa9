#!/usr/bin/env bash
# The platform integration kit (kit/) against the real services, all on 127.0.0.1:
#   - a civic-issuer (the setup of tests/interop/services_interop.sh: init, register, platforms),
#     whose counter offer (admin API) npm @openid4vc/openid4vci redeems into a wallet file;
#   - three civic-verifier services: A (webhook to the Python back end), B (webhook to the Node
#     back end), C (sessions expire after 2 s, for the expiry case);
#   - the example back ends of kit/python/civic_platform.py and kit/node/civic-platform.mjs;
#   - wallets we did not write answering out of band (tests/interop/js/oid4vp_wallet.mjs on npm
#     @openid4vc/openid4vp, tests/interop/python/vp_holder.py on PyPI sd-jwt).
# Checks: the signature rules on shared vectors in both languages (signature_checks.*); each back
# end end to end with the signed webhook, bad webhooks and a wrong API key (backend_flow.py); the
# button in headless Chromium (button.mjs); and the commands of docs/platform-developers.md.
#
#   bash tests/kit/kit_test.sh
#
# Needs: cargo build -p civic-issuer -p civic-verifier-service (or CIVIC_ISSUER_BIN /
# CIVIC_VERIFIER_BIN), tests/interop/setup.sh (cargo xtask setup), /usr/bin/chromium.
# Ends with "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/kit"
INTEROP="$ROOT/tests/interop"
VPY="$ROOT/.tools/venv/bin/python"   # the wallets' Python (PyPI sd-jwt, jwcrypto)
KPY="${PYTHON:-python3}"              # the kit itself needs only the standard library
BIN="${CIVIC_ISSUER_BIN:-$ROOT/target/debug/civic-issuer}"
VBIN="${CIVIC_VERIFIER_BIN:-$ROOT/target/debug/civic-verifier}"
export NODE_PATH="$ROOT/.tools/node/node_modules${NODE_PATH:+:$NODE_PATH}"
WORK="$(mktemp -d)"
PIDS=()
PASS=0; FAIL=0
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for f in "$BIN" "$VBIN" "$VPY"; do
  [ -x "$f" ] || { echo "FAIL missing $f (cargo build -p civic-issuer -p civic-verifier-service; cargo xtask setup)"; echo "0 passed, 1 failed"; exit 1; }
done

# driver NAME COMMAND...: runs a driver that prints "ok …"/"FAIL …" lines and "N passed, N
# failed" last; its counts are added to ours (no summary line counts as one failure).
driver() {
  local name="$1"; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  grep -E '^(ok|FAIL) ' "$WORK/$name.out"
  local last p f
  last="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/$name.out" | tail -n 1)"
  if [ -z "$last" ]; then
    FAIL=$((FAIL + 1)); echo "FAIL $name: no summary (exit $rc)"; tail -n 20 "$WORK/$name.err" | sed 's/^/     /'
    return
  fi
  p="${last%% passed*}"; f="${last#*, }"; f="${f%% failed*}"
  PASS=$((PASS + p)); FAIL=$((FAIL + f))
  if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
    [ "$f" -eq 0 ] && { FAIL=$((FAIL + 1)); echo "FAIL $name: exit $rc"; }
    tail -n 25 "$WORK/$name.err" | sed 's/^/     /'
  fi
}
json() { "$KPY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
free_port() { "$KPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_up URL: until it answers (15 s at most).
wait_up() {
  "$KPY" - "$1" <<'PYEOF'
import sys, time, urllib.request, urllib.error
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1); sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PYEOF
}

# --- The issuer and a wallet -----------------------------------------------------------------
PORT="$(free_port)"; BASE="http://localhost:$PORT"
"$BIN" init --data "$WORK/data" --public-url "$BASE" --agency "Gemeente Teststad" --did-docs "$WORK/did-docs" >"$WORK/init.out"
ADMIN="$(grep -o 'civic_admin_[A-Za-z0-9_-]*' "$WORK/init.out")"
# R-0002 is ten this year, whenever the test runs: too young for the policy.
CHILD_BORN="$(( $(date -u +%Y) - 10 ))-01-01"
cat > "$WORK/register.csv" <<CSV
register_id,given_name,family_name,birthdate,street_address,postal_code,locality,country,municipality,municipality_code,district,resident_since,valid_until
R-0001,Anna,de Vries,1990-04-12,Dam 1,1012 JS,Teststad,NL,Teststad,0363,3,2015-06-01,2099-12-31
R-0002,Daan,Visser,$CHILD_BORN,Dam 2,1012 JS,Teststad,NL,Teststad,0363,3,$CHILD_BORN,2099-12-31
CSV
"$BIN" import-register --data "$WORK/data" "$WORK/register.csv" >/dev/null
# Each verifier is named by its origin (wallets give its pseudonym to no other verifier).
declare -A VPORT VBASE
for v in A B C; do VPORT[$v]="$(free_port)"; VBASE[$v]="http://localhost:${VPORT[$v]}"; done
"$BIN" add-platform --data "$WORK/data" --id "${VBASE[A]}" --name "Teststad (Python)" >/dev/null
"$BIN" add-platform --data "$WORK/data" --id "${VBASE[B]}" --name "Teststad (Node)" >/dev/null
RUST_LOG=warn "$BIN" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/issuer.log" 2>&1 &
PIDS+=($!)
wait_up "$BASE/healthz"
# receive RESIDENT COPIES FILE: a clerk's counter offer (the admin API), redeemed by a wallet we
# did not write (npm @openid4vc/openid4vci).
receive() {
  local offer
  offer="$(curl -fsS -X POST -H "Authorization: Bearer $ADMIN" "$BASE/admin/api/residents/$1/offer")"
  if node "$INTEROP/js/oid4vci_wallet.mjs" --offer "$(json openid_credential_offer_url <<<"$offer")" \
      --tx-code "$(json tx_code <<<"$offer")" --copies "$2" --out "$3" >/dev/null 2>"$3.err"; then
    PASS=$((PASS + 1)); echo "ok   wallet-receives-credentials-$1"
  else
    FAIL=$((FAIL + 1)); echo "FAIL wallet-receives-credentials-$1"; tail -n 15 "$3.err" | sed 's/^/     /'
    echo "$PASS passed, $FAIL failed"; exit 1
  fi
}
receive R-0001 6 "$WORK/wallet.json"
receive R-0002 3 "$WORK/wallet-child.json"

# --- Three verifier services and their back ends ---------------------------------------------
KEY="kit-platform-api-key"
KEYHASH="$("$KPY" -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$KEY")"
SECRET="kit-webhook-secret-$RANDOM$RANDOM"
declare -A BPORT BBASE
for b in py node exp; do BPORT[$b]="$(free_port)"; BBASE[$b]="http://localhost:${BPORT[$b]}"; done
cat > "$WORK/trust.toml" <<TOML
[[issuer]]
id = "$BASE"
vct = ["$BASE/credentials/residency"]
municipality_codes = ["0363"]
TOML
# verifier_config NAME BACKEND TTL: a verifier whose one platform posts results to BACKEND.
verifier_config() {
  cat > "$WORK/verifier-$1.toml" <<TOML
listen = "127.0.0.1:${VPORT[$1]}"
public_url = "${VBASE[$1]}"
data_dir = "sessions-$1"
trust_list = "trust.toml"
allow_loopback_http = true
requests_by_value = true
encrypt_responses = true
session_ttl_secs = $3
[[platform]]
id = "${VBASE[$1]}"
name = "Teststad participation"
api_key_sha256 = "$KEYHASH"
webhook_url = "http://127.0.0.1:${BPORT[$2]}/civic/webhook"
webhook_secret = "$SECRET"
[[platform.policy]]
name = "resident-16"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.municipality_code"
in = ["0363"]
[[platform.policy.rules]]
claim = "age_equal_or_over.16"
equals = true
TOML
  RUST_LOG=warn "$VBIN" serve --config "$WORK/verifier-$1.toml" >"$WORK/verifier-$1.log" 2>&1 &
  PIDS+=($!)
}
verifier_config A py 600
verifier_config B node 600
verifier_config C exp 2
export CIVIC_WEBHOOK_SECRET="$SECRET"
CIVIC_API_KEY="$KEY" "$KPY" "$ROOT/kit/python/civic_platform.py" serve --verifier "${VBASE[A]}" --policy resident-16 --listen "127.0.0.1:${BPORT[py]}" >"$WORK/backend-py.log" 2>&1 &
PIDS+=($!)
CIVIC_API_KEY="$KEY" node "$ROOT/kit/node/civic-platform.mjs" serve --verifier "${VBASE[B]}" --policy resident-16 --listen "127.0.0.1:${BPORT[node]}" >"$WORK/backend-node.log" 2>&1 &
PIDS+=($!)
CIVIC_API_KEY="$KEY" node "$ROOT/kit/node/civic-platform.mjs" serve --verifier "${VBASE[C]}" --policy resident-16 --listen "127.0.0.1:${BPORT[exp]}" >"$WORK/backend-exp.log" 2>&1 &
PIDS+=($!)
# Back ends holding a wrong API key: the service's refusal must come through clearly.
for b in py node; do BPORT[bad-$b]="$(free_port)"; BBASE[bad-$b]="http://localhost:${BPORT[bad-$b]}"; done
CIVIC_API_KEY="not-the-key" "$KPY" "$ROOT/kit/python/civic_platform.py" serve --verifier "${VBASE[A]}" --policy resident-16 --listen "127.0.0.1:${BPORT[bad-py]}" >"$WORK/backend-bad-py.log" 2>&1 &
PIDS+=($!)
CIVIC_API_KEY="not-the-key" node "$ROOT/kit/node/civic-platform.mjs" serve --verifier "${VBASE[B]}" --policy resident-16 --listen "127.0.0.1:${BPORT[bad-node]}" >"$WORK/backend-bad-node.log" 2>&1 &
PIDS+=($!)
for v in A B C; do wait_up "${VBASE[$v]}/healthz"; done
for b in py node exp bad-py bad-node; do wait_up "${BBASE[$b]}/"; done

# --- The checks --------------------------------------------------------------------------------
driver signature-python "$KPY" "$HERE/signature_checks.py"
driver signature-node node "$HERE/signature_checks.mjs"
common=(--wallet "$WORK/wallet.json" --child-wallet "$WORK/wallet-child.json" --secret "$SECRET" --api-key "$KEY" --wallet-python "$VPY")
driver backend-python "$KPY" "$HERE/backend_flow.py" --lang python --backend "${BBASE[py]}" --verifier "${VBASE[A]}" \
  --bad-backend "${BBASE[bad-py]}" --present-with js --decline-with python --index 0 "${common[@]}"
driver backend-node "$KPY" "$HERE/backend_flow.py" --lang node --backend "${BBASE[node]}" --verifier "${VBASE[B]}" \
  --bad-backend "${BBASE[bad-node]}" --present-with python --decline-with js --index 1 "${common[@]}"
driver button node "$HERE/button.mjs" --en "${BBASE[py]}" --nl "${BBASE[node]}" --expiry "${BBASE[exp]}" \
  --broken "${BBASE[bad-py]}" --wallet "$WORK/wallet.json" --child-wallet "$WORK/wallet-child.json" --wallet-python "$VPY" --index 2
# The page for platform developers, its shell blocks run as written (its own services, free ports).
driver docs bash "$HERE/docs_walkthrough.sh"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
