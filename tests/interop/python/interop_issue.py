"""The ``issue`` subcommand of the Python interop peer (interop.py): the peer
library (``sd-jwt``) issues the test credential and a key-bound presentation,
which civic-id and the other peer then verify."""

import copy
import secrets
import time

from jwcrypto.jwk import JWK

from sd_jwt.common import SD_DIGESTS_KEY, SD_LIST_PREFIX, SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer

from interop_common import (
    AUD,
    EXPECTED_ABSENT,
    EXPECTED_PRESENT,
    ISSUER,
    KID,
    ONE_YEAR,
    PRODUCER,
    STATUS_IDX,
    STATUS_URI,
    VC_TYP,
    VCT,
    log,
    public_jwk,
    write_json,
)
from interop_status import make_status_token, reference_status_token_list, tsl


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
