//! `cargo xtask demo`: issue a residency credential, present only the municipality code and the
//! 16+ predicate with key binding, and verify it, printing each step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::pseudonym::pairwise_pseudonym;
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt::{ClaimPath, SdJwt};
use civic_credential::sd_jwt_vc::{
    self, CredentialSpec, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions,
};
use civic_credential::status_list::{StatusListRef, StatusReference};
use rand::rngs::OsRng;
use serde_json::Value;

const ISSUER: &str = "https://gemeente.example";
const VERIFIER: &str = "redirect_uri:https://budget.example/callback";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let vct = format!("{ISSUER}/credentials/residency");

    step("1. The agency's issuer key (ES256) and the resident's wallet key");
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)?.with_kid("key-1");
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng)?;
    println!(
        "issuer key: {}",
        serde_json::to_string(issuer.public_jwk())?
    );
    println!(
        "holder key: {}",
        serde_json::to_string(holder.public_jwk())?
    );

    step("2. The register record and the residency claims");
    let record = ResidentRecord {
        given_name: "Sanne".into(),
        family_name: "de Vries".into(),
        birthdate: Date::parse("2008-03-14")?,
        address: Address {
            street_address: "Prinsengracht 263".into(),
            locality: "Amsterdam".into(),
            postal_code: "1016 GV".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Amsterdam".into(),
            municipality_code: "0363".into(),
            district: Some("Centrum".into()),
        },
        resident_since: Date::parse("2012-09-01")?,
    };
    let platform = "https://budget.example";
    let pseudonyms = BTreeMap::from([(
        platform.to_owned(),
        pairwise_pseudonym(b"demo issuer secret", platform, "R-000042"),
    )]);
    let claims = ResidencyClaims::new(&record, Date::from_unix(now), pseudonyms);
    println!("{}", serde_json::to_string_pretty(&claims)?);

    step("3. Issue the SD-JWT VC (every claim selectively disclosable, with decoys)");
    let paths = claims.disclosable_paths();
    let holder_jwk = holder.public_jwk().clone();
    let issued = sd_jwt_vc::issue(
        &CredentialSpec {
            issuer: ISSUER,
            vct: &vct,
            iat: now,
            nbf: Some(now),
            exp: now + 365 * 86_400,
            holder_key: &holder_jwk,
            status: Some(StatusReference {
                status_list: StatusListRef {
                    idx: 4711,
                    uri: format!("{ISSUER}/status/1"),
                },
            }),
            claims: claims.to_claims()?,
            disclosable: &paths,
            decoys: 2,
        },
        &issuer,
        &mut OsRng,
    )?;
    let sd = SdJwt::parse(&issued)?;
    println!("header:  {}", Value::Object(sd.jwt.header.clone()));
    println!(
        "payload: {}",
        serde_json::to_string_pretty(&Value::Object(sd.jwt.payload.clone()))?
    );
    println!(
        "{} disclosures, {} bytes in all",
        sd.disclosures.len(),
        issued.len()
    );

    step("4. The wallet presents only residence.municipality_code and age_equal_or_over.16");
    let wanted = [
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
    ];
    let nonce = "demo-nonce-7f3a";
    let presentation = sd_jwt_vc::present(&issued, &wanted, Some((&holder, VERIFIER, nonce, now)))?;
    let shown = SdJwt::parse(&presentation)?;
    for d in &shown.disclosures {
        println!(
            "disclosure: {:?} = {}",
            d.name.as_deref().unwrap_or("(array element)"),
            d.value
        );
    }
    println!("key-binding JWT for aud {VERIFIER:?}, nonce {nonce:?}");

    step("5. The verifier checks it");
    let options = |nonce| VerifyOptions {
        now,
        clock_skew: 60,
        expected_vct: Some(&vct),
        key_binding: Some(KeyBindingRequirement {
            aud: VERIFIER,
            nonce,
            max_age: 300,
        }),
    };
    let mut trusted = StaticIssuerKeys::new();
    trusted.insert(ISSUER, issuer.public_jwk())?;
    let verified = sd_jwt_vc::verify(&presentation, &trusted, &options(nonce))?;
    let municipality = verified.claims["residence"]["municipality_code"].clone();
    let over_16 = verified.claims["age_equal_or_over"]["16"].clone();
    println!("issuer:    {} (kid {})", verified.issuer, verified.kid);
    println!(
        "disclosed: {}",
        verified
            .disclosed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("residence.municipality_code = {municipality}, age_equal_or_over.16 = {over_16}");
    let hidden = [
        "given_name",
        "family_name",
        "birthdate",
        "address",
        "resident_since",
        "pseudonyms",
    ];
    println!(
        "not seen by the verifier: {}",
        hidden
            .iter()
            .filter(|k| !verified.claims.contains_key(**k))
            .count()
            == hidden.len()
    );
    let eligible = municipality == "0363" && over_16 == true;
    println!(
        "\neligible for the Amsterdam participatory budget: {}",
        if eligible { "YES" } else { "NO" }
    );

    step("6. A replayed presentation with another nonce is refused");
    let replay = sd_jwt_vc::verify(&presentation, &trusted, &options("a-new-nonce"));
    println!("{:?}", replay.map(|_| ()));
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}
