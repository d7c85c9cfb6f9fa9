#!/usr/bin/env bash
# Drives a real civic-issuer on 127.0.0.1 with clients we did not write:
#   1. PyPI soft-webauthn enrolls a passkey with a code and signs in (discoverable login),
#      then asks for a credential offer; the unpatched device (no UV flag) is refused.
#   2. npm @openid4vc/openid4vci 0.4.6 redeems the offer: metadata, token (DPoP), nonce, 3
#      proofs. And the authorization code flow (HAIP 1.0 §4) with the same library and
#      @openid4vc/oauth2: PAR with PKCE S256, the resident signing in with the soft-webauthn
#      passkey at /authorize and confirming, the code redeemed with PKCE and DPoP, a batch of 2;
#      and issuer-initiated, from an offer with the authorization_code grant and issuer_state;
#      and with wallet attestation (the library's client attestation and PoP, x5c to a provider
#      CA the issuer trusts).
#   3. PyPI sd-jwt verifies every credential with the key from /.well-known/jwt-vc-issuer.
#   4. Headless Chromium (npm playwright-core) with a WebAuthn virtual authenticator uses the
#      resident pages: enroll, /me, offer QR, sign out, passkey sign-in, a wrong code, a11y basics.
#   5. The civic-verifier service, trusting that issuer, answered by npm @openid4vc/openid4vp 0.4.6
#      (with @sd-jwt/sd-jwt-vc presentations) and by a PyPI sd-jwt holder: eligible results,
#      a wrong KB nonce rejected, over-disclosure flagged, a decline recorded.
#   6. Our wallet's JS API (wallet-wasm/web/wallet.js, the built WASM) under Node.js: receive a
#      batch, present through the verifier with one copy each, decline, history, lock/unlock.
#   7. A certificate verifier (HAIP 1.0: x509_hash, request objects signed with x5c, fetched by
#      POST, encrypted answers) with a development CA from `civic-verifier dev-ca`, whose CA the
#      issuer publishes in its platform registry: answered by the npm wallet (chain checked with
#      node:crypto) and by ours (the registry read when receiving); a rogue CA is not trusted.
#      It trusts the issuer by certificate: the issuer signs with a `civic-issuer dev-ca`
#      certificate (x5c on credentials and status lists, checked with npm jose and node:crypto),
#      and the request's DCQL names the issuer CA in trusted_authorities (aki).
# Needs: cargo build -p civic-issuer -p civic-verifier, and tests/interop/setup.sh.
# Ends with "N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/interop"
PY="$ROOT/.tools/venv/bin/python"
BIN="${CIVIC_ISSUER_BIN:-$ROOT/target/debug/civic-issuer}"
VBIN="${CIVIC_VERIFIER_BIN:-$ROOT/target/debug/civic-verifier}"
export NODE_PATH="$ROOT/.tools/node/node_modules"
WORK="$(mktemp -d)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://localhost:$PORT"
PASS=0; FAIL=0; SERVER=""
VSERVER=""
cleanup() { for p in $SERVER $VSERVER; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
check() { # name, command...
  local name="$1"; shift
  if "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    PASS=$((PASS + 1)); echo "ok   $name"
  else
    FAIL=$((FAIL + 1)); echo "FAIL $name"; tail -n 15 "$WORK/$name.err" | sed 's/^/     /'
  fi
}
refused() { ! "$@"; }
# wait_up PORT: until the service on 127.0.0.1:PORT answers /healthz (30 s at most).
wait_up() {
  "$PY" - "$1" <<'PYEOF'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1); break
    except Exception:
        time.sleep(0.1)
PYEOF
}
# new_offer N: the signed-in resident asks for a fresh offer; sets OFFER and TX.
new_offer() {
  "$PY" "$HERE/python/passkey_client.py" offer "$BASE" --state "$WORK/pk.json" > "$WORK/offer$1.json" 2>/dev/null
  OFFER="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["openid_credential_offer_url"])' "$WORK/offer$1.json" 2>/dev/null)"
  TX="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tx_code"])' "$WORK/offer$1.json" 2>/dev/null)"
}

"$BIN" init --data "$WORK/data" --public-url "$BASE" --agency "Gemeente Interop" --did-docs "$WORK/did-docs" >/dev/null
# The issuer's signing key gets a development certificate: credentials and status lists carry x5c.
"$BIN" dev-ca --data "$WORK/data" >/dev/null
cat > "$WORK/register.csv" <<'CSV'
register_id,given_name,family_name,birthdate,street_address,postal_code,locality,country,municipality,municipality_code,district,resident_since,valid_until
R-0001,Anna,de Vries,1990-04-12,Dam 1,1012 JS,Amsterdam,NL,Amsterdam,0363,3,2015-06-01,2099-12-31
R-0002,Bram,Jansen,2009-01-20,Kalverstraat 10,1012 PA,Amsterdam,NL,Amsterdam,0363,4,2009-01-20,2099-12-31
R-0003,Chloe,Bakker,1950-11-02,Prinsengracht 263,1016 GV,Amsterdam,NL,Amsterdam,0363,1,1980-03-15,2099-12-31
CSV
"$BIN" import-register --data "$WORK/data" "$WORK/register.csv" >/dev/null
# The verifier service's port is chosen now: the budget platform is named by the verifier's origin
# (wallets give its pseudonym to no other verifier). A second platform gives the wallet a
# pseudonym a hostile verifier must not get.
VPORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
VBASE="http://localhost:$VPORT"
OTHER_PLATFORM="https://consult.example"
"$BIN" add-platform --data "$WORK/data" --id "$VBASE" --name Budget >/dev/null
# The certificate verifier: its own origin is its platform id; the issuer's platform registry
# publishes the development CA that signed its certificate.
XPORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
XBASE="http://localhost:$XPORT"
"$BIN" add-platform --data "$WORK/data" --id "$XBASE" --name "Budget (certificate)" >/dev/null
"$VBIN" dev-ca --dir "$WORK/pki" --host localhost --organization "Participatory Budget Interop" >/dev/null
"$VBIN" dev-ca --dir "$WORK/rogue" --host localhost --organization "Rogue Budget" >/dev/null
echo 'platform_trust_anchors = ["../pki/ca.pem"]' >> "$WORK/data/config.toml"
# A wallet provider (a development CA and certificate) whose attestations the issuer trusts.
"$VBIN" dev-ca --dir "$WORK/provider" --host provider.interop.example --organization "Interop Wallet Provider" >/dev/null
echo 'wallet_provider_anchors = ["../provider/ca.pem"]' >> "$WORK/data/config.toml"
# A wallet the authorization code flow serves (a table: after every top-level key).
WALLET_CLIENT="https://wallet.interop.example"
cat >> "$WORK/data/config.toml" <<TOML

[[wallet_client]]
client_id = "$WALLET_CLIENT"
name = "Interop wallet"
redirect_uris = ["$WALLET_CLIENT/callback"]
TOML
"$BIN" add-platform --data "$WORK/data" --id "$OTHER_PLATFORM" --name Consultation >/dev/null
"$BIN" enrollment-codes --data "$WORK/data" --all-unenrolled --out "$WORK/codes.csv" >/dev/null
CODE1="$(sed -n 2p "$WORK/codes.csv" | cut -d, -f2)"
CODE2="$(sed -n 3p "$WORK/codes.csv" | cut -d, -f2)"
CODE3="$(sed -n 4p "$WORK/codes.csv" | cut -d, -f2)"
RUST_LOG=warn "$BIN" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >/dev/null &
SERVER=$!
wait_up "$PORT"

check soft-webauthn-enroll "$PY" "$HERE/python/passkey_client.py" enroll "$BASE" "$CODE1" --state "$WORK/pk.json"
check soft-webauthn-login "$PY" "$HERE/python/passkey_client.py" login "$BASE" --state "$WORK/pk.json"
check soft-webauthn-offer "$PY" "$HERE/python/passkey_client.py" offer "$BASE" --state "$WORK/pk.json"
check soft-webauthn-no-uv-refused refused "$PY" "$HERE/python/passkey_client.py" enroll "$BASE" "$CODE2" --state "$WORK/pk2.json" --no-uv
OFFER="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["openid_credential_offer_url"])' "$WORK/soft-webauthn-offer.out" 2>/dev/null)"
TX="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tx_code"])' "$WORK/soft-webauthn-offer.out" 2>/dev/null)"
check openid4vci-offer-needs-tx-code refused node "$HERE/js/oid4vci_wallet.mjs" --offer "$OFFER" --tx-code 000000x --copies 1 --out "$WORK/wallet0.json"
check openid4vci-wallet node "$HERE/js/oid4vci_wallet.mjs" --offer "$OFFER" --tx-code "$TX" --copies 3 --out "$WORK/wallet.json"
check openid4vci-offer-single-use refused node "$HERE/js/oid4vci_wallet.mjs" --offer "$OFFER" --tx-code "$TX" --copies 1 --out "$WORK/wallet2.json"
check sd-jwt-verifies "$PY" "$HERE/python/verify_issued.py" "$BASE" "$WORK/wallet.json" --vct "$BASE/credentials/residency"
# The authorization code flow: the npm client pushes its request, the resident (soft-webauthn)
# signs in and confirms at the page it is sent to, the npm client redeems the code.
check openid4vci-auth-code-par node "$HERE/js/oid4vci_auth_code.mjs" start --issuer "$BASE" --client-id "$WALLET_CLIENT" --redirect-uri "$WALLET_CLIENT/callback" --session "$WORK/authz.json"
check soft-webauthn-authorize "$PY" "$HERE/python/passkey_client.py" authorize "$BASE" "$(cat "$WORK/openid4vci-auth-code-par.out")" --state "$WORK/pk.json"
AUTHZ_REDIRECT="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["redirect"])' "$WORK/soft-webauthn-authorize.out" 2>/dev/null)"
check openid4vci-auth-code-dpop node "$HERE/js/oid4vci_auth_code.mjs" finish --redirect "$AUTHZ_REDIRECT" --session "$WORK/authz.json" --copies 2 --out "$WORK/wallet-authz.json"
check openid4vci-auth-code-code-single-use refused node "$HERE/js/oid4vci_auth_code.mjs" finish --redirect "$AUTHZ_REDIRECT" --session "$WORK/authz.json" --copies 1 --out "$WORK/wallet-authz2.json"
check sd-jwt-verifies-auth-code "$PY" "$HERE/python/verify_issued.py" "$BASE" "$WORK/wallet-authz.json" --vct "$BASE/credentials/residency"
# The same with wallet attestation (HAIP 1.0 §4.4.1): the library makes the attestation (x5c of
# the provider's certificate) and a PoP per request at PAR and the token endpoint.
check openid4vci-attested-par node "$HERE/js/oid4vci_auth_code.mjs" start --issuer "$BASE" --client-id "$WALLET_CLIENT" --redirect-uri "$WALLET_CLIENT/callback" --provider "$WORK/provider" --session "$WORK/authz-att.json"
check soft-webauthn-authorize-attested "$PY" "$HERE/python/passkey_client.py" authorize "$BASE" "$(cat "$WORK/openid4vci-attested-par.out")" --state "$WORK/pk.json"
AUTHZ_REDIRECT="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["redirect"])' "$WORK/soft-webauthn-authorize-attested.out" 2>/dev/null)"
check openid4vci-attested-token-dpop node "$HERE/js/oid4vci_auth_code.mjs" finish --redirect "$AUTHZ_REDIRECT" --session "$WORK/authz-att.json" --copies 1 --out "$WORK/wallet-att.json"
# Issuer-initiated: an offer with the authorization_code grant, its issuer_state sent back by the
# library; the offer is then used up (its pre-authorized code too).
new_offer 9
check openid4vci-offer-auth-code-par node "$HERE/js/oid4vci_auth_code.mjs" start --offer "$OFFER" --client-id "$WALLET_CLIENT" --redirect-uri "$WALLET_CLIENT/callback" --session "$WORK/authz-offer.json"
check soft-webauthn-authorize-offer "$PY" "$HERE/python/passkey_client.py" authorize "$BASE" "$(cat "$WORK/openid4vci-offer-auth-code-par.out")" --state "$WORK/pk.json"
AUTHZ_REDIRECT="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["redirect"])' "$WORK/soft-webauthn-authorize-offer.out" 2>/dev/null)"
check openid4vci-offer-auth-code-dpop node "$HERE/js/oid4vci_auth_code.mjs" finish --redirect "$AUTHZ_REDIRECT" --session "$WORK/authz-offer.json" --copies 1 --out "$WORK/wallet-authz-offer.json"
check openid4vci-offer-used-up refused node "$HERE/js/oid4vci_wallet.mjs" --offer "$OFFER" --tx-code "$TX" --copies 1 --out "$WORK/wallet-offer-used.json"
# Credential response encryption: the answer sealed to the wallet's key, opened with npm jose.
new_offer 10
check openid4vci-sealed-response-jose node "$HERE/js/oid4vci_wallet.mjs" --offer "$OFFER" --tx-code "$TX" --copies 2 --encrypt-response A256GCM --out "$WORK/wallet-sealed.json"
check sd-jwt-verifies-sealed "$PY" "$HERE/python/verify_issued.py" "$BASE" "$WORK/wallet-sealed.json" --vct "$BASE/credentials/residency"
check issuer-x5c-jose node "$HERE/js/issuer_x5c.mjs" --wallet "$WORK/wallet.json" --anchor "$WORK/data/issuer-ca.pem"
check chromium-pages node "$ROOT/tests/browser/issuer_pages.mjs" "$BASE" "$CODE3" Chloe

# --- The verifier service, answered by wallets we did not write ------------------------------
KEY="interop-platform-api-key"
KEYHASH="$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$KEY")"
cat > "$WORK/trust.toml" <<TOML
[[issuer]]
id = "$BASE"
vct = ["$BASE/credentials/residency"]
municipality_codes = ["0363"]
TOML
cat > "$WORK/verifier.toml" <<TOML
listen = "127.0.0.1:$VPORT"
public_url = "$VBASE"
data_dir = "sessions"
trust_list = "trust.toml"
allow_loopback_http = true
# Unsigned redirect_uri: requests go in the link by value, the form the npm wallet reads.
requests_by_value = true
# Answers come encrypted (direct_post.jwt, as HAIP 1.0 asks): the npm wallet seals them with
# the library's JARM code and jose, the Python holder with jwcrypto, ours in WebAssembly.
encrypt_responses = true
[[platform]]
id = "$VBASE"
name = "Budget"
api_key_sha256 = "$KEYHASH"
[[platform.policy]]
name = "vote"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.municipality_code"
in = ["0363"]
[[platform.policy.rules]]
claim = "age_equal_or_over.16"
equals = true
TOML
RUST_LOG=warn "$VBIN" serve --config "$WORK/verifier.toml" >/dev/null &
VSERVER=$!
wait_up "$VPORT"
# The certificate verifier: x509_hash client id, request objects signed with the dev CA's leaf.
sed -e "s|^listen = .*|listen = \"127.0.0.1:$XPORT\"|" -e "s|^public_url = .*|public_url = \"$XBASE\"|" \
    -e "s|^data_dir = .*|data_dir = \"sessions-x509\"|" -e "s|^id = \"$VBASE\"|id = \"$XBASE\"|" \
    -e '/^requests_by_value/d' -e 's|^trust_list = .*|trust_list = "trust-x509.toml"|' \
    "$WORK/verifier.toml" > "$WORK/verifier-x509.toml"
# It trusts the issuer by certificate (HAIP): keys from x5c, the anchor in DCQL trusted_authorities.
cat > "$WORK/trust-x509.toml" <<TOML
[[issuer]]
id = "$BASE"
vct = ["$BASE/credentials/residency"]
municipality_codes = ["0363"]
trust_anchors = ['''
$(cat "$WORK/data/issuer-ca.pem")
''']
TOML
cat >> "$WORK/verifier-x509.toml" <<TOML
[request_certificate]
chain = "pki/verifier-chain.pem"
key = "pki/verifier-key.pem"
TOML
RUST_LOG=warn "$VBIN" serve --config "$WORK/verifier-x509.toml" >/dev/null &
VSERVER="$VSERVER $!"
wait_up "$XPORT"
session() { "$PY" "$HERE/python/platform.py" create "$VBASE" "$KEY" vote; }
xsession() { "$PY" "$HERE/python/platform.py" create "$XBASE" "$KEY" vote; }
field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
# outcome ID EXPECTED [VERIFIER]: the platform reads the session; EXPECTED is eligible,
# over_disclosed, declined, or rejected:<rule>.
outcome() {
  "$PY" - "$("$PY" "$HERE/python/platform.py" result "${3:-$VBASE}" "$KEY" "$1")" "$2" <<'PYEOF'
import json, sys
r, want = json.loads(sys.argv[1]), sys.argv[2]
e = r.get("eligibility") or {}
ok = {
    "eligible": r.get("status") == "complete" and e.get("eligible") is True and bool(e.get("pseudonym")) and e.get("over_disclosed") is False,
    "over_disclosed": r.get("status") == "complete" and e.get("over_disclosed") is True,
    "declined": r.get("status") == "declined",
}.get(want, r.get("status") == "rejected" and "rejected:" + (r.get("rejection") or {}).get("rule", "") == want)
leak = any(x in json.dumps(r) for x in ("Anna", "de Vries", "1990-04-12", "Dam 1"))
print(json.dumps(r), file=sys.stderr)
sys.exit(0 if ok and not leak else 1)
PYEOF
}
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check openid4vp-js-wallet-presents node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 0
check openid4vp-js-wallet-eligible outcome "$ID" eligible
check openid4vp-js-wallet-encrypted grep -q "encrypted: ECDH-ES A256GCM" "$WORK/openid4vp-js-wallet-presents.err"
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check sd-jwt-holder-presents "$PY" "$HERE/python/vp_holder.py" --request "$URL" --wallet "$WORK/wallet.json" --index 1
check sd-jwt-holder-eligible outcome "$ID" eligible
check sd-jwt-holder-encrypted grep -q "encrypted: ECDH-ES A256GCM" "$WORK/sd-jwt-holder-presents.err"
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check sd-jwt-holder-plain-answer-refused refused "$PY" "$HERE/python/vp_holder.py" --request "$URL" --wallet "$WORK/wallet.json" --index 1 --plain
check sd-jwt-holder-plain-answer-invalid-request grep -q '"invalid_request"' "$WORK/sd-jwt-holder-plain-answer-refused.out"
check sd-jwt-holder-plain-answer-session-waits "$PY" "$HERE/python/vp_holder.py" --request "$URL" --wallet "$WORK/wallet.json" --index 1
check sd-jwt-holder-plain-answer-then-eligible outcome "$ID" eligible
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check sd-jwt-holder-wrong-nonce-refused refused "$PY" "$HERE/python/vp_holder.py" --request "$URL" --wallet "$WORK/wallet.json" --index 1 --kb-nonce not-the-nonce
check sd-jwt-holder-wrong-nonce-rule outcome "$ID" rejected:key_binding_nonce
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check openid4vp-js-over-disclosure-accepted node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 2 --disclose-extra given_name
check openid4vp-js-over-disclosure-flagged outcome "$ID" over_disclosed
S="$(session)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check openid4vp-js-decline node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 2 --decline
check openid4vp-js-declined outcome "$ID" declined
# HAIP: x509_hash + direct_post.jwt, the chain checked against the registry's CA.
S="$(xsession)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check x509-js-wallet-presents node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 0 --trust-anchor "$WORK/pki/ca.pem"
check x509-js-wallet-eligible outcome "$ID" eligible "$XBASE"
check x509-js-wallet-x509-hash grep -q "client id prefix: x509_hash" "$WORK/x509-js-wallet-presents.err"
check x509-js-wallet-chain-checked grep -q "chain to the trust anchor" "$WORK/x509-js-wallet-presents.err"
check x509-js-wallet-encrypted grep -q "encrypted: ECDH-ES" "$WORK/x509-js-wallet-presents.err"
S="$(xsession)"; URL="$(field "$S" openid4vp_url)"; ID="$(field "$S" id)"
check x509-js-wallet-rogue-anchor-refused refused node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 0 --trust-anchor "$WORK/rogue/ca.pem"
check x509-js-wallet-no-anchor-refused refused node "$HERE/js/oid4vp_wallet.mjs" --request "$URL" --wallet "$WORK/wallet.json" --index 0
check x509-registry-publishes-the-ca "$PY" -c 'import json,sys,urllib.request,base64,ssl; r=json.load(urllib.request.urlopen(sys.argv[1]+"/platform-registry")); der=ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read()); sys.exit(0 if base64.b64encode(der).decode() in r["trust_anchors"] else 1)' "$BASE" "$WORK/pki/ca.pem"

# --- Our own wallet's JS API under Node.js, against both services ------------------------------
new_offer 2
check civic-wallet-node-api node "$ROOT/wallet-wasm/tests/node_wallet.mjs" --offer "$OFFER" --tx-code "$TX" --verifier "$VBASE" --platform-key "$KEY" --other-platform "$OTHER_PLATFORM"
sed 's/^/     /' "$WORK/civic-wallet-node-api.out"
# Encrypted answers (direct_post.jwt) from our wallet, opened by a verifier built on npm jose.
new_offer 3
check civic-wallet-encrypted-answers node "$ROOT/wallet-wasm/tests/node_wallet_encrypted.mjs" --offer "$OFFER" --tx-code "$TX"
sed 's/^/     /' "$WORK/civic-wallet-encrypted-answers.out"
# Our wallet answers a verifier built from npm @openid4vc/openid4vp (by value, plain and encrypted).
new_offer 4
check civic-wallet-npm-verifier node "$ROOT/wallet-wasm/tests/node_wallet_npm_verifier.mjs" --offer "$OFFER" --tx-code "$TX"
sed 's/^/     /' "$WORK/civic-wallet-npm-verifier.out"
# Our wallet gets a credential by the authorization code flow (PAR, PKCE, DPoP) from an issuer
# built from npm @openid4vc/oauth2 + openid4vci and @sd-jwt/sd-jwt-vc (its own server, no offer).
check civic-wallet-npm-issuer node "$ROOT/wallet-wasm/tests/node_wallet_npm_issuer.mjs"
sed 's/^/     /' "$WORK/civic-wallet-npm-issuer.out"
# Our wallet and the certificate verifier: the registry read when receiving, the chain checked.
new_offer 5
check civic-wallet-x509-verifier node "$ROOT/wallet-wasm/tests/node_wallet_x509.mjs" --offer "$OFFER" --tx-code "$TX" --verifier "$XBASE" --platform-key "$KEY" --rogue-anchor "$WORK/rogue/ca.pem"
sed 's/^/     /' "$WORK/civic-wallet-x509-verifier.out"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
