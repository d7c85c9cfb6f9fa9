//! Receiving credentials over OID4VCI: reading the offer link, and signing one proof per fresh
//! holder key for a batch request. HTTP happens in JavaScript; the messages come from
//! `civic_credential::oid4vci`.

use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::{build_proof, OfferLocation};
use serde::Serialize;

use crate::holder::load_holder_key;
use crate::WalletError;

/// Where an offer link points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferLink {
    /// The offer itself, when passed by value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_offer: Option<civic_credential::oid4vci::CredentialOffer>,
    /// Where to fetch it, when passed by reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_offer_uri: Option<String>,
}

/// Reads `openid-credential-offer://?…`, or the wallet's own `/receive?…` link.
pub fn parse_offer_link(url: &str) -> Result<OfferLink, WalletError> {
    match OfferLocation::parse(url).map_err(|e| WalletError::new("invalid_offer", e.to_string()))? {
        OfferLocation::ByValue(offer) => Ok(OfferLink {
            credential_offer: Some(offer),
            credential_offer_uri: None,
        }),
        OfferLocation::ByReference(uri) => {
            // The host is parsed: `http://localhost.evil.example` is not this device.
            let trustworthy =
                civic_credential::origin::Origin::of(&uri).is_ok_and(|o| o.is_trustworthy(true));
            if !trustworthy {
                return Err(WalletError::new(
                    "invalid_offer",
                    "credential_offer_uri must be https (or http on this device)",
                ));
            }
            Ok(OfferLink {
                credential_offer: None,
                credential_offer_uri: Some(uri),
            })
        }
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
}
