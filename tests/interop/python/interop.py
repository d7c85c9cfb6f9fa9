#!/usr/bin/env python3
"""Peer side of the civic-id SD-JWT VC interoperability tests (Python).

Uses the OpenWallet Foundation reference implementation of SD-JWT (PyPI
``sd-jwt``), ``jwcrypto`` and, for status lists, ``token-status-list``.

Subcommands (see ../README.md for the file formats):

    issue OUT.json          issue an SD-JWT VC + presentation with the peer library
    verify IN.json          verify someone else's SD-JWT VC + presentation
    status-encode OUT.json  encode Token Status Lists (bits 1/2/4/8) + a signed token
    status-decode IN.json   decode someone else's status lists / status list token

stdout carries only the JSON result (verify: the processed presentation claims);
progress and diagnostics go to stderr.  Exit code 0 = success, 1 = failure.
"""

import argparse
import copy
import hashlib
import json
import secrets
import sys
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from importlib.metadata import version as dist_version

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from sd_jwt.common import SD_DIGESTS_KEY, SD_LIST_PREFIX, SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

try:  # optional: only needed for status lists
    import token_status_list as tsl
except ImportError:  # pragma: no cover - reported at use time
    tsl = None

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


# --------------------------------------------------------------------------
# issue
# --------------------------------------------------------------------------


class CivicIssuer(SDJWTIssuer):
    """SDJWTIssuer with decoys only where selectively disclosable claims exist.

    The library's own ``add_decoy_claims=True`` adds 2..5 decoy digests to *every*
    object (including ``status``/``status_list``) and never to arrays.  We want
    decoys in objects that carry ``_sd`` and one decoy array element in arrays
    with disclosable elements, placed *between* real elements so the peer has to
    drop it without disturbing order.
    """

    def _create_sd_claims_object(self, user_claims):
        out = super()._create_sd_claims_object(user_claims)
        if SD_DIGESTS_KEY in out:
            for _ in range(2):
                out[SD_DIGESTS_KEY].append(self._create_decoy_claim_entry())
            out[SD_DIGESTS_KEY].sort()
        return out

    def _create_sd_claims_list(self, user_claims):
        out = super()._create_sd_claims_list(user_claims)
        if any(isinstance(c, SDObj) for c in user_claims):
            out.insert(1, {SD_LIST_PREFIX: self._create_decoy_claim_entry()})
        return out


def array_disclosure_selection(holder: SDJWTHolder, raw_array, wanted_values):
    """claims_to_disclose list for an array, by *raw* position (decoys included).

    The reference holder pairs the list with the raw array elements positionally
    (zip_longest), so decoy entries shift the positions of real elements.
    """
    selection = []
    for element in raw_array:
        chosen = False
        if isinstance(element, dict) and list(element) == [SD_LIST_PREFIX]:
            decoded = holder._hash_to_decoded_disclosure.get(element[SD_LIST_PREFIX])
            if decoded is not None and decoded[-1] in wanted_values:
                chosen = True
        selection.append(chosen)
    return selection


def cmd_issue(args):
    issuer_key = JWK.generate(kty="EC", crv="P-256", kid=KID, alg="ES256")
    holder_key = JWK.generate(kty="EC", crv="P-256")
    now = int(time.time())
    pseudonym = "pid-" + secrets.token_hex(16)

    user_claims = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": now,
        "nbf": now,
        "exp": now + ONE_YEAR,
        "status": {"status_list": {"idx": STATUS_IDX, "uri": STATUS_URI}},
        SDObj("given_name"): "Erika",
        SDObj("family_name"): "Mustermann",
        SDObj("birthdate"): "1963-08-12",
        "address": {
            SDObj("street_address"): "Damrak 1",
            SDObj("locality"): "Amsterdam",
            SDObj("postal_code"): "1012 LG",
            SDObj("country"): "NL",
        },
        "residence": {
            SDObj("municipality"): "Amsterdam",
            SDObj("municipality_code"): "0363",
            SDObj("district"): "3",
        },
        "age_equal_or_over": {SDObj("16"): True, SDObj("18"): True, SDObj("65"): False},
        "nationalities": [SDObj("NL"), SDObj("DE")],
        "pseudonyms": {SDObj("https://budget.example"): pseudonym},
    }

    issuer = CivicIssuer(
        user_claims,
        issuer_key,
        holder_key=holder_key,  # the library writes cnf: {jwk: <holder public JWK>}
        sign_alg="ES256",
        # The library's default typ is "example+sd-jwt" (or $SD_JWT_HEADER):
        # dc+sd-jwt and kid must be passed explicitly.
        extra_header_parameters={"typ": VC_TYP, "kid": KID},
    )
    sd_jwt = issuer.sd_jwt_issuance

    holder = SDJWTHolder(sd_jwt)
    nonce = secrets.token_urlsafe(24)
    claims_to_disclose = {
        "residence": {"municipality_code": True},
        "age_equal_or_over": {"16": True},
        "pseudonyms": {"https://budget.example": True},
        "nationalities": array_disclosure_selection(
            holder, holder.sd_jwt_payload["nationalities"], {"NL"}
        ),
    }
    holder.create_presentation(
        claims_to_disclose, nonce=nonce, aud=AUD, holder_key=holder_key, sign_alg="ES256"
    )
    presentation = holder.sd_jwt_presentation

    expected_present = copy.deepcopy(EXPECTED_PRESENT)
    expected_present[2][1] = pseudonym

    out = {
        "producer": PRODUCER,
        "issuer": ISSUER,
        "issuer_jwk": public_jwk(issuer_key, kid=KID, alg="ES256"),
        "holder_jwk": public_jwk(holder_key),
        "vct": VCT,
        "sd_jwt": sd_jwt,
        "presentation": presentation,
        "aud": AUD,
        "nonce": nonce,
        "expected_present": expected_present,
        "expected_absent": copy.deepcopy(EXPECTED_ABSENT),
    }
    if tsl is not None:
        # optional extra: a status list token (signed by the issuer key) in which
        # idx 7 is VALID, so verifiers can exercise the status check offline.
        out["status_list_token"] = make_status_token(
            issuer_key, bits=2, statuses=reference_status_token_list(), sub=STATUS_URI
        )
    write_json(args.out, out)
    log(
        f"issued: {len(issuer.ii_disclosures)} disclosures, {len(issuer.decoy_digests)} decoys; "
        f"presented {len(holder.hs_disclosures)} disclosures -> {args.out}"
    )
    return 0


# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------


def collect_digests(node, disclosure_by_digest, seen):
    """All digests referenced from node, following disclosed values recursively."""
    if isinstance(node, dict):
        names = set(node) - {SD_DIGESTS_KEY}
        for key, value in node.items():
            if key == SD_DIGESTS_KEY and isinstance(value, list):
                for digest in value:
                    seen.append(digest)
                    if digest in disclosure_by_digest:
                        disclosed = disclosure_by_digest[digest]
                        if len(disclosed) != 3:
                            raise InteropFailure(f"array-element disclosure {canon(disclosed)} referenced from an object's _sd")
                        if disclosed[1] in names:
                            raise InteropFailure(f"claim name {disclosed[1]!r} occurs twice in one object (plaintext or another disclosure)")
                        names.add(disclosed[1])
                        collect_digests(disclosed[-1], disclosure_by_digest, seen)
            else:
                collect_digests(value, disclosure_by_digest, seen)
    elif isinstance(node, list):
        for element in node:
            if isinstance(element, dict) and list(element) == [SD_LIST_PREFIX]:
                digest = element[SD_LIST_PREFIX]
                seen.append(digest)
                if digest in disclosure_by_digest:
                    if len(disclosure_by_digest[digest]) != 2:
                        raise InteropFailure(f"object-property disclosure {canon(disclosure_by_digest[digest])} referenced from an array element")
                    collect_digests(disclosure_by_digest[digest][-1], disclosure_by_digest, seen)
            else:
                collect_digests(element, disclosure_by_digest, seen)


def script_disclosure_checks(compact: str, label: str):
    """Checks the reference library skips: unreferenced / duplicate disclosures & digests."""
    parts = compact.split("~")
    payload = decode_jwt_part(parts[0], 1)
    disclosures = parts[1:-1]
    by_digest = {}
    for d in disclosures:
        digest = b64url_encode(hashlib.sha256(d.encode("ascii")).digest())
        if digest in by_digest:
            raise InteropFailure(f"{label}: duplicate disclosure {d}")
        decoded = json.loads(b64url_decode(d))
        if not isinstance(decoded, list) or len(decoded) not in (2, 3):
            raise InteropFailure(f"{label}: malformed disclosure {decoded!r}")
        if len(decoded) == 3 and decoded[1] in (SD_DIGESTS_KEY, SD_LIST_PREFIX):
            raise InteropFailure(f"{label}: disclosure uses reserved claim name {decoded[1]!r}")
        by_digest[digest] = decoded
    seen = []
    try:
        collect_digests(payload, by_digest, seen)
    except InteropFailure as e:
        raise InteropFailure(f"{label}: {e}") from None
    if len(seen) != len(set(seen)):
        raise InteropFailure(f"{label}: a digest appears more than once in the payload")
    unreferenced = set(by_digest) - set(seen)
    if unreferenced:
        raise InteropFailure(
            f"{label}: {len(unreferenced)} disclosure(s) not referenced by any digest: "
            + ", ".join(canon(by_digest[d]) for d in sorted(unreferenced))
        )
    return payload


def check_time_claims(payload, label):
    now = int(time.time())
    for claim in ("iat", "nbf"):
        if claim in payload:
            if not is_index(payload[claim]):
                raise InteropFailure(f"{label}: {claim} is not an integer NumericDate")
            if payload[claim] > now + CLOCK_SKEW:
                raise InteropFailure(f"{label}: {claim} {payload[claim]} is in the future")
    if "exp" in payload:
        if not is_index(payload["exp"]):
            raise InteropFailure(f"{label}: exp is not an integer NumericDate")
        if payload["exp"] <= now:
            raise InteropFailure(f"{label}: expired (exp {payload['exp']} <= now {now})")


def check_issuer_header(compact, issuer_jwk, label):
    header = decode_jwt_part(compact.split("~")[0], 0)
    if header.get("typ") != VC_TYP:
        raise InteropFailure(f"{label}: header typ is {header.get('typ')!r}, expected {VC_TYP!r}")
    if header.get("alg") != "ES256":
        raise InteropFailure(f"{label}: header alg is {header.get('alg')!r}, expected 'ES256'")
    if "kid" in issuer_jwk and header.get("kid") not in (None, issuer_jwk["kid"]):
        raise InteropFailure(f"{label}: header kid {header.get('kid')!r} != issuer_jwk kid {issuer_jwk['kid']!r}")
    return header


def library_verify(compact, issuer_key, expected_iss, aud=None, nonce=None):
    """Peer-library verification only. Returns the processed claims."""

    def cb_get_issuer_key(iss, header):
        if iss != expected_iss:
            raise InteropFailure(f"iss {iss!r} != expected issuer {expected_iss!r}")
        return issuer_key

    verifier = SDJWTVerifier(compact, cb_get_issuer_key, expected_aud=aud, expected_nonce=nonce)
    return verifier.get_verified_payload()


def tamper_kb_signature(presentation):
    head, kb = presentation.rsplit("~", 1)
    if not kb:
        raise InteropFailure("presentation has no KB-JWT")
    signing_input, sig = kb.rsplit(".", 1)
    mid = len(sig) // 2
    replacement = "B" if sig[mid] == "A" else "A"
    return f"{head}~{signing_input}.{sig[:mid]}{replacement}{sig[mid + 1:]}"


def expect_rejection(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any exception is a rejection
        log(f"  negative check '{name}': rejected as expected ({type(e).__name__}: {e})")
        return
    raise InteropFailure(f"negative check '{name}': the peer library ACCEPTED it")


def cmd_verify(args):
    data = read_json(args.input)
    for field in ("issuer_jwk", "holder_jwk", "sd_jwt", "presentation", "aud", "nonce"):
        if field not in data:
            raise InteropFailure(f"input is missing field {field!r}")
    issuer = data.get("issuer", ISSUER)
    issuer_key = JWK.from_json(json.dumps(data["issuer_jwk"]))
    log(f"verifying file from producer {data.get('producer', '?')!r} with {PRODUCER}")

    # --- issuance form ---------------------------------------------------
    if not data["sd_jwt"].endswith("~"):
        raise InteropFailure("sd_jwt (issuance form) must end with '~' (no KB-JWT)")
    check_issuer_header(data["sd_jwt"], data["issuer_jwk"], "sd_jwt")
    try:
        full_claims = library_verify(data["sd_jwt"], issuer_key, issuer)
    except InteropFailure:
        raise
    except Exception as e:
        raise InteropFailure(f"sd_jwt rejected by peer library: {type(e).__name__}: {e}") from e
    script_disclosure_checks(data["sd_jwt"], "sd_jwt")
    check_time_claims(full_claims, "sd_jwt")
    if "vct" in data and full_claims.get("vct") != data["vct"]:
        raise InteropFailure(f"sd_jwt: vct {full_claims.get('vct')!r} != {data['vct']!r}")
    # everything is disclosed in the issuance form: every expected path must exist there
    for path, value in data.get("expected_present", []):
        got = lookup(full_claims, path)
        if got is _MISSING or canon(got) != canon(value):
            raise InteropFailure(f"sd_jwt: {fmt_path(path)} is {repr(got) if got is not _MISSING else 'absent'}, expected {value!r}")
    for path in data.get("expected_absent", []):
        if lookup(full_claims, path) is _MISSING:
            raise InteropFailure(f"sd_jwt: {fmt_path(path)} should be disclosable but is missing from the full issuance")
    log(f"  sd_jwt OK ({len(data['sd_jwt'].split('~')) - 2} disclosures)")

    # --- presentation ----------------------------------------------------
    presentation = data["presentation"]
    check_issuer_header(presentation, data["issuer_jwk"], "presentation")
    kb_jwt = presentation.rsplit("~", 1)[1]
    if not kb_jwt:
        raise InteropFailure("presentation has no KB-JWT")
    kb_header = decode_jwt_part(kb_jwt, 0)
    if kb_header.get("alg") != "ES256":
        # the reference verifier only verifies KB-JWTs with its default alg (ES256)
        raise InteropFailure(f"KB-JWT alg is {kb_header.get('alg')!r}, expected 'ES256'")
    try:
        claims = library_verify(presentation, issuer_key, issuer, aud=data["aud"], nonce=data["nonce"])
    except InteropFailure:
        raise
    except Exception as e:
        raise InteropFailure(f"presentation rejected by peer library: {type(e).__name__}: {e}") from e
    script_disclosure_checks(presentation, "presentation")
    check_time_claims(claims, "presentation")
    kb_payload = decode_jwt_part(kb_jwt, 1)
    if not is_index(kb_payload.get("iat")) or kb_payload["iat"] > int(time.time()) + CLOCK_SKEW:
        raise InteropFailure(f"KB-JWT iat {kb_payload.get('iat')!r} missing, not an integer or in the future")
    if args.max_kb_age and kb_payload["iat"] < int(time.time()) - args.max_kb_age:
        raise InteropFailure(f"KB-JWT iat {kb_payload['iat']} older than {args.max_kb_age}s")
    cnf_jwk = (claims.get("cnf") or {}).get("jwk")
    if not isinstance(cnf_jwk, dict) or not same_ec_key(cnf_jwk, data["holder_jwk"]):
        raise InteropFailure(f"cnf.jwk {cnf_jwk!r} does not match holder_jwk {data['holder_jwk']!r}")

    for path, value in data.get("expected_present", []):
        got = lookup(claims, path)
        if got is _MISSING:
            raise InteropFailure(f"presentation: expected {fmt_path(path)} = {value!r}, but it is absent")
        if canon(got) != canon(value):
            raise InteropFailure(f"presentation: {fmt_path(path)} is {got!r}, expected {value!r}")
    for path in data.get("expected_absent", []):
        got = lookup(claims, path)
        if got is not _MISSING:
            raise InteropFailure(f"presentation: {fmt_path(path)} should be absent but is {got!r}")
    log(f"  presentation OK ({len(presentation.split('~')) - 2} disclosures, KB-JWT verified)")

    # --- optional status list token -------------------------------------
    if data.get("status_list_token"):
        if tsl is None:
            log("  status_list_token present but token-status-list is not installed: skipped")
        else:
            status = claims.get("status", {}).get("status_list", {})
            value = verify_status_token(data["status_list_token"], data["issuer_jwk"], expected_sub=status.get("uri"))
            got = value.get(status.get("idx"))
            if got != 0:
                raise InteropFailure(f"status of idx {status.get('idx')} is {got}, expected 0 (VALID)")
            log(f"  status_list_token OK (idx {status.get('idx')} is VALID)")

    # --- negative self-checks -------------------------------------------
    expect_rejection(
        "tampered KB-JWT signature",
        lambda: library_verify(tamper_kb_signature(presentation), issuer_key, issuer, aud=data["aud"], nonce=data["nonce"]),
    )
    expect_rejection(
        "wrong nonce",
        lambda: library_verify(presentation, issuer_key, issuer, aud=data["aud"], nonce=data["nonce"] + "-wrong"),
    )
    expect_rejection(
        "wrong aud",
        lambda: library_verify(presentation, issuer_key, issuer, aud="https://attacker.example", nonce=data["nonce"]),
    )
    other_key = JWK.generate(kty="EC", crv="P-256")
    expect_rejection(
        "issuer signature checked with another key",
        lambda: library_verify(presentation, other_key, issuer, aud=data["aud"], nonce=data["nonce"]),
    )

    print(json.dumps(claims, indent=2))
    log("verify: OK")
    return 0


# --------------------------------------------------------------------------
# status lists (token-status-list)
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("issue", help="issue an SD-JWT VC and a presentation")
    p.add_argument("out")
    p.set_defaults(fn=cmd_issue)
    p = sub.add_parser("verify", help="verify an SD-JWT VC and presentation file")
    p.add_argument("input")
    p.add_argument("--max-kb-age", type=int, default=0, help="reject KB-JWTs older than this many seconds (0 = no limit)")
    p.set_defaults(fn=cmd_verify)
    p = sub.add_parser("status-encode", help="encode status lists with token-status-list")
    p.add_argument("out")
    p.set_defaults(fn=cmd_status_encode)
    p = sub.add_parser("status-decode", help="decode status lists with token-status-list")
    p.add_argument("input")
    p.set_defaults(fn=cmd_status_decode)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except InteropFailure as e:
        log(f"FAIL: {e}")
        return 1
    except Exception as e:  # noqa: BLE001
        log(f"FAIL: unexpected {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
