//! OAuth 2.0 attestation-based client authentication (OID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1):
//! a wallet provider vouches for a wallet implementation with a Client Attestation JWT
//! (`OAuth-Client-Attestation`, its certificate chain in `x5c`), and the wallet proves it holds
//! the attested key with a Client Attestation PoP JWT (`OAuth-Client-Attestation-PoP`) for this
//! authorization server. [`verify`] checks both but what needs the server's state: whether the
//! PoP's `jti` was seen before.

use serde_json::Value;

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{numeric_date, required_str};
use crate::error::Error;
use crate::jwk::Jwk;
use crate::jws::{self, Jws};
use crate::x509::{self, Certificate};

/// The header that carries the Client Attestation JWT.
pub const ATTESTATION_HEADER: &str = "OAuth-Client-Attestation";
/// The header that carries the Client Attestation PoP JWT.
pub const POP_HEADER: &str = "OAuth-Client-Attestation-PoP";
/// The `typ` of a Client Attestation JWT.
pub const ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// The `typ` of a Client Attestation PoP JWT.
pub const POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// The token endpoint authentication method name (for the server metadata).
pub const AUTH_METHOD: &str = "attest_jwt_client_auth";
/// The `typ` of a key attestation (OID4VCI 1.0 Appendix D).
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";

/// What the server expects of an attestation and its PoP on one request.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// The wallet providers' trust anchors: the attestation's `x5c` must lead to one.
    pub anchors: &'a [Certificate],
    /// This authorization server's identifier (the PoP's `aud`).
    pub audience: &'a str,
    /// The current time.
    pub now: i64,
    /// How old a PoP may be, in seconds.
    pub max_age: i64,
    /// Allowed clock difference.
    pub clock_skew: i64,
}

/// A checked attestation: the wallet implementation's client id, who vouched for it, and the
/// PoP's `jti` (which the server refuses a second time) with its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedClient {
    /// The attestation's `sub`: the wallet implementation's client id.
    pub client_id: String,
    /// The attestation's `iss`: the wallet provider.
    pub provider: String,
    /// The wallet name the provider gives, if any.
    pub wallet_name: Option<String>,
    /// The PoP's `jti`.
    pub pop_jti: String,
    /// Until when the PoP could be accepted (to keep its `jti` that long).
    pub pop_until: i64,
}

fn claim_date(claims: &serde_json::Map<String, Value>, name: &'static str) -> Result<i64, Error> {
    claims
        .get(name)
        .ok_or(Error::MissingClaim(name))
        .and_then(|v| numeric_date(v).ok_or(Error::InvalidClaim(name)))
}

/// Checks an attestation and its PoP: the attestation's `typ`, its `x5c` chain to one of the
/// anchors and its signature with the leaf, `iss`, `sub`, `exp` and a public `cnf.jwk`; the PoP's
/// `typ`, its signature with that key, `iss` (the attestation's `sub`), `aud` (this server),
/// `jti`, `iat` within the window and `exp` not passed.
pub fn verify(
    attestation: &str,
    pop: &str,
    expect: &Expectation<'_>,
) -> Result<AttestedClient, Error> {
    let jwt = Jws::parse(attestation)?;
    jwt.require_typ(ATTESTATION_TYP)?;
    let chain = x509::chain_from_header(&jwt.header)?
        .ok_or(Error::Certificate("the attestation carries no x5c"))?;
    let leaf = x509::verify_chain(&chain, expect.anchors, expect.now)?;
    jwt.verify(&leaf.verifying_key()?)?;
    let claims = &jwt.payload;
    let provider = required_str(claims, "iss")?.to_owned();
    let client_id = required_str(claims, "sub")?.to_owned();
    if claim_date(claims, "exp")? <= expect.now.saturating_sub(expect.clock_skew) {
        return Err(Error::Expired);
    }
    let key: Jwk = claims
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .ok_or(Error::MissingClaim("cnf.jwk"))?;
    if key.is_private() {
        return Err(Error::InvalidKey("cnf.jwk is private"));
    }
    let wallet_name = claims
        .get("wallet_name")
        .and_then(Value::as_str)
        .map(str::to_owned);

    let proof = Jws::parse(pop)?;
    proof.require_typ(POP_TYP)?;
    proof.verify(&VerifyingKey::from_jwk(&key)?)?;
    let c = &proof.payload;
    if required_str(c, "iss")? != client_id {
        return Err(Error::InvalidClaim("iss"));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == expect.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expect.audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(Error::InvalidClaim("aud"));
    }
    let jti = required_str(c, "jti")?;
    if jti.is_empty() || jti.len() > 256 {
        return Err(Error::InvalidClaim("jti"));
    }
    let iat = claim_date(c, "iat")?;
    if iat > expect.now.saturating_add(expect.clock_skew)
        || iat < expect.now.saturating_sub(expect.max_age)
    {
        return Err(Error::InvalidClaim("iat"));
    }
    let exp = match c.get("exp") {
        Some(v) => numeric_date(v).ok_or(Error::InvalidClaim("exp"))?,
        None => iat.saturating_add(expect.max_age),
    };
    if exp <= expect.now.saturating_sub(expect.clock_skew) {
        return Err(Error::Expired);
    }
    Ok(AttestedClient {
        client_id,
        provider,
        wallet_name,
        pop_jti: jti.to_owned(),
        // One second past the last one `verify` accepts it in.
        pop_until: iat.saturating_add(expect.max_age + expect.clock_skew + 1),
    })
}

/// What a wallet provider vouches for in a Client Attestation JWT: the wallet implementation
/// (`client_id`, its name) and the key the wallet proves possession of (`cnf`). Nothing in it
/// names a person or a device.
#[derive(Debug, Clone, Copy)]
pub struct Vouch<'a> {
    /// The wallet provider (`iss`).
    pub provider: &'a str,
    /// The wallet implementation's client id (`sub`).
    pub client_id: &'a str,
    /// The wallet's name (`wallet_name`).
    pub wallet_name: &'a str,
    /// The attested key (`cnf.jwk`): public.
    pub key: &'a Jwk,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
}

/// Signs a Client Attestation JWT for `vouch` with the provider's certified key: `typ`
/// [`ATTESTATION_TYP`] and the signer's chain in `x5c`, as [`verify`] wants it.
pub fn issue(vouch: &Vouch<'_>, signer: &dyn JwsSigner) -> Result<String, Error> {
    if signer.x5c().is_none() {
        return Err(Error::Certificate(
            "a wallet provider signs with a certified key (x5c)",
        ));
    }
    if vouch.key.is_private() {
        return Err(Error::InvalidKey("cnf.jwk is private"));
    }
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), vouch.provider.into());
    claims.insert("sub".into(), vouch.client_id.into());
    claims.insert("wallet_name".into(), vouch.wallet_name.into());
    claims.insert("iat".into(), vouch.iat.into());
    claims.insert("exp".into(), vouch.exp.into());
    let jwk = serde_json::to_value(vouch.key.to_public()).map_err(|_| Error::Json("jwk"))?;
    claims.insert("cnf".into(), serde_json::json!({ "jwk": jwk }));
    jws::sign(
        ATTESTATION_TYP,
        jws::chain_header(signer),
        &claims,
        &crate::crypto::WithoutKid(signer),
    )
}

/// Checks a key attestation (OID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1): its `typ`, its `x5c`
/// chain to one of `anchors` and its signature with the leaf, `exp` (when present) not passed,
/// and `nonce` (when present) equal to `nonce`. Returns the RFC 7638 thumbprints of its
/// `attested_keys`: a proof's key must be one of them.
pub fn verify_key_attestation(
    jwt: &str,
    anchors: &[Certificate],
    nonce: Option<&str>,
    now: i64,
    clock_skew: i64,
) -> Result<Vec<String>, Error> {
    let jws = Jws::parse(jwt)?;
    jws.require_typ(KEY_ATTESTATION_TYP)?;
    let chain = x509::chain_from_header(&jws.header)?
        .ok_or(Error::Certificate("the key attestation carries no x5c"))?;
    let leaf = x509::verify_chain(&chain, anchors, now)?;
    jws.verify(&leaf.verifying_key()?)?;
    let claims = &jws.payload;
    if let Some(exp) = claims.get("exp") {
        let exp = numeric_date(exp).ok_or(Error::InvalidClaim("exp"))?;
        if exp <= now.saturating_sub(clock_skew) {
            return Err(Error::Expired);
        }
    }
    if let Some(given) = claims.get("nonce") {
        if given.as_str() != nonce {
            return Err(Error::InvalidClaim("nonce"));
        }
    }
    let keys = claims
        .get("attested_keys")
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty() && k.len() <= 100)
        .ok_or(Error::MissingClaim("attested_keys"))?;
    keys.iter()
        .map(|k| {
            serde_json::from_value::<Jwk>(k.clone())
                .map_err(|_| Error::InvalidClaim("attested_keys"))?
                .thumbprint()
        })
        .collect()
}
