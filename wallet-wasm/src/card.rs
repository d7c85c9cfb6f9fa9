//! The credential card: what the wallet shows the resident about a stored credential.

use civic_credential::crypto::VerifyingKey;
use civic_credential::encoding::{optional_date, required_str};
use civic_credential::jwk::Jwk;
use civic_credential::sd_jwt::{process, SdJwt};
use civic_credential::sd_jwt_vc::SD_JWT_VC_TYP;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::WalletError;

/// A stored credential as the resident sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialCard {
    /// Who issued it.
    pub issuer: String,
    /// Its type.
    pub vct: String,
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
    /// Every claim it holds (all disclosures applied), without the registered claims.
    pub claims: Map<String, Value>,
    /// Human labels for the claims it holds, in display order.
    pub labels: Vec<(String, String)>,
}

/// Reads a credential in issuance form into a card. The signature is checked by the caller
/// against the issuer's published keys before the credential is stored.
pub fn card(issued: &str) -> Result<CredentialCard, WalletError> {
    let sd = SdJwt::parse(issued)?;
    let processed = process(&sd.jwt.payload, &sd.disclosures)?;
    let payload = &sd.jwt.payload;
    let mut claims = processed.claims;
    for k in civic_credential::sd_jwt_vc::NON_DISCLOSABLE {
        claims.remove(k);
    }
    let labels = LABELS
        .iter()
        .filter(|(path, _)| lookup(&claims, path).is_some())
        .map(|(path, label)| (path.to_string(), label.to_string()))
        .collect();
    Ok(CredentialCard {
        issuer: required_str(payload, "iss")?.to_owned(),
        vct: required_str(payload, "vct")?.to_owned(),
        exp: optional_date(payload, "exp")?,
        claims,
        labels,
    })
}

/// Checks a received credential before it is stored: `typ dc+sd-jwt`, the issuer signature with
/// the key named by the header `kid` among `issuer_keys` (the issuer's published keys; a header
/// without `kid` is accepted only when the issuer publishes exactly one key), every disclosure,
/// and that it has not expired at `now`. Returns its card.
pub fn verify_received(
    issued: &str,
    issuer_keys: &[Jwk],
    now: i64,
) -> Result<CredentialCard, WalletError> {
    let sd = SdJwt::parse(issued)?;
    sd.jwt.require_typ(SD_JWT_VC_TYP)?;
    let jwk = match (sd.jwt.kid(), issuer_keys) {
        (Some(kid), keys) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        (None, [only]) => Some(only),
        (None, _) => None,
    }
    .ok_or_else(|| {
        WalletError::new(
            "credential_invalid",
            "no published issuer key matches the credential",
        )
    })?;
    sd.verify(&VerifyingKey::from_jwk(jwk)?)?;
    let c = card(issued)?;
    if c.exp.is_some_and(|exp| exp <= now) {
        return Err(WalletError::new(
            "credential_invalid",
            "the credential has expired",
        ));
    }
    Ok(c)
}

/// Display labels of the residency credential's claims, by dotted path.
const LABELS: &[(&str, &str)] = &[
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("birthdate", "Date of birth"),
    ("address.street_address", "Street"),
    ("address.postal_code", "Postal code"),
    ("address.locality", "Town"),
    ("residence.municipality", "Municipality"),
    ("residence.municipality_code", "Municipality code"),
    ("residence.district", "District"),
    ("resident_since", "Resident since"),
    ("age_equal_or_over.16", "16 or older"),
    ("age_equal_or_over.18", "18 or older"),
    ("age_equal_or_over.65", "65 or older"),
];

fn lookup<'a>(claims: &'a Map<String, Value>, dotted: &str) -> Option<&'a Value> {
    let mut parts = dotted.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |v, k| v.get(k))
}
