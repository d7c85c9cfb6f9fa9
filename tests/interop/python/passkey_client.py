#!/usr/bin/env python3
"""Passkey client for the civic-id issuer's resident JSON API, using PyPI ``soft-webauthn``.

    passkey_client.py enroll BASE CODE --state FILE [--origin ORIGIN] [--rp-id RPID] [--no-uv]
    passkey_client.py login  BASE      --state FILE [--origin ORIGIN] [--rp-id RPID] [--no-uv]
    passkey_client.py offer  BASE      --state FILE [--origin ORIGIN]
    passkey_client.py authorize BASE URL --state FILE [--origin ORIGIN]

``SoftWebauthnDevice`` plays browser + authenticator.  ``enroll`` registers a passkey with an
enrolment code; ``login`` signs in with it (discoverable: ``allowCredentials`` empty);
``offer`` asks for a credential offer with the session cookie and ``X-CSRF-Token``.
``authorize`` is the resident at a wallet's authorization request (the authorization code
flow): it signs in with the passkey, opens URL (the issuer's ``/authorize`` page the wallet
sent the browser to), checks the page asks for a decision, and confirms; stdout is the answer
with the ``redirect`` back to the wallet.
The state FILE (JSON, mode 0600) holds the authenticator (credential id, user handle, P-256
private key as PKCS#8 PEM, signature counter, RP ID) and the session (cookies, csrf_token).

ORIGIN defaults to BASE; RPID defaults to ORIGIN's host.  webauthn-rs's WebauthnBuilder
rejects IP addresses as RP ID, so use http://localhost:PORT rather than 127.0.0.1.

soft-webauthn 0.1.4 never sets the UV flag (create: UP|AT, get: UP), and webauthn-rs passkeys
require UV.  ``UVSoftWebauthnDevice`` sets it: in ``create`` by patching authData inside the
"none" attestation object (nothing signs it), in ``get`` by re-implementing the method so the
flag is set *before* signing.  ``--no-uv`` uses the unpatched device (the issuer must refuse).

stdout: the server's JSON answer.  Exit 0 ok, 1 failure (``FAIL: ...`` on stderr), 2 usage.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from base64 import urlsafe_b64decode, urlsafe_b64encode
from http.cookies import SimpleCookie
from struct import pack
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.utils import sha256
from soft_webauthn import SoftWebauthnDevice

FLAG_UP, FLAG_UV = 0x01, 0x04
FLAGS_OFFSET = 32  # authenticatorData = rpIdHash(32) | flags(1) | signCount(4) | ...


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def b64d(s: str) -> bytes:
    return urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b: bytes) -> str:
    return urlsafe_b64encode(b).decode("ascii").rstrip("=")


class UVSoftWebauthnDevice(SoftWebauthnDevice):
    """SoftWebauthnDevice that reports user verification (UV), as webauthn-rs passkeys require."""

    def create(self, options, origin):
        res = super().create(options, origin)
        att = cbor.decode(res["response"]["attestationObject"])
        auth_data = bytearray(att["authData"])
        auth_data[FLAGS_OFFSET] |= FLAG_UV  # fmt "none": no signature covers authData
        att["authData"] = bytes(auth_data)
        res["response"]["attestationObject"] = cbor.encode(att)
        return res

    def get(self, options, origin):
        # soft-webauthn 0.1.4 get(), with flags UP|UV instead of UP; they are signed.
        if self.rp_id != options["publicKey"]["rpId"]:
            raise ValueError("Requested rpID does not match current credential")
        self.sign_count += 1
        client_data = json.dumps({"type": "webauthn.get", "challenge": b64e(options["publicKey"]["challenge"]),
                                  "origin": origin}).encode("utf-8")
        auth_data = sha256(self.rp_id.encode("ascii")) + bytes([FLAG_UP | FLAG_UV]) + pack(">I", self.sign_count)
        signature = self.private_key.sign(auth_data + sha256(client_data), ec.ECDSA(hashes.SHA256()))
        return {"id": urlsafe_b64encode(self.credential_id), "rawId": self.credential_id, "type": "public-key",
                "response": {"authenticatorData": auth_data, "clientDataJSON": client_data,
                             "signature": signature, "userHandle": self.user_handle}}


class Client:
    """JSON over urllib with a minimal cookie store (http.cookiejar drops Secure cookies on http://)."""

    def __init__(self, base, origin, cookies=None):
        self.base, self.origin = base.rstrip("/"), origin
        self.cookies = dict(cookies or {})  # name -> [value, path]

    def post(self, path, body=None, headers=None):
        hdrs = {"Content-Type": "application/json", "Accept": "application/json", "Origin": self.origin}
        jar = "; ".join(f"{n}={v}" for n, (v, p) in self.cookies.items() if path.startswith(p or "/"))
        if jar:
            hdrs["Cookie"] = jar
        hdrs.update(headers or {})
        data = json.dumps({} if body is None else body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=hdrs, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                self._store(resp.headers.get_all("Set-Cookie") or [])
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise Failure(f"POST {path}: HTTP {e.code}: {e.read()[:500].decode('utf-8', 'replace')}") from e
        except urllib.error.URLError as e:
            raise Failure(f"POST {path}: {e.reason}") from e
        try:
            return json.loads(raw) if raw else {}
        except ValueError as e:
            raise Failure(f"POST {path}: answer is not JSON: {raw[:200]!r}") from e

    def get_text(self, url):
        jar = "; ".join(f"{n}={v}" for n, (v, p) in self.cookies.items())
        req = urllib.request.Request(url, headers={"Cookie": jar} if jar else {}, method="GET")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise Failure(f"GET {url}: HTTP {e.code}: {e.read()[:300].decode('utf-8', 'replace')}") from e
        except urllib.error.URLError as e:
            raise Failure(f"GET {url}: {e.reason}") from e

    def _store(self, set_cookies):
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] in ("0", "-1") or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = [morsel.value, morsel["path"] or "/"]
                log(f"  cookie {name}: {'cleared' if name not in self.cookies else 'set'} ({header.split(';', 1)[-1].strip()})")


def load_state(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError as e:
        raise Failure(f"no state file {path}: run enroll first") from e


def save_state(path, state):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)
        f.write("\n")


def device_from_state(state, no_uv):
    dev = SoftWebauthnDevice() if no_uv else UVSoftWebauthnDevice()
    dev.credential_id = b64d(state["credential_id"])
    dev.user_handle = b64d(state["user_handle"])
    dev.private_key = serialization.load_pem_private_key(state["private_key_pem"].encode(), password=None)
    dev.rp_id, dev.sign_count = state["rp_id"], state["sign_count"]
    return dev


def check_rp_id(rp_id, expected, origin):
    host = urlsplit(origin).hostname
    if rp_id != expected or not (host == rp_id or host.endswith("." + rp_id)):
        raise Failure(f"server RP ID {rp_id!r}: expected {expected!r}, valid for origin {origin}")


def cmd_enroll(args, client):
    opts = client.post("/api/enroll/start", {"code": args.code})
    pk = opts.get("publicKey") or {}
    if "challenge" not in pk:
        raise Failure(f"enroll/start answer has no publicKey.challenge: {opts}")
    check_rp_id(pk["rp"]["id"], args.rp_id, args.origin)
    sel = pk.get("authenticatorSelection") or {}
    log(f"enroll: rp={pk['rp']} userVerification={sel.get('userVerification')} residentKey={sel.get('residentKey')}")
    dev = SoftWebauthnDevice() if args.no_uv else UVSoftWebauthnDevice()
    converted = dict(pk, challenge=b64d(pk["challenge"]), user=dict(pk["user"], id=b64d(pk["user"]["id"])))
    res = dev.create({"publicKey": converted}, args.origin)
    body = {"id": b64e(res["rawId"]), "rawId": b64e(res["rawId"]), "type": "public-key", "extensions": {},
            "response": {k: b64e(v) for k, v in res["response"].items()}}
    answer = client.post("/api/enroll/finish", body)
    pem = dev.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    return {"rp_id": dev.rp_id, "origin": args.origin, "credential_id": b64e(dev.credential_id),
            "user_handle": b64e(dev.user_handle), "private_key_pem": pem, "sign_count": dev.sign_count}, answer


def cmd_login(args, client, state):
    opts = client.post("/api/login/start")
    pk = opts.get("publicKey") or {}
    if "challenge" not in pk:
        raise Failure(f"login/start answer has no publicKey.challenge: {opts}")
    check_rp_id(pk.get("rpId"), args.rp_id, args.origin)
    allowed = [c["id"] for c in pk.get("allowCredentials") or []]
    if allowed and state["credential_id"] not in [b64e(b64d(a)) for a in allowed]:
        raise Failure("allowCredentials does not list our credential")
    log(f"login: rpId={pk.get('rpId')} allowCredentials={len(allowed)} userVerification={pk.get('userVerification')}")
    dev = device_from_state(state, args.no_uv)
    res = dev.get({"publicKey": dict(pk, challenge=b64d(pk["challenge"]))}, args.origin)
    r = res["response"]
    body = {"id": b64e(res["rawId"]), "rawId": b64e(res["rawId"]), "type": "public-key", "extensions": {},
            "response": {"authenticatorData": b64e(r["authenticatorData"]), "clientDataJSON": b64e(r["clientDataJSON"]),
                         "signature": b64e(r["signature"]), "userHandle": b64e(r["userHandle"])}}
    answer = client.post("/api/login/finish", body)
    state["sign_count"] = dev.sign_count
    return answer


def cmd_authorize(args, client, state):
    signed_in = cmd_login(args, client, state)
    csrf = signed_in.get("csrf_token")
    if not csrf:
        raise Failure(f"login/finish answer has no csrf_token: {signed_in}")
    url = args.code
    if not url.startswith(args.base.rstrip("/") + "/authorize?"):
        raise Failure(f"not this issuer's authorization page: {url}")
    page = client.get_text(url)
    if 'data-authorize="approve"' not in page:
        raise Failure(f"the authorization page asks for no decision: {page[:300]}")
    query = dict(parse_qsl(urlsplit(url).query))
    log(f"authorize: client_id={query.get('client_id')} request_uri={query.get('request_uri', '')[:40]}...")
    answer = client.post("/api/authorize", {"client_id": query.get("client_id"), "request_uri": query.get("request_uri"),
                                            "approve": True}, headers={"X-CSRF-Token": csrf})
    if "redirect" not in answer:
        raise Failure(f"the decision has no redirect: {answer}")
    return answer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["enroll", "login", "offer", "authorize"])
    ap.add_argument("base")
    ap.add_argument("code", nargs="?", help="enrolment code (enroll) or authorization page URL (authorize)")
    ap.add_argument("--state", required=True)
    ap.add_argument("--origin", help="WebAuthn origin (default: BASE)")
    ap.add_argument("--rp-id", help="expected RP ID (default: ORIGIN's host)")
    ap.add_argument("--no-uv", action="store_true", help="unpatched soft-webauthn: UV flag not set")
    args = ap.parse_args()
    if (args.command in ("enroll", "authorize")) != (args.code is not None):
        ap.error("CODE (URL) is required for enroll (authorize) and only for those")
    state = load_state(args.state) if args.command != "enroll" else None
    # later commands default to the origin / RP ID the passkey was enrolled with
    args.origin = (args.origin or (state or {}).get("origin") or args.base).rstrip("/")
    args.rp_id = args.rp_id or (state or {}).get("rp_id") or urlsplit(args.origin).hostname
    session = (state or {}).get("session") or {}
    client = Client(args.base, args.origin, session.get("cookies") if args.command == "offer" else None)
    if args.command == "enroll":
        state, answer = cmd_enroll(args, client)
    elif args.command == "login":
        answer = cmd_login(args, client, state)
    elif args.command == "authorize":
        answer = cmd_authorize(args, client, state)
        save_state(args.state, state)
        print(json.dumps(answer, indent=2))
        return
    else:
        if not session.get("csrf_token"):
            raise Failure("no session in the state file: run login (or enroll) first")
        answer = client.post("/api/offers", headers={"X-CSRF-Token": session["csrf_token"]})
        if "credential_offer_uri" not in answer and "openid_credential_offer_url" not in answer:
            raise Failure(f"offer answer has no credential_offer_uri: {answer}")
        log(f"offer: {answer.get('openid_credential_offer_url')} tx_code={answer.get('tx_code')}")
    if args.command == "offer":
        session["cookies"] = client.cookies
    elif answer.get("csrf_token"):
        state["session"] = {"cookies": client.cookies, "csrf_token": answer["csrf_token"]}
    elif args.command == "login":
        raise Failure(f"login/finish answer has no csrf_token: {answer}")
    else:
        log("note: enroll/finish gave no csrf_token: no session saved, run login")
    save_state(args.state, state)
    print(json.dumps(answer, indent=2))


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        log(f"FAIL: {e}")
        sys.exit(1)
    except (ValueError, KeyError, TypeError) as e:  # malformed server answers, device refusals
        log(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
