//! Fetching trust material. The verifier only ever fetches metadata, DID documents and status
//! lists of issuers on its trust list; how bytes travel is behind [`Fetcher`], so the core runs on
//! wasm32 too and tests can serve fixtures.
//!
//! Where it may fetch from is [`check_url`]: https only (plain http to this machine only with
//! the development setting `allow_loopback_http`), and never an address inside a private
//! network, by name ([`HttpFetcher`] resolves names itself and drops such addresses) or by
//! number.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use civic_credential::origin::Origin;

/// A boxed future (`Send` natively, so it can run on a multi-threaded runtime).
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future (`Send` natively, so it can run on a multi-threaded runtime).
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// `Send + Sync` natively; nothing on wasm32, where JS handles are single-threaded.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync> MaybeSendSync for T {}
/// `Send + Sync` natively; nothing on wasm32, where JS handles are single-threaded.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T> MaybeSendSync for T {}

/// A fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fetching {url} failed: {reason}")]
pub struct FetchError {
    /// What was fetched.
    pub url: String,
    /// Why it failed.
    pub reason: String,
}

/// Whether the verifier may fetch `url`: an https URL (or, when `allow_loopback_http`, http to a
/// loopback host) whose host is not an IP address inside a private, link-local or other
/// non-public range (a loopback address only when `allow_loopback_http`).
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<(), FetchError> {
    let refuse = |reason: &str| FetchError {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let origin = Origin::of(url).map_err(|e| refuse(&e.to_string()))?;
    if !origin.is_trustworthy(allow_loopback_http) {
        return Err(refuse(
            "trust material is fetched over https only (http to this machine needs \
             allow_loopback_http, a development setting)",
        ));
    }
    let host = origin.host().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        if !address_allowed(ip, allow_loopback_http) {
            return Err(refuse("the address is not a public one"));
        }
    }
    Ok(())
}

/// Whether the verifier may connect to `ip`: a public unicast address, or a loopback one with
/// `allow_loopback`. Private (RFC 1918, unique local), link-local (cloud metadata services live
/// there), shared (CGNAT), unspecified, multicast, broadcast and documentation ranges are not.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                return allow_loopback;
            }
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return address_allowed(IpAddr::V4(v4), allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments().get(1) == Some(&0x0db8))
        }
    }
}

/// Largest document the verifier accepts (status lists of millions of entries fit).
pub const MAX_DOCUMENT_BYTES: usize = 4 << 20;

/// Gets documents by URL.
pub trait Fetcher: MaybeSendSync {
    /// GETs `url`.
    fn get(&self, url: String) -> BoxFuture<'_, Result<Fetched, FetchError>>;
}

/// Serves fixed documents, for tests and offline use; any other URL fails.
#[derive(Debug, Default, Clone)]
pub struct StaticFetcher {
    docs: HashMap<String, Vec<u8>>,
}

impl StaticFetcher {
    /// An empty fetcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `body` at `url`.
    pub fn insert(&mut self, url: impl Into<String>, body: impl Into<Vec<u8>>) {
        self.docs.insert(url.into(), body.into());
    }
}

impl Fetcher for StaticFetcher {
    fn get(&self, url: String) -> BoxFuture<'_, Result<Fetched, FetchError>> {
        let found = self.docs.get(&url).cloned();
        Box::pin(async move {
            found
                .map(|body| Fetched { status: 200, body })
                .ok_or(FetchError {
                    url,
                    reason: "not found".into(),
                })
        })
    }
}

/// Fetches over HTTP(S) with reqwest: no redirects, a timeout, a size limit, and names
/// resolved by [`PublicOnly`], so a name that points into a private network is not reached.
#[cfg(feature = "http")]
pub struct HttpFetcher {
    client: reqwest::Client,
    allow_loopback_http: bool,
}

#[cfg(feature = "http")]
impl HttpFetcher {
    /// A fetcher with a 10 s timeout; `allow_loopback_http` (development) also reaches this
    /// machine over plain http.
    pub fn new(allow_loopback_http: bool) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .dns_resolver(std::sync::Arc::new(PublicOnly {
                allow_loopback: allow_loopback_http,
            }))
            .build()
            .map_err(|e| FetchError {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(HttpFetcher {
            client,
            allow_loopback_http,
        })
    }
}

/// A DNS resolver that keeps only the addresses [`address_allowed`] allows: a trusted issuer's
/// name that someone points at `10.0.0.5` or `169.254.169.254` is not fetched.
#[cfg(feature = "http")]
pub struct PublicOnly {
    allow_loopback: bool,
}

#[cfg(feature = "http")]
impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> = all
                .into_iter()
                .filter(|a| address_allowed(a.ip(), allow_loopback))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(feature = "http")]
impl Fetcher for HttpFetcher {
    fn get(&self, url: String) -> BoxFuture<'_, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let fail = |reason: String| FetchError {
                url: url.clone(),
                reason,
            };
            check_url(&url, self.allow_loopback_http)?;
            let resp = self
                .client
                .get(&url)
                .send()
                .await
                .map_err(|e| fail(error_chain(&e)))?;
            let status = resp.status().as_u16();
            if resp
                .content_length()
                .is_some_and(|n| n as usize > MAX_DOCUMENT_BYTES)
            {
                return Err(fail("document too large".into()));
            }
            let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(fail("document too large".into()));
            }
            Ok(Fetched {
                status,
                body: body.to_vec(),
            })
        })
    }
}

/// An error with its causes, for logs (reqwest's own message hides the resolver's reason).
#[cfg(feature = "http")]
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_public_addresses_are_fetched() {
        for ok in [
            "https://id.example/.well-known/jwt-vc-issuer",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/x",
        ] {
            assert_eq!(check_url(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "http://id.example/x",
            "http://localhost:8080/x",
            "https://10.0.0.5/x",
            "https://169.254.169.254/latest/meta-data",
            "https://192.168.1.1/x",
            "https://172.16.0.1/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://[fe80::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "ftp://id.example/x",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        // The development setting opens this machine, over http too, and nothing else.
        assert_eq!(check_url("http://localhost:8080/x", true), Ok(()));
        assert_eq!(check_url("http://127.0.0.1:8080/x", true), Ok(()));
        assert!(check_url("http://10.0.0.5/x", true).is_err());
        assert!(check_url("http://id.example/x", true).is_err());
        assert!(check_url("http://localhost.evil.example/x", true).is_err());
    }
}
