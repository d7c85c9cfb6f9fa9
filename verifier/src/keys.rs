//! Issuer keys, fetched only for issuers on the trust list and cached with expiry: from SD-JWT VC
//! issuer metadata (`/.well-known/jwt-vc-issuer`) for https issuers, or from the DID document of a
//! did:web issuer.

use std::collections::HashMap;
use std::sync::Arc;

use civic_credential::crypto::VerifyingKey;
use civic_credential::did_web;
use civic_credential::jwk::Jwk;
use civic_credential::sd_jwt_vc::issuer_metadata::{IssuerMetadata, JwkSet};
use civic_credential::sd_jwt_vc::IssuerKeys;
use civic_credential::x509::Certificate;

use crate::cache::Cache;
use crate::fetch::{check_url, Fetcher};
use crate::trust::TrustedIssuer;

/// One issuer's keys by absolute key id.
#[derive(Default)]
pub struct KeySet {
    issuer: String,
    keys: HashMap<String, VerifyingKey>,
    /// For an issuer trusted by certificate: its anchors (and no keys).
    anchors: Option<Vec<Certificate>>,
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

    fn certificate_anchors(&self, iss: &str) -> Option<&[Certificate]> {
        (iss == self.issuer)
            .then_some(self.anchors.as_deref())
            .flatten()
    }
}

/// Finds and caches issuer keys.
pub struct KeyResolver {
    fetcher: Arc<dyn Fetcher>,
    cache: Cache<KeySet>,
    ttl: i64,
    min_refresh: i64,
    allow_loopback_http: bool,
}

/// The key set of `issuer` from published JWKs (each already named by its absolute kid).
fn key_set(issuer: &str, keys: &[Jwk]) -> Result<KeySet, String> {
    let mut set = KeySet {
        issuer: issuer.to_owned(),
        keys: HashMap::new(),
        anchors: None,
    };
    for jwk in keys {
        let Some(kid) = jwk.kid.clone() else { continue };
        let key = VerifyingKey::from_jwk(jwk).map_err(|e| format!("key {kid}: {e}"))?;
        set.keys.insert(kid, key);
    }
    if set.keys.is_empty() {
        return Err("no usable keys (each needs a kid)".into());
    }
    Ok(set)
}

/// The keys of a trusted issuer from its fetched key document: SD-JWT VC issuer metadata for an
/// https issuer, the DID document's assertion keys for a did:web issuer (read with ssi,
/// [`crate::did`]).
fn from_document(issuer: &str, body: &[u8]) -> Result<KeySet, String> {
    if issuer.starts_with(did_web::PREFIX) {
        key_set(issuer, &crate::did::read_fetched(issuer, body)?)
    } else {
        let meta = IssuerMetadata::parse(body, issuer).map_err(|e| e.to_string())?;
        key_set(issuer, &meta.jwks.keys)
    }
}

impl KeyResolver {
    /// A resolver fetching with `fetcher` (https only, [`check_url`]), keeping keys `ttl`
    /// seconds, and refetching on an unknown key id at most every `min_refresh` seconds.
    pub fn new(
        fetcher: Arc<dyn Fetcher>,
        ttl: i64,
        min_refresh: i64,
        allow_loopback_http: bool,
    ) -> Self {
        KeyResolver {
            fetcher,
            cache: Cache::default(),
            ttl,
            min_refresh,
            allow_loopback_http,
        }
    }

    /// The keys of a trusted issuer (fetched at most once per `ttl`).
    pub async fn keys(&self, issuer: &TrustedIssuer, now: i64) -> Result<Arc<KeySet>, String> {
        if !issuer.trust_anchors.is_empty() {
            // Trusted by certificate: the keys travel in `x5c`; nothing is fetched.
            let entry = issuer.clone();
            return self
                .cache
                .get(&issuer.id, now, || {
                    Box::pin(async move {
                        let set = KeySet {
                            issuer: entry.id.clone(),
                            keys: HashMap::new(),
                            anchors: Some(entry.anchors()?),
                        };
                        Ok((Arc::new(set), i64::MAX))
                    })
                })
                .await;
        }
        if let Some(jwks) = &issuer.jwks {
            let set = JwkSet::parse_published(jwks).map_err(|e| e.to_string())?;
            return key_set(&issuer.id, &set.keys).map(Arc::new);
        }
        if crate::did::resolves_offline(&issuer.id) {
            // Nothing to fetch: the keys are in the identifier.
            let keys = crate::did::resolve_offline(&issuer.id).await?;
            return key_set(&issuer.id, &keys).map(Arc::new);
        }
        let expires = now + self.ttl;
        // Everything the load needs is copied only on a cache miss.
        self.cache
            .get(&issuer.id, now, || {
                let url = issuer.key_document_url();
                let fetcher = self.fetcher.clone();
                let entry = issuer.clone();
                let allow_loopback_http = self.allow_loopback_http;
                Box::pin(async move {
                    let url = url?;
                    check_url(&url, allow_loopback_http).map_err(|e| e.to_string())?;
                    let got = fetcher.get(url.clone()).await.map_err(|e| e.to_string())?;
                    if got.status != 200 {
                        return Err(format!("{url} answered {}", got.status));
                    }
                    let set =
                        from_document(&entry.id, &got.body).map_err(|e| format!("{url}: {e}"))?;
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
            && issuer.trust_anchors.is_empty()
            && self
                .cache
                .forget_if_expiring_before(&issuer.id, now + self.ttl - self.min_refresh)
    }

    /// Forgets cached keys (after an issuer rotated keys, for instance).
    pub fn clear(&self) {
        self.cache.clear();
    }
}
