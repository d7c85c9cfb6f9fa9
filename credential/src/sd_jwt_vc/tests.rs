//! SD-JWT VC profile and key-binding rules, each asserting the precise error.

use std::collections::BTreeMap;

use rand::rngs::OsRng;
use serde_json::{json, Map};

use super::*;
use crate::crypto::{Algorithm, SigningKey};
use crate::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use crate::sd_jwt::Disclosure;
use crate::status_list::StatusListRef;

const ISS: &str = "https://issuer.example";
const VCT: &str = "https://issuer.example/credentials/residency";
const NOW: i64 = 1_790_000_000;
const AUD: &str = "redirect_uri:https://budget.example/cb";

struct Fixture {
    issuer: SigningKey,
    holder: SigningKey,
    keys: StaticIssuerKeys,
}

fn fixture(alg: Algorithm) -> Fixture {
    let issuer = SigningKey::generate(alg, &mut OsRng)
        .unwrap()
        .with_kid("key-1");
    let holder = SigningKey::generate(alg, &mut OsRng).unwrap();
    let mut keys = StaticIssuerKeys::new();
    keys.insert(ISS, issuer.public_jwk()).unwrap();
    Fixture {
        issuer,
        holder,
        keys,
    }
}

fn residency() -> ResidencyClaims {
    let record = ResidentRecord {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        birthdate: Date::parse("2009-05-01").unwrap(),
        address: Address {
            street_address: "Dam 1".into(),
            locality: "Amsterdam".into(),
            postal_code: "1012 JS".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Amsterdam".into(),
            municipality_code: "0363".into(),
            district: Some("3".into()),
        },
        resident_since: Date::parse("2015-01-01").unwrap(),
    };
    let mut pseudonyms = BTreeMap::new();
    pseudonyms.insert("https://budget.example".to_owned(), "pseudo-1".to_owned());
    ResidencyClaims::new(&record, Date::from_unix(NOW), pseudonyms)
}

fn issue_with(f: &Fixture, edit: impl FnOnce(&mut CredentialSpec<'_>)) -> String {
    let claims = residency();
    let paths = claims.disclosable_paths();
    let holder = f.holder.public_jwk().clone();
    let mut spec = CredentialSpec {
        issuer: ISS,
        vct: VCT,
        iat: NOW - 100,
        nbf: Some(NOW - 100),
        exp: NOW + 86_400,
        holder_key: &holder,
        status: Some(StatusReference {
            status_list: StatusListRef {
                idx: 7,
                uri: "https://issuer.example/status/1".into(),
            },
        }),
        claims: claims.to_claims().unwrap(),
        disclosable: &paths,
        decoys: 2,
    };
    edit(&mut spec);
    issue(&spec, &f.issuer, &mut OsRng).unwrap()
}

fn wanted() -> Vec<ClaimPath> {
    vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", "https://budget.example"]),
    ]
}

fn opts<'a>(nonce: &'a str) -> VerifyOptions<'a> {
    VerifyOptions {
        now: NOW,
        clock_skew: 60,
        expected_vct: Some(VCT),
        key_binding: Some(KeyBindingRequirement {
            aud: AUD,
            nonce,
            max_age: 300,
        }),
    }
}

fn present_kb(f: &Fixture, issued: &str, aud: &str, nonce: &str, iat: i64) -> String {
    present(issued, &wanted(), Some((&f.holder, aud, nonce, iat))).unwrap()
}

#[test]
fn residency_round_trip_reveals_only_the_requested_claims() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let f = fixture(alg);
        let issued = issue_with(&f, |_| {});
        let vp = present_kb(&f, &issued, AUD, "n-1", NOW);
        let v = verify(&vp, &f.keys, &opts("n-1")).unwrap();
        assert_eq!(v.issuer, ISS);
        assert_eq!(v.kid, "key-1");
        assert_eq!(v.status.unwrap().status_list.idx, 7);
        assert_eq!(v.claims["residence"], json!({"municipality_code": "0363"}));
        assert_eq!(v.claims["age_equal_or_over"], json!({"16": true}));
        assert_eq!(
            v.claims["pseudonyms"],
            json!({"https://budget.example": "pseudo-1"})
        );
        for hidden in [
            "given_name",
            "family_name",
            "birthdate",
            "address",
            "resident_since",
        ] {
            assert!(!v.claims.contains_key(hidden), "{hidden}");
        }
        // residence, age_equal_or_over and pseudonyms come with their member.
        assert_eq!(v.disclosed.len(), 6);
        assert_eq!(v.key_binding.unwrap().nonce, "n-1");
    }
}

#[test]
fn age_predicates_are_computed_at_issuance() {
    let c = residency();
    assert!(c.age_equal_or_over["16"]);
    assert!(!c.age_equal_or_over["18"]);
    assert!(!c.age_equal_or_over["65"]);
}

#[test]
fn rejects_wrong_typ() {
    let f = fixture(Algorithm::Es256);
    let issued = issue_with(&f, |_| {});
    let sd = SdJwt::parse(&issued).unwrap();
    let jwt = jws::sign("vc+sd-jwt", Map::new(), &sd.jwt.payload, &f.issuer).unwrap();
    let text = sd_jwt::serialize(&jwt, &sd.disclosures);
    assert_eq!(
        verify(
            &text,
            &f.keys,
            &VerifyOptions {
                key_binding: None,
                ..opts("n")
            }
        )
        .map(|_| ()),
        Err(Error::UnexpectedType {
            expected: "dc+sd-jwt",
            found: Some("vc+sd-jwt".into())
        })
    );
}

#[test]
fn kid_must_be_known_and_bound_to_iss() {
    let f = fixture(Algorithm::Es256);
    let no_kid = SigningKey::from_jwk(&Jwk {
        kid: None,
        ..f.issuer.to_private_jwk()
    })
    .unwrap();
    let holder = f.holder.public_jwk().clone();
    let spec = CredentialSpec {
        issuer: ISS,
        vct: VCT,
        iat: NOW,
        nbf: None,
        exp: NOW + 10,
        holder_key: &holder,
        status: None,
        claims: Map::new(),
        disclosable: &[],
        decoys: 0,
    };
    assert_eq!(
        issue(&spec, &no_kid, &mut OsRng).map(|_| ()),
        Err(Error::MissingClaim("kid"))
    );

    let other = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .unwrap()
        .with_kid("key-2");
    let text = issue(&spec, &other, &mut OsRng).unwrap();
    let o = VerifyOptions {
        key_binding: None,
        ..opts("n")
    };
    assert_eq!(
        verify(&text, &f.keys, &o).map(|_| ()),
        Err(Error::IssuerKeyNotFound {
            iss: ISS.into(),
            kid: "key-2".into()
        })
    );
    // A key that claims the trusted kid but is not the trusted key.
    let impostor = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .unwrap()
        .with_kid("key-1");
    let text = issue(&spec, &impostor, &mut OsRng).unwrap();
    assert_eq!(
        verify(&text, &f.keys, &o).map(|_| ()),
        Err(Error::InvalidSignature)
    );

    assert_eq!(
        absolute_kid("did:web:a.example", "#k").unwrap(),
        "did:web:a.example#k"
    );
    assert_eq!(
        absolute_kid("did:web:a.example", "did:web:a.example#k").unwrap(),
        "did:web:a.example#k"
    );
    for kid in ["did:web:evil.example#k", "did:web:a.example.evil#k", "k"] {
        assert_eq!(
            absolute_kid("did:web:a.example", kid),
            Err(Error::KidNotBoundToIssuer {
                iss: "did:web:a.example".into(),
                kid: kid.into()
            })
        );
    }
}

#[test]
fn validity_times_and_vct() {
    let f = fixture(Algorithm::Es256);
    let o = VerifyOptions {
        key_binding: None,
        ..opts("n")
    };
    let expired = issue_with(&f, |s| s.exp = NOW - 61);
    assert_eq!(
        verify(&expired, &f.keys, &o).map(|_| ()),
        Err(Error::Expired)
    );
    let within_skew = issue_with(&f, |s| s.exp = NOW - 30);
    assert!(verify(&within_skew, &f.keys, &o).is_ok());
    let early = issue_with(&f, |s| s.nbf = Some(NOW + 3600));
    assert_eq!(
        verify(&early, &f.keys, &o).map(|_| ()),
        Err(Error::NotYetValid)
    );
    let future = issue_with(&f, |s| s.iat = NOW + 3600);
    assert_eq!(
        verify(&future, &f.keys, &o).map(|_| ()),
        Err(Error::IssuedInFuture)
    );
    let other = issue_with(&f, |s| s.vct = "https://issuer.example/credentials/other");
    assert_eq!(
        verify(&other, &f.keys, &o).map(|_| ()),
        Err(Error::VctMismatch(
            "https://issuer.example/credentials/other".into()
        ))
    );
}

#[test]
fn registered_claims_are_never_disclosable() {
    let f = fixture(Algorithm::Es256);
    let holder = f.holder.public_jwk().clone();
    let bad_path = [ClaimPath::keys(["status"])];
    let mut claims = Map::new();
    claims.insert("status".into(), json!(1));
    let spec = CredentialSpec {
        issuer: ISS,
        vct: VCT,
        iat: NOW,
        nbf: None,
        exp: NOW + 10,
        holder_key: &holder,
        status: None,
        claims: claims.clone(),
        disclosable: &[],
        decoys: 0,
    };
    assert_eq!(
        issue(&spec, &f.issuer, &mut OsRng).map(|_| ()),
        Err(Error::NonDisclosableClaim("status".into()))
    );
    let spec = CredentialSpec {
        claims: Map::new(),
        disclosable: &bad_path,
        ..spec
    };
    assert_eq!(
        issue(&spec, &f.issuer, &mut OsRng).map(|_| ()),
        Err(Error::NonDisclosableClaim("status".into()))
    );

    // A forged credential whose `exp` arrives as a disclosure.
    let d = Disclosure::new(Some("exp"), json!(NOW + 10), &mut OsRng).unwrap();
    let payload =
        json!({"iss": ISS, "vct": VCT, "iat": NOW, "_sd": [d.digest], "_sd_alg": "sha-256"});
    let jwt = jws::sign(
        SD_JWT_VC_TYP,
        Map::new(),
        payload.as_object().unwrap(),
        &f.issuer,
    )
    .unwrap();
    let text = sd_jwt::serialize(&jwt, [&d]);
    let o = VerifyOptions {
        key_binding: None,
        ..opts("n")
    };
    assert_eq!(
        verify(&text, &f.keys, &o).map(|_| ()),
        Err(Error::NonDisclosableClaim("exp".into()))
    );
}

#[test]
fn key_binding_rules() {
    let f = fixture(Algorithm::Es256);
    let issued = issue_with(&f, |_| {});
    let check = |vp: &str, nonce: &str| verify(vp, &f.keys, &opts(nonce)).map(|_| ());

    let no_kb = present(&issued, &wanted(), None).unwrap();
    assert_eq!(check(&no_kb, "n"), Err(Error::KeyBindingMissing));
    assert_eq!(
        check(
            &present_kb(&f, &issued, "https://evil.example", "n", NOW),
            "n"
        ),
        Err(Error::KeyBindingAudienceMismatch)
    );
    assert_eq!(
        check(&present_kb(&f, &issued, AUD, "old", NOW), "n"),
        Err(Error::KeyBindingNonceMismatch)
    );
    assert_eq!(
        check(&present_kb(&f, &issued, AUD, "n", NOW - 301), "n"),
        Err(Error::KeyBindingIatOutOfWindow)
    );
    assert_eq!(
        check(&present_kb(&f, &issued, AUD, "n", NOW + 61), "n"),
        Err(Error::KeyBindingIatOutOfWindow)
    );
    assert!(check(&present_kb(&f, &issued, AUD, "n", NOW + 59), "n").is_ok());

    // Disclosures swapped after the KB-JWT was made: sd_hash no longer matches.
    let vp = present_kb(&f, &issued, AUD, "n", NOW);
    let (head, kb) = vp.rsplit_once('~').unwrap();
    let more = present(&issued, &[ClaimPath::keys(["given_name"])], None).unwrap();
    let extra = more.trim_end_matches('~').rsplit('~').next().unwrap();
    let swapped = format!("{head}~{extra}~{kb}");
    assert_eq!(check(&swapped, "n"), Err(Error::KeyBindingSdHashMismatch));

    // A KB-JWT signed by someone else's key.
    let thief = Fixture {
        holder: SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap(),
        ..fixture(Algorithm::Es256)
    };
    let stolen = present(&issued, &wanted(), Some((&thief.holder, AUD, "n", NOW))).unwrap();
    assert_eq!(check(&stolen, "n"), Err(Error::InvalidSignature));

    // Wrong typ.
    let plain = present(&issued, &wanted(), None).unwrap();
    let mut claims = Map::new();
    claims.insert("iat".into(), NOW.into());
    claims.insert("aud".into(), AUD.into());
    claims.insert("nonce".into(), "n".into());
    claims.insert("sd_hash".into(), crate::encoding::sha256_b64(&plain).into());
    let kb = jws::sign("jwt", Map::new(), &claims, &f.holder).unwrap();
    assert_eq!(
        check(&format!("{plain}{kb}"), "n"),
        Err(Error::UnexpectedType {
            expected: "kb+jwt",
            found: Some("jwt".into())
        })
    );
}

#[test]
fn key_binding_needs_a_holder_key() {
    let f = fixture(Algorithm::Es256);
    let issued = issue_with(&f, |_| {});
    let sd = SdJwt::parse(&issued).unwrap();
    let mut payload = sd.jwt.payload.clone();
    payload.remove("cnf");
    let jwt = jws::sign(SD_JWT_VC_TYP, Map::new(), &payload, &f.issuer).unwrap();
    let reissued = sd_jwt::serialize(&jwt, &sd.disclosures);
    let vp = present_kb(&f, &reissued, AUD, "n", NOW);
    assert_eq!(
        verify(&vp, &f.keys, &opts("n")).map(|_| ()),
        Err(Error::MissingHolderKey)
    );
}

#[test]
fn garbage_never_panics() {
    let f = fixture(Algorithm::Es256);
    for s in [
        "",
        "~",
        "~~~",
        "a.b.c~",
        "e30.e30.~",
        ".~.~",
        "eyJhbGciOiJFUzI1NiJ9.e30.AA~x~y",
    ] {
        assert!(verify(s, &f.keys, &opts("n")).is_err(), "{s:?}");
    }
}
