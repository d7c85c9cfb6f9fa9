#!/usr/bin/env bash
# The browser wallet end to end: starts, on 127.0.0.1 with http://localhost:PORT public URLs,
#   - the real civic-issuer (issuer/demo/register.csv, the budget app's origin and a second
#     platform registered, status_ttl_secs = 1 so a revocation shows within a second, and wallet_url =
#     the wallet's /receive, so its same-device offer link opens the wallet),
#   - the participatory_budget example (the verifier in-process) trusting that issuer for 0363,
#     with wallet_link_base = the wallet's /present,
#   - the petitions example, forwarding a proposal at 2 signatures (steps P1-P3),
#   - the wallet page (node wallet-wasm/web/serve.mjs),
# then drives them with headless Chromium: tests/browser/wallet_e2e.mjs (steps 1-9 of issue 5).
#
#   bash tests/browser/wallet_e2e.sh [--artifacts DIR]
#
# Needs: cargo build -p civic-issuer -p civic-examples (or CIVIC_ISSUER_BIN /
# CIVIC_EXAMPLE_BUDGET_BIN), the built wallet (cargo xtask wasm), /usr/bin/chromium and
# playwright-core (tests/interop/setup.sh). Ends with "N passed, N failed"; exit 1 on failure.
#
# The wallet's fetches to the issuer and the verifier are cross-origin: both services must send
# CORS headers on their wallet-facing endpoints (binaries from before that change fail here).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${CIVIC_ISSUER_BIN:-$ROOT/target/debug/civic-issuer}"
EBIN="${CIVIC_EXAMPLE_BUDGET_BIN:-$ROOT/target/debug/participatory_budget}"
PBIN="${CIVIC_EXAMPLE_PETITIONS_BIN:-$ROOT/target/debug/petitions}"
ARTIFACTS="$ROOT/tests/artifacts"
while [ $# -gt 0 ]; do
  case "$1" in
    --artifacts) ARTIFACTS="$2"; shift 2 ;;
    *) echo "usage: wallet_e2e.sh [--artifacts DIR]" >&2; exit 2 ;;
  esac
done
export NODE_PATH="$ROOT/.tools/node/node_modules${NODE_PATH:+:$NODE_PATH}"
for f in "$BIN" "$EBIN" "$PBIN" "$ROOT/wallet-wasm/web/pkg/civic_wallet_bg.wasm"; do
  [ -e "$f" ] || { echo "FAIL missing $f (cargo build -p civic-issuer -p civic-examples; cargo xtask wasm)"; echo "0 passed, 1 failed"; exit 1; }
done

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { # url name
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL $2 did not start ($1)"; sed 's/^/     /' "$WORK/$2.log" 2>/dev/null | tail -n 20
  echo "0 passed, 1 failed"; exit 1
}

IPORT="$(free_port)"; BPORT="$(free_port)"; WPORT="$(free_port)"; XPORT="$(free_port)"; PPORT="$(free_port)"
# The wallet on its own host name (Chromium resolves *.localhost to this machine): its passkey's
# RP ID is then wallet.localhost, apart from the issuer's (localhost), as on two real domains.
ISSUER="http://localhost:$IPORT"; BUDGET="http://localhost:$BPORT"; WALLET="http://wallet.localhost:$WPORT"
XBUDGET="http://localhost:$XPORT"
PETITIONS="http://localhost:$PPORT"
VBIN="${CIVIC_VERIFIER_BIN:-$ROOT/target/debug/civic-verifier}"
# A development CA for the certificate budget (step 5b); the issuer publishes it in its platform
# registry, which the wallet reads when it receives the credential.
"$VBIN" dev-ca --dir "$WORK/pki" --host localhost --organization "Participatory Budget Teststad" > /dev/null \
  || { echo "FAIL civic-verifier dev-ca (cargo build -p civic-verifier-service)"; echo "0 passed, 1 failed"; exit 1; }

# --- the issuer --------------------------------------------------------------------------------
"$BIN" init --data "$WORK/issuer" --public-url "$ISSUER" --agency "Gemeente Teststad" --did-docs "$WORK/did-docs" > "$WORK/init.out" \
  || { echo "FAIL issuer init"; cat "$WORK/init.out"; echo "0 passed, 1 failed"; exit 1; }
ADMIN="$(sed -n 's/^admin token[^:]*: *//p' "$WORK/init.out")"
sed -i 's/^status_ttl_secs = .*/status_ttl_secs = 1/' "$WORK/issuer/config.toml"
grep -q '^status_ttl_secs = 1$' "$WORK/issuer/config.toml" || echo 'status_ttl_secs = 1' >> "$WORK/issuer/config.toml"
echo "wallet_url = \"$WALLET/receive\"" >> "$WORK/issuer/config.toml"
echo 'platform_trust_anchors = ["../pki/ca.pem"]' >> "$WORK/issuer/config.toml"
# The wallet page as a client of the authorization code flow (step 10); a table, so last.
cat >> "$WORK/issuer/config.toml" <<TOML

[[wallet_client]]
client_id = "$WALLET"
name = "Civic wallet"
redirect_uris = ["$WALLET/callback"]
TOML
# The issuer's own wallet provider, trusted by the issuer, and attestations required (step 10).
"$BIN" dev-ca --data "$WORK/issuer" --wallet-provider > /dev/null \
  || { echo "FAIL civic-issuer dev-ca --wallet-provider"; echo "0 passed, 1 failed"; exit 1; }
sed -i 's/^client_attestation = .*/client_attestation = "required"/' "$WORK/issuer/config.toml"
grep -q '^client_attestation = "required"$' "$WORK/issuer/config.toml" \
  || { echo "FAIL client_attestation is not in config.toml"; echo "0 passed, 1 failed"; exit 1; }
"$BIN" import-register --data "$WORK/issuer" "$ROOT/issuer/demo/register.csv" > /dev/null
# The budget platform is named by the budget app's origin; a second platform gives the wallet a
# pseudonym that no verifier here may get (step 7b).
"$BIN" add-platform --data "$WORK/issuer" --id "$BUDGET" --name "Participatory budget" > /dev/null
"$BIN" add-platform --data "$WORK/issuer" --id https://consult.teststad.example --name "Consultation" > /dev/null
"$BIN" add-platform --data "$WORK/issuer" --id "$XBUDGET" --name "Participatory budget (certificate)" > /dev/null
"$BIN" add-platform --data "$WORK/issuer" --id "$PETITIONS" --name "Teststad proposals" > /dev/null
"$BIN" enrollment-codes --data "$WORK/issuer" --resident D-0001 --out "$WORK/codes.csv" > /dev/null
CODE="$(sed -n 2p "$WORK/codes.csv" | cut -d, -f2)"
"$BIN" enrollment-codes --data "$WORK/issuer" --resident D-0003 --out "$WORK/codes2.csv" > /dev/null
CODE2="$(sed -n 2p "$WORK/codes2.csv" | cut -d, -f2)"
"$BIN" enrollment-codes --data "$WORK/issuer" --resident D-0004 --out "$WORK/codes3.csv" > /dev/null
CODE3="$(sed -n 2p "$WORK/codes3.csv" | cut -d, -f2)"
[ -n "$CODE" ] && [ -n "$CODE2" ] && [ -n "$CODE3" ] && [ -n "$ADMIN" ] || { echo "FAIL no enrollment code or admin token"; echo "0 passed, 1 failed"; exit 1; }
RUST_LOG=warn "$BIN" serve --data "$WORK/issuer" --listen "127.0.0.1:$IPORT" > "$WORK/issuer.log" 2>&1 &
PIDS+=($!)

# --- the participatory budget (the verifier in-process) ----------------------------------------
mkdir -p "$WORK/budget"
sed -e "s|^listen = .*|listen = \"127.0.0.1:$BPORT\"|" \
    -e "s|^public_url = .*|public_url = \"$BUDGET\"|" \
    -e "s|^id = .*|id = \"$BUDGET\"|" \
    -e "s|^data_dir = .*|data_dir = \"data/verifier\"|" \
    -e "s|^trust_list = .*|trust_list = \"trust.toml\"|" \
    -e "s|^wallet_link_base = .*|wallet_link_base = \"$WALLET/present\"|" \
    "$ROOT/examples/participatory_budget/config.toml" > "$WORK/budget/config.toml"
cat > "$WORK/budget/trust.toml" <<TOML
key_cache_secs = 60
[[issuer]]
id = "$ISSUER"
vct = ["$ISSUER/credentials/residency"]
municipality_codes = ["0363"]
TOML
RUST_LOG=warn "$EBIN" --config "$WORK/budget/config.toml" > "$WORK/budget.log" 2>&1 &
PIDS+=($!)
# The same budget as a certificate verifier (x509_hash, request objects signed with x5c).
mkdir -p "$WORK/xbudget"
sed -e "s|$BUDGET|$XBUDGET|g" -e "s|127.0.0.1:$BPORT|127.0.0.1:$XPORT|" "$WORK/budget/config.toml" > "$WORK/xbudget/config.toml"
cp "$WORK/budget/trust.toml" "$WORK/xbudget/trust.toml"
cat >> "$WORK/xbudget/config.toml" <<TOML

[request_certificate]
chain = "$WORK/pki/verifier-chain.pem"
key = "$WORK/pki/verifier-key.pem"
TOML
RUST_LOG=warn "$EBIN" --config "$WORK/xbudget/config.toml" > "$WORK/xbudget.log" 2>&1 &
PIDS+=($!)

# The petitions example (steps P1-P3), forwarding at 2 signatures.
mkdir -p "$WORK/petitions"
sed -e "s|^listen = .*|listen = \"127.0.0.1:$PPORT\"|" \
    -e "s|^public_url = .*|public_url = \"$PETITIONS\"|" \
    -e "s|^id = .*|id = \"$PETITIONS\"|" \
    -e "s|^wallet_link_base = .*|wallet_link_base = \"$WALLET/present\"|" \
    "$ROOT/examples/petitions/config.toml" > "$WORK/petitions/config.toml"
sed -e "s|^signature_threshold = .*|signature_threshold = 2|" "$ROOT/examples/petitions/petitions.toml" > "$WORK/petitions/petitions.toml"
grep -q '^signature_threshold = 2$' "$WORK/petitions/petitions.toml" || { echo "FAIL petitions.toml has no signature_threshold"; echo "0 passed, 1 failed"; exit 1; }
cp "$WORK/budget/trust.toml" "$WORK/petitions/trust.toml"
RUST_LOG=warn "$PBIN" --config "$WORK/petitions/config.toml" > "$WORK/petitions.log" 2>&1 &
PIDS+=($!)

# --- the wallet page ----------------------------------------------------------------------------
node "$ROOT/wallet-wasm/web/serve.mjs" --port "$WPORT" --host 127.0.0.1 > "$WORK/wallet.log" 2>&1 &
PIDS+=($!)

wait_http "http://127.0.0.1:$IPORT/healthz" issuer
wait_http "http://127.0.0.1:$BPORT/healthz" budget
wait_http "http://127.0.0.1:$XPORT/healthz" xbudget
wait_http "http://127.0.0.1:$PPORT/healthz" petitions
wait_http "http://127.0.0.1:$WPORT/" wallet
# CORS on the wallet-facing endpoints (a preflight as the wallet's POST /credential sends it).
cors() { # url method headers
  curl -fsS -o /dev/null -D - -X OPTIONS -H "Origin: $WALLET" -H "Access-Control-Request-Method: $2" \
    ${3:+-H "Access-Control-Request-Headers: $3"} "$1" 2>/dev/null | grep -qi '^access-control-allow-origin'
}
for probe in "$ISSUER/credential POST authorization,content-type" "$BUDGET/v1/response/x POST"; do
  set -- $probe
  cors "$1" "$2" "${3:-}" || { echo "FAIL no CORS preflight answer from $1 (binaries older than the CORS change? cargo build -p civic-issuer -p civic-examples)"; echo "0 passed, 1 failed"; exit 1; }
done
echo "issuer $ISSUER  budget $BUDGET  wallet $WALLET"

timeout -k 5 150 node "$ROOT/tests/browser/wallet_e2e.mjs" --issuer "$ISSUER" --code "$CODE" --code2 "$CODE2" --code3 "$CODE3" --admin-token "$ADMIN" \
  --wallet "$WALLET" --budget "$BUDGET" --x509-budget "$XBUDGET" --petitions "$PETITIONS" --artifacts "$ARTIFACTS" 2> "$WORK/browser.err"
RC=$?
[ "$RC" -eq 124 ] || [ "$RC" -eq 137 ] && { echo "FAIL wallet_e2e.mjs timed out"; echo "0 passed, 1 failed"; }
if [ "$RC" -ne 0 ]; then
  echo "--- browser log (last 40 lines) ---"; tail -n 40 "$WORK/browser.err"
  for s in issuer budget xbudget petitions wallet; do echo "--- $s log ---"; tail -n 15 "$WORK/$s.log"; done
fi
exit "$RC"
