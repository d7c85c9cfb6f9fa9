#!/usr/bin/env python3
"""Make a test input for the peer benchmark scripts (peer_verify.py, peer_verify.mjs).

    make_test_presentation.py [--out FILE.json]      (default target/bench/test-presentation.json)

Issues an SD-JWT VC (typ dc+sd-jwt, ES256) with the PyPI ``sd-jwt`` reference library, shaped
like a civic-id residency credential: iss, vct, iat, exp, status.status_list {idx, uri},
cnf.jwk, selectively disclosable given_name / family_name / birthdate / address.* and the
nested residence {municipality, municipality_code, district}, age_equal_or_over {"16", "18"}
and pseudonyms {"https://budget.example": ...}.  The holder then presents
residence.municipality_code, age_equal_or_over.16 and pseudonyms.https://budget.example with
a KB-JWT (aud, nonce, iat, sd_hash).

It writes the file format the benchmark scripts read (the Rust bench, bench_verify, writes
the same fields to target/bench/presentation.json):

    {"presentation": "<issuer-jwt>~<disclosure>~...~<kb-jwt>",
     "issuer_jwk": {EC P-256 public JWK}, "aud": "...", "nonce": "...",
     "iat": <the KB-JWT's iat, unix seconds: the moment the verifiers verify at>}

Run it with the interop venv: ``.tools/venv/bin/python tests/bench/make_test_presentation.py``.
"""

import argparse
import json
import os
import secrets
import sys
import time
from base64 import urlsafe_b64decode

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer

ISSUER = "https://id.teststad.example"
VCT = ISSUER + "/credentials/residency"
STATUS_URI = ISSUER + "/status/0"
PLATFORM = "https://budget.example"
AUD = "redirect_uri:https://verifier.teststad.example/oid4vp/response"
KID = "k1"


def b64json(part):
    return json.loads(urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "target", "bench", "test-presentation.json"))
    args = ap.parse_args()

    issuer_key = JWK.generate(kty="EC", crv="P-256", kid=KID, alg="ES256")
    holder_key = JWK.generate(kty="EC", crv="P-256")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": now - 60,
        "exp": now + 365 * 24 * 3600,
        "status": {"status_list": {"idx": 7, "uri": STATUS_URI}},
        SDObj("given_name"): "Anna",
        SDObj("family_name"): "de Vries",
        SDObj("birthdate"): "1990-04-12",
        SDObj("address"): {
            SDObj("street_address"): "Dam 1",
            SDObj("locality"): "Teststad",
            SDObj("postal_code"): "1012 JS",
            SDObj("country"): "NL",
        },
        "residence": {
            SDObj("municipality"): "Teststad",
            SDObj("municipality_code"): "0363",
            SDObj("district"): "3",
        },
        SDObj("resident_since"): "2015-06-01",
        "age_equal_or_over": {SDObj("16"): True, SDObj("18"): True},
        "pseudonyms": {SDObj(PLATFORM): "pid-" + secrets.token_hex(16)},
    }
    issuer = SDJWTIssuer(
        claims,
        issuer_key,
        holder_key=holder_key,  # -> cnf.jwk
        sign_alg="ES256",
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": KID},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    nonce = secrets.token_urlsafe(24)
    holder.create_presentation(
        {
            "residence": {"municipality_code": True},
            "age_equal_or_over": {"16": True},
            "pseudonyms": {PLATFORM: True},
        },
        nonce=nonce,
        aud=AUD,
        holder_key=holder_key,
        sign_alg="ES256",
    )
    presentation = holder.sd_jwt_presentation
    kb_iat = b64json(presentation.rsplit("~", 1)[1].split(".")[1])["iat"]

    out = {
        "presentation": presentation,
        "issuer_jwk": issuer_key.export_public(as_dict=True),
        "aud": AUD,
        "nonce": nonce,
        "iat": kb_iat,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    n = len(presentation.split("~")) - 2
    print(f"wrote {args.out}: {n} disclosures presented, {len(presentation)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
