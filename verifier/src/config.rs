//! The configuration file of a verifier deployment (`config.toml`): the REST service and the
//! platforms that run the library in-process read the same format.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// A platform allowed to use the verifier: who it is, how it authenticates to the REST service,
/// where its results go, and its eligibility policies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Its identifier (a URL); pseudonyms are computed for it by the issuer.
    pub id: String,
    /// Its name.
    pub name: String,
    /// SHA-256 (hex) of its API key (`civic-verifier new-api-key` makes both).
    pub api_key_sha256: String,
    /// Where results are posted, signed with `webhook_secret`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key for webhooks.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// Pages the same-device flow may return to (exact match).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Whether this platform's sessions ask wallets for encrypted answers (`direct_post.jwt`, as
    /// HAIP 1.0 does). Unset, the deployment-wide `encrypt_responses` decides (on by default);
    /// `false` lets a platform whose residents' wallets cannot encrypt receive plain answers.
    #[serde(default)]
    pub encrypt_responses: Option<bool>,
    /// Put this platform's unsigned (`redirect_uri:`) requests in the link itself, by value,
    /// instead of behind a `request_uri` (OpenID4VP §5; some wallets read only that form for
    /// unsigned requests). Signed requests always go by reference.
    #[serde(default)]
    pub requests_by_value: bool,
    /// The platform's eligibility policies, by name.
    #[serde(default, rename = "policy")]
    pub policies: Vec<Policy>,
}

fn default_db_connections() -> u32 {
    16
}

/// `civic-verifier serve --config FILE`, or a platform's own configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierConfig {
    /// Where to listen.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The public base URL (request and response URIs are built from it).
    pub public_url: String,
    /// The session database directory (sled); needed when `database` is not set.
    #[serde(default)]
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host:5432/db`, with `?sslmode=require` for verified
    /// TLS): sessions are kept there, so several instances of the service can share them. When
    /// absent, sessions are kept in `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Connections each instance keeps to `database` at most.
    #[serde(default = "default_db_connections")]
    pub database_max_connections: u32,
    /// With `sslmode=require`: the CA certificates (PEM) the database server's certificate must
    /// lead to, instead of the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_ca_file: Option<PathBuf>,
    /// The trust list file.
    pub trust_list: PathBuf,
    /// How long a session waits for the wallet.
    #[serde(default = "default_ttl")]
    pub session_ttl_secs: i64,
    /// Allowed clock difference.
    #[serde(default = "default_skew")]
    pub clock_skew_secs: i64,
    /// How old a KB-JWT may be.
    #[serde(default = "default_kb_age")]
    pub kb_max_age_secs: i64,
    /// Accept credentials whose status list cannot be fetched (default: refuse).
    #[serde(default)]
    pub status_fail_open: bool,
    /// Development only: fetch issuer keys and status lists over plain http from this machine
    /// (an issuer on `http://localhost`). Off, trust material comes over https only, and never
    /// from an address inside a private network.
    #[serde(default)]
    pub allow_loopback_http: bool,
    /// After an unknown key id (an issuer rotated keys), refetch its keys if older than this.
    #[serde(default = "default_refresh")]
    pub key_refresh_secs: i64,
    /// The link base for same-device requests (`openid4vp://` by default, or a web wallet's
    /// `…/present`).
    #[serde(default = "default_wallet")]
    pub wallet_link_base: String,
    /// A private JWK file: when set, request objects are signed and the client id is this
    /// service's did:web (published at `/.well-known/did.json`).
    #[serde(default)]
    pub request_signing_key: Option<PathBuf>,
    /// The verifier's certificate (HAIP 1.0): when set, every platform whose id is not a DID
    /// asks under `x509_hash:` (or `x509_san_dns:`) with request objects signed by the
    /// certificate's key, the chain in `x5c` ([`crate::certificate`]).
    #[serde(default)]
    pub request_certificate: Option<CertificateFiles>,
    /// Ask wallets for encrypted answers (`direct_post.jwt`, as HAIP 1.0 does): each request
    /// carries a fresh ephemeral key, and a plain answer is refused. On by default; a platform's
    /// own `encrypt_responses` overrides it.
    #[serde(default = "default_encrypt")]
    pub encrypt_responses: bool,
    /// Put every platform's unsigned (`redirect_uri:`) requests in the link by value (see
    /// [`Platform::requests_by_value`]).
    #[serde(default)]
    pub requests_by_value: bool,
    /// Largest request body.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
    /// Session writes are refused (503 "storage full") while the data directory's file system
    /// has less free space than this (or than an eighth of its size, if that is less); 0 turns
    /// the check off.
    #[serde(default = "default_reserve")]
    pub storage_reserve_mib: u32,
    /// How long a database flush may take before requests get 503 "storage not responding".
    #[serde(default = "default_stall")]
    pub storage_stall_secs: u32,
    /// Engagement analytics (`[analytics]`: `k`, `epsilon`, …; on by default, k = 10, exact
    /// figures): [`crate::analytics`].
    #[serde(default)]
    pub analytics: crate::analytics::AnalyticsSettings,
    /// The platforms.
    #[serde(default, rename = "platform")]
    pub platforms: Vec<Platform>,
}

/// `[request_certificate]`: the files of the verifier's certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// PEM certificates, leaf first, without the trust anchor (`civic-verifier dev-ca` writes
    /// `verifier-chain.pem`).
    pub chain: PathBuf,
    /// The leaf's PKCS#8 PEM private key (P-256).
    pub key: PathBuf,
    /// `x509_hash` (the default, HAIP 1.0) or `x509_san_dns`.
    #[serde(default)]
    pub client_id_prefix: crate::certificate::X509Prefix,
}

fn default_listen() -> String {
    "127.0.0.1:8090".into()
}
fn default_encrypt() -> bool {
    true
}
fn default_ttl() -> i64 {
    600
}
fn default_skew() -> i64 {
    60
}
fn default_kb_age() -> i64 {
    300
}
fn default_refresh() -> i64 {
    60
}
fn default_wallet() -> String {
    civic_credential::oid4vp::OPENID4VP_SCHEME.into()
}
fn default_body() -> usize {
    2 << 20
}
fn default_reserve() -> u32 {
    64
}
fn default_stall() -> u32 {
    10
}

/// Why a configuration file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid for this configuration.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl VerifierConfig {
    /// How the session database guards against a full or stalled disk.
    #[cfg(feature = "sled-store")]
    pub fn storage_options(&self) -> civic_storage::Options {
        civic_storage::Options::from_settings(self.storage_reserve_mib, self.storage_stall_secs)
    }

    /// Reads the file; relative paths in it are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut c: VerifierConfig = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if c.database.is_none() && c.data_dir.as_os_str().is_empty() {
            return Err(invalid(
                "data_dir is needed unless sessions are kept in a database".into(),
            ));
        }
        if let Some(ca) = &mut c.database_ca_file {
            if ca.is_relative() {
                *ca = base.join(&*ca);
            }
        }
        for p in [&mut c.data_dir, &mut c.trust_list] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(k) = &mut c.request_signing_key {
            if k.is_relative() {
                *k = base.join(&*k);
            }
        }
        if let Some(files) = &mut c.request_certificate {
            for p in [&mut files.chain, &mut files.key] {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        c.public_url = c.public_url.trim_end_matches('/').to_owned();
        c.check().map_err(invalid)?;
        Ok(c)
    }

    /// Checks what the file's syntax cannot: API key hashes, non-empty policies, webhook
    /// settings, distinct platform ids, and that each platform's id is one this service can
    /// speak as ([`crate::identity::check_platform`]). [`VerifierConfig::open_flow`] checks
    /// again, after a caller changed fields.
    pub fn check(&self) -> Result<(), String> {
        let c = self;
        c.analytics.check()?;
        for (i, p) in c.platforms.iter().enumerate() {
            if c.platforms.iter().skip(i + 1).any(|q| q.id == p.id) {
                return Err(format!("platform {}: two platforms have this id", p.id));
            }
            crate::identity::check_platform(p, &c.public_url, c.request_signing_key.is_some())?;
        }
        for p in &c.platforms {
            if p.api_key_sha256.len() != 64
                || !p.api_key_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(format!(
                    "platform {}: api_key_sha256 must be 64 hex digits",
                    p.id
                ));
            }
            if let Some(empty) = p.policies.iter().find(|policy| policy.rules.is_empty()) {
                return Err(format!(
                    "platform {}: policy {:?} has no rules (it would accept anyone)",
                    p.id, empty.name
                ));
            }
            if p.webhook_url.is_some() != p.webhook_secret.is_some() {
                return Err(format!(
                    "platform {}: webhook_url and webhook_secret go together",
                    p.id
                ));
            }
        }
        Ok(())
    }
}

impl VerifierConfig {
    /// The analytics this configuration asks for, kept in `store` (`None` when turned off).
    pub fn open_analytics(
        &self,
        store: std::sync::Arc<dyn crate::analytics::AnalyticsStore>,
    ) -> Option<crate::analytics::Analytics> {
        self.analytics
            .enabled
            .then(|| crate::analytics::Analytics::new(store, self.analytics.clone()))
    }

    /// How verification is tuned.
    pub fn verifier_options(&self) -> crate::verify::VerifierOptions {
        crate::verify::VerifierOptions {
            clock_skew: self.clock_skew_secs,
            kb_max_age: self.kb_max_age_secs,
            status_fail_open: self.status_fail_open,
            key_refresh_secs: self.key_refresh_secs,
            allow_loopback_http: self.allow_loopback_http,
        }
    }

    /// Builds the flow this configuration describes: reads the trust list and (if configured)
    /// the request signing key, and verifies with `fetcher`, keeping sessions in `store`.
    pub fn open_flow(
        &self,
        fetcher: std::sync::Arc<dyn crate::fetch::Fetcher>,
        store: std::sync::Arc<dyn crate::store::SessionStore>,
        clock: civic_service::SharedClock,
    ) -> Result<crate::flow::Flow, ConfigError> {
        use crate::flow::{Flow, FlowSettings, RequestSigner};
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let invalid = |path: &Path, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        self.check().map_err(|message| ConfigError::Invalid {
            path: PathBuf::from("(configuration)"),
            message,
        })?;
        let trust = crate::trust::TrustList::parse(&read(&self.trust_list)?)
            .map_err(|e| invalid(&self.trust_list, e.to_string()))?;
        let fetched = |i: &&crate::trust::TrustedIssuer| {
            i.jwks.is_none() && !crate::did::resolves_offline(&i.id)
        };
        for issuer in trust.issuers.iter().filter(fetched) {
            let url = issuer
                .key_document_url()
                .map_err(|e| invalid(&self.trust_list, e))?;
            crate::fetch::check_url(&url, self.allow_loopback_http).map_err(|e| {
                invalid(
                    &self.trust_list,
                    format!("issuer {}: {}", issuer.id, e.reason),
                )
            })?;
        }
        let verifier = crate::verify::Verifier::new(trust, fetcher, self.verifier_options());
        let settings = FlowSettings {
            public_url: self.public_url.clone(),
            wallet_link_base: self.wallet_link_base.clone(),
            session_ttl_secs: self.session_ttl_secs,
        };
        let mut flow = Flow::new(verifier, store, clock, settings, self.platforms.clone())
            .with_encrypted_responses(self.encrypt_responses)
            .with_requests_by_value(self.requests_by_value);
        if let Some(path) = &self.request_signing_key {
            let jwk: civic_credential::jwk::Jwk =
                serde_json::from_str(&read(path)?).map_err(|e| invalid(path, e.to_string()))?;
            let key = civic_credential::crypto::SigningKey::from_jwk(&jwk)
                .map_err(|e| invalid(path, e.to_string()))?;
            let did = civic_credential::did_web::did_for_url(&self.public_url)
                .map_err(|e| invalid(path, format!("public_url: {e}")))?;
            flow = flow.with_signer(RequestSigner::new(key, did));
        }
        if let Some(files) = &self.request_certificate {
            let certificate = crate::certificate::RequestCertificate::from_pem(
                &read(&files.chain)?,
                &read(&files.key)?,
                files.client_id_prefix,
                &self.public_url,
            )
            .map_err(|e| invalid(&files.chain, e))?;
            flow = flow.with_certificate(certificate);
        }
        Ok(flow)
    }
}
