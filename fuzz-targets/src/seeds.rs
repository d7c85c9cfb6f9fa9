//! Seed inputs for every target: real, valid messages made with the fixed keys, a few near
//! misses, and the verifier's adversarial corpus. `examples/make_seeds.rs` writes them to
//! `fuzz/corpus/<target>/`; the seed test checks that the valid ones are accepted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use serde_json::{json, Value};

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_credential::encoding::b64_decode;
use civic_credential::form::percent_encode;
use civic_credential::oid4vci::PRE_AUTHORIZED_GRANT;
use civic_credential::oid4vci::{build_proof, CredentialOffer, Grants};
use civic_credential::oid4vci::{OfferLocation, PreAuthorizedCodeGrant, TxCodeSpec};
use civic_credential::oid4vp::{DcqlQuery, RequestLink, OPENID4VP_SCHEME};
use civic_credential::sd_jwt::{ClaimPath, SdJwt};
use civic_credential::sd_jwt_vc;
use civic_credential::status_list::{Status, StatusList, StatusListToken};
use civic_verifier::Session;

use crate::fixtures::{fixture, requested_paths, ISSUER, NOW, STATUS_URI, VCT};
use crate::protocol::{DPOP_TOKEN, DPOP_URL};

/// One seed input.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// A short file name (without the `seed-` prefix).
    pub name: String,
    /// The input.
    pub data: Vec<u8>,
    /// Whether the target must accept it; `None` when either outcome is fine.
    pub accepted: Option<bool>,
}

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

struct Seeds(Vec<Seed>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: &str, data: impl Into<Vec<u8>>, ok: bool) {
        self.add_any(target, name, data, Some(ok));
    }

    fn add_any(
        &mut self,
        target: &'static str,
        name: &str,
        data: impl Into<Vec<u8>>,
        ok: Option<bool>,
    ) {
        self.0.push(Seed {
            target,
            name: name.to_owned(),
            data: data.into(),
            accepted: ok,
        });
    }
}

/// Every seed, for every target.
pub fn seeds() -> Vec<Seed> {
    let mut s = Seeds(Vec::new());
    credential_seeds(&mut s);
    status_seeds(&mut s);
    oid4vp_seeds(&mut s);
    oid4vci_seeds(&mut s);
    service_seeds(&mut s);
    certificate_seeds(&mut s);
    s.0
}

/// The verifier corpus cases: `(name, vp_token)`, sorted by name.
fn corpus_cases() -> Vec<(String, String)> {
    let dir = repo_root().join("verifier/tests/corpus");
    let mut cases: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("verifier corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "fixture.json"))
        // Inputs above the targets' useful size only slow the fuzzer down (libFuzzer's
        // `-max_len` follows the largest seed).
        .filter(|p| p.metadata().is_ok_and(|m| m.len() <= 64 << 10))
        .map(|p| {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("case"))
                .expect("case json");
            let name = case["name"].as_str().expect("name").to_owned();
            (
                name,
                case["vp_token"].as_str().expect("vp_token").to_owned(),
            )
        })
        .collect();
    cases.sort();
    cases
}

/// A presentation of `paths` from the fixture credential, bound for the fixture verifier.
fn presentation(paths: &[ClaimPath]) -> String {
    let f = fixture();
    let kb = (
        &f.holder as &dyn JwsSigner,
        f.aud.as_str(),
        f.nonce.as_str(),
        NOW,
    );
    sd_jwt_vc::present(&f.credential, paths, Some(kb)).expect("present")
}

/// The fixture credential in structured form: payload and disclosures with `"#N"` in place of
/// each digest, ordered so that a disclosure only points at earlier ones.
fn structured_credential() -> Value {
    let f = fixture();
    let sd = SdJwt::parse(&f.credential).expect("credential");
    let index: HashMap<&str, usize> = sd
        .disclosures
        .iter()
        .enumerate()
        .map(|(i, d)| (d.digest.as_str(), i))
        .collect();
    fn refs(v: &Value, index: &HashMap<&str, usize>, out: &mut Vec<usize>) {
        match v {
            Value::String(s) => out.extend(index.get(s.as_str())),
            Value::Array(a) => a.iter().for_each(|v| refs(v, index, out)),
            Value::Object(m) => m.values().for_each(|v| refs(v, index, out)),
            _ => {}
        }
    }
    let mut order = Vec::new();
    let mut placed = HashSet::new();
    fn place(
        i: usize,
        sd: &SdJwt<'_>,
        index: &HashMap<&str, usize>,
        placed: &mut HashSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if !placed.insert(i) {
            return;
        }
        let mut children = Vec::new();
        refs(&sd.disclosures[i].value, index, &mut children);
        for c in children {
            place(c, sd, index, placed, order);
        }
        order.push(i);
    }
    for i in 0..sd.disclosures.len() {
        place(i, &sd, &index, &mut placed, &mut order);
    }
    let position: HashMap<String, String> = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (sd.disclosures[i].digest.clone(), format!("#{pos}")))
        .collect();
    fn swap(v: &mut Value, position: &HashMap<String, String>) {
        match v {
            Value::String(s) => {
                if let Some(p) = position.get(s.as_str()) {
                    *s = p.clone();
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| swap(v, position)),
            Value::Object(m) => m.values_mut().for_each(|v| swap(v, position)),
            _ => {}
        }
    }
    let disclosures: Vec<Value> = order
        .iter()
        .map(|&i| {
            let bytes = b64_decode(&sd.disclosures[i].encoded, "disclosure").expect("b64");
            let mut item: Value = serde_json::from_slice(&bytes).expect("disclosure json");
            swap(&mut item, &position);
            item
        })
        .collect();
    let mut payload = Value::Object(sd.jwt.payload.clone());
    swap(&mut payload, &position);
    json!({ "payload": payload, "disclosures": disclosures })
}

fn credential_seeds(s: &mut Seeds) {
    let f = fixture();
    let all: Vec<ClaimPath> = ["given_name", "birthdate", "address", "residence"]
        .iter()
        .map(|k| ClaimPath::keys([*k]))
        .chain(requested_paths())
        .collect();
    let requested = presentation(&requested_paths());
    s.add("sd_jwt", "issued", f.credential.clone(), false);
    s.add("sd_jwt", "presented", requested.clone(), true);
    s.add("sd_jwt", "presented_more", presentation(&all), true);
    for (name, vp) in corpus_cases() {
        let token: BTreeMap<String, Value> = serde_json::from_str(&vp).unwrap_or_default();
        if let Some(p) = token.values().flat_map(|v| v.as_array()).flatten().next() {
            s.add_any(
                "sd_jwt",
                &format!("corpus_{name}"),
                p.as_str().unwrap_or(""),
                None,
            );
        }
    }

    let structured = structured_credential();
    s.add("sd_jwt_claims", "credential", structured.to_string(), true);
    let holder = serde_json::to_value(f.holder.public_jwk()).expect("jwk");
    let arrays = json!({
        "payload": {
            "iss": ISSUER, "vct": VCT, "iat": NOW - 60, "exp": NOW + 3600,
            "cnf": { "jwk": holder }, "_sd_alg": "sha-256",
            "nationalities": [{ "...": "#0" }, { "...": "#1" }, "FR", { "...": "decoy" }],
            "_sd": ["#3"]
        },
        "disclosures": [
            ["c2FsdDA", "NL"], ["c2FsdDE", "DE"], ["c2FsdDI", "locality", "Teststad"],
            ["c2FsdDM", "address", { "_sd": ["#2"], "country": "NL" }]
        ]
    });
    s.add("sd_jwt_claims", "arrays_nested", arrays.to_string(), true);
    let mut duplicate = arrays.clone();
    duplicate["payload"]["_sd"] = json!(["#3", "#3"]);
    s.add(
        "sd_jwt_claims",
        "duplicate_digest",
        duplicate.to_string(),
        false,
    );
    let mut reserved = arrays;
    reserved["disclosures"][2] = json!(["c2FsdDI", "_sd", "x"]);
    s.add(
        "sd_jwt_claims",
        "reserved_name",
        reserved.to_string(),
        false,
    );

    let (hashed, _) = requested.rsplit_once('~').expect("kb");
    let bare_kb = requested[hashed.len() + 1..].to_owned();
    s.add("kb_jwt", "presentation", requested.clone(), true);
    s.add("kb_jwt", "bare", bare_kb, false);
    let claims =
        |iat: i64, aud: &str| json!({ "iat": iat, "aud": aud, "nonce": f.nonce, "sd_hash": "#0" });
    let kb = |claims: Value, typ: &str| {
        json!({ "typ": typ, "hashed": format!("{hashed}~"), "claims": claims }).to_string()
    };
    s.add("kb_jwt", "claims", kb(claims(NOW, &f.aud), "kb+jwt"), true);
    s.add(
        "kb_jwt",
        "claims_old",
        kb(claims(NOW - 3600, &f.aud), "kb+jwt"),
        false,
    );
    s.add(
        "kb_jwt",
        "claims_aud",
        kb(claims(NOW, "other"), "kb+jwt"),
        false,
    );
    s.add(
        "kb_jwt",
        "claims_typ",
        kb(claims(NOW, &f.aud), "jwt"),
        false,
    );
}

fn status_seeds(s: &mut Seeds) {
    let f = fixture();
    let mut list = StatusList::new(2, 1024).expect("list");
    list.set(10, Status::Invalid).expect("set");
    list.set(12, Status::Suspended).expect("set");
    let token = StatusListToken {
        sub: STATUS_URI.into(),
        iat: NOW - 60,
        exp: Some(NOW + 3600),
        ttl: Some(300),
        list: list.clone(),
    };
    s.add(
        "status_list",
        "token",
        token.sign(&f.issuer).expect("sign"),
        true,
    );
    let doc = f.corpus["documents"][STATUS_URI]
        .as_str()
        .unwrap_or_default();
    s.add("status_list", "corpus_token", doc, false);
    let claims = |bits: u8, lst: String, exp: i64| {
        json!({ "claims": { "sub": STATUS_URI, "iat": NOW - 60, "exp": exp, "ttl": 300,
            "status_list": { "bits": bits, "lst": lst } } })
        .to_string()
    };
    s.add(
        "status_list",
        "claims",
        claims(2, list.to_lst(), NOW + 60),
        true,
    );
    let one_bit = StatusList::from_bytes(1, vec![0b1010_0101; 32]).expect("list");
    s.add(
        "status_list",
        "claims_1bit",
        claims(1, one_bit.to_lst(), NOW + 60),
        true,
    );
    s.add(
        "status_list",
        "claims_expired",
        claims(2, list.to_lst(), NOW - 3600),
        false,
    );
    let lst = b64_decode(&list.to_lst(), "lst").expect("lst");
    s.add(
        "status_list",
        "lst_2bit",
        [&b"#\x01"[..], &lst].concat(),
        true,
    );
    s.add(
        "status_list",
        "raw_8bit",
        &b"#\x03\x00\x01\x02\x03"[..],
        false,
    );
}

fn session() -> Session {
    serde_json::from_value(fixture().corpus["session"].clone()).expect("session")
}

fn certificate_seeds(s: &mut Seeds) {
    let pki = crate::certificates::pki();
    s.add("x509_chain", "dev_ca", pki.ca.clone(), true);
    s.add("x509_chain", "dev_leaf", pki.leaf.clone(), true);
    let half = pki.leaf[..pki.leaf.len() / 2].to_vec();
    s.add("x509_chain", "truncated", half, false);
}

fn oid4vp_seeds(s: &mut Seeds) {
    let f = fixture();
    let session = session();
    let request = session.authorization_request();
    let unsigned = request.to_unsigned_jwt().expect("unsigned");
    s.add("oid4vp_request", "unsigned", unsigned, true);
    let signed = request.to_signed_jwt(&f.issuer).expect("signed");
    s.add("oid4vp_request", "signed", signed, true);
    let link = RequestLink {
        client_id: session.client_id.clone(),
        request_uri: session.request_uri.clone(),
        request_uri_method: Some("post".into()),
    };
    s.add(
        "oid4vp_request",
        "link",
        link.to_url(OPENID4VP_SCHEME),
        false,
    );
    let mut by_value = request.clone();
    by_value.client_id = format!("redirect_uri:{}", by_value.response_uri);
    if let Ok(link) = by_value.to_link(OPENID4VP_SCHEME) {
        s.add_any("oid4vp_request", "link_by_value", link, None);
    }
    let structured = json!({ "request": request });
    s.add("oid4vp_request", "structured", structured.to_string(), true);

    let query = serde_json::to_string(&request.dcql_query).expect("query");
    s.add("dcql", "session", query, true);
    let paths = [ClaimPath::keys(["address", "locality"])];
    let simple = DcqlQuery::sd_jwt_vc("residency", &[VCT.to_owned()], &paths);
    s.add(
        "dcql",
        "one_path",
        serde_json::to_string(&simple).expect("query"),
        true,
    );
    let rich = json!({
        "credentials": [
            { "id": "a", "format": "dc+sd-jwt", "multiple": true,
              "meta": { "vct_values": [VCT, "urn:other"] },
              "claims": [
                  { "id": "c1", "path": ["residence", "municipality_code"], "values": ["0363"] },
                  { "path": ["pseudonyms", null] }
              ],
              "require_cryptographic_holder_binding": true },
            { "id": "b-2", "format": "dc+sd-jwt" }
        ],
        "credential_sets": [{ "options": [["a"], ["b-2"]] }]
    });
    s.add_any("dcql", "rich", rich.to_string(), None);
    let sets = json!({
        "credentials": [
            { "id": "pid", "format": "dc+sd-jwt", "meta": { "vct_values": ["urn:eudi:pid:1"] },
              "claims": [{ "path": ["address", "locality"] }] },
            { "id": "residency", "format": "dc+sd-jwt", "meta": { "vct_values": [VCT] },
              "claims": [
                  { "id": "m", "path": ["residence", "municipality_code"] },
                  { "id": "a", "path": ["age_equal_or_over", "16"] }
              ],
              "claim_sets": [["m", "a"], ["m"]] }
        ],
        "credential_sets": [
            { "options": [["pid"], ["residency"]] },
            { "options": [["residency"]], "required": false }
        ]
    });
    s.add_any("dcql", "credential_and_claim_sets", sets.to_string(), None);

    for (name, vp) in corpus_cases() {
        s.add_any("vp_token", &format!("corpus_{name}"), vp, None);
    }
    let token = json!({ "residency": [presentation(&requested_paths())] });
    s.add("vp_token", "presented", token.to_string(), true);
}

fn oid4vci_seeds(s: &mut Seeds) {
    let f = fixture();
    let proof = |key: &SigningKey, nonce: Option<&str>| {
        build_proof(key, key.public_jwk(), ISSUER, nonce, NOW).expect("proof")
    };
    let extra: Vec<SigningKey> = (0..2)
        .map(|_| SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key"))
        .collect();
    let request = |jwts: Vec<String>| {
        json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": jwts } })
            .to_string()
    };
    let batch = vec![
        proof(&f.holder, Some("c-nonce")),
        proof(&extra[0], Some("c-nonce")),
        proof(&extra[1], Some("c-nonce")),
    ];
    s.add("oid4vci_credential_request", "batch", request(batch), true);
    let same_key = vec![proof(&extra[0], Some("n")), proof(&extra[0], Some("n"))];
    s.add(
        "oid4vci_credential_request",
        "same_key",
        request(same_key),
        false,
    );
    let no_nonce = vec![proof(&f.holder, None)];
    s.add(
        "oid4vci_credential_request",
        "no_nonce",
        request(no_nonce),
        false,
    );
    let legacy = json!({ "credential_configuration_id": "residency_sd_jwt",
        "proof": { "proof_type": "jwt", "jwt": proof(&f.holder, Some("n")) } });
    s.add(
        "oid4vci_credential_request",
        "legacy_proof",
        legacy.to_string(),
        false,
    );

    s.add("oid4vci_proof", "eddsa", proof(&f.holder, Some("n")), true);
    s.add("oid4vci_proof", "es256", proof(&extra[0], None), true);
    let claims = json!({ "aud": ISSUER, "iat": NOW, "nonce": "n" });
    s.add(
        "oid4vci_proof",
        "claims",
        json!({ "claims": claims }).to_string(),
        true,
    );
    let kid = json!({ "header": { "kid": "k" }, "claims": claims });
    s.add("oid4vci_proof", "claims_kid", kid.to_string(), false);
    let aud = json!({ "claims": { "aud": [ISSUER, "x"], "iat": NOW - 10 } });
    s.add("oid4vci_proof", "claims_aud_list", aud.to_string(), true);

    let dpop_claims = json!({ "jti": "j-1", "htm": "POST", "htu": DPOP_URL, "iat": NOW,
        "nonce": "n", "ath": civic_credential::dpop::access_token_hash(DPOP_TOKEN) });
    s.add(
        "dpop_proof",
        "claims",
        json!({ "claims": dpop_claims }).to_string(),
        true,
    );
    let raw = civic_credential::dpop::proof(
        &f.holder,
        f.holder.public_jwk(),
        &civic_credential::dpop::ProofClaims {
            htm: "POST",
            htu: DPOP_URL,
            iat: NOW,
            jti: "j-2",
            nonce: None,
            access_token: Some(DPOP_TOKEN),
        },
    )
    .expect("proof");
    s.add("dpop_proof", "raw", raw, true);
    let wrong_htu = json!({ "claims": { "jti": "j", "htm": "POST",
        "htu": "https://id.example/token", "iat": NOW } });
    s.add("dpop_proof", "wrong_htu", wrong_htu.to_string(), false);
    let kid = json!({ "header": { "kid": "k" }, "claims": dpop_claims });
    s.add("dpop_proof", "header_kid", kid.to_string(), false);

    let offer = CredentialOffer {
        credential_issuer: ISSUER.into(),
        credential_configuration_ids: vec!["residency_sd_jwt".into()],
        grants: Some(Grants {
            authorization_code: None,
            pre_authorized_code: Some(PreAuthorizedCodeGrant {
                pre_authorized_code: "code-123".into(),
                tx_code: Some(TxCodeSpec {
                    input_mode: Some("numeric".into()),
                    length: Some(6),
                    description: Some("See the letter".into()),
                }),
            }),
        }),
    };
    let t = "oid4vci_token";
    let grant = format!(
        "grant_type={}&pre-authorized_code=code-123&tx_code=493+021",
        percent_encode(PRE_AUTHORIZED_GRANT)
    );
    s.add(t, "pre_authorized", grant, true);
    s.add(t, "no_code", "grant_type=authorization_code", false);
    s.add(
        t,
        "authorization_code",
        "grant_type=authorization_code&code=c-1&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&redirect_uri=https%3A%2F%2Fw.example%2Fcb&client_id=https%3A%2F%2Fw.example",
        true,
    );
    s.add(
        t,
        "pushed_request",
        "grant_type=x&client_id=w&response_type=code&redirect_uri=https%3A%2F%2Fw.example%2Fcb&scope=residency&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&dpop_jkt=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        false,
    );
    s.add(t, "repeated", "grant_type=a&grant_type=b", false);
    let m = "oid4vci_messages";
    s.add(
        m,
        "offer_by_value",
        OfferLocation::ByValue(offer).to_url().expect("offer URL"),
        true,
    );
    let by_ref = OfferLocation::ByReference(format!("{ISSUER}/offer/abc"));
    s.add(
        m,
        "offer_by_reference",
        by_ref.to_url().expect("offer URL"),
        true,
    );
    let metadata = json!({
        "credential_issuer": ISSUER, "credential_endpoint": format!("{ISSUER}/credential"),
        "nonce_endpoint": format!("{ISSUER}/nonce"), "batch_credential_issuance": { "batch_size": 10 },
        "display": [{ "name": "Teststad", "locale": "en" }],
        "credential_configurations_supported": { "residency_sd_jwt": {
            "format": "dc+sd-jwt", "vct": VCT, "scope": "residency",
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": ["ES256"] } },
            "credential_metadata": { "display": [{ "name": "Residency", "locale": "en" }],
                "claims": [{ "path": ["pseudonyms", null], "display": [{ "name": "Pseudonym" }] }] }
        } }
    });
    s.add(m, "issuer_metadata", metadata.to_string(), true);
    let as_meta = json!({ "issuer": ISSUER, "token_endpoint": format!("{ISSUER}/token"),
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": true });
    s.add(m, "as_metadata", as_meta.to_string(), true);
}

fn service_seeds(s: &mut Seeds) {
    let demo = std::fs::read(repo_root().join("issuer/demo/register.csv")).expect("demo register");
    s.add("register_csv", "demo", demo.clone(), true);
    let text = String::from_utf8_lossy(&demo);
    let header = text.lines().next().unwrap_or_default();
    let bad = format!(
        "{header}\nX-1,Ann,Bee,2030-01-01,Dam 1,1012 JS,Teststad,NL,Teststad,0363,,2031-01-01,2099-12-31\n\
         X-2,Ann,Bee,1990-02-30,Dam 1,1012 JS,Teststad,nl,Teststad,0363,,2015-01-01,2099-12-31\n\
         X-3,\"Ann, \"\"Q\"\"\",Bee,1990-01-01,Dam 1,1012 JS,Teststad,NL,Teststad,0363,2,2015-01-01\n"
    );
    s.add("register_csv", "bad_rows", bad, false);
    s.add(
        "register_csv",
        "missing_columns",
        "register_id,given_name\nA,B\n",
        false,
    );

    for (name, vp) in corpus_cases() {
        let ok = (name == "valid").then_some(true);
        s.add_any("verifier_presentation", &format!("corpus_{name}"), vp, ok);
    }
}
