"""Token Status Lists for the Python interop peer (interop.py), with the PyPI
``token-status-list`` package: the deterministic status patterns, making and
verifying status list tokens, and the ``status-encode`` / ``status-decode``
subcommands."""

import json
import time
from importlib.metadata import version as dist_version

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from interop_common import (
    ISSUER,
    KID,
    STATUS_TYP,
    STATUS_URI,
    InteropFailure,
    b64url_encode,
    decode_jwt_part,
    is_index,
    log,
    public_jwk,
    read_json,
    write_json,
)

try:  # optional: only needed for status lists
    import token_status_list as tsl
except ImportError:  # pragma: no cover - reported at use time
    tsl = None


def status_pattern(bits, n):
    """Deterministic statuses shared with js/interop.cjs."""
    modulus = {1: 2, 2: 3, 4: 16, 8: 256}[bits]
    return [(i * 7 + 3) % modulus for i in range(n)]


STATUS_COUNT = 1001  # not a multiple of 8: exercises the partially filled last byte


def reference_status_token_list():
    statuses = [0] * 32
    statuses[3] = 1  # INVALID
    statuses[9] = 2  # SUSPENDED
    return statuses  # idx 7 stays VALID


def require_tsl():
    if tsl is None:
        raise InteropFailure("token-status-list is not installed (pip install -r tests/interop/requirements.txt)")


def es256_raw_signature(jwk: JWK, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    der = jwk.get_op_key("sign").sign(data, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def make_status_token(issuer_key: JWK, bits, statuses, sub):
    require_tsl()
    lst = tsl.IssuerStatusList(tsl.BitArray.with_at_least(bits, len(statuses)), tsl.LinearIndexAllocator(len(statuses)))
    for i, s in enumerate(statuses):
        lst[i] = s
    now = int(time.time())
    signing_input = lst.sign_jwt_payload(
        alg="ES256", kid=KID, iss=ISSUER, sub=sub, iat=now, exp=now + 86400, ttl=300
    )
    # Not lst.sign_jwt()/signed_jwt_token(): in 0.1.0a2.dev1 they format the
    # signature *bytes* into the string, producing "<header>.<payload>.b'<sig>'".
    signature = es256_raw_signature(issuer_key, signing_input)
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def verify_status_token(token, issuer_jwk, expected_sub=None):
    """Verify a status list token; returns a BitArray-like getter (dict idx->status)."""
    require_tsl()
    header = decode_jwt_part(token, 0)
    if header.get("typ") != STATUS_TYP:
        raise InteropFailure(f"status list token typ is {header.get('typ')!r}, expected {STATUS_TYP!r}")
    jws = JWS()
    try:
        jws.deserialize(token)
        jws.verify(JWK.from_json(json.dumps(issuer_jwk)), alg="ES256")
    except Exception as e:
        raise InteropFailure(f"status list token signature rejected: {type(e).__name__}: {e}") from e
    payload = json.loads(jws.payload)
    if expected_sub is not None and payload.get("sub") != expected_sub:
        raise InteropFailure(f"status list token sub {payload.get('sub')!r} != {expected_sub!r}")
    for claim in ("sub", "iat"):
        if claim not in payload:
            raise InteropFailure(f"status list token has no {claim}")
    if "exp" in payload and payload["exp"] <= int(time.time()):
        raise InteropFailure("status list token is expired")
    if "ttl" in payload and (not is_index(payload["ttl"]) or payload["ttl"] <= 0):
        raise InteropFailure(f"status list token ttl {payload['ttl']!r} is not a positive integer")
    arr = tsl.BitArray.load(payload["status_list"])
    return _StatusView(arr)


class _StatusView:
    def __init__(self, arr):
        self.arr = arr

    def get(self, idx, default=None):
        try:
            return self.arr.get(idx)
        except Exception:
            return default

    def __len__(self):
        return len(self.arr)


def cmd_status_encode(args):
    require_tsl()
    cases = []
    for bits in (1, 2, 4, 8):
        statuses = status_pattern(bits, STATUS_COUNT)
        arr = tsl.BitArray.with_at_least(bits, len(statuses))
        for i, s in enumerate(statuses):
            arr[i] = s
        cases.append({"bits": bits, "statuses": statuses, "lst": arr.to_b64()})
    issuer_key = JWK.generate(kty="EC", crv="P-256", kid=KID, alg="ES256")
    token_case = next(c for c in cases if c["bits"] == 2)
    out = {
        "producer": f"token-status-list {dist_version('token-status-list')}",
        "cases": cases,
        "token": make_status_token(issuer_key, 2, token_case["statuses"], STATUS_URI),
        "issuer_jwk": public_jwk(issuer_key, kid=KID, alg="ES256"),
    }
    write_json(args.out, out)
    log(f"status-encode: {len(cases)} cases ({STATUS_COUNT} entries each) + token -> {args.out}")
    return 0


def check_decoded(label, decoded_len, get, bits, statuses):
    per_byte = 8 // bits
    padded = -(-len(statuses) // per_byte) * per_byte
    if decoded_len != padded:
        raise InteropFailure(f"{label}: decoded {decoded_len} entries, expected {padded} ({len(statuses)} rounded up to whole bytes)")
    for i, s in enumerate(statuses):
        if get(i) != s:
            raise InteropFailure(f"{label}: status[{i}] decoded as {get(i)}, expected {s}")
    for i in range(len(statuses), decoded_len):
        if get(i) != 0:
            log(f"  warning: {label}: padding entry {i} is {get(i)}, not 0")


def cmd_status_decode(args):
    require_tsl()
    data = read_json(args.input)
    log(f"decoding status lists from producer {data.get('producer', '?')!r} with token-status-list")
    cases = data.get("cases") or []
    if not cases and "lst" in data:
        cases = [data]
    if not cases and not data.get("token"):
        raise InteropFailure("input has neither cases nor token")
    for n, case in enumerate(cases):
        label = f"case {n} (bits={case['bits']})"
        try:
            arr = tsl.BitArray.from_b64(case["bits"], case["lst"])
        except Exception as e:
            raise InteropFailure(f"{label}: cannot decode lst: {type(e).__name__}: {e}") from e
        check_decoded(label, len(arr), arr.get, case["bits"], case["statuses"])
        log(f"  {label}: {len(case['statuses'])} statuses OK")
    if data.get("token"):
        if "issuer_jwk" not in data:
            raise InteropFailure("token present but issuer_jwk missing")
        view = verify_status_token(data["token"], data["issuer_jwk"])
        payload = decode_jwt_part(data["token"], 1)
        bits = payload["status_list"]["bits"]
        match = next((c for c in cases if c["bits"] == bits), None)
        if match is not None:
            check_decoded("token", len(view), view.get, bits, match["statuses"])
            log(f"  token: signature, typ and list (bits={bits}, matches case) OK")
        else:
            log(f"  token: signature and typ OK (bits={bits}; no case with same bits to compare)")
    log("status-decode: OK")
    return 0
