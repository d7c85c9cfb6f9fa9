//! The credential card: what the wallet shows the resident about a stored credential.

use civic_credential::encoding::{optional_date, required_str};
use civic_credential::jwk::Jwk;
use civic_credential::residency::labels::described_claims;
use civic_credential::sd_jwt::{process, SdJwt};
use civic_credential::sd_jwt_vc::issuer_metadata::{metadata_url, IssuerMetadata};
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
    /// Human labels for the claims it holds, in display order: (dotted path, label).
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

/// The `authorityKeyIdentifier`s (base64url) of the certificates in a stored credential's
/// `x5c`, which DCQL `trusted_authorities` of type `aki` name. None without `x5c`.
pub fn authority_key_ids(issued: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(sd) = SdJwt::parse(issued) {
        if let Ok(Some(chain)) = civic_credential::x509::chain_from_header(&sd.jwt.header) {
            for c in &chain {
                if let Some(aki) = c.authority_key_id() {
                    out.push(civic_credential::encoding::b64_encode(aki));
                }
            }
        }
    }
    out
}

/// How far the device clock may differ from the issuer's, in seconds.
pub const CLOCK_SKEW: i64 = 60;

/// Checks a received credential before it is stored, with the full SD-JWT VC verification of
/// `civic-credential` (typ, the issuer key chosen by `iss` and `kid` among the issuer's published
/// `issuer_keys`, signature, every disclosure, registered claims, validity at `now`). The
/// credential must name as `iss` the `credential_issuer` the wallet received it from: a card is
/// stored under the issuer it came from, never under one it merely claims.
/// Returns its card.
pub fn verify_received(
    issued: &str,
    issuer_keys: &[Jwk],
    credential_issuer: &str,
    now: i64,
) -> Result<CredentialCard, WalletError> {
    let iss = SdJwt::parse(issued)?
        .jwt
        .payload
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or(civic_credential::Error::MissingClaim("iss"))?;
    if iss != credential_issuer {
        return Err(WalletError::new(
            "invalid_credential",
            format!("the credential names issuer {iss}, but it came from {credential_issuer}"),
        ));
    }
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
        // Every claim of the credential that this copy holds, in the core's order and words
        // (the pseudonyms, one per platform, are not shown as a field).
        let root = Value::Object(claims.clone());
        let labels = described_claims()
            .into_iter()
            .filter(|(path, _)| path.lookup(&root).is_some())
            .map(|(path, name)| (path.to_string(), name))
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

/// Where the wallet fetches the keys of `issuer` (an https credential issuer): its SD-JWT VC
/// issuer metadata.
pub fn issuer_keys_url(issuer: &str) -> Result<String, WalletError> {
    metadata_url(issuer).map_err(|e| WalletError::new("invalid_issuer", e.to_string()))
}

/// The keys in the fetched issuer metadata of `issuer` (which must name that issuer and hold
/// only public keys).
pub fn issuer_keys(metadata_json: &str, issuer: &str) -> Result<Vec<Jwk>, WalletError> {
    IssuerMetadata::parse(metadata_json.as_bytes(), issuer)
        .map(|m| m.jwks.keys)
        .map_err(|e| WalletError::new("issuer_keys_unavailable", e.to_string()))
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
