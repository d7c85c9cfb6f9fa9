//! Receiving credentials over OID4VCI: reading the offer link, and signing one proof per fresh
//! holder key for a batch request. HTTP happens in JavaScript; the messages come from
//! `civic_credential::oid4vci`.

use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::build_proof;
use serde::Serialize;

use crate::holder::load_holder_key;
use crate::WalletError;

/// Where an offer link points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferLink {
    /// The offer itself, when passed by value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_offer: Option<serde_json::Value>,
    /// Where to fetch it, when passed by reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_offer_uri: Option<String>,
}

/// Reads `openid-credential-offer://?…`, or the wallet's own `/receive?…` link. An offer by
/// value is kept as the JSON object it is, like one fetched by reference: the wallet reads the
/// members it uses where it uses them (a typed decoding of the offer cost the wallet module
/// about 4.8 KB gzipped).
pub fn parse_offer_link(url: &str) -> Result<OfferLink, WalletError> {
    let bad = |why: &str| WalletError::new("invalid_offer", why.to_owned());
    let fields = civic_credential::form::fields(
        url.as_bytes(),
        ["credential_offer_uri", "credential_offer"],
    )
    .map_err(|e| WalletError::new("invalid_offer", e.to_string()))?;
    match fields {
        [None, Some(json)] => match serde_json::from_str(&json) {
            Ok(v @ serde_json::Value::Object(_)) => Ok(OfferLink {
                credential_offer: Some(v),
                credential_offer_uri: None,
            }),
            _ => Err(bad("credential_offer JSON")),
        },
        [Some(uri), None] => {
            // The host is parsed: `http://localhost.evil.example` is not this device.
            let trustworthy =
                civic_credential::origin::Origin::of(&uri).is_ok_and(|o| o.is_trustworthy(true));
            if !trustworthy {
                return Err(bad(
                    "credential_offer_uri must be https (or http on this device)",
                ));
            }
            Ok(OfferLink {
                credential_offer: None,
                credential_offer_uri: Some(uri),
            })
        }
        _ => Err(bad(
            "an offer link names exactly one of credential_offer, credential_offer_uri",
        )),
    }
}

/// One proof JWT per holder key, for `credential_issuer` with the issuer's `nonce`.
pub fn proofs(
    holders: &[Jwk],
    credential_issuer: &str,
    nonce: &str,
    now: i64,
) -> Result<Vec<String>, WalletError> {
    if holders.is_empty() || holders.len() > 100 {
        return Err(WalletError::new(
            "invalid_request",
            "between 1 and 100 holder keys",
        ));
    }
    holders
        .iter()
        .map(|h| {
            let key = load_holder_key(h)?;
            Ok(build_proof(
                &key,
                key.public_jwk(),
                credential_issuer,
                Some(nonce),
                now,
            )?)
        })
        .collect()
}

/// A DPoP proof (RFC 9449) with `dpop_key` for a POST to `url` at `now`, with the issuer's latest
/// `nonce` and the `access_token` it presents, if any.
pub fn dpop_proof(
    dpop_key: &Jwk,
    url: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now: i64,
) -> Result<String, WalletError> {
    let key = load_holder_key(dpop_key)?;
    let mut jti = [0u8; 16];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut jti)
        .map_err(|_| WalletError::new("no_randomness", "no random numbers"))?;
    let jti = civic_credential::encoding::b64_encode(&jti);
    let claims = civic_credential::dpop::ProofClaims {
        htm: "POST",
        htu: url,
        iat: now,
        jti: &jti,
        nonce,
        access_token,
    };
    Ok(civic_credential::dpop::proof(
        &key,
        key.public_jwk(),
        &claims,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_credential::oid4vci::{verify_proof, ProofExpectation};

    #[test]
    fn offer_links_and_batch_proofs() {
        let l = parse_offer_link(
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fid.example%2Foffers%2F1",
        )
        .expect("link");
        assert_eq!(
            l.credential_offer_uri.as_deref(),
            Some("https://id.example/offers/1")
        );
        let local = parse_offer_link("https://wallet.example/receive?credential_offer_uri=http%3A%2F%2Flocalhost%3A8080%2Foffers%2F1").expect("link");
        assert!(local.credential_offer_uri.is_some());
        assert_eq!(
            parse_offer_link(
                "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fevil.example%2Fo"
            )
            .map_err(|e| e.code),
            Err("invalid_offer")
        );
        for look_alike in [
            "http%3A%2F%2Flocalhost.evil.example%2Fo",
            "http%3A%2F%2F127.0.0.1.evil.example%2Fo",
            "http%3A%2F%2Flocalhost%40evil.example%2Fo",
        ] {
            assert_eq!(
                parse_offer_link(&format!(
                    "openid-credential-offer://?credential_offer_uri={look_alike}"
                ))
                .map_err(|e| e.code),
                Err("invalid_offer"),
                "{look_alike} is not this device"
            );
        }
        assert_eq!(
            parse_offer_link("nothing here").map_err(|e| e.code),
            Err("invalid_offer")
        );
        // By value: a JSON object, read like one fetched by reference; anything else, or both
        // forms at once, is refused.
        let by_value = parse_offer_link(
            "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fid.example%22%7D",
        )
        .expect("by value");
        assert_eq!(
            by_value
                .credential_offer
                .as_ref()
                .map(|o| &o["credential_issuer"]),
            Some(&serde_json::json!("https://id.example"))
        );
        for bad in [
            "credential_offer=%5B1%5D",
            "credential_offer=%7Bnot",
            "credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fid.example%2Fo",
        ] {
            assert_eq!(
                parse_offer_link(&format!("openid-credential-offer://?{bad}")).map_err(|e| e.code),
                Err("invalid_offer"),
                "{bad}"
            );
        }

        let keys: Vec<Jwk> = (0..3)
            .map(|_| crate::holder::generate_holder_key().expect("key"))
            .collect();
        let p = proofs(&keys, "https://id.example", "n-1", 1000).expect("proofs");
        assert_eq!(p.len(), 3);
        let expect = ProofExpectation {
            aud: "https://id.example",
            now: 1000,
            max_age: 60,
            clock_skew: 60,
        };
        for (jwt, key) in p.iter().zip(&keys) {
            let v = verify_proof(jwt, &expect).expect("valid proof");
            assert_eq!(v.holder_key.thumbprint(), key.to_public().thumbprint());
            assert_eq!(v.nonce.as_deref(), Some("n-1"));
        }
        assert!(proofs(&[], "https://id.example", "n", 1).is_err());
    }

    #[test]
    fn dpop_proofs_verify_for_their_url_token_and_key() {
        use civic_credential::dpop::{verify, Expectation};
        let key = crate::holder::generate_holder_key().expect("key");
        let url = "https://id.example/credential";
        let proof = dpop_proof(&key, url, Some("n-1"), Some("tok"), 1000).expect("proof");
        let expect = Expectation {
            htm: "POST",
            htu: url,
            now: 1000,
            max_age: 60,
            clock_skew: 5,
            access_token: Some("tok"),
        };
        let v = verify(&proof, &expect).expect("verifies");
        assert_eq!(v.jkt, key.thumbprint().expect("thumbprint"));
        assert_eq!(v.nonce.as_deref(), Some("n-1"));
        let again = dpop_proof(&key, url, Some("n-1"), Some("tok"), 1000).expect("proof");
        assert_ne!(
            verify(&again, &expect).expect("verifies").jti,
            v.jti,
            "a fresh jti each time"
        );
    }
}
