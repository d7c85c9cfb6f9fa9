//! The issuer's configuration file (`config.toml` in the data directory).

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Settings an agency may change. Defaults suit a production deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The public base URL; also the credential issuer identifier and the credentials' `iss`.
    pub public_url: String,
    /// The agency's name, shown to residents and wallets.
    #[serde(default = "default_agency")]
    pub agency_name: String,
    /// The WebAuthn relying party id (the public URL's host by default).
    pub rp_id: String,
    /// Ask for a 6-digit transaction code with each offer (on by default: an offer seen over a
    /// shoulder, or a link another app grabbed, is useless without the code shown beside it).
    #[serde(default = "yes")]
    pub tx_code: bool,
    /// Credential signing algorithm: `ES256` or `EdDSA`.
    #[serde(default = "default_alg")]
    pub credential_alg: String,
    /// How long a credential is valid (capped by the residency's valid-until date).
    #[serde(default = "d90")]
    pub credential_validity_days: u32,
    /// The most proofs one credential request may carry.
    #[serde(default = "d10")]
    pub batch_size: u32,
    /// Lifetime of a pre-authorized code and its offer.
    #[serde(default = "d300")]
    pub offer_ttl_secs: u32,
    /// Lifetime of an access token.
    #[serde(default = "d300")]
    pub access_token_ttl_secs: u32,
    /// Also hand out plain Bearer access tokens to wallets that send no DPoP proof (RFC 9449),
    /// for older wallets. Off, as HAIP 1.0 asks: every token is bound to the wallet's key, and a
    /// token request without a proof is refused with `invalid_dpop_proof`.
    #[serde(default)]
    pub allow_bearer_tokens: bool,
    /// How long a `DPoP-Nonce` this issuer hands out stays acceptable.
    #[serde(default = "d300")]
    pub dpop_nonce_ttl_secs: u32,
    /// Lifetime of a `c_nonce`.
    #[serde(default = "d300")]
    pub nonce_ttl_secs: u32,
    /// How old a proof JWT may be.
    #[serde(default = "d300")]
    pub proof_max_age_secs: u32,
    /// Allowed clock difference with wallets.
    #[serde(default = "d60")]
    pub clock_skew_secs: u32,
    /// Lifetime of a resident's session.
    #[serde(default = "d1800")]
    pub session_ttl_secs: u32,
    /// Lifetime of a WebAuthn ceremony.
    #[serde(default = "d300")]
    pub ceremony_ttl_secs: u32,
    /// How long an enrollment code stays valid.
    #[serde(default = "d30")]
    pub code_validity_days: u32,
    /// Statuses per status list.
    #[serde(default = "d131072")]
    pub status_list_size: u32,
    /// The `ttl` of served status list tokens.
    #[serde(default = "d300")]
    pub status_ttl_secs: u32,
    /// Largest accepted request body.
    #[serde(default = "d65536")]
    pub max_body_bytes: u32,
    /// Enrollment and login attempts per client IP per minute.
    #[serde(default = "d30")]
    pub rate_limit_per_minute: u32,
    /// PAR and token requests per client IP per minute (a counter-service desk or a shared
    /// network sends many; a guesser of codes more).
    #[serde(default = "d600")]
    pub oauth_rate_limit_per_minute: u32,
    /// The reverse proxies in front of the issuer (addresses or networks, `["10.0.0.0/8"]`):
    /// for requests from them, the client address (for rate limits) is read from the header
    /// named by `forwarded_header`. Empty: the peer's address, headers ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// The forwarding header the trusted proxies write: `"x-forwarded-for"` (the default) or
    /// `"forwarded"`. The other header is never read: a proxy passes a client's own copy on.
    #[serde(default)]
    pub forwarded_header: civic_service::client_addr::ForwardedHeader,
    /// A web wallet's receive page for same-device links (`…/receive`), if the agency suggests one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_url: Option<String>,
    /// Writes are refused (503 "storage full") while the data directory's file system has less
    /// free space than this (or than an eighth of its size, if that is less), so the database
    /// never meets a full disk; 0 turns the check off.
    #[serde(default = "d64")]
    pub storage_reserve_mib: u32,
    /// A PostgreSQL URL (`postgres://user@host:5432/db`, with `?sslmode=require` for verified
    /// TLS): the issuer's state is kept there, so
    /// several instances can serve from it (keys and this file stay in the data directory of
    /// each). When absent, state is kept in sled in the data directory's `db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Connections each instance keeps to `database` at most.
    #[serde(default = "d16")]
    pub database_max_connections: u32,
    /// With `sslmode=require` in `database`: the CA certificates (PEM) the database server's
    /// certificate must lead to, instead of the system's (a relative path is in the data
    /// directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_ca_file: Option<std::path::PathBuf>,
    /// A register import that would remove more than this share of the residents (in percent)
    /// stops and changes nothing unless forced: a truncated export must not revoke most of the
    /// register.
    #[serde(default = "d5")]
    pub register_max_removal_percent: u32,
    /// How long a database flush may take before the service answers 503 "storage not
    /// responding" instead of queueing requests behind it.
    #[serde(default = "d10")]
    pub storage_stall_secs: u32,
    /// The trust anchors of the platform registry (PEM CA certificate files, relative to the
    /// data directory): wallets that read `/platform-registry` authenticate certificate
    /// verifiers (`x509_hash:`) whose chain leads to one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platform_trust_anchors: Vec<String>,
    /// The anchors' DER, read from `platform_trust_anchors` by [`Config::load`].
    #[serde(skip)]
    pub platform_anchor_der: Vec<Vec<u8>>,
    /// The certificate chain of the credential signing key (a PEM file relative to the data
    /// directory, leaf first, without the trust anchor; `civic-issuer dev-ca` makes one for
    /// development). Credentials and status list tokens signed with that key carry it in
    /// `x5c` (HAIP 1.0 §6.1.1), beside their `kid`. The leaf must name the public URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificate: Option<String>,
    /// The chain's DER, read from `signing_certificate` by [`Config::load`].
    #[serde(skip)]
    pub signing_chain_der: Vec<Vec<u8>>,
    /// Lifetime of a pushed authorization request and of an authorization code.
    #[serde(default = "d60")]
    pub authorization_ttl_secs: u32,
    /// How many days after the resident's authorization a wallet may still fetch fresh batches
    /// with refresh tokens, without signing in again (HAIP 1.0 §4.4 recommends refresh tokens
    /// and a limit; 0: none are handed out).
    #[serde(default = "d30")]
    pub refresh_token_days: u32,
    /// Whether wallets must authenticate with a wallet provider's attestation
    /// (`OAuth-Client-Attestation` and its PoP, HAIP 1.0 §4.4.1) at PAR and the token endpoint:
    /// `optional` (checked when sent; registered public clients may come without) or `required`.
    /// The pre-authorized code flow stays anonymous either way.
    #[serde(default)]
    pub client_attestation: AttestationPolicy,
    /// The wallet providers' trust anchors (PEM CA certificate files, relative to the data
    /// directory): an attestation's `x5c` chain must lead to one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wallet_provider_anchors: Vec<String>,
    /// The anchors' DER, read from `wallet_provider_anchors` by [`Config::load`].
    #[serde(skip)]
    pub wallet_provider_anchor_der: Vec<Vec<u8>>,
    /// For each anchor in `wallet_provider_anchor_der`, the file it came from.
    #[serde(skip)]
    pub wallet_provider_anchor_files: Vec<String>,
    /// The certificate chain of the issuer's own wallet provider (a PEM file relative to the
    /// data directory, leaf first, without the anchor): with `wallet_provider_key`, residents who
    /// sign in with their passkey get a Client Attestation for a registered wallet at
    /// `/wallet-provider` (HAIP 1.0 §4.4.1). A key of its own, apart from the credential signing
    /// key; `civic-issuer dev-ca --wallet-provider` makes one for development. Add its CA to
    /// `wallet_provider_anchors` for this issuer to accept what it vouches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_provider_certificate: Option<String>,
    /// The PKCS#8 PEM key (P-256) of the wallet provider's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_provider_key: Option<String>,
    /// How many days a wallet attestation is valid.
    #[serde(default = "d30")]
    pub wallet_attestation_days: u32,
    /// The wallet provider's chain and key, read by [`Config::load`].
    #[serde(skip)]
    pub wallet_provider_pem: Option<CertifiedKeyPem>,
    /// The wallets the authorization code flow serves (`[[wallet_client]]`).
    #[serde(
        default,
        rename = "wallet_client",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub wallet_clients: Vec<WalletClient>,
}

/// Whether client attestations are asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttestationPolicy {
    /// Checked when a wallet sends one.
    #[default]
    Optional,
    /// Every PAR and token request of the authorization code flow needs one.
    Required,
}

/// A certificate chain and its leaf's PKCS#8 key, as PEM text (checked against each other when
/// read). The key is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CertifiedKeyPem {
    /// The chain, leaf first.
    pub chain: String,
    /// The leaf's key.
    pub key: String,
}

impl std::fmt::Debug for CertifiedKeyPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifiedKeyPem")
            .field("chain", &self.chain)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// A wallet the authorization code flow serves: residents see its name, and the flow's answer
/// goes only to one of its redirect URIs (exact match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletClient {
    /// Its OAuth client identifier.
    pub client_id: String,
    /// Its name, as the resident knows it.
    pub name: String,
    /// Where authorization responses may go (https, or http on this machine).
    pub redirect_uris: Vec<String>,
    /// The wallet providers that may vouch for this wallet: files of `wallet_provider_anchors`.
    /// Empty: any trusted provider may.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wallet_providers: Vec<String>,
}

fn default_agency() -> String {
    "Municipality".into()
}
fn default_alg() -> String {
    "ES256".into()
}
const fn d5() -> u32 {
    5
}
const fn d10() -> u32 {
    10
}
const fn d30() -> u32 {
    30
}
const fn d60() -> u32 {
    60
}
const fn d64() -> u32 {
    64
}
const fn yes() -> bool {
    true
}
const fn d90() -> u32 {
    90
}
const fn d300() -> u32 {
    300
}
const fn d600() -> u32 {
    600
}
const fn d1800() -> u32 {
    1800
}
const fn d65536() -> u32 {
    65536
}
const fn d131072() -> u32 {
    131_072
}

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("config file {0}: {1}")]
    Io(String, std::io::Error),
    /// The file is not valid TOML for this configuration.
    #[error("config file {0}: {1}")]
    Parse(String, String),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

fn d16() -> u32 {
    16
}

impl Config {
    /// Opens the store this configuration names: PostgreSQL when `database` is set (its schema
    /// brought up to date), otherwise sled in `data_dir/db`. `for_service`: a sled database the
    /// disk keeps from opening still opens, answering 503 until the disk can be written.
    pub fn open_store(
        &self,
        data_dir: &std::path::Path,
        for_service: bool,
    ) -> Result<std::sync::Arc<dyn crate::store::Store>, crate::store::StorageError> {
        use crate::store::{PgStore, SledStore};
        Ok(match &self.database {
            Some(url) => std::sync::Arc::new(PgStore::open(
                url,
                &civic_storage::postgres::PgOptions {
                    max_connections: self.database_max_connections,
                    application_name: "civic-issuer".into(),
                    ca_file: self.database_ca_file.as_ref().map(|f| data_dir.join(f)),
                    ..Default::default()
                },
            )?),
            None if for_service => std::sync::Arc::new(SledStore::open_for_service(
                &data_dir.join("db"),
                self.storage_options(),
            )?),
            None => std::sync::Arc::new(SledStore::open(
                &data_dir.join("db"),
                self.storage_options(),
            )?),
        })
    }

    /// How the database guards against a full or stalled disk.
    pub fn storage_options(&self) -> civic_storage::Options {
        civic_storage::Options::from_settings(self.storage_reserve_mib, self.storage_stall_secs)
    }

    /// A configuration with defaults for `public_url`.
    pub fn new(public_url: &str) -> Result<Self, ConfigError> {
        let url = url::Url::parse(public_url)
            .map_err(|e| ConfigError::Invalid(format!("public URL: {e}")))?;
        let host = url
            .host_str()
            .ok_or_else(|| ConfigError::Invalid("public URL has no host".into()))?
            .to_owned();
        let text = format!(
            "public_url = {:?}\nrp_id = {:?}\n",
            public_url.trim_end_matches('/'),
            host
        );
        let config: Config = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse("defaults".into(), e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates `config.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join("config.toml");
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Io(name.clone(), e))?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Parse(name, e.to_string()))?;
        config.validate()?;
        config.platform_anchor_der = read_anchors(
            dir,
            &config.platform_trust_anchors,
            "platform_trust_anchors",
        )?;
        for file in config.wallet_provider_anchors.clone() {
            let anchors =
                read_anchors(dir, std::slice::from_ref(&file), "wallet_provider_anchors")?;
            config
                .wallet_provider_anchor_files
                .extend(std::iter::repeat_n(file, anchors.len()));
            config.wallet_provider_anchor_der.extend(anchors);
        }
        if config.client_attestation == AttestationPolicy::Required
            && config.wallet_provider_anchor_der.is_empty()
        {
            return Err(ConfigError::Invalid(
                "client_attestation = \"required\" needs wallet_provider_anchors".into(),
            ));
        }
        config.signing_chain_der = config.read_signing_chain(dir)?;
        config.wallet_provider_pem = config.read_wallet_provider(dir)?;
        Ok(config)
    }

    /// Reads the `signing_certificate` chain and checks that its leaf names the public host
    /// (verifiers match it against `iss`).
    fn read_signing_chain(&self, dir: &Path) -> Result<Vec<Vec<u8>>, ConfigError> {
        let Some(file) = &self.signing_certificate else {
            return Ok(Vec::new());
        };
        let path = dir.join(file);
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Io(name.clone(), e))?;
        let (chain, leaf) = civic_service::certificate::chain_from_pem(&text)
            .map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
        let host = self.host()?;
        if !leaf.names_host(&host) {
            return Err(ConfigError::Invalid(format!(
                "{name}: the certificate does not name {host} (the public URL's host), so \
                 verifiers would refuse what it signs; it names {:?}",
                leaf.names()
            )));
        }
        Ok(chain)
    }

    /// Reads the wallet provider's chain and key, when both are configured, and checks that the
    /// key is the leaf's.
    fn read_wallet_provider(&self, dir: &Path) -> Result<Option<CertifiedKeyPem>, ConfigError> {
        let (chain, key) = match (&self.wallet_provider_certificate, &self.wallet_provider_key) {
            (None, None) => return Ok(None),
            (Some(chain), Some(key)) => (chain, key),
            _ => {
                return Err(ConfigError::Invalid(
                    "wallet_provider_certificate and wallet_provider_key go together".into(),
                ))
            }
        };
        let read = |file: &String| {
            let path = dir.join(file);
            std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::Io(path.display().to_string(), e))
        };
        let pem = CertifiedKeyPem {
            chain: read(chain)?,
            key: read(key)?,
        };
        civic_service::certificate::certified_key(&pem.chain, &pem.key)
            .map_err(|e| ConfigError::Invalid(format!("wallet provider: {e}")))?;
        Ok(Some(pem))
    }

    /// The algorithm credentials are signed with (`credential_alg`).
    pub fn credential_algorithm(&self) -> civic_credential::crypto::Algorithm {
        match self.credential_alg.as_str() {
            "EdDSA" => civic_credential::crypto::Algorithm::EdDsa,
            _ => civic_credential::crypto::Algorithm::Es256,
        }
    }

    /// The public URL's host.
    pub fn host(&self) -> Result<String, ConfigError> {
        url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| ConfigError::Invalid("public URL has no host".into()))
    }

    /// Writes `config.toml` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let path = dir.join("config.toml");
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        // Owner only: `database` may carry the database's password.
        crate::fsutil::write_atomic(&path, text.as_bytes(), true)
            .map_err(|e| ConfigError::Io(path.display().to_string(), e))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = url::Url::parse(&self.public_url)
            .map_err(|e| ConfigError::Invalid(format!("public_url: {e}")))?;
        if !matches!(url.scheme(), "https" | "http")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ConfigError::Invalid(
                "public_url must be an http(s) URL without query".into(),
            ));
        }
        if !matches!(self.credential_alg.as_str(), "ES256" | "EdDSA") {
            return Err(ConfigError::Invalid(
                "credential_alg must be ES256 or EdDSA".into(),
            ));
        }
        if self.register_max_removal_percent > 100 {
            return Err(ConfigError::Invalid(
                "register_max_removal_percent must be 0..=100".into(),
            ));
        }
        civic_service::client_addr::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.batch_size == 0 || self.batch_size > 100 {
            return Err(ConfigError::Invalid("batch_size must be 1..=100".into()));
        }
        if !(1024..=1 << 24).contains(&self.status_list_size) {
            return Err(ConfigError::Invalid(
                "status_list_size must be 1024..=16777216".into(),
            ));
        }
        if !(1..=365).contains(&self.wallet_attestation_days) {
            return Err(ConfigError::Invalid(
                "wallet_attestation_days must be 1..=365".into(),
            ));
        }
        for client in &self.wallet_clients {
            let trustworthy = |uri: &String| {
                !uri.contains('#')
                    && civic_credential::origin::Origin::of(uri)
                        .is_ok_and(|o| o.is_trustworthy(true))
            };
            if client.client_id.is_empty() || client.redirect_uris.is_empty() {
                return Err(ConfigError::Invalid(
                    "a wallet_client needs a client_id and redirect_uris".into(),
                ));
            }
            if let Some(bad) = client
                .wallet_providers
                .iter()
                .find(|p| !self.wallet_provider_anchors.contains(p))
            {
                return Err(ConfigError::Invalid(format!(
                    "wallet_client {}: wallet provider {bad} is not one of wallet_provider_anchors",
                    client.client_id
                )));
            }
            if let Some(bad) = client.redirect_uris.iter().find(|u| !trustworthy(u)) {
                return Err(ConfigError::Invalid(format!(
                    "wallet_client {}: redirect URI {bad} must be https (or http on this machine) without a fragment",
                    client.client_id
                )));
            }
        }
        Ok(())
    }

    /// The registered wallet `client_id`, if there is one.
    pub fn wallet_client(&self, client_id: &str) -> Option<&WalletClient> {
        self.wallet_clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    /// Whether cookies must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The origin (scheme, host, port) of the public URL, which WebAuthn and CSRF checks expect.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// The residency credential's `vct`.
    pub fn vct(&self) -> String {
        format!(
            "{}{}",
            self.public_url,
            civic_credential::residency::RESIDENCY_VCT_PATH
        )
    }

    /// `public_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// The URI (and token `sub`) of status list `list`.
    pub fn status_list_uri(&self, list: u32) -> String {
        self.url(&format!("/status/{list}"))
    }
}

/// Reads each of `files` (relative to `dir`): one or more PEM certificates, each a CA; `what`
/// names the setting in errors.
fn read_anchors(dir: &Path, files: &[String], what: &str) -> Result<Vec<Vec<u8>>, ConfigError> {
    let mut anchors = Vec::new();
    for file in files {
        let path = dir.join(file);
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Io(name.clone(), e))?;
        let blocks =
            pem::parse_many(&text).map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
        let before = anchors.len();
        for block in blocks.into_iter().filter(|b| b.tag() == "CERTIFICATE") {
            civic_credential::x509::Certificate::parse(block.contents())
                .map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
            anchors.push(block.into_contents());
        }
        if anchors.len() == before {
            return Err(ConfigError::Invalid(format!(
                "{name}: no CERTIFICATE block ({what})"
            )));
        }
    }
    Ok(anchors)
}
