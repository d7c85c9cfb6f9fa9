//! Issuers identified by DIDs, resolved with ssi: did:web keys come from the DID document (only
//! for listed DIDs), a kid must be a DID URL of that DID, and only assertion methods count; a
//! did:jwk issuer's key comes from the identifier itself, with nothing fetched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::OsRng;
use serde_json::json;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_verifier::fetch::StaticFetcher;
use civic_verifier::session::{NewSession, Session};
use civic_verifier::{Policy, Rule, TrustList, Verifier, VerifierOptions};

const DID: &str = "did:web:id.othertown.example";
const NOW: i64 = 1_800_000_000;

fn credential(iss: &str, key: &SigningKey, holder: &SigningKey) -> String {
    let record = ResidentRecord {
        given_name: "Ben".into(),
        family_name: "Kramer".into(),
        birthdate: Date::parse("1980-01-01").expect("date"),
        address: Address {
            street_address: "Markt 1".into(),
            locality: "Othertown".into(),
            postal_code: "1234 AB".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Othertown".into(),
            municipality_code: "0344".into(),
            district: None,
        },
        resident_since: Date::parse("2000-01-01").expect("date"),
    };
    let claims = ResidencyClaims::new(&record, Date::from_unix(NOW), BTreeMap::new());
    let paths = claims.disclosable_paths();
    let vct = "https://id.othertown.example/credentials/residency";
    sd_jwt_vc::issue(
        &CredentialSpec {
            issuer: iss,
            vct,
            iat: NOW - 60,
            nbf: None,
            exp: NOW + 86_400,
            holder_key: holder.public_jwk(),
            status: None,
            claims: claims.to_claims().expect("claims"),
            disclosable: &paths,
            decoys: 1,
        },
        key,
        &mut OsRng,
    )
    .expect("issue")
}

fn setup(doc: serde_json::Value) -> (Verifier, Session) {
    let mut fetcher = StaticFetcher::new();
    fetcher.insert(
        "https://id.othertown.example/.well-known/did.json",
        doc.to_string(),
    );
    setup_for(DID, fetcher)
}

fn setup_for(issuer: &str, fetcher: StaticFetcher) -> (Verifier, Session) {
    let trust = TrustList::parse(&format!(
        "[[issuer]]\nid = \"{issuer}\"\nvct = [\"https://id.othertown.example/credentials/residency\"]\nmunicipality_codes = [\"0344\"]\n"
    ))
    .expect("trust");
    let policy = Policy {
        name: "p".into(),
        rules: vec![Rule::one_of(
            ClaimPath::keys(["residence", "municipality_code"]),
            &["0344"],
        )],
        pseudonym: false,
        vct: vec![],
    };
    let session = Session::new(
        NewSession {
            trusted_authorities: Vec::new(),
            check_municipality: true,
            base_url: "https://verifier.example",
            platform_id: "https://petition.example",
            policy: &policy,
            vct: vec![],
            redirect_uri: None,
            now: NOW,
            ttl: 600,
            client_id: None,
        },
        &mut OsRng,
    );
    (
        Verifier::new(trust, Arc::new(fetcher), VerifierOptions::default()),
        session,
    )
}

fn doc(key: &SigningKey, assertion: bool) -> serde_json::Value {
    let vm = format!("{DID}#key-1");
    json!({
        "id": DID,
        "verificationMethod": [{ "id": vm, "type": "JsonWebKey2020", "controller": DID, "publicKeyJwk": key.public_jwk() }],
        "assertionMethod": if assertion { json!([vm]) } else { json!([]) },
    })
}

/// `cred` (held by `holder`) presented to `session` and checked by `verifier`: the eligibility,
/// or the rule the answer broke.
async fn present(
    verifier: &Verifier,
    session: &Session,
    cred: &str,
    holder: &SigningKey,
) -> Result<civic_verifier::Eligibility, &'static str> {
    let paths = [ClaimPath::keys(["residence", "municipality_code"])];
    let vp = sd_jwt_vc::present(
        cred,
        &paths,
        Some((holder, &session.client_id, &session.nonce, NOW)),
    )
    .expect("present");
    verifier
        .verify(&json!({ "residency": [vp] }).to_string(), session, NOW)
        .await
        .map_err(|e| e.rule())
}

#[tokio::test]
async fn did_web_issuers_are_verified_with_their_did_document() {
    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid(format!("{DID}#key-1"));
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    let cred = credential(DID, &key, &holder);

    let (verifier, session) = setup(doc(&key, true));
    let e = present(&verifier, &session, &cred, &holder)
        .await
        .expect("verifies");
    assert!(e.eligible);
    assert_eq!(e.issuer, DID);

    // A key that is not an assertion method does not count.
    let (verifier, session) = setup(doc(&key, false));
    let r = present(&verifier, &session, &cred, &holder).await;
    assert_eq!(r.map(|_| ()), Err("issuer_keys_unavailable"));

    // A document for another DID is refused.
    let mut other = doc(&key, true);
    other["id"] = json!("did:web:evil.example");
    let (verifier, session) = setup(other);
    let r = present(&verifier, &session, &cred, &holder).await;
    assert_eq!(r.map(|_| ()), Err("issuer_keys_unavailable"));
}

#[tokio::test]
async fn a_did_jwk_issuer_is_verified_from_its_identifier_alone() {
    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    let public =
        json!({"kty": "EC", "crv": "P-256", "x": key.public_jwk().x, "y": key.public_jwk().y});
    let did = format!(
        "did:jwk:{}",
        civic_credential::encoding::b64_encode(public.to_string().as_bytes())
    );
    let key = key.with_kid(format!("{did}#0"));
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    // Nothing can be fetched: the key is in the identifier.
    let (verifier, session) = setup_for(&did, StaticFetcher::new());
    let e = present(
        &verifier,
        &session,
        &credential(&did, &key, &holder),
        &holder,
    )
    .await
    .expect("verifies");
    assert!(e.eligible);
    assert_eq!(e.issuer, did);

    // Another key under the same DID URL does not verify.
    let impostor = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid(format!("{did}#0"));
    let r = present(
        &verifier,
        &session,
        &credential(&did, &impostor, &holder),
        &holder,
    )
    .await;
    assert_eq!(r.map(|_| ()), Err("invalid_signature"));
}
