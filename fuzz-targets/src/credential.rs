//! Targets for the credential formats: SD-JWT (VC), key-binding JWTs and status list tokens.

use serde_json::Value;

use civic_credential::crypto::WithoutKid;
use civic_credential::encoding::{b64_encode, sha256_b64};
use civic_credential::jws;
use civic_credential::key_binding::{self, KeyBindingExpectation, KB_JWT_TYP};
use civic_credential::sd_jwt::{self, Disclosure, PathElement, Processed, SdJwt};
use civic_credential::sd_jwt_vc::{self, KeyBindingRequirement, VerifyOptions, SD_JWT_VC_TYP};
use civic_credential::status_list::{Status, StatusList, StatusListToken, STATUS_LIST_TYP};

use crate::fixtures::{
    self, fill_digests, fixture, input, object, string, Input, CLOCK_SKEW, MAX_AGE, NOW, STATUS_URI,
};

/// Most disclosures a structured input may build (keeps each run cheap).
const MAX_STRUCTURED_DISCLOSURES: usize = 64;

/// The presentation prefix a raw KB-JWT without `~` is checked against.
const DEFAULT_HASHED: &str = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln~";

/// Verification options at [`NOW`], with or without the fixture's key binding.
fn options(key_binding: bool) -> VerifyOptions<'static> {
    let f = fixture();
    VerifyOptions {
        now: NOW,
        clock_skew: CLOCK_SKEW,
        expected_vct: None,
        key_binding: key_binding.then_some(KeyBindingRequirement {
            aud: &f.aud,
            nonce: &f.nonce,
            max_age: MAX_AGE,
        }),
    }
}

/// Whether some claim sits at `path` in `root`.
fn resolves(root: &Value, path: &[PathElement]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let child = match first {
        PathElement::Key(k) => root.get(k.as_str()),
        PathElement::Index(i) => root.get(*i),
        PathElement::AllElements => return false,
    };
    child.is_some_and(|c| resolves(c, rest))
}

/// Whether `value` holds an `_sd` member anywhere.
fn has_sd(value: &Value) -> bool {
    match value {
        Value::Object(m) => m.contains_key("_sd") || m.values().any(has_sd),
        Value::Array(a) => a.iter().any(has_sd),
        _ => false,
    }
}

/// What processing must guarantee: no digests left, and every disclosure where it says it is.
fn check_processed(p: &Processed) {
    let root = Value::Object(p.claims.clone());
    assert!(!has_sd(&root), "processed claims still hold `_sd`");
    assert!(
        !p.claims.contains_key("_sd_alg"),
        "`_sd_alg` left in claims"
    );
    for d in &p.disclosed {
        assert!(
            resolves(&root, &d.path.0),
            "disclosed path {} missing",
            d.path
        );
    }
}

/// SD-JWT in compact form: parse, process without a signature, choose disclosures as a holder,
/// and verify as an SD-JWT VC with and without key binding (the verifier corpus presentations
/// and the seeds are signed by trusted keys, so mutated disclosures get past the signature).
pub fn sd_jwt(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(sd) = SdJwt::parse(text) else {
        return false;
    };
    if let Ok(p) = sd_jwt::process(&sd.jwt.payload, &sd.disclosures) {
        check_processed(&p);
    }
    assert!(text.starts_with(sd.issuer_jwt()));
    let _ = sd_jwt::select_disclosures(&sd, &fixtures::requested_paths());
    let f = fixture();
    let _ = sd_jwt_vc::verify_parsed(&sd, &f.keys, &options(false));
    match sd_jwt_vc::verify_parsed(&sd, &f.keys, &options(true)) {
        Ok(v) => {
            assert!(v.key_binding.is_some(), "key binding was required");
            true
        }
        Err(_) => false,
    }
}

/// Structured SD-JWT: `{"payload": {…}, "disclosures": [[salt, name, value] | [salt, value]],
/// "header": {…}}`, where a string `"#N"` stands for the digest of disclosure N. Runs
/// `sd_jwt::process`, then signs the payload with the fuzz issuer key, binds it with the holder
/// key and verifies the whole SD-JWT VC, so every claim check is reachable.
pub fn sd_jwt_claims(data: &[u8]) -> bool {
    let Input::Structured(input) = input(data) else {
        return false;
    };
    let items = match input.get("disclosures") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    if items.len() > MAX_STRUCTURED_DISCLOSURES {
        return false;
    }
    let mut disclosures = Vec::with_capacity(items.len());
    let mut digests = Vec::with_capacity(items.len());
    for mut item in items {
        fill_digests(&mut item, &digests);
        let Ok(json) = serde_json::to_string(&item) else {
            return false;
        };
        let encoded = b64_encode(json.as_bytes());
        let Ok(d) = Disclosure::parse(&encoded) else {
            return false;
        };
        assert_eq!(d.digest, sha256_b64(&encoded));
        digests.push(d.digest.clone());
        disclosures.push(d);
    }
    let mut payload = Value::Object(object(&input, "payload"));
    fill_digests(&mut payload, &digests);
    let Value::Object(payload) = payload else {
        return false;
    };
    let processed = sd_jwt::process(&payload, &disclosures);
    if let Ok(p) = &processed {
        check_processed(p);
    }
    let f = fixture();
    let Ok(jwt) = jws::sign(SD_JWT_VC_TYP, object(&input, "header"), &payload, &f.issuer) else {
        return false;
    };
    let text = sd_jwt::serialize(&jwt, &disclosures);
    let presentation =
        key_binding::bind(&text, &f.aud, &f.nonce, NOW, &f.holder).expect("bind a presentation");
    match sd_jwt_vc::verify(&presentation, &f.keys, &options(true)) {
        Ok(_) => {
            assert!(processed.is_ok(), "verified, yet processing alone failed");
            true
        }
        Err(_) => false,
    }
}

/// Key-binding JWT. Raw: `<presentation>~<kb-jwt>` (or a bare KB-JWT, checked against a fixed
/// presentation). Structured: `{"typ", "header", "claims", "hashed"}` signed with the holder key,
/// where `"#0"` in the claims stands for the `sd_hash` of `hashed`.
pub fn kb_jwt(data: &[u8]) -> bool {
    let f = fixture();
    let expect = KeyBindingExpectation {
        aud: &f.aud,
        nonce: &f.nonce,
        now: NOW,
        max_age: MAX_AGE,
        clock_skew: CLOCK_SKEW,
    };
    let (kb, hashed) = match input(data) {
        Input::Invalid => return false,
        Input::Raw(text) => match text.rfind('~') {
            Some(i) => (text[i + 1..].to_owned(), &text[..=i]),
            None => (text.to_owned(), DEFAULT_HASHED),
        },
        Input::Structured(m) => {
            let hashed = string(&m, "hashed", DEFAULT_HASHED);
            let mut claims = Value::Object(object(&m, "claims"));
            fill_digests(&mut claims, &[sha256_b64(hashed)]);
            let Value::Object(claims) = claims else {
                return false;
            };
            let typ = string(&m, "typ", KB_JWT_TYP);
            let signer = WithoutKid(&f.holder);
            let Ok(kb) = jws::sign(typ, object(&m, "header"), &claims, &signer) else {
                return false;
            };
            return check_kb(&kb, hashed, &expect);
        }
    };
    check_kb(&kb, hashed, &expect)
}

fn check_kb(kb: &str, hashed: &str, expect: &KeyBindingExpectation<'_>) -> bool {
    match key_binding::verify(kb, hashed, &fixture().holder_key, expect) {
        Ok(binding) => {
            assert_eq!(binding.aud, expect.aud);
            assert_eq!(binding.nonce, expect.nonce);
            assert_eq!(binding.sd_hash, sha256_b64(hashed));
            true
        }
        Err(_) => false,
    }
}

/// Status list. Raw: a `statuslist+jwt` verified with the fuzz issuer key for [`STATUS_URI`].
/// Structured: `{"header", "claims"}` signed with that key, then verified. `#<bits><bytes>`:
/// the bytes as a compressed list (`lst`) and as a raw list through encode and decode.
pub fn status_list(data: &[u8]) -> bool {
    if let Some(rest) = data.strip_prefix(b"#") {
        return list_bytes(rest);
    }
    let f = fixture();
    let token = match input(data) {
        Input::Invalid => return false,
        Input::Raw(text) => text.to_owned(),
        Input::Structured(m) => {
            let claims = object(&m, "claims");
            match jws::sign(STATUS_LIST_TYP, object(&m, "header"), &claims, &f.issuer) {
                Ok(token) => token,
                Err(_) => return false,
            }
        }
    };
    match StatusListToken::verify(&token, &f.issuer_key, STATUS_URI, NOW, CLOCK_SKEW) {
        Ok(t) => {
            assert_eq!(t.sub, STATUS_URI);
            check_list(&t.list);
            true
        }
        Err(_) => false,
    }
}

fn list_bytes(data: &[u8]) -> bool {
    let Some((&selector, bytes)) = data.split_first() else {
        return false;
    };
    let bits = [1u8, 2, 4, 8][usize::from(selector & 3)];
    let decoded = StatusList::from_lst(bits, &b64_encode(bytes));
    if let Ok(list) = &decoded {
        check_list(list);
    }
    let raw = StatusList::from_bytes(bits, bytes.to_vec()).expect("a small list");
    let back = StatusList::from_lst(bits, &raw.to_lst()).expect("own encoding decodes");
    assert_eq!(back, raw, "encode/decode round trip");
    check_list(&raw);
    decoded.is_ok()
}

/// Lookups at the edges, and set/get round trips on small lists.
fn check_list(list: &StatusList) {
    let len = list.len();
    assert!(list.get(len).is_err(), "index {len} is out of range");
    if len == 0 {
        return;
    }
    list.get(len - 1).expect("last index is in range");
    if list.as_bytes().len() > 1 << 16 {
        return;
    }
    let mask = ((1u16 << list.bits()) - 1) as u8;
    let mut copy = list.clone();
    for idx in [0, len / 2, len - 1] {
        let value = (idx as u8 ^ 0x5a) & mask;
        copy.set(idx, Status::from(value)).expect("value fits");
        assert_eq!(copy.get(idx).expect("in range").value(), value);
    }
}
