//! Fetching trust material. The verifier only ever fetches metadata, DID documents and status
//! lists of issuers on its trust list; how bytes travel is behind [`Fetcher`], so the core runs on
//! wasm32 too and tests can serve fixtures.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

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

/// Fetches over HTTP(S) with reqwest: no redirects, a timeout, and a size limit.
#[cfg(feature = "http")]
pub struct HttpFetcher {
    client: reqwest::Client,
}

#[cfg(feature = "http")]
impl HttpFetcher {
    /// A fetcher with a 10 s timeout.
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| FetchError {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(HttpFetcher { client })
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
            let resp = self
                .client
                .get(&url)
                .send()
                .await
                .map_err(|e| fail(e.to_string()))?;
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
