//! The credential card: what the wallet shows the resident about a stored credential.

use civic_credential::encoding::{optional_date, required_str};
use civic_credential::jwk::Jwk;
use civic_credential::sd_jwt::{process, SdJwt};
use civic_credential::sd_jwt_vc::{self, StaticIssuerKeys, VerifyOptions};
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

/// Reads a stored credential (issuance form, verified when it was received) into a card.
pub fn card(issued: &str) -> Result<CredentialCard, WalletError> {
    let sd = SdJwt::parse(issued)?;
    let processed = process(&sd.jwt.payload, &sd.disclosures)?;
    let payload = &sd.jwt.payload;
    Ok(CredentialCard::new(
        required_str(payload, "iss")?.to_owned(),
        required_str(payload, "vct")?.to_owned(),
        optional_date(payload, "exp")?,
        processed.claims,
    ))
}

/// How far the device clock may differ from the issuer's, in seconds.
pub const CLOCK_SKEW: i64 = 60;

/// Checks a received credential before it is stored, with the full SD-JWT VC verification of
/// `civic-credential` (typ, the issuer key chosen by `iss` and `kid` among the issuer's published
/// `issuer_keys`, signature, every disclosure, registered claims, validity at `now`).
/// Returns its card.
pub fn verify_received(
    issued: &str,
    issuer_keys: &[Jwk],
    now: i64,
) -> Result<CredentialCard, WalletError> {
    let iss = SdJwt::parse(issued)?
        .jwt
        .payload
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or(civic_credential::Error::MissingClaim("iss"))?;
    let mut keys = StaticIssuerKeys::new();
    for jwk in issuer_keys {
        keys.insert(&iss, jwk)?;
    }
    let options = VerifyOptions {
        now,
        clock_skew: CLOCK_SKEW,
        expected_vct: None,
        key_binding: None,
    };
    let v = sd_jwt_vc::verify(issued, &keys, &options)?;
    Ok(CredentialCard::new(v.issuer, v.vct, v.exp, v.claims))
}

impl CredentialCard {
    fn new(issuer: String, vct: String, exp: Option<i64>, mut claims: Map<String, Value>) -> Self {
        for k in sd_jwt_vc::NON_DISCLOSABLE {
            claims.remove(k);
        }
        let labels = LABELS
            .iter()
            .filter(|(path, _)| lookup(&claims, path).is_some())
            .map(|(path, label)| (path.to_string(), label.to_string()))
            .collect();
        CredentialCard {
            issuer,
            vct,
            exp,
            claims,
            labels,
        }
    }
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

/// The live status of a credential: `valid`, `revoked`, `suspended` (or `status_<n>`), read from
/// the status list token fetched from `uri`, which must be signed by one of `issuer_keys`.
pub fn status_of(
    token: &str,
    issuer_keys: &[Jwk],
    uri: &str,
    idx: u64,
    now: i64,
) -> Result<String, WalletError> {
    use civic_credential::status_list::{Status, StatusListToken};
    let jws = civic_credential::jws::Jws::parse(token.trim())?;
    let kid = jws.kid().unwrap_or_default();
    let jwk = issuer_keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid))
        .ok_or_else(|| {
            WalletError::new(
                "status_unavailable",
                "status list signed with an unknown key",
            )
        })?;
    let key = civic_credential::crypto::VerifyingKey::from_jwk(jwk)?;
    let list = StatusListToken::verify(token.trim(), &key, uri, now, CLOCK_SKEW)?;
    Ok(match list.list.get(idx)? {
        Status::Valid => "valid".into(),
        Status::Invalid => "revoked".into(),
        Status::Suspended => "suspended".into(),
        Status::Other(n) => format!("status_{n}"),
    })
}
