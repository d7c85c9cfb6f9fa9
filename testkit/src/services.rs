//! The issuer and the verifier service in-process, each serving HTTP on 127.0.0.1 with sled in a
//! temporary directory, on a clock the test moves.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use civic_credential::encoding::sha256_hex;
use civic_issuer::config::Config;
use civic_issuer::keys::KeyRing;
use civic_issuer::store::{AdminToken, SledStore, Store};
use civic_issuer::Issuer;
use civic_service::{Clock, SharedClock, ShiftedClock};
use civic_verifier_service::Service;

use crate::credentials::Credential;
use crate::http::{client, listen};
use crate::register::demo_register;
use crate::wallet;

/// The budget platform's own site (its same-device return pages live here). Its platform id,
/// the one its pseudonyms are computed for, is a DID the verifier serves
/// ([`VerifierHandle::budget`]).
pub const BUDGET_SITE: &str = "https://budget.teststad.example";
/// The budget platform's API key.
pub const BUDGET_KEY: &str = "budget-api-key-for-tests";
/// The consultation platform's API key.
pub const CONSULT_KEY: &str = "consult-api-key-for-tests";
/// The webhook secret of the budget platform.
pub const WEBHOOK_SECRET: &str = "budget-webhook-secret";
/// The admin token of the in-process issuer.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// How an in-process issuer is set up.
pub struct IssuerSetup {
    /// The `ttl` of its status list tokens.
    pub status_ttl_secs: u32,
    /// Writes are refused below this much free space (0: no reserve, so tests pass on an
    /// almost full disk; the reserve has tests of its own).
    pub storage_reserve_mib: u32,
    /// The register it imports.
    pub register: &'static str,
    /// Hand out Bearer tokens to wallets that send no DPoP proof (off by default, as in the
    /// issuer's own configuration).
    pub allow_bearer_tokens: bool,
    /// The wallets the authorization code flow serves.
    pub wallet_clients: Vec<civic_issuer::config::WalletClient>,
}

impl Default for IssuerSetup {
    fn default() -> Self {
        IssuerSetup {
            status_ttl_secs: 300,
            storage_reserve_mib: 0,
            register: demo_register(),
            allow_bearer_tokens: false,
            wallet_clients: Vec::new(),
        }
    }
}

/// A running in-process issuer.
pub struct IssuerHandle {
    /// `http://localhost:PORT`.
    pub base: String,
    /// A client that sends `localhost` to its port.
    pub http: reqwest::Client,
    /// The admin token.
    pub admin: String,
    /// The issuer (for direct calls).
    pub issuer: Arc<Issuer>,
    /// Its clock (the system's, shifted): the test moves it forward.
    pub clock: Arc<ShiftedClock>,
}

/// Starts an issuer in `dir` with the demo register, on a clock the test can move forward. The
/// verifier service registers its platforms in it ([`start_verifier`]).
pub async fn start_issuer(dir: &Path, setup: IssuerSetup) -> IssuerHandle {
    let (listener, port) = listen().await;
    let base = format!("http://localhost:{port}");
    let clock = ShiftedClock::new();
    let mut config = Config::new(&base).expect("config");
    config.status_ttl_secs = setup.status_ttl_secs;
    config.storage_reserve_mib = setup.storage_reserve_mib;
    config.allow_bearer_tokens = setup.allow_bearer_tokens;
    config.wallet_clients = setup.wallet_clients;
    config.save(dir).expect("save");
    let keys = KeyRing::create(dir, false, clock.now()).expect("keys");
    let store = Arc::new(SledStore::open(&dir.join("db"), config.storage_options()).expect("db"));
    store
        .put_admin_token(&AdminToken {
            hash_hex: sha256_hex(ADMIN_TOKEN),
            name: "e2e".into(),
            created: clock.now(),
        })
        .expect("token");
    let shared: SharedClock = clock.clone();
    let issuer = Issuer::assemble(config, keys, store, shared).expect("issuer");
    issuer
        .register
        .import(
            std::io::Cursor::new(setup.register.as_bytes()),
            0,
            Default::default(),
        )
        .expect("register");
    issuer.sync().expect("sync");
    let issuer = Arc::new(issuer);
    let app = civic_issuer::http::router(issuer.clone());
    tokio::spawn(civic_service::run::serve_until(
        listener,
        app,
        std::future::pending(),
    ));
    IssuerHandle {
        http: client(port),
        base,
        admin: ADMIN_TOKEN.to_owned(),
        issuer,
        clock,
    }
}

impl IssuerHandle {
    /// Counter-service offer and OID4VCI redemption: `copies` credentials for `resident`.
    pub async fn credentials(&self, resident: &str, copies: usize) -> Vec<Credential> {
        let offer = self
            .admin_post(&format!("/admin/api/residents/{resident}/offer"))
            .await;
        let (issued, keys) = wallet::redeem(
            &self.http,
            &self.base,
            &offer["credential_offer"],
            offer["tx_code"].as_str(),
            copies,
            self.clock.now(),
        )
        .await;
        issued
            .into_iter()
            .zip(keys)
            .map(|(issued, holder)| Credential { issued, holder })
            .collect()
    }

    /// An admin POST, answered with JSON.
    pub async fn admin_post(&self, path: &str) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json")
    }
}

/// Webhook deliveries received: (signature header, body).
pub type Hooks = Arc<Mutex<Vec<(String, String)>>>;

/// A running verifier service.
pub struct VerifierHandle {
    /// `http://localhost:PORT`.
    pub base: String,
    /// A client that sends `localhost` to its port.
    pub http: reqwest::Client,
    /// The service.
    pub service: Arc<Service>,
    /// Webhook deliveries so far.
    pub hooks: Hooks,
    /// Its clock (the system's, shifted): the test moves it forward.
    pub clock: Arc<ShiftedClock>,
    /// The budget platform's id: `did:web:localhost%3A<port>:platforms:budget` (a budget vote,
    /// 16+, pseudonym).
    pub budget: String,
    /// The consultation platform's id: `…:platforms:consult` (district 3, pseudonym).
    pub consult: String,
    /// Its configuration file.
    pub config: PathBuf,
    /// The port it listens on (a replica's differs from its public URL's).
    pub http_port: u16,
    /// The PostgreSQL cluster started for it on the PostgreSQL pass.
    pub own_cluster: Option<civic_storage::pg_cluster::TestCluster>,
}

/// Starts a webhook receiver; returns its URL.
async fn webhook_receiver(hooks: Hooks) -> String {
    let (listener, port) = listen().await;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let hooks = hooks.clone();
            async move {
                let sig = headers
                    .get(civic_verifier::webhook::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if let Ok(mut h) = hooks.lock() {
                    h.push((sig, body));
                }
                "ok"
            }
        }),
    );
    tokio::spawn(civic_service::run::serve_until(
        listener,
        app,
        std::future::pending(),
    ));
    format!("http://127.0.0.1:{port}/hook")
}

/// An issuer with the default setup in `dir/issuer`, and a verifier service trusting it in `dir`
/// with extra configuration lines `verifier_extra` (see [`start_verifier`]).
pub async fn start_issuer_and_verifier(
    dir: &Path,
    verifier_extra: &str,
) -> (IssuerHandle, VerifierHandle) {
    let issuer_dir = dir.join("issuer");
    std::fs::create_dir_all(&issuer_dir).expect("issuer dir");
    let issuer = start_issuer(&issuer_dir, IssuerSetup::default()).await;
    let verifier = start_verifier(dir, &issuer, verifier_extra).await;
    (issuer, verifier)
}

/// The `status` of a session result as the platform reads it (`<none>` when absent).
pub fn session_status(result: &Value) -> &str {
    result["status"].as_str().unwrap_or("<none>")
}

/// Starts the verifier service in `dir` trusting `issuer` for municipality 0363, with extra
/// top-level configuration lines `extra`, and registers its two platforms in the issuer. Its
/// platforms are DIDs it serves, so requests are signed (with a fresh key, unless `extra` names
/// one).
pub async fn start_verifier(dir: &Path, issuer: &IssuerHandle, extra: &str) -> VerifierHandle {
    let issuer_base = &issuer.base;
    let hooks: Hooks = Arc::default();
    let hook_url = webhook_receiver(hooks.clone()).await;
    let (listener, port) = listen().await;
    let base = format!("http://localhost:{port}");
    let budget = civic_verifier::identity::platform_did(&base, "budget").expect("did");
    let consult = civic_verifier::identity::platform_did(&base, "consult").expect("did");
    for (id, name) in [(&budget, "Budget"), (&consult, "Consultation")] {
        issuer
            .issuer
            .platforms
            .add(id, name, "e2e")
            .expect("platform");
    }
    let signing = if extra.contains("request_signing_key") {
        String::new()
    } else {
        let key = civic_credential::crypto::SigningKey::generate(
            civic_credential::crypto::Algorithm::Es256,
            &mut rand::rngs::OsRng,
        )
        .expect("key");
        std::fs::write(
            dir.join("request-signing.jwk"),
            serde_json::to_string(&key.to_private_jwk()).expect("jwk"),
        )
        .expect("key file");
        "request_signing_key = \"request-signing.jwk\"\n".to_owned()
    };
    std::fs::write(
        dir.join("trust-list.toml"),
        format!("[[issuer]]\nid = \"{issuer_base}\"\nvct = [\"{issuer_base}/credentials/residency\"]\nmunicipality_codes = [\"0363\"]\n"),
    )
    .expect("trust list");
    // On the PostgreSQL pass ([`crate::issuer_process::BACKEND`]) each verifier gets a cluster
    // of its own, unless the test names a database.
    let own_cluster = (crate::issuer_process::on_postgres() && !extra.contains("database"))
        .then(civic_storage::pg_cluster::TestCluster::start);
    let database = own_cluster
        .as_ref()
        .map(|c| format!("database = \"{}\"\n", c.url()))
        .unwrap_or_default();
    let reserve = if extra.contains("storage_reserve_mib") {
        String::new()
    } else {
        "storage_reserve_mib = 0\n".to_owned()
    };
    let config = format!(
        r#"
public_url = "{base}"
data_dir = "sessions"
trust_list = "trust-list.toml"
allow_loopback_http = true
{database}{reserve}{signing}{extra}

[[platform]]
id = "{budget}"
name = "Participatory budget"
api_key_sha256 = "{}"
webhook_url = "{hook_url}"
webhook_secret = "{WEBHOOK_SECRET}"
redirect_uris = ["{BUDGET_SITE}/resume"]
[[platform.policy]]
name = "vote"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.municipality_code"
in = ["0363"]
[[platform.policy.rules]]
claim = "age_equal_or_over.16"
equals = true

[[platform]]
id = "{consult}"
name = "Consultation"
api_key_sha256 = "{}"
[[platform.policy]]
name = "district-3"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.district"
in = ["3"]
"#,
        sha256_hex(BUDGET_KEY),
        sha256_hex(CONSULT_KEY)
    );
    let path = dir.join("verifier.toml");
    std::fs::write(&path, config).expect("config");
    let mut handle = serve_verifier(listener, port, base, path, budget, consult, hooks);
    handle.own_cluster = own_cluster;
    handle
}

/// Starts another instance of `first`'s verifier service from the same configuration file (the
/// same public URL, as behind a load balancer), on a port of its own. With a `database` in that
/// file both share their sessions.
pub async fn start_verifier_replica(first: &VerifierHandle) -> VerifierHandle {
    let (listener, port) = listen().await;
    let mut replica = serve_verifier(
        listener,
        port,
        first.base.clone(),
        first.config.clone(),
        first.budget.clone(),
        first.consult.clone(),
        first.hooks.clone(),
    );
    replica.http = crate::http::client_to_instance(port);
    replica
}

fn serve_verifier(
    listener: tokio::net::TcpListener,
    port: u16,
    base: String,
    path: PathBuf,
    budget: String,
    consult: String,
    hooks: Hooks,
) -> VerifierHandle {
    let clock = ShiftedClock::new();
    let (_, service) = Service::load(&path, clock.clone()).expect("service");
    let service = Arc::new(service);
    let app = civic_verifier_service::router(service.clone());
    tokio::spawn(civic_service::run::serve_until(
        listener,
        app,
        std::future::pending(),
    ));
    VerifierHandle {
        http: client(port),
        base,
        service,
        hooks,
        clock,
        budget,
        consult,
        config: path,
        http_port: port,
        own_cluster: None,
    }
}

impl VerifierHandle {
    /// `POST /v1/sessions` as platform `key`.
    pub async fn session(
        &self,
        key: &str,
        policy: &str,
        redirect_uri: Option<&str>,
    ) -> (u16, Value) {
        let mut body = json!({ "policy": policy });
        if let Some(r) = redirect_uri {
            body["redirect_uri"] = json!(r);
        }
        let resp = self
            .http
            .post(format!("{}/v1/sessions", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("session");
        crate::http::json(resp).await
    }

    /// `GET /v1/sessions/{id}` as platform `key`.
    pub async fn result(&self, key: &str, id: &str, response_code: Option<&str>) -> (u16, Value) {
        let mut url = format!("{}/v1/sessions/{id}", self.base);
        if let Some(c) = response_code {
            url.push_str(&format!("?response_code={c}"));
        }
        let resp = self
            .http
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("result");
        crate::http::json(resp).await
    }

    /// Waits (up to 20 s) until `n` webhooks have arrived, and returns them.
    pub async fn hooks(&self, n: usize) -> Vec<(String, String)> {
        for _ in 0..400 {
            let hooks = self.hooks.lock().expect("hooks").clone();
            if hooks.len() >= n {
                return hooks;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.hooks.lock().expect("hooks").clone()
    }
}
