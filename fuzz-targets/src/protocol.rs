//! Targets for the protocol messages: OID4VP requests, DCQL and `vp_token`, OID4VCI requests,
//! proofs, offers and the wallet-side responses.

use std::collections::HashSet;

use serde_json::Map;

use civic_credential::crypto::WithoutKid;
use civic_credential::dpop;
use civic_credential::encoding::json_b64;
use civic_credential::form::{percent_decode, percent_encode};
use civic_credential::jws;
use civic_credential::oid4vci::authorization::{
    PushedAuthorizationRequest, AUTHORIZATION_CODE_GRANT,
};
use civic_credential::oid4vci::{
    verify_proof, AuthorizationServerMetadata, CredentialRequest, IssuerMetadata, OfferLocation,
    ProofExpectation, TokenRequest, PRE_AUTHORIZED_GRANT, PROOF_TYP,
};
use civic_credential::oid4vp::{
    parse_vp_token, AuthorizationRequest, DcqlQuery, LinkedRequest, RequestLink, OPENID4VP_SCHEME,
    REDIRECT_URI_PREFIX, REQUEST_OBJECT_TYP,
};
use civic_credential::sd_jwt::{self, SdJwt};

use crate::fixtures::{
    fixture, input, object, string, Input, CLOCK_SKEW, ISSUER, MAX_AGE, NOW, VCT,
};

/// The issuer's batch size: most proofs in one credential request.
const BATCH_SIZE: usize = 10;

/// A request that was read once must read again from its own serializations.
fn check_request(request: &AuthorizationRequest) {
    let f = fixture();
    let signed = request.to_signed_jwt(&f.issuer).expect("sign request");
    let again = AuthorizationRequest::from_jwt(&signed, Some(&f.issuer_key));
    assert!(again.is_ok(), "signed re-read: {again:?}");
    if request.client_id.starts_with(REDIRECT_URI_PREFIX) {
        let unsigned = request.to_unsigned_jwt().expect("unsigned request");
        let again = AuthorizationRequest::from_jwt(&unsigned, None);
        assert!(again.is_ok(), "unsigned re-read: {again:?}");
    }
}

/// OID4VP request objects and request links. Raw: a request object (signed with the fuzz issuer
/// key, or unsigned) or an `openid4vp://` link. Structured: `{"header", "request"}`, read both
/// as a signed and as an unsigned (`alg: none`) request object.
pub fn oid4vp_request(data: &[u8]) -> bool {
    let f = fixture();
    let (signed, unsigned) = match input(data) {
        Input::Invalid => return false,
        Input::Raw(text) => {
            if let Ok(link) = RequestLink::parse(text) {
                let again = RequestLink::parse(&link.to_url(OPENID4VP_SCHEME));
                assert_eq!(again.as_ref(), Ok(&link), "request link round trip");
            }
            // A request by value that reads writes back to the same request.
            if let Ok(LinkedRequest::Parameters(req)) = LinkedRequest::parse(text) {
                let link = req
                    .to_link(OPENID4VP_SCHEME)
                    .expect("a redirect_uri: request");
                let again = LinkedRequest::parse(&link);
                assert_eq!(
                    again,
                    Ok(LinkedRequest::Parameters(req)),
                    "request by value round trip"
                );
            }
            (text.to_owned(), text.to_owned())
        }
        Input::Structured(m) => {
            let request = object(&m, "request");
            let Ok(signed) = jws::sign(
                REQUEST_OBJECT_TYP,
                object(&m, "header"),
                &request,
                &f.issuer,
            ) else {
                return false;
            };
            let mut header = Map::new();
            header.insert("alg".into(), "none".into());
            header.insert("typ".into(), REQUEST_OBJECT_TYP.into());
            let (Ok(h), Ok(p)) = (json_b64(&header), json_b64(&request)) else {
                return false;
            };
            (signed, format!("{h}.{p}."))
        }
    };
    let read_signed = AuthorizationRequest::from_jwt(&signed, Some(&f.issuer_key));
    let read_unsigned = AuthorizationRequest::from_jwt(&unsigned, None);
    for request in [&read_signed, &read_unsigned].into_iter().flatten() {
        check_request(request);
    }
    read_signed.is_ok() || read_unsigned.is_ok()
}

/// DCQL queries: parse, validate, re-read, and match each credential query against a residency
/// credential as a wallet does (choosing the disclosures for the requested paths).
pub fn dcql(data: &[u8]) -> bool {
    let Ok(query) = serde_json::from_slice::<DcqlQuery>(data) else {
        return false;
    };
    let valid = query.validate().is_ok();
    let json = serde_json::to_vec(&query).expect("serialize query");
    let again: DcqlQuery = serde_json::from_slice(&json).expect("re-read query");
    assert_eq!(
        again.validate().is_ok(),
        valid,
        "validation survives a round trip"
    );
    if !valid {
        return false;
    }
    // A valid query's one-credential answers name only its own queries and claims.
    if let Ok(answers) = query.one_credential_answers() {
        for (c, claims) in answers {
            assert!(query.credentials.iter().any(|q| std::ptr::eq(q, c)));
            let own = c.claims.as_deref().unwrap_or_default();
            assert!(claims
                .iter()
                .all(|x| own.iter().any(|o| std::ptr::eq(o, *x))));
        }
    }
    let f = fixture();
    let sd = SdJwt::parse(&f.credential).expect("fixture credential");
    let mut all_found = true;
    for c in &query.credentials {
        let _ = c.accepts_vct(VCT);
        all_found &= sd_jwt::select_disclosures(&sd, &c.requested_paths()).is_ok();
    }
    all_found
}

/// `vp_token` as posted by a wallet: parse, then parse each presentation as an SD-JWT.
pub fn vp_token(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(token) = parse_vp_token(text) else {
        return false;
    };
    let mut all_parse = true;
    for presentation in token.values().flatten() {
        all_parse &= SdJwt::parse(presentation).is_ok();
    }
    all_parse
}

fn proof_expectation() -> ProofExpectation<'static> {
    ProofExpectation {
        aud: ISSUER,
        now: NOW,
        max_age: MAX_AGE,
        clock_skew: CLOCK_SKEW,
    }
}

/// OID4VCI credential request bodies: deserialize, then the credential endpoint's checks that
/// need no store: one configuration, `proofs.jwt` within the batch size, every proof verified,
/// one nonce, a distinct holder key per copy.
pub fn oid4vci_credential_request(data: &[u8]) -> bool {
    let Ok(req) = serde_json::from_slice::<CredentialRequest>(data) else {
        return false;
    };
    if req.credential_response_encryption.is_some()
        || req.credential_identifier.is_some()
        || req.proof.is_some()
        || req.credential_configuration_id.is_none()
    {
        return false;
    }
    let jwts = req.proofs.map(|p| p.jwt).unwrap_or_default();
    if jwts.is_empty() || jwts.len() > BATCH_SIZE {
        return false;
    }
    let expect = proof_expectation();
    let mut nonce = None;
    let mut holders = HashSet::new();
    for jwt in &jwts {
        let Ok(proof) = verify_proof(jwt, &expect) else {
            return false;
        };
        let Some(n) = proof.nonce else {
            return false;
        };
        if nonce.get_or_insert_with(|| n.clone()) != &n {
            return false;
        }
        let Ok(thumbprint) = proof.holder_key.thumbprint() else {
            return false;
        };
        if !holders.insert(thumbprint) {
            return false;
        }
    }
    true
}

/// The token of a proof target's input: raw, or structured (`{"typ", "header", "claims"}`,
/// `typ` defaulting to `default_typ`) signed with the holder key, whose public `jwk` goes in the
/// header unless it names its own. `None` for input that is neither.
fn holder_signed(data: &[u8], default_typ: &str) -> Option<String> {
    let f = fixture();
    match input(data) {
        Input::Invalid => None,
        Input::Raw(text) => Some(text.to_owned()),
        Input::Structured(m) => {
            let mut header = object(&m, "header");
            if !header.contains_key("jwk") {
                header.insert(
                    "jwk".into(),
                    serde_json::to_value(f.holder.public_jwk()).ok()?,
                );
            }
            let typ = string(&m, "typ", default_typ);
            jws::sign(typ, header, &object(&m, "claims"), &WithoutKid(&f.holder)).ok()
        }
    }
}

/// OID4VCI proof JWTs. Raw: a proof verified for [`ISSUER`]. Structured: `{"typ", "header",
/// "claims"}` signed with the holder key; the header gets the holder's public `jwk` unless it
/// names its own.
pub fn oid4vci_proof(data: &[u8]) -> bool {
    let Some(jwt) = holder_signed(data, PROOF_TYP) else {
        return false;
    };
    match verify_proof(&jwt, &proof_expectation()) {
        Ok(proof) => {
            assert!(!proof.holder_key.is_private(), "a proof key is public");
            let _ = proof.holder_key.thumbprint();
            true
        }
        Err(_) => false,
    }
}

/// The URL the DPoP target's proofs are for, and the access token they present.
pub const DPOP_URL: &str = "https://id.example/credential";
/// The access token the DPoP target's proofs present.
pub const DPOP_TOKEN: &str = "access-token-1";

/// DPoP proofs (RFC 9449) as the issuer's credential endpoint checks them. Raw: a proof for a
/// POST to [`DPOP_URL`] presenting [`DPOP_TOKEN`]. Structured: `{"typ", "header", "claims"}`
/// signed with the holder key; the header gets the holder's public `jwk` unless it names its own.
pub fn dpop_proof(data: &[u8]) -> bool {
    let Some(jwt) = holder_signed(data, dpop::DPOP_TYP) else {
        return false;
    };
    let expect = dpop::Expectation {
        htm: "POST",
        htu: DPOP_URL,
        now: NOW,
        max_age: MAX_AGE,
        clock_skew: CLOCK_SKEW,
        access_token: Some(DPOP_TOKEN),
    };
    match dpop::verify(&jwt, &expect) {
        Ok(proof) => {
            assert!(!proof.jti.is_empty(), "an accepted proof has a jti");
            assert_eq!(proof.jkt.len(), 43, "a SHA-256 thumbprint");
            true
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            false
        }
    }
}

/// The token endpoint's form parser (`application/x-www-form-urlencoded`, the one the issuer
/// uses), with a round trip through our own percent-encoding, and the PAR endpoint's parser on
/// the same bytes. Accepted for a pre-authorized or an authorization code grant.
pub fn oid4vci_token(data: &[u8]) -> bool {
    let Ok(req) = TokenRequest::from_form(data) else {
        return false;
    };
    let mut form = format!("grant_type={}", percent_encode(&req.grant_type));
    for (name, value) in [
        ("pre-authorized_code", &req.pre_authorized_code),
        ("tx_code", &req.tx_code),
        ("code", &req.code),
        ("redirect_uri", &req.redirect_uri),
        ("code_verifier", &req.code_verifier),
        ("client_id", &req.client_id),
        ("refresh_token", &req.refresh_token),
    ] {
        if let Some(v) = value {
            form.push_str(&format!("&{name}={}", percent_encode(v)));
        }
    }
    let again = TokenRequest::from_form(form.as_bytes()).map_err(|e| e.to_string());
    assert_eq!(again, Ok(req.clone()), "token request round trip");
    // The same bytes as a pushed authorization request: what reads writes back the same.
    if let Ok(pushed) = PushedAuthorizationRequest::from_form(data) {
        let again = PushedAuthorizationRequest::from_form(pushed.to_form().as_bytes());
        assert_eq!(again.as_ref().ok(), Some(&pushed), "PAR round trip");
    }
    (req.grant_type == PRE_AUTHORIZED_GRANT && req.pre_authorized_code.is_some())
        || (req.grant_type == AUTHORIZATION_CODE_GRANT && req.code.is_some())
}

/// What a wallet reads from an issuer: offer links (with a round trip), percent-decoding, the
/// credential offer and the issuer and authorization server metadata.
pub fn oid4vci_messages(data: &[u8]) -> bool {
    let mut accepted = false;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(location) = OfferLocation::parse(text) {
            let again = OfferLocation::parse(&location.to_url().expect("an offer serializes"));
            assert_eq!(again.as_ref(), Ok(&location), "offer link round trip");
            accepted = true;
        }
        if let Some(decoded) = percent_decode(text) {
            let again = percent_decode(&percent_encode(&decoded));
            assert_eq!(
                again.as_deref(),
                Some(decoded.as_str()),
                "percent round trip"
            );
        }
    }
    // The documents a wallet fetches and interprets (the offer JSON is reached through the
    // link above); the flow's small responses are plain strings and numbers.
    accepted |= serde_json::from_slice::<IssuerMetadata>(data).is_ok();
    accepted |= serde_json::from_slice::<AuthorizationServerMetadata>(data).is_ok();
    accepted
}
