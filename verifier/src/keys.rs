//! Issuer keys, fetched only for issuers on the trust list and cached with expiry: from SD-JWT VC
//! issuer metadata (`/.well-known/jwt-vc-issuer`) for https issuers, or from the DID document of a
//! did:web issuer.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use civic_credential::crypto::VerifyingKey;
use civic_credential::jwk::Jwk;
use civic_credential::sd_jwt_vc::IssuerKeys;

use crate::cache::Cache;
use crate::fetch::Fetcher;
use crate::trust::TrustedIssuer;

/// One issuer's keys by absolute key id.
#[derive(Default)]
pub struct KeySet {
    issuer: String,
    keys: HashMap<String, VerifyingKey>,
}

impl KeySet {
    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl IssuerKeys for KeySet {
    fn issuer_key(&self, iss: &str, kid: &str) -> Option<&VerifyingKey> {
        (iss == self.issuer).then(|| self.keys.get(kid)).flatten()
    }
}

/// Finds and caches issuer keys.
pub struct KeyResolver {
    fetcher: Arc<dyn Fetcher>,
    cache: Cache<KeySet>,
    ttl: i64,
    min_refresh: i64,
}

fn jwk_set(issuer: &str, keys: &Value, kid_prefix: Option<&str>) -> Result<KeySet, String> {
    let list = keys
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no `keys` array in the JWK set")?;
    let mut set = KeySet {
        issuer: issuer.to_owned(),
        keys: HashMap::new(),
    };
    for k in list {
        let jwk: Jwk = serde_json::from_value(k.clone()).map_err(|e| format!("bad JWK: {e}"))?;
        let Some(kid) = jwk.kid.clone() else { continue };
        if jwk.is_private() {
            return Err("published key set contains a private key".into());
        }
        let key = VerifyingKey::from_jwk(&jwk).map_err(|e| format!("key {kid}: {e}"))?;
        let kid = match kid_prefix {
            Some(did) if kid.starts_with('#') => format!("{did}{kid}"),
            _ => kid,
        };
        set.keys.insert(kid, key);
    }
    if set.keys.is_empty() {
        return Err("no usable keys (each needs a kid)".into());
    }
    Ok(set)
}

fn did_document(issuer: &str, doc: &Value) -> Result<KeySet, String> {
    if doc.get("id").and_then(Value::as_str) != Some(issuer) {
        return Err("DID document id is not the issuer".into());
    }
    let assertion: Vec<String> = doc
        .get("assertionMethod")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().or_else(|| m.get("id").and_then(Value::as_str)))
                .map(|id| {
                    if id.starts_with('#') {
                        format!("{issuer}{id}")
                    } else {
                        id.to_owned()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut keys = Vec::new();
    for m in doc
        .get("verificationMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = m.get("id").and_then(Value::as_str) else {
            continue;
        };
        let id = if id.starts_with('#') {
            format!("{issuer}{id}")
        } else {
            id.to_owned()
        };
        if !assertion.contains(&id) || !id.starts_with(&format!("{issuer}#")) {
            continue;
        }
        let Some(mut jwk) = m.get("publicKeyJwk").cloned() else {
            continue;
        };
        jwk["kid"] = Value::String(id);
        keys.push(jwk);
    }
    jwk_set(issuer, &serde_json::json!({ "keys": keys }), None)
}

impl KeyResolver {
    /// A resolver fetching with `fetcher`, keeping keys `ttl` seconds, and refetching on an
    /// unknown key id at most every `min_refresh` seconds.
    pub fn new(fetcher: Arc<dyn Fetcher>, ttl: i64, min_refresh: i64) -> Self {
        KeyResolver {
            fetcher,
            cache: Cache::default(),
            ttl,
            min_refresh,
        }
    }

    /// The keys of a trusted issuer (fetched at most once per `ttl`).
    pub async fn keys(&self, issuer: &TrustedIssuer, now: i64) -> Result<Arc<KeySet>, String> {
        if let Some(jwks) = &issuer.jwks {
            return jwk_set(&issuer.id, jwks, None).map(Arc::new);
        }
        let expires = now + self.ttl;
        // Everything the load needs is copied only on a cache miss.
        self.cache
            .get(&issuer.id, now, || {
                let url = issuer.key_document_url();
                let fetcher = self.fetcher.clone();
                let entry = issuer.clone();
                Box::pin(async move {
                    let url = url.ok_or("no key document URL")?;
                    let got = fetcher.get(url.clone()).await.map_err(|e| e.to_string())?;
                    if got.status != 200 {
                        return Err(format!("{url} answered {}", got.status));
                    }
                    let doc: Value =
                        serde_json::from_slice(&got.body).map_err(|e| format!("{url}: {e}"))?;
                    let set = if entry.id.starts_with("did:") {
                        did_document(&entry.id, &doc)?
                    } else {
                        if doc.get("issuer").and_then(Value::as_str) != Some(entry.id.as_str()) {
                            return Err("jwt-vc-issuer metadata names another issuer".into());
                        }
                        let jwks = doc.get("jwks").ok_or("metadata has no inline jwks")?;
                        jwk_set(&entry.id, jwks, None)?
                    };
                    Ok((Arc::new(set), expires))
                })
            })
            .await
    }

    /// After a key id was not found: forgets the issuer's cached keys so the next lookup fetches
    /// them again, unless they were fetched less than `min_refresh` seconds ago (so unknown kids
    /// sent by an attacker cannot make us hammer the issuer). Returns whether a refetch will happen.
    pub fn refresh(&self, issuer: &TrustedIssuer, now: i64) -> bool {
        issuer.jwks.is_none()
            && self
                .cache
                .forget_if_expiring_before(&issuer.id, now + self.ttl - self.min_refresh)
    }

    /// Forgets cached keys (after an issuer rotated keys, for instance).
    pub fn clear(&self) {
        self.cache.clear();
    }
}
