//! Making a presentation: only the requested claims, bound to the verifier by a KB-JWT.

use civic_credential::jwk::Jwk;
use civic_credential::sd_jwt::{ClaimPath, SdJwt};
use civic_credential::sd_jwt_vc;

use crate::holder::load_holder_key;
use crate::WalletError;

/// What a verifier asked for, as the wallet received it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PresentationRequest {
    /// Claim paths (DCQL `claims[].path`).
    pub paths: Vec<ClaimPath>,
    /// The verifier's `client_id`, which becomes the KB-JWT `aud`.
    pub client_id: String,
    /// The request nonce.
    pub nonce: String,
}

/// Presents `issued` (issuance form) for `request`, signed with the copy's holder key.
pub fn present(
    issued: &str,
    request: &PresentationRequest,
    holder: &Jwk,
    now: i64,
) -> Result<String, WalletError> {
    if request.paths.is_empty() {
        return Err(WalletError::new(
            "invalid_request",
            "the request asks for no claims",
        ));
    }
    let key = load_holder_key(holder)?;
    let cnf = SdJwt::parse(issued)?
        .jwt
        .payload
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .and_then(|j| serde_json::from_value::<Jwk>(j.clone()).ok())
        .ok_or(civic_credential::Error::MissingHolderKey)?;
    if cnf.thumbprint()? != key.public_jwk().thumbprint()? {
        return Err(WalletError::new(
            "invalid_key",
            "this key is not the credential's holder key (cnf)",
        ));
    }
    Ok(sd_jwt_vc::present(
        issued,
        &request.paths,
        Some((&key, &request.client_id, &request.nonce, now)),
    )?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use civic_credential::crypto::{Algorithm, SigningKey};
    use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
    use civic_credential::sd_jwt_vc::{
        CredentialSpec, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions,
    };
    use rand_core::OsRng;
    use serde_json::json;

    use super::*;
    use crate::card::{card, verify_received};
    use crate::holder::generate_holder_key;

    const NOW: i64 = 1_800_000_000;

    fn issue(holder: &Jwk) -> (String, SigningKey) {
        let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
            .unwrap()
            .with_kid("k1");
        let record = ResidentRecord {
            given_name: "Noor".into(),
            family_name: "Bakker".into(),
            birthdate: Date::parse("1999-01-01").unwrap(),
            address: Address {
                street_address: "Coolsingel 40".into(),
                locality: "Rotterdam".into(),
                postal_code: "3011 AD".into(),
                country: "NL".into(),
            },
            residence: Residence {
                municipality: "Rotterdam".into(),
                municipality_code: "0599".into(),
                district: None,
            },
            resident_since: Date::parse("2020-02-02").unwrap(),
        };
        let claims = ResidencyClaims::new(&record, Date::from_unix(NOW), BTreeMap::new());
        let paths = claims.disclosable_paths();
        let public = holder.to_public();
        let issued = sd_jwt_vc::issue(
            &CredentialSpec {
                issuer: "https://rotterdam.example",
                vct: "https://rotterdam.example/credentials/residency",
                iat: NOW,
                nbf: None,
                exp: NOW + 1000,
                holder_key: &public,
                status: None,
                claims: claims.to_claims().unwrap(),
                disclosable: &paths,
                decoys: 1,
            },
            &issuer,
            &mut OsRng,
        )
        .unwrap();
        (issued, issuer)
    }

    #[test]
    fn card_shows_claims_with_labels() {
        let holder = generate_holder_key().unwrap();
        let (issued, _) = issue(&holder);
        let c = card(&issued).unwrap();
        assert_eq!(c.issuer, "https://rotterdam.example");
        assert_eq!(c.claims["residence"]["municipality_code"], "0599");
        assert!(!c.claims.contains_key("cnf"));
        assert!(c
            .labels
            .contains(&("age_equal_or_over.18".into(), "18 or older".into())));
        // No district in this record, so no label for it.
        assert!(!c.labels.iter().any(|(p, _)| p == "residence.district"));
    }

    const ISS: &str = "https://rotterdam.example";

    #[test]
    fn received_credentials_are_verified_before_storing() {
        use civic_credential::Error;
        let holder = generate_holder_key().unwrap();
        let (issued, issuer) = issue(&holder);
        let published = [issuer.public_jwk().clone()];
        let c = verify_received(&issued, &published, ISS, NOW).unwrap();
        assert_eq!(c, card(&issued).unwrap());
        let err = |r: Result<_, WalletError>| r.unwrap_err();
        assert_eq!(
            err(verify_received(&issued, &published, ISS, NOW + 2000)),
            Error::Expired.into()
        );
        let impostor = SigningKey::generate(Algorithm::Es256, &mut OsRng)
            .unwrap()
            .with_kid("k1");
        assert_eq!(
            err(verify_received(
                &issued,
                &[impostor.public_jwk().clone()],
                ISS,
                NOW
            )),
            Error::InvalidSignature.into()
        );
        assert_eq!(
            err(verify_received(&issued, &[], ISS, NOW)),
            Error::IssuerKeyNotFound {
                iss: "https://rotterdam.example".into(),
                kid: "k1".into()
            }
            .into()
        );
        assert_eq!(
            err(verify_received(&issued, &[holder.to_public()], ISS, NOW)),
            Error::MissingClaim("kid").into()
        );
        // Received from one issuer, naming another: refused, whatever its signature.
        assert_eq!(
            err(verify_received(
                &issued,
                &published,
                "https://amsterdam.example",
                NOW
            ))
            .code,
            "invalid_credential"
        );
    }

    #[test]
    fn presentation_verifies_and_discloses_only_the_request() {
        let holder = generate_holder_key().unwrap();
        let (issued, issuer) = issue(&holder);
        let request: PresentationRequest = serde_json::from_value(json!({
            "paths": [["residence", "municipality_code"], ["age_equal_or_over", "18"]],
            "client_id": "redirect_uri:https://consult.example/cb",
            "nonce": "n-42",
        }))
        .unwrap();
        let vp = present(&issued, &request, &holder, NOW).unwrap();
        let mut keys = StaticIssuerKeys::new();
        keys.insert("https://rotterdam.example", issuer.public_jwk())
            .unwrap();
        let v = sd_jwt_vc::verify(
            &vp,
            &keys,
            &VerifyOptions {
                now: NOW,
                clock_skew: 5,
                expected_vct: None,
                key_binding: Some(KeyBindingRequirement {
                    aud: &request.client_id,
                    nonce: "n-42",
                    max_age: 60,
                }),
            },
        )
        .unwrap();
        assert_eq!(v.claims["residence"], json!({"municipality_code": "0599"}));
        assert_eq!(v.claims["age_equal_or_over"], json!({"18": true}));
        assert!(!v.claims.contains_key("given_name"));
    }

    #[test]
    fn bad_requests_get_clear_errors() {
        let holder = generate_holder_key().unwrap();
        let (issued, _) = issue(&holder);
        let mut request = PresentationRequest {
            paths: vec![],
            client_id: "x".into(),
            nonce: "n".into(),
        };
        assert_eq!(
            present(&issued, &request, &holder, NOW).unwrap_err().code,
            "invalid_request"
        );
        request.paths = vec![ClaimPath::keys(["shoe_size"])];
        let err = present(&issued, &request, &holder, NOW).unwrap_err();
        assert!(err.message.contains("shoe_size"), "{err}");
        let other = generate_holder_key().unwrap();
        request.paths = vec![ClaimPath::keys(["given_name"])];
        assert_eq!(
            present(&issued, &request, &other, NOW).unwrap_err().code,
            "invalid_key"
        );
        assert_eq!(
            present("garbage", &request, &holder, NOW).unwrap_err().code,
            "credential_error"
        );
    }
}
