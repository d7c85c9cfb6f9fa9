#!/usr/bin/env python3
"""Verify SD-JWT VCs that the civic-id issuer issued to js/oid4vci_wallet.mjs.

    verify_issued.py BASE FILE.json --vct VCT [--max-skew SECONDS]

BASE is the issuer's base URL.  FILE.json is what oid4vci_wallet.mjs wrote:
``{credentials: [...], holder_public_jwks: [...], ...}``.

The issuer keys come from ``BASE/.well-known/jwt-vc-issuer`` (SD-JWT VC issuer metadata,
``jwks`` inline or via ``jwks_uri``), fetched with urllib; the key is chosen by the ``kid``
of each credential's JWS header.  Each credential is then verified with the PyPI ``sd-jwt``
library (``SDJWTVerifier``, issuance form, no key binding), and the script checks what the
library skips: header ``typ dc+sd-jwt``/``alg ES256``, ``iss`` (must equal the metadata's
``issuer`` when it is a URL), ``vct``, ``iat``/``nbf``/``exp``, that every disclosure is
referenced, and that ``cnf.jwk`` is one of the wallet's holder keys, each used exactly once.

stdout: a JSON summary.  Exit 0 ok, 1 a check failed (``FAIL: ...`` on stderr), 2 usage.
"""

import argparse
import hashlib
import json
import sys
import time
import urllib.request
from base64 import urlsafe_b64decode, urlsafe_b64encode

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

VC_TYP = "dc+sd-jwt"
ALG = "ES256"


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def b64d(data: str) -> bytes:
    return urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64e(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


def jwt_part(jwt: str, index: int) -> dict:
    parts = jwt.split(".")
    if len(parts) != 3:
        raise Failure(f"issuer-signed JWT has {len(parts)} parts, not 3")
    return json.loads(b64d(parts[index]))


def get_json(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = resp.read()
    except urllib.error.HTTPError as e:
        raise Failure(f"GET {url}: HTTP {e.code} {e.read()[:300]!r}") from e
    except urllib.error.URLError as e:
        raise Failure(f"GET {url}: {e.reason}") from e
    if "json" not in ctype.lower():
        log(f"note: {url} has Content-Type {ctype!r}")
    return json.loads(body)


def issuer_keys(base: str):
    """SD-JWT VC issuer metadata -> (issuer, {kid: JWK dict})."""
    url = base.rstrip("/") + "/.well-known/jwt-vc-issuer"
    meta = get_json(url)
    jwks = meta.get("jwks")
    if jwks is None and "jwks_uri" in meta:
        jwks = get_json(meta["jwks_uri"])
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise Failure(f"{url} has neither jwks nor jwks_uri with a key set")
    keys = {}
    for k in jwks["keys"]:
        if "kid" not in k:
            raise Failure(f"key without kid in {url}: {k}")
        if "d" in k:
            raise Failure(f"{url} publishes a PRIVATE key (kid {k['kid']})")
        keys[k["kid"]] = k
    return meta.get("issuer"), keys


def same_key(a: dict, b: dict) -> bool:
    return all(a.get(f) == b.get(f) for f in ("kty", "crv", "x", "y"))


def thumbprint(jwk: dict) -> str:
    canon = json.dumps({f: jwk[f] for f in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64e(hashlib.sha256(canon.encode()).digest())


def digests_in(node, found):
    """Collect every digest referenced by _sd arrays and {"...": digest} array elements."""
    if isinstance(node, dict):
        if set(node) == {"..."}:
            found.append(node["..."])
        for key, value in node.items():
            if key == "_sd":
                found.extend(value)
            else:
                digests_in(value, found)
    elif isinstance(node, list):
        for item in node:
            digests_in(item, found)


def check_disclosures(sd_jwt: str):
    parts = sd_jwt.split("~")
    disclosures = [d for d in parts[1:] if d]
    referenced = []
    digests_in(jwt_part(parts[0], 1), referenced)
    for d in disclosures:  # disclosures may also reference nested ones
        digests_in(json.loads(b64d(d))[-1], referenced)
    for d in disclosures:
        digest = b64e(hashlib.sha256(d.encode("ascii")).digest())
        if referenced.count(digest) != 1:
            raise Failure(f"disclosure {json.loads(b64d(d))!r} is referenced {referenced.count(digest)} times")
    if len(set(disclosures)) != len(disclosures):
        raise Failure("duplicate disclosures")
    return len(disclosures)


def verify_one(i, sd_jwt, keys, meta_issuer, vct, max_skew):
    if not sd_jwt.endswith("~"):
        raise Failure(f"credentials[{i}] does not end with '~' (has a KB-JWT or is not an SD-JWT)")
    header = jwt_part(sd_jwt.split("~")[0], 0)
    if header.get("typ") != VC_TYP or header.get("alg") != ALG:
        raise Failure(f"credentials[{i}] header typ/alg {header.get('typ')}/{header.get('alg')}, want {VC_TYP}/{ALG}")
    kid = header.get("kid")
    if kid not in keys:
        raise Failure(f"credentials[{i}] kid {kid!r} not in issuer metadata (kids: {sorted(keys)})")

    def cb_get_issuer_key(iss, _header):
        if isinstance(iss, str) and iss.startswith(("http://", "https://")) and iss != meta_issuer:
            raise Failure(f"iss {iss!r} != jwt-vc-issuer metadata issuer {meta_issuer!r}")
        return JWK(**keys[kid])

    try:
        claims = SDJWTVerifier(sd_jwt, cb_get_issuer_key).get_verified_payload()
    except Failure:
        raise
    except Exception as e:  # the library raises plain exceptions of several types
        raise Failure(f"credentials[{i}]: sd-jwt library rejected it: {type(e).__name__}: {e}") from e
    n_disclosures = check_disclosures(sd_jwt)

    if claims.get("vct") != vct:
        raise Failure(f"credentials[{i}] vct {claims.get('vct')!r} != {vct!r}")
    now = int(time.time())
    for name in ("iat", "nbf"):
        if name in claims and claims[name] > now + max_skew:
            raise Failure(f"credentials[{i}] {name} is in the future")
    if "exp" in claims and claims["exp"] <= now:
        raise Failure(f"credentials[{i}] has expired")
    if "iat" not in claims:
        log(f"note: credentials[{i}] has no iat")
    jwk = (claims.get("cnf") or {}).get("jwk")
    if not jwk:
        raise Failure(f"credentials[{i}] has no cnf.jwk")
    if "d" in jwk:
        raise Failure(f"credentials[{i}] cnf.jwk contains a private key")
    return claims, kid, jwk, n_disclosures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base")
    ap.add_argument("file")
    ap.add_argument("--vct", required=True)
    ap.add_argument("--max-skew", type=int, default=300, help="allowed clock skew for iat/nbf (s)")
    args = ap.parse_args()
    with open(args.file, encoding="utf-8") as f:
        data = json.load(f)
    creds, holders = data.get("credentials") or [], data.get("holder_public_jwks") or []
    if not creds:
        raise Failure("no credentials in file")
    if len(creds) != len(holders):
        raise Failure(f"{len(creds)} credentials but {len(holders)} holder keys")

    meta_issuer, keys = issuer_keys(args.base)
    log(f"jwt-vc-issuer: issuer={meta_issuer} kids={sorted(keys)}")
    used, summary = set(), []
    for i, sd_jwt in enumerate(creds):
        claims, kid, jwk, n = verify_one(i, sd_jwt, keys, meta_issuer, args.vct, args.max_skew)
        match = [j for j, h in enumerate(holders) if same_key(h, jwk)]
        if not match:
            raise Failure(f"credentials[{i}] cnf.jwk is none of the wallet's holder keys")
        if match[0] in used:
            raise Failure(f"credentials[{i}] is bound to holder key {match[0]}, already used by another credential")
        used.add(match[0])
        if match[0] != i:
            log(f"note: credentials[{i}] is bound to holder key {match[0]} (different order than the proofs)")
        hidden = {"iss", "vct", "iat", "nbf", "exp", "cnf", "status"}
        summary.append({
            "index": i, "kid": kid, "iss": claims.get("iss"), "vct": claims.get("vct"),
            "holder_key": match[0], "holder_jkt": thumbprint(jwk), "disclosures": n,
            "iat": claims.get("iat"), "exp": claims.get("exp"), "status": claims.get("status"),
            "claims": sorted(k for k in claims if k not in hidden),
        })
        log(f"ok: credentials[{i}] kid={kid} holder_key={match[0]} disclosures={n}")
    print(json.dumps({"issuer": meta_issuer, "verified": len(summary), "credentials": summary}, indent=2))


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        log(f"FAIL: {e}")
        sys.exit(1)
