"""Encrypted OpenID4VP answers (direct_post.jwt) with jwcrypto: JWE compact, ECDH-ES on P-256,
A128GCM and A256GCM, called the way jwcrypto's documentation shows (JWE.add_recipient,
JWE.deserialize).

    jwe-encrypt OUT.json  make a recipient key (as a verifier does) and encrypt a response to it
                          in each encoding (as a wallet does)
    jwe-decrypt IN.json   decrypt someone else's JWEs with the recipient key in the file, check
                          the header and the plaintext, and check that a tampered copy fails
"""

import json
from importlib.metadata import version as dist_version

from jwcrypto import jwe
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK

from interop_common import InteropFailure, b64url_decode, b64url_encode, canon, log, read_json, write_json

ENCS = ["A128GCM", "A256GCM"]
ALLOWED = ["ECDH-ES", *ENCS]


def _response(enc):
    """A response a wallet would encrypt: a vp_token and the request's state."""
    return {
        "vp_token": {"residency": [f"eyJhbGciOiJFUzI1NiJ9.e30.c2ln~WyJzYWx0IiwibmFtZSIsIsOpIl0~{enc}"]},
        "state": f"state-{enc}",
    }


def cmd_jwe_encrypt(args):
    key = JWK.generate(kty="EC", crv="P-256", kid="jwcrypto-recipient", alg="ECDH-ES", use="enc")
    cases = []
    for enc in ENCS:
        plaintext = _response(enc)
        token = jwe.JWE(
            json.dumps(plaintext).encode("utf-8"),
            protected=json.dumps({"alg": "ECDH-ES", "enc": enc, "kid": key.key_id}),
        )
        token.add_recipient(key)
        cases.append({"enc": enc, "jwe": token.serialize(compact=True), "plaintext": plaintext})
    write_json(
        args.out,
        {
            "producer": f"jwcrypto {dist_version('jwcrypto')}",
            "recipient_jwk": json.loads(key.export(private_key=True)),
            "cases": cases,
        },
    )
    log(f"jwe-encrypt: {len(cases)} JWEs to {key.key_id}")
    return 0


def _decrypt(compact, key):
    token = jwe.JWE()
    token.allowed_algs = ALLOWED
    token.deserialize(compact, key=key)
    return token


def cmd_jwe_decrypt(args):
    data = read_json(args.input)
    key = JWK(**data["recipient_jwk"])
    seen = []
    for case in data.get("cases", []):
        token = _decrypt(case["jwe"], key)
        header = token.jose_header
        if header.get("alg") != "ECDH-ES":
            raise InteropFailure(f"alg {header.get('alg')}")
        if header.get("enc") != case["enc"]:
            raise InteropFailure(f"enc {header.get('enc')}, expected {case['enc']}")
        if header.get("kid") != data["recipient_jwk"].get("kid"):
            raise InteropFailure(f"kid {header.get('kid')}")
        if (header.get("epk") or {}).get("crv") != "P-256":
            raise InteropFailure("no P-256 epk")
        got = json.loads(token.payload.decode("utf-8"))
        if canon(got) != canon(case["plaintext"]):
            raise InteropFailure(f"{case['enc']}: plaintext differs: {got}")
        # A flipped bit in the ciphertext must not decrypt.
        parts = case["jwe"].split(".")
        ct = bytearray(b64url_decode(parts[3]))
        ct[0] ^= 1
        parts[3] = b64url_encode(bytes(ct))
        try:
            _decrypt(".".join(parts), key)
        except JWException:
            pass
        else:
            raise InteropFailure(f"{case['enc']}: a tampered JWE decrypted")
        seen.append(case["enc"])
    missing = [e for e in ENCS if e not in seen]
    if missing:
        raise InteropFailure(f"no case for {missing}")
    log(f"jwe-decrypt: {len(seen)} JWEs from {data.get('producer')} decrypted")
    print(json.dumps({"decrypted": seen}))
    return 0
