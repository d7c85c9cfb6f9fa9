//! Harness for end-to-end tests: a real issuer and a real verifier service, each serving HTTP on
//! 127.0.0.1 with sled in a temp directory, and a wallet speaking OID4VCI and OID4VP to them with
//! civic-credential.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vci::{build_proof, PRE_AUTHORIZED_GRANT};
use civic_credential::oid4vp::{AuthorizationRequest, RequestLink};
use civic_credential::sd_jwt_vc;
use civic_issuer::config::Config;
use civic_issuer::keys::KeyRing;
use civic_issuer::store::{AdminToken, SledStore, Store};
use civic_issuer::Issuer;
use civic_verifier::server::config::ServiceConfig;
use civic_verifier::server::AppState;

/// Seconds since the epoch.
pub fn now() -> i64 {
    civic_issuer::service::now()
}

/// The platforms of the tests: a budget vote (16+, pseudonym) and a district consultation.
pub const BUDGET: &str = "https://budget.teststad.example";
/// The consultation platform.
pub const CONSULT: &str = "https://consult.teststad.example";
/// The budget platform's API key.
pub const BUDGET_KEY: &str = "budget-api-key-for-tests";
/// The consultation platform's API key.
pub const CONSULT_KEY: &str = "consult-api-key-for-tests";

/// The demo register with 20 residents (municipality 0363).
pub fn register_csv() -> &'static str {
    include_str!("../../../issuer/demo/register.csv")
}

async fn listen() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// An HTTP client that sends `localhost` to 127.0.0.1:`port`.
pub fn client(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .expect("client")
}

/// A running issuer.
pub struct IssuerHandle {
    /// `http://localhost:PORT`.
    pub base: String,
    /// Its client.
    pub http: reqwest::Client,
    /// The admin token.
    pub admin: String,
    /// The issuer object (for direct calls).
    pub issuer: Arc<Issuer>,
}

/// Starts an issuer with the demo register and the two test platforms registered.
pub async fn start_issuer(dir: &Path, status_ttl_secs: u32) -> IssuerHandle {
    let (listener, port) = listen().await;
    let base = format!("http://localhost:{port}");
    let mut config = Config::new(&base).expect("config");
    config.status_ttl_secs = status_ttl_secs;
    config.save(dir).expect("save");
    let keys = KeyRing::create(dir, false, now()).expect("keys");
    let store = Arc::new(SledStore::open(&dir.join("db"), config.storage_options()).expect("db"));
    let admin = "e2e-admin-token".to_owned();
    store
        .put_admin_token(&AdminToken {
            hash_hex: civic_issuer::secrets::hash_hex(&admin),
            name: "e2e".into(),
            created: now(),
        })
        .expect("token");
    let issuer = Issuer::with_parts(dir, config, keys, store).expect("issuer");
    issuer
        .import_register(register_csv().as_bytes(), 0, Default::default())
        .expect("register");
    for (id, name) in [(BUDGET, "Budget"), (CONSULT, "Consultation")] {
        issuer.register_platform(id, name, "e2e").expect("platform");
    }
    issuer.store.sync().expect("sync");
    let issuer = Arc::new(issuer);
    let app = civic_issuer::http::router(issuer.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    IssuerHandle {
        http: client(port),
        base,
        admin,
        issuer,
    }
}

impl IssuerHandle {
    /// Counter-service offer and OID4VCI redemption: `copies` credentials for `resident`.
    pub async fn credentials(&self, resident: &str, copies: usize) -> Vec<(String, SigningKey)> {
        let offer: Value = self
            .http
            .post(format!(
                "{}/admin/api/residents/{resident}/offer",
                self.base
            ))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("offer")
            .json()
            .await
            .expect("json");
        let code = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
            .as_str()
            .expect("code")
            .to_owned();
        let tok: Value = self
            .http
            .post(format!("{}/token", self.base))
            .form(&[
                ("grant_type", PRE_AUTHORIZED_GRANT),
                ("pre-authorized_code", &code),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let n: Value = self
            .http
            .post(format!("{}/nonce", self.base))
            .send()
            .await
            .expect("nonce")
            .json()
            .await
            .expect("json");
        let nonce = n["c_nonce"].as_str().expect("nonce");
        let keys: Vec<SigningKey> = (0..copies)
            .map(|_| SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key"))
            .collect();
        let proofs: Vec<String> = keys
            .iter()
            .map(|k| build_proof(k, k.public_jwk(), &self.base, Some(nonce), now()).expect("proof"))
            .collect();
        let resp: Value = self
            .http
            .post(format!("{}/credential", self.base))
            .bearer_auth(tok["access_token"].as_str().expect("at"))
            .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": proofs } }))
            .send()
            .await
            .expect("credential")
            .json()
            .await
            .expect("json");
        resp["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .map(|c| c["credential"].as_str().expect("credential").to_owned())
            .zip(keys)
            .collect()
    }

    /// An admin call.
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
    /// Its client.
    pub http: reqwest::Client,
    /// The service state.
    pub state: Arc<AppState>,
    /// Webhook deliveries so far.
    pub hooks: Hooks,
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
                    .get("civic-signature")
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
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/hook")
}

/// The webhook secret of the budget platform.
pub const WEBHOOK_SECRET: &str = "budget-webhook-secret";

/// Starts the verifier service trusting `issuer_base` for municipality 0363.
pub async fn start_verifier(dir: &Path, issuer_base: &str) -> VerifierHandle {
    start_verifier_with(dir, issuer_base, "").await
}

/// The same, with extra top-level configuration lines.
pub async fn start_verifier_with(dir: &Path, issuer_base: &str, extra: &str) -> VerifierHandle {
    let hooks: Hooks = Arc::default();
    let hook_url = webhook_receiver(hooks.clone()).await;
    let (listener, port) = listen().await;
    let base = format!("http://localhost:{port}");
    std::fs::write(
        dir.join("trust-list.toml"),
        format!("[[issuer]]\nid = \"{issuer_base}\"\nvct = [\"{issuer_base}/credentials/residency\"]\nmunicipality_codes = [\"0363\"]\n"),
    )
    .expect("trust list");
    let sha = |k: &str| civic_issuer::secrets::hash_hex(k);
    let config = format!(
        r#"
public_url = "{base}"
data_dir = "sessions"
trust_list = "trust-list.toml"
{extra}

[[platform]]
id = "{BUDGET}"
name = "Participatory budget"
api_key_sha256 = "{}"
webhook_url = "{hook_url}"
webhook_secret = "{WEBHOOK_SECRET}"
redirect_uris = ["{BUDGET}/resume"]
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
id = "{CONSULT}"
name = "Consultation"
api_key_sha256 = "{}"
[[platform.policy]]
name = "district-3"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.district"
in = ["3"]
"#,
        sha(BUDGET_KEY),
        sha(CONSULT_KEY)
    );
    let path = dir.join("verifier.toml");
    std::fs::write(&path, config).expect("config");
    let config = ServiceConfig::load(&path).expect("load config");
    let state = Arc::new(AppState::new(config).expect("state"));
    let app = civic_verifier::server::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    VerifierHandle {
        http: client(port),
        base,
        state,
        hooks,
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
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
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
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// What a wallet does with an `openid4vp://` link: fetch the request, present exactly the DCQL
/// claims with key binding, and post. `tweak` may alter the presentation's KB parameters.
pub struct Presenter<'a> {
    /// The verifier's client (resolves localhost).
    pub http: &'a reqwest::Client,
    /// The credential (issuance form).
    pub credential: &'a str,
    /// Its holder key.
    pub holder: &'a SigningKey,
}

impl Presenter<'_> {
    /// Fetches and parses the request object behind `link`.
    pub async fn request(&self, link: &str) -> AuthorizationRequest {
        let l = RequestLink::parse(link).expect("link");
        let jwt = self
            .http
            .get(&l.request_uri)
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text");
        let req = AuthorizationRequest::from_jwt(&jwt, None).expect("request object");
        assert_eq!(req.client_id, l.client_id);
        req
    }

    /// The `vp_token` for `req`, with KB `aud`/`nonce` (normally the request's).
    pub fn vp_token(&self, req: &AuthorizationRequest, aud: &str, nonce: &str) -> String {
        let paths = req.dcql_query.credentials[0].requested_paths();
        let p = sd_jwt_vc::present(
            self.credential,
            &paths,
            Some((self.holder, aud, nonce, now())),
        )
        .expect("present");
        json!({ "residency": [p] }).to_string()
    }

    /// Posts `vp_token` (or an error) with `state` to the response URI.
    pub async fn post(&self, req: &AuthorizationRequest, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(&req.response_uri)
            .form(form)
            .send()
            .await
            .expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The whole wallet step: fetch, present, post.
    pub async fn answer(&self, link: &str) -> (u16, Value) {
        let req = self.request(link).await;
        let vp = self.vp_token(&req, &req.client_id, &req.nonce);
        let state = req.state.clone().unwrap_or_default();
        self.post(&req, &[("vp_token", &vp), ("state", &state)])
            .await
    }
}
