#!/usr/bin/env python3
"""Peer benchmark: SD-JWT VC presentation verification with the PyPI ``sd-jwt`` reference
implementation (OpenWallet Foundation), timed inside this process.

    peer_verify.py FILE.json [--seconds N]

FILE.json: ``{"presentation": "<issuer-jwt>~<disclosures>~<kb-jwt>", "issuer_jwk": {EC P-256
public JWK}, "aud": "...", "nonce": "...", "iat": <the KB-JWT's iat>}`` (written by the Rust
bench to target/bench/presentation.json, or by make_test_presentation.py).  ``iat`` is the
moment verification happens at, as in the Rust bench, so the file stays valid when reused.

stdout: ``# ...`` comment lines and exactly one ``per_s: <float>`` line (verified
presentations per second, one thread).  Exit 0 on success; 1 if any verification fails
(including the warm-up, the self-checks and every timed iteration), 2 on usage errors.

What one verification does (the same work as civic-verifier, as far as the library allows):
  library (``SDJWTVerifier(presentation, cb_get_issuer_key, expected_aud, expected_nonce)``
  and ``get_verified_payload()``, its normal documented API):
    - the issuer-signed JWT's ES256 signature, with the issuer key from ``issuer_jwk``
      (parsed once at start-up into a jwcrypto JWK: an issuer key cache, like civic-verifier's);
    - the KB-JWT: ES256 signature with the holder key in ``cnf.jwk`` (the library parses that
      JWK on every call, as it must: each presentation has its own holder key), typ kb+jwt,
      aud, nonce and sd_hash over the presented SD-JWT;
    - disclosures hashed, matched to digests (nested ones too), duplicates rejected, claims
      unpacked.
  this script (what the library leaves out and civic-verifier checks; all cheap):
    - issuer JWT header typ ``dc+sd-jwt`` and alg ES256 (read from the header the library hands
      to the key callback, no extra parsing);
    - iat/nbf not in the future (60 s skew), exp not passed, vct and iss present;
    - KB-JWT iat within [now - 300 s, now + 60 s] (the library does not check it);
    - status: idx looked up in a status list decoded once at start-up, as civic-verifier uses
      a cached list (the library has no status support);
    - the disclosed claims are there: residence.municipality_code, age_equal_or_over.16 true,
      a pseudonym, cnf.jwk.

Crypto backend: jwcrypto, the only one the library supports; it verifies ES256 with
``cryptography`` (OpenSSL).  Clock: time.perf_counter (monotonic).
"""

import argparse
import json
import sys
import time
from base64 import urlsafe_b64decode
from importlib.metadata import version as dist_version

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

CLOCK_SKEW = 60  # civic-verifier's VerifierOptions::default()
KB_MAX_AGE = 300
VC_TYP = "dc+sd-jwt"
STATUS_BITS = 2


class Failure(Exception):
    pass


def b64json(part):
    return json.loads(urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class StatusCache:
    """A status list decoded once (all VALID), covering the presentation's idx: the stand-in
    for civic-verifier's status list cache.  The sd-jwt library has no status support."""

    def __init__(self, uri, idx):
        self.uri = uri
        self.bits = bytes((idx + 1) * STATUS_BITS // 8 + 1)

    def status(self, uri, idx):
        if uri != self.uri:
            raise Failure(f"no status list cached for {uri!r}")
        per_byte = 8 // STATUS_BITS
        byte = self.bits[idx // per_byte]
        return (byte >> ((idx % per_byte) * STATUS_BITS)) & ((1 << STATUS_BITS) - 1)


def make_verify(data):
    presentation = data["presentation"]
    aud, nonce, now = data["aud"], data["nonce"], int(data["iat"])
    issuer_key = JWK(**data["issuer_jwk"])  # cached issuer key

    def cb_get_issuer_key(iss, header):
        if header.get("typ") != VC_TYP or header.get("alg") != "ES256":
            raise Failure(f"issuer JWT header typ/alg {header.get('typ')}/{header.get('alg')}")
        if not isinstance(iss, str) or not iss:
            raise Failure("no iss")
        return issuer_key

    status_ref = b64json(presentation.split("~", 1)[0].split(".")[1]).get("status", {}).get("status_list", {})
    status_cache = StatusCache(status_ref.get("uri"), int(status_ref.get("idx", 0)))

    def verify(compact=presentation, expected_nonce=nonce):
        claims = SDJWTVerifier(compact, cb_get_issuer_key, aud, expected_nonce).get_verified_payload()
        if claims.get("iat", 0) > now + CLOCK_SKEW or claims.get("nbf", 0) > now + CLOCK_SKEW:
            raise Failure("credential not yet valid")
        if "exp" not in claims or claims["exp"] <= now - CLOCK_SKEW:
            raise Failure("credential expired or without exp")
        if not isinstance(claims.get("vct"), str):
            raise Failure("no vct")
        kb_iat = b64json(compact.rsplit("~", 1)[1].split(".")[1]).get("iat")
        if not isinstance(kb_iat, int) or not now - KB_MAX_AGE <= kb_iat <= now + CLOCK_SKEW:
            raise Failure(f"KB-JWT iat {kb_iat!r} outside the accepted window")
        sl = claims["status"]["status_list"]
        if status_cache.status(sl["uri"], sl["idx"]) != 0:
            raise Failure("credential status is not VALID")
        if not isinstance(claims["residence"]["municipality_code"], str):
            raise Failure("residence.municipality_code missing")
        if claims["age_equal_or_over"]["16"] is not True:
            raise Failure("age_equal_or_over.16 is not true")
        if not claims["pseudonyms"]:
            raise Failure("no pseudonym disclosed")
        if "jwk" not in claims["cnf"]:
            raise Failure("no cnf.jwk")
        return claims

    return verify


def tamper_last_signature(compact):
    head, sig = compact.rsplit(".", 1)
    mid = len(sig) // 2
    return f"{head}.{sig[:mid]}{'B' if sig[mid] == 'A' else 'A'}{sig[mid + 1:]}"


def tamper_issuer_signature(compact):
    jwt, rest = compact.split("~", 1)
    return tamper_last_signature(jwt) + "~" + rest


def self_checks(verify, data):
    """The verification must reject broken input, or the rate would mean nothing."""
    cases = {
        "tampered KB-JWT signature": lambda: verify(tamper_last_signature(data["presentation"])),
        "tampered issuer signature": lambda: verify(tamper_issuer_signature(data["presentation"])),
        "wrong nonce": lambda: verify(expected_nonce=data["nonce"] + "x"),
    }
    for name, case in cases.items():
        try:
            case()
        except Exception:  # noqa: BLE001 - any exception is a rejection
            continue
        raise Failure(f"self-check: {name} was ACCEPTED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    if args.seconds <= 0:
        ap.error("--seconds must be positive")
    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    for field in ("presentation", "issuer_jwk", "aud", "nonce", "iat"):
        if field not in data:
            raise Failure(f"{args.file} has no {field!r}")

    verify = make_verify(data)
    verify()
    self_checks(verify, data)

    warm_until = time.perf_counter() + min(1.0, max(0.2, args.seconds / 5))
    while time.perf_counter() < warm_until:
        verify()

    n = 0
    start = time.perf_counter()
    end = start + args.seconds
    while True:
        for _ in range(8):
            verify()
        n += 8
        now = time.perf_counter()
        if now >= end:
            break
    per_s = n / (now - start)
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend

    print(
        f"# python sd-jwt {dist_version('sd-jwt')}, jwcrypto {dist_version('jwcrypto')}, "
        f"cryptography {cryptography.__version__} ({backend.openssl_version_text()}), "
        f"Python {sys.version.split()[0]}; {n} verifications in {now - start:.2f} s"
    )
    print(f"per_s: {per_s:.1f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - every failure must fail the run
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
