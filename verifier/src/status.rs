//! Status checks: the status list token a credential points to is fetched, its signature checked
//! with the issuer's keys (or its `x5c` chain, for an issuer trusted by certificate), and cached per its `ttl`; concurrent lookups share one fetch.

use std::sync::Arc;

use civic_credential::jws::Jws;
use civic_credential::sd_jwt_vc::issuer_key;
use civic_credential::status_list::{Status, StatusList, StatusListToken};

use crate::cache::Cache;
use crate::fetch::{check_url, Fetcher};
use crate::keys::KeySet;
use crate::trust::TrustedIssuer;

/// Used when a token has no `ttl`.
const DEFAULT_TTL: i64 = 300;
/// The longest a token is trusted, whatever its `ttl` says.
const MAX_TTL: i64 = 86_400;

/// Fetches, verifies and caches status lists.
pub struct StatusLists {
    fetcher: Arc<dyn Fetcher>,
    cache: Cache<StatusList>,
    clock_skew: i64,
    allow_loopback_http: bool,
}

impl StatusLists {
    /// Status lists fetched with `fetcher` (https only, [`check_url`]).
    pub fn new(fetcher: Arc<dyn Fetcher>, clock_skew: i64, allow_loopback_http: bool) -> Self {
        StatusLists {
            fetcher,
            cache: Cache::default(),
            clock_skew,
            allow_loopback_http,
        }
    }

    /// The status at `idx` of the list at `uri`, signed by `trusted` with one of `keys`. The
    /// list must be on the issuer's own origin or one its trust list entry names
    /// ([`TrustedIssuer::may_host_status_list`]): a credential does not choose where the
    /// verifier connects.
    pub async fn status(
        &self,
        trusted: &TrustedIssuer,
        keys: Arc<KeySet>,
        uri: &str,
        idx: u64,
        now: i64,
    ) -> Result<Status, String> {
        if !trusted.may_host_status_list(uri) {
            return Err(format!(
                "status list {uri} is not on {}'s origin or one its trust list entry names",
                trusted.id
            ));
        }
        check_url(uri, self.allow_loopback_http).map_err(|e| e.to_string())?;
        let issuer = trusted.id.as_str();
        let skew = self.clock_skew;
        // Everything the load needs is copied only on a cache miss.
        let list = self
            .cache
            .get(&format!("{issuer} {uri}"), now, || {
                let fetcher = self.fetcher.clone();
                let (url, iss) = (uri.to_owned(), issuer.to_owned());
                Box::pin(async move {
                    let got = fetcher.get(url.clone()).await.map_err(|e| e.to_string())?;
                    if got.status != 200 {
                        return Err(format!("{url} answered {}", got.status));
                    }
                    let token = String::from_utf8(got.body)
                        .map_err(|_| "status list token is not UTF-8".to_owned())?;
                    let token = token.trim();
                    let jws = Jws::parse(token).map_err(|e| e.to_string())?;
                    let key = issuer_key(&jws, &iss, keys.as_ref(), now)
                        .map_err(|e| format!("status list token: {e}"))?;
                    let parsed = StatusListToken::verify(token, key.key(), &url, now, skew)
                        .map_err(|e| e.to_string())?;
                    let ttl = parsed.ttl.map_or(DEFAULT_TTL, |t| (t as i64).min(MAX_TTL));
                    let expires = parsed.exp.map_or(now + ttl, |e| e.min(now + ttl));
                    Ok((Arc::new(parsed.list), expires))
                })
            })
            .await?;
        list.get(idx).map_err(|e| e.to_string())
    }
}
