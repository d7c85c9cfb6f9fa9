//! Key-binding JWTs (RFC 9901 §4.3): the holder's proof that it holds the `cnf` key, bound to one
//! verifier (`aud`), one request (`nonce`), one moment (`iat`) and the exact disclosures (`sd_hash`).

use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{ct_eq, numeric_date, required_str, sha256_b64};
use crate::error::{Error, Result};
use crate::jws::{self, Jws};

/// The JOSE `typ` of a key-binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";

/// The claims of a verified key-binding JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    /// When the holder made the presentation.
    pub iat: i64,
    /// The verifier it was made for.
    pub aud: String,
    /// The verifier's nonce.
    pub nonce: String,
    /// Hash of the presented SD-JWT and disclosures.
    pub sd_hash: String,
}

/// What the verifier expects of a key-binding JWT.
#[derive(Debug, Clone, Copy)]
pub struct KeyBindingExpectation<'a> {
    /// Our own identifier (the OID4VP `client_id`).
    pub aud: &'a str,
    /// The nonce we issued for this request.
    pub nonce: &'a str,
    /// The current time, seconds since the epoch.
    pub now: i64,
    /// How old the KB-JWT may be, in seconds.
    pub max_age: i64,
    /// Allowed clock difference for an `iat` in the future, in seconds.
    pub clock_skew: i64,
}

/// Appends a KB-JWT to `presentation` (which must end with `~`), signed by the holder key.
pub fn bind(
    presentation: &str,
    aud: &str,
    nonce: &str,
    iat: i64,
    holder: &dyn JwsSigner,
) -> Result<String> {
    if !presentation.ends_with('~') {
        return Err(Error::MalformedSdJwt(
            "presentation must end with '~' before key binding",
        ));
    }
    let mut claims = Map::new();
    claims.insert("iat".into(), iat.into());
    claims.insert("aud".into(), aud.into());
    claims.insert("nonce".into(), nonce.into());
    claims.insert("sd_hash".into(), sha256_b64(presentation).into());
    // The holder key is in the credential's cnf; a kid would only help a tracker.
    let signer = crate::crypto::WithoutKid(holder);
    let kb = jws::sign(KB_JWT_TYP, Map::new(), &claims, &signer)?;
    Ok(format!("{presentation}{kb}"))
}

/// Verifies `kb_jwt` over `hashed_part` (the presentation up to and including the last `~`).
pub fn verify(
    kb_jwt: &str,
    hashed_part: &str,
    holder_key: &VerifyingKey,
    expect: &KeyBindingExpectation<'_>,
) -> Result<KeyBinding> {
    let jws = Jws::parse(kb_jwt)?;
    jws.require_typ(KB_JWT_TYP)?;
    jws.verify(holder_key)?;
    let c = &jws.payload;
    let iat = c
        .get("iat")
        .ok_or(Error::MissingClaim("iat"))
        .and_then(|v| numeric_date(v).ok_or(Error::InvalidClaim("iat")))?;
    if iat > expect.now.saturating_add(expect.clock_skew)
        || iat < expect.now.saturating_sub(expect.max_age)
    {
        return Err(Error::KeyBindingIatOutOfWindow);
    }
    let aud = match c.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(_) => return Err(Error::InvalidClaim("aud")),
        None => return Err(Error::MissingClaim("aud")),
    };
    if aud != expect.aud {
        return Err(Error::KeyBindingAudienceMismatch);
    }
    let nonce = required_str(c, "nonce")?.to_owned();
    if !ct_eq(nonce.as_bytes(), expect.nonce.as_bytes()) {
        return Err(Error::KeyBindingNonceMismatch);
    }
    let sd_hash = required_str(c, "sd_hash")?.to_owned();
    if !ct_eq(sd_hash.as_bytes(), sha256_b64(hashed_part).as_bytes()) {
        return Err(Error::KeyBindingSdHashMismatch);
    }
    Ok(KeyBinding {
        iat,
        aud,
        nonce,
        sd_hash,
    })
}
