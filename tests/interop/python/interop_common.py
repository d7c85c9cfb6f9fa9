"""Shared helpers of the Python interop peer (interop.py): constants of the test
credential, the InteropFailure exception, logging, base64url/JSON/JWT helpers,
claim-path lookup and JSON file I/O."""

import json
import sys
from base64 import urlsafe_b64decode, urlsafe_b64encode
from importlib.metadata import version as dist_version

from jwcrypto.jwk import JWK

SD_JWT_VERSION = dist_version("sd-jwt")
PRODUCER = f"python-sd-jwt {SD_JWT_VERSION}"

ISSUER = "https://issuer.example"
VCT = "https://issuer.example/credentials/residency"
STATUS_URI = "https://issuer.example/status/1"
STATUS_IDX = 7
AUD = "https://verifier.example"
KID = "key-1"
VC_TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
STATUS_TYP = "statuslist+jwt"
ONE_YEAR = 365 * 24 * 3600
CLOCK_SKEW = 300  # seconds of tolerance for iat/nbf in the future

EXPECTED_PRESENT = [
    [["residence", "municipality_code"], "0363"],
    [["age_equal_or_over", "16"], True],
    [["pseudonyms", "https://budget.example"], None],  # value filled in at issue time
    [["nationalities", 0], "NL"],
]
EXPECTED_ABSENT = [
    ["given_name"],
    ["family_name"],
    ["birthdate"],
    ["address", "street_address"],
    ["residence", "municipality"],
    ["age_equal_or_over", "18"],
]


class InteropFailure(Exception):
    """A check failed; the message is the reason printed to the user."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def b64url_decode(data: str) -> bytes:
    return urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64url_encode(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii").rstrip("=")


def canon(value) -> str:
    """Canonical JSON used for strict (type-aware) value comparison."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def decode_jwt_part(jwt: str, index: int) -> dict:
    parts = jwt.split(".")
    if len(parts) != 3:
        raise InteropFailure(f"not a compact JWS (expected 3 parts, got {len(parts)})")
    return json.loads(b64url_decode(parts[index]))


def public_jwk(key: JWK, **extra) -> dict:
    jwk = key.export_public(as_dict=True)
    jwk.update(extra)
    return jwk


def same_ec_key(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("kty", "crv", "x", "y"))


def is_index(element) -> bool:
    return isinstance(element, int) and not isinstance(element, bool)


_MISSING = object()


def lookup(claims, path):
    node = claims
    for element in path:
        if is_index(element):
            if not isinstance(node, list) or element >= len(node) or element < 0:
                return _MISSING
            node = node[element]
        else:
            if not isinstance(node, dict) or element not in node:
                return _MISSING
            node = node[element]
    return node


def fmt_path(path) -> str:
    return "".join(f"[{p}]" if is_index(p) else f".{p}" for p in path).lstrip(".")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
