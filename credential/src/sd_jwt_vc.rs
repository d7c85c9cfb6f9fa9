//! The SD-JWT VC profile: `typ dc+sd-jwt`, the registered claims that are never disclosable,
//! the issuer key bound to `iss` through `kid` (or through an `x5c` chain to the issuer's
//! certificate anchors), validity times and holder key binding.

use std::collections::HashMap;

use rand_core::CryptoRngCore;
use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{optional_date, required_str};
use crate::error::{Error, Result};
use crate::jwk::Jwk;
use crate::jws;
use crate::key_binding::{self, KeyBinding, KeyBindingExpectation};
use crate::sd_jwt::{self, conceal, process_owned, ClaimPath, PathElement, SdJwt};
use crate::status_list::StatusReference;
use crate::x509::{self, Certificate};

pub mod issuer_metadata;

/// The JOSE `typ` of an SD-JWT VC.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";

/// Claims that the profile fixes and that must never be selectively disclosable.
pub const NON_DISCLOSABLE: [&str; 8] = [
    "iss",
    "vct",
    "vct#integrity",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
];

/// Everything an issuer puts into one credential.
#[derive(Debug, Clone)]
pub struct CredentialSpec<'a> {
    /// Issuer identifier (`iss`): an https URL or a did:web.
    pub issuer: &'a str,
    /// Credential type (`vct`).
    pub vct: &'a str,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before.
    pub nbf: Option<i64>,
    /// Expiry.
    pub exp: i64,
    /// The holder's public key, placed in `cnf.jwk`.
    pub holder_key: &'a Jwk,
    /// Where the credential's status lives.
    pub status: Option<StatusReference>,
    /// The subject claims.
    pub claims: Map<String, Value>,
    /// Which subject claims are selectively disclosable.
    pub disclosable: &'a [ClaimPath],
    /// Decoy digests added to each `_sd` array.
    pub decoys: usize,
}

/// Issues an SD-JWT VC in issuance form (`<jwt>~<all disclosures>~`).
/// The signer must carry a `kid` that is bound to `issuer`.
pub fn issue(
    spec: &CredentialSpec<'_>,
    signer: &dyn JwsSigner,
    rng: &mut impl CryptoRngCore,
) -> Result<String> {
    let kid = signer.key_id().ok_or(Error::MissingClaim("kid"))?;
    absolute_kid(spec.issuer, kid)?;
    for name in NON_DISCLOSABLE {
        if spec.claims.contains_key(name) {
            return Err(Error::NonDisclosableClaim(name.to_owned()));
        }
    }
    for path in spec.disclosable {
        if let Some(PathElement::Key(first)) = path.0.first() {
            if NON_DISCLOSABLE.contains(&first.as_str()) {
                return Err(Error::NonDisclosableClaim(first.clone()));
            }
        }
    }
    if spec.holder_key.is_private() {
        return Err(Error::InvalidKey("holder key in cnf must be public"));
    }
    let concealed = conceal(spec.claims.clone(), spec.disclosable, spec.decoys, rng)?;
    let mut payload = concealed.payload;
    payload.insert("iss".into(), spec.issuer.into());
    payload.insert("vct".into(), spec.vct.into());
    payload.insert("iat".into(), spec.iat.into());
    if let Some(nbf) = spec.nbf {
        payload.insert("nbf".into(), nbf.into());
    }
    payload.insert("exp".into(), spec.exp.into());
    let holder = serde_json::to_value(spec.holder_key).map_err(|_| Error::Json("cnf"))?;
    payload.insert("cnf".into(), serde_json::json!({ "jwk": holder }));
    if let Some(status) = &spec.status {
        payload.insert(
            "status".into(),
            serde_json::to_value(status).map_err(|_| Error::Json("status"))?,
        );
    }
    let jwt = jws::sign(SD_JWT_VC_TYP, jws::chain_header(signer), &payload, signer)?;
    Ok(sd_jwt::serialize(&jwt, &concealed.disclosures))
}

/// The keys of trusted issuers. Implementations decide which issuers are trusted and where keys
/// come from (issuer metadata, a DID document, a fixture, certificate anchors); nothing is
/// fetched here.
pub trait IssuerKeys {
    /// The key with key id `kid` (absolute, see [`absolute_kid`]) of issuer `iss`, if trusted.
    fn issuer_key(&self, iss: &str, kid: &str) -> Option<&VerifyingKey>;

    /// The X.509 trust anchors of `iss`, when it is trusted by certificate (HAIP 1.0 §6.1.1):
    /// then its keys come only from the `x5c` chain of what it signs, and `kid` is ignored.
    fn certificate_anchors(&self, _iss: &str) -> Option<&[Certificate]> {
        None
    }
}

/// The key that signed `jwt` for issuer `iss`, as [`IssuerKeys`] trusts it.
// Lives for one verification on the stack; boxing the certified key would only add an
// allocation to each certificate check.
#[allow(clippy::large_enum_variant)]
pub enum IssuerKey<'k> {
    /// A published key, named by the header's `kid` (absolute).
    Named(String, &'k VerifyingKey),
    /// The key of the leaf certificate of the header's `x5c`, whose chain leads to one of the
    /// issuer's anchors; with the leaf's `x509_hash`.
    Certified(String, VerifyingKey),
}

impl IssuerKey<'_> {
    /// The key.
    pub fn key(&self) -> &VerifyingKey {
        match self {
            IssuerKey::Named(_, k) => k,
            IssuerKey::Certified(_, k) => k,
        }
    }

    /// How it is named in results and logs: the absolute kid, or `x5c:<x509_hash>`.
    pub fn id(&self) -> String {
        match self {
            IssuerKey::Named(kid, _) => kid.clone(),
            IssuerKey::Certified(hash, _) => format!("x5c:{hash}"),
        }
    }
}

/// Finds the key that signed `jwt` (an SD-JWT VC's issuer JWT, or a status list token) for
/// issuer `iss` at `now`. For an issuer trusted by certificate, the header's `x5c` must chain
/// to one of its anchors and the leaf must name the host of `iss` (a URL) in its
/// `subjectAltName`; otherwise the `kid` must name one of its keys.
#[inline]
pub fn issuer_key<'k, K: IssuerKeys + ?Sized>(
    jwt: &jws::Jws<'_>,
    iss: &str,
    keys: &'k K,
    now: i64,
) -> Result<IssuerKey<'k>> {
    if let Some(anchors) = keys.certificate_anchors(iss) {
        let chain = x509::chain_from_header(&jwt.header)?.ok_or(Error::IssuerKeyNotFound {
            iss: iss.to_owned(),
            kid: "x5c (the issuer is trusted by certificate)".into(),
        })?;
        let leaf = x509::verify_chain(&chain, anchors, now)?;
        let host = crate::origin::Origin::of(iss)
            .map_err(|_| Error::Certificate("an issuer trusted by certificate must be a URL"))?;
        if !leaf.names_host(host.host()) {
            return Err(Error::Certificate(
                "the issuer certificate does not name the host of iss",
            ));
        }
        return Ok(IssuerKey::Certified(
            leaf.x509_hash(),
            leaf.verifying_key()?,
        ));
    }
    let kid = jwt.kid().ok_or(Error::MissingClaim("kid"))?;
    let kid = absolute_kid(iss, kid)?;
    match keys.issuer_key(iss, &kid) {
        Some(key) => Ok(IssuerKey::Named(kid, key)),
        None => Err(Error::IssuerKeyNotFound {
            iss: iss.to_owned(),
            kid,
        }),
    }
}

/// A fixed set of issuer keys, keyed by issuer and absolute kid.
#[derive(Debug, Default)]
pub struct StaticIssuerKeys(HashMap<(String, String), VerifyingKey>);

impl StaticIssuerKeys {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `jwk` (which must carry a `kid`) for issuer `iss`.
    pub fn insert(&mut self, iss: &str, jwk: &Jwk) -> Result<()> {
        let kid = jwk.kid.as_deref().ok_or(Error::MissingClaim("kid"))?;
        let kid = absolute_kid(iss, kid)?;
        self.0
            .insert((iss.to_owned(), kid), VerifyingKey::from_jwk(jwk)?);
        Ok(())
    }
}

impl IssuerKeys for StaticIssuerKeys {
    fn issuer_key(&self, iss: &str, kid: &str) -> Option<&VerifyingKey> {
        self.0.get(&(iss.to_owned(), kid.to_owned()))
    }
}

/// Binds a header `kid` to `iss`. For a DID issuer the kid must be a DID URL of that DID
/// (`did:web:x#key-1`, or the relative `#key-1`, which is made absolute). For an https issuer the
/// kid names a key in that issuer's own `jwt-vc-issuer` metadata and is returned as is.
pub fn absolute_kid(iss: &str, kid: &str) -> Result<String> {
    if !iss.starts_with("did:") {
        return Ok(kid.to_owned());
    }
    if kid.starts_with('#') {
        return Ok(format!("{iss}{kid}"));
    }
    match kid.strip_prefix(iss) {
        Some(rest) if rest.starts_with('#') => Ok(kid.to_owned()),
        _ => Err(Error::KidNotBoundToIssuer {
            iss: iss.to_owned(),
            kid: kid.to_owned(),
        }),
    }
}

/// How a verifier checks a credential.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The current time, seconds since the epoch.
    pub now: i64,
    /// Allowed clock difference, in seconds.
    pub clock_skew: i64,
    /// The credential type the verifier accepts, if it insists on one.
    pub expected_vct: Option<&'a str>,
    /// Key binding to require; `None` accepts a presentation without a KB-JWT.
    pub key_binding: Option<KeyBindingRequirement<'a>>,
}

/// The key binding a verifier requires.
#[derive(Debug, Clone, Copy)]
pub struct KeyBindingRequirement<'a> {
    /// Our `client_id`.
    pub aud: &'a str,
    /// The nonce of this request.
    pub nonce: &'a str,
    /// How old the KB-JWT may be, in seconds.
    pub max_age: i64,
}

/// A credential that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    /// The issuer.
    pub issuer: String,
    /// The key the issuer signed with: its absolute key id, or `x5c:<x509_hash of the leaf>`.
    pub kid: String,
    /// The credential type.
    pub vct: String,
    /// Issued at.
    pub iat: Option<i64>,
    /// Expiry.
    pub exp: Option<i64>,
    /// The holder key from `cnf.jwk`.
    pub holder_key: Option<Jwk>,
    /// The status list reference.
    pub status: Option<StatusReference>,
    /// The claims after processing the presented disclosures (registered claims included).
    pub claims: Map<String, Value>,
    /// The paths that were selectively disclosed.
    pub disclosed: Vec<ClaimPath>,
    /// The verified key binding, when one was required.
    pub key_binding: Option<KeyBinding>,
}

/// Verifies an SD-JWT VC presentation: typ, allowed alg, issuer key bound to `iss` through `kid`,
/// signature, disclosures, registered claims, validity times, `vct`, and key binding.
pub fn verify<K: IssuerKeys + ?Sized>(
    presentation: &str,
    keys: &K,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedCredential> {
    verify_owned(SdJwt::parse(presentation)?, keys, opts)
}

/// [`verify`] for a presentation the caller has already parsed (for instance to read `iss`
/// before looking up keys), so that it is not parsed twice.
pub fn verify_parsed<K: IssuerKeys + ?Sized>(
    sd: &SdJwt<'_>,
    keys: &K,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedCredential> {
    verify_owned(sd.clone(), keys, opts)
}

/// [`verify_parsed`], taking the parsed presentation: the claims are moved out of it, not copied.
pub fn verify_owned<K: IssuerKeys + ?Sized>(
    sd: SdJwt<'_>,
    keys: &K,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedCredential> {
    sd.jwt.require_typ(SD_JWT_VC_TYP)?;
    let payload = &sd.jwt.payload;
    let iss = required_str(payload, "iss")?.to_owned();
    let key = issuer_key(&sd.jwt, &iss, keys, opts.now)?;
    sd.jwt.verify(key.key())?;
    let kid = key.id();
    // Read before the payload moves into the claims; the checks keep their order below.
    let vct = required_str(payload, "vct").map(str::to_owned);
    let dates = (
        optional_date(payload, "iat"),
        optional_date(payload, "nbf"),
        optional_date(payload, "exp"),
    );
    let holder_key = payload.get("cnf").map(|cnf| {
        cnf.get("jwk")
            .and_then(|j| Jwk::deserialize(j).ok())
            .ok_or(Error::InvalidClaim("cnf"))
    });
    let status = payload
        .get("status")
        .map(|s| StatusReference::deserialize(s).map_err(|_| Error::InvalidClaim("status")));
    let (kb_jwt, hashed_part) = (sd.kb_jwt, sd.hashed_part);
    let processed = process_owned(sd.jwt.payload, sd.disclosures)?;
    for d in &processed.disclosed {
        if let Some(PathElement::Key(first)) = d.path.0.first() {
            if d.path.0.len() == 1 && NON_DISCLOSABLE.contains(&first.as_str()) {
                return Err(Error::NonDisclosableClaim(first.clone()));
            }
        }
    }
    let vct = vct?;
    if let Some(expected) = opts.expected_vct {
        if vct != expected {
            return Err(Error::VctMismatch(vct));
        }
    }
    let (iat, nbf, exp) = (dates.0?, dates.1?, dates.2?);
    let late = opts.now.saturating_add(opts.clock_skew);
    let early = opts.now.saturating_sub(opts.clock_skew);
    if iat.is_some_and(|t| t > late) {
        return Err(Error::IssuedInFuture);
    }
    if nbf.is_some_and(|t| t > late) {
        return Err(Error::NotYetValid);
    }
    if exp.is_some_and(|t| t <= early) {
        return Err(Error::Expired);
    }
    let holder_key = holder_key.transpose()?;
    let status = status.transpose()?;

    let key_binding = match (&opts.key_binding, kb_jwt) {
        (None, _) => None,
        (Some(_), None) => return Err(Error::KeyBindingMissing),
        (Some(req), Some(kb)) => {
            let holder = holder_key.as_ref().ok_or(Error::MissingHolderKey)?;
            let holder = VerifyingKey::from_jwk(holder)?;
            let expect = KeyBindingExpectation {
                aud: req.aud,
                nonce: req.nonce,
                now: opts.now,
                max_age: req.max_age,
                clock_skew: opts.clock_skew,
            };
            Some(key_binding::verify(kb, hashed_part, &holder, &expect)?)
        }
    };
    Ok(VerifiedCredential {
        issuer: iss,
        kid,
        vct,
        iat,
        exp,
        holder_key,
        status,
        disclosed: processed.disclosed.into_iter().map(|d| d.path).collect(),
        claims: processed.claims,
        key_binding,
    })
}

/// Makes a presentation: the issuer JWT, the disclosures for `paths`, and (with a holder key) a
/// KB-JWT for `aud` and `nonce` at time `iat`.
pub fn present(
    issued: &str,
    paths: &[ClaimPath],
    key_binding: Option<(&dyn JwsSigner, &str, &str, i64)>,
) -> Result<String> {
    let sd = SdJwt::parse(issued)?;
    let chosen = sd_jwt::select_disclosures(&sd, paths)?;
    let text = sd_jwt::serialize(
        sd.issuer_jwt(),
        chosen.iter().filter_map(|&i| sd.disclosures.get(i)),
    );
    match key_binding {
        None => Ok(text),
        Some((holder, aud, nonce, iat)) => key_binding::bind(&text, aud, nonce, iat, holder),
    }
}

#[cfg(test)]
mod tests;
