"""The ``verify`` subcommand of the Python interop peer (interop.py): an SD-JWT VC
and presentation issued elsewhere (civic-id or the other peer) are verified with
the peer library (``sd-jwt``), plus the checks the library skips and the
negative self-checks."""

import hashlib
import json
import time

from jwcrypto.jwk import JWK

from sd_jwt.common import SD_DIGESTS_KEY, SD_LIST_PREFIX
from sd_jwt.verifier import SDJWTVerifier

from interop_common import (
    _MISSING,
    CLOCK_SKEW,
    ISSUER,
    PRODUCER,
    VC_TYP,
    InteropFailure,
    b64url_decode,
    b64url_encode,
    canon,
    decode_jwt_part,
    fmt_path,
    is_index,
    log,
    lookup,
    read_json,
    same_ec_key,
)
from interop_status import tsl, verify_status_token


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
