//! A wallet for tests, built on civic-credential's message types: OID4VCI (token, nonce, proofs,
//! credentials) and OID4VP (fetch the request, present exactly what it asks, post the answer).

use serde_json::{json, Value};

use civic_credential::crypto::SigningKey;
use civic_credential::did_web;
use civic_credential::jwe::ResponseEncryption;
use civic_credential::oid4vci::{build_proof, PRE_AUTHORIZED_GRANT};
use civic_credential::oid4vp::{
    AuthorizationRequest, DirectPostResponse, LinkedRequest, DID_PREFIX, DIRECT_POST_JWT,
};

pub use crate::credentials::holder_key;
use crate::credentials::{vp_token, Credential};
use crate::http::json;

/// A proof JWT for `aud` and `nonce`, issued at `iat`.
pub fn proof(key: &SigningKey, aud: &str, nonce: Option<&str>, iat: i64) -> String {
    build_proof(key, key.public_jwk(), aud, nonce, iat).expect("proof")
}

/// A wallet's DPoP key (RFC 9449) and the issuer's latest `DPoP-Nonce`.
pub struct DpopKey {
    key: SigningKey,
    nonce: std::sync::Mutex<Option<String>>,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
}

impl Default for DpopKey {
    fn default() -> Self {
        Self::new()
    }
}

impl DpopKey {
    /// A fresh P-256 key, with no nonce yet, signing at the system clock's time.
    pub fn new() -> Self {
        Self::with_clock(crate::now)
    }

    /// A fresh key whose proofs carry `clock`'s time as `iat` (an issuer on a test clock).
    pub fn with_clock(clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        DpopKey {
            key: holder_key(),
            nonce: std::sync::Mutex::new(None),
            clock: Box::new(clock),
        }
    }

    /// The key's RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> String {
        self.key.public_jwk().thumbprint().expect("thumbprint")
    }

    /// A proof for a POST to `url`, presenting `access_token`, with the last nonce seen.
    pub fn proof(&self, url: &str, access_token: Option<&str>) -> String {
        let nonce = self.nonce.lock().expect("nonce").clone();
        self.proof_with(url, access_token, nonce.as_deref(), (self.clock)())
    }

    /// A proof for a POST to `url` with exactly these `nonce` and `iat`.
    pub fn proof_with(
        &self,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
        iat: i64,
    ) -> String {
        let jti = civic_credential::encoding::b64_encode(&rand::random::<[u8; 16]>());
        civic_credential::dpop::proof(
            &self.key,
            self.key.public_jwk(),
            &civic_credential::dpop::ProofClaims {
                htm: "POST",
                htu: url,
                iat,
                jti: &jti,
                nonce,
                access_token,
            },
        )
        .expect("DPoP proof")
    }

    /// Keeps the `DPoP-Nonce` of an answer, if it has one.
    pub fn remember(&self, resp: &reqwest::Response) {
        if let Some(n) = resp
            .headers()
            .get(civic_credential::dpop::DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
        {
            *self.nonce.lock().expect("nonce") = Some(n.to_owned());
        }
    }

    /// Sends `request` (built afresh by `build` with a proof for each try) and, when the issuer
    /// asks for its nonce (`use_dpop_nonce`), once more with it. `Err` when no answer came.
    pub async fn send(
        &self,
        build: impl Fn(String) -> reqwest::RequestBuilder,
        url: &str,
        access_token: Option<&str>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut answer = (0, Value::Null);
        for _ in 0..2 {
            let resp = build(self.proof(url, access_token)).send().await?;
            self.remember(&resp);
            answer = json(resp).await;
            if answer.1["error"] != "use_dpop_nonce" {
                break;
            }
        }
        Ok(answer)
    }
}

/// The DPoP keys of the access tokens this test wallet got, as a wallet keeps them: each token
/// is used with the key it is bound to.
fn dpop_keys(
) -> &'static std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<DpopKey>>> {
    static KEYS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<DpopKey>>>,
    > = std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default)
}

/// POST /token with a pre-authorized code (and tx_code), with a DPoP proof of a fresh key (and
/// the issuer's nonce when it asks for one). The token's key is kept for [`credential`].
pub async fn token(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    tx_code: Option<&str>,
) -> (u16, Value) {
    try_token(http, base, code, tx_code).await.expect("token")
}

/// [`token`], with `Err` when the issuer did not answer.
pub async fn try_token(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    tx_code: Option<&str>,
) -> reqwest::Result<(u16, Value)> {
    token_with(
        http,
        base,
        code,
        tx_code,
        &std::sync::Arc::new(DpopKey::new()),
    )
    .await
}

/// [`try_token`] with the given DPoP key.
pub async fn token_with(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    tx_code: Option<&str>,
    dpop: &std::sync::Arc<DpopKey>,
) -> reqwest::Result<(u16, Value)> {
    let mut form = vec![
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
    ];
    if let Some(tx) = tx_code {
        form.push(("tx_code", tx));
    }
    token_form(http, base, &form, dpop).await
}

/// POST /token with `form` and a DPoP proof of `dpop` (once more with the issuer's nonce when
/// it asks). The token's key is kept for [`credential`].
pub async fn token_form(
    http: &reqwest::Client,
    base: &str,
    form: &[(&str, &str)],
    dpop: &std::sync::Arc<DpopKey>,
) -> reqwest::Result<(u16, Value)> {
    let url = format!("{base}/token");
    let (status, body) = dpop
        .send(
            |proof| http.post(&url).header("DPoP", proof).form(form),
            &url,
            None,
        )
        .await?;
    if let Some(t) = body["access_token"].as_str() {
        dpop_keys()
            .lock()
            .expect("keys")
            .insert(t.to_owned(), dpop.clone());
    }
    Ok((status, body))
}

/// The headers that present `access_token` at `url` the way [`credential`] does: `DPoP` with a
/// fresh proof (with the last nonce the issuer gave) for a token [`token`] got bound to a key,
/// `Bearer` otherwise.
pub fn access_headers(url: &str, access_token: &str) -> Vec<(&'static str, String)> {
    match dpop_keys().lock().expect("keys").get(access_token) {
        Some(dpop) => vec![
            ("authorization", format!("DPoP {access_token}")),
            ("dpop", dpop.proof(url, Some(access_token))),
        ],
        None => vec![("authorization", format!("Bearer {access_token}"))],
    }
}

/// POST /nonce → c_nonce.
pub async fn nonce(http: &reqwest::Client, base: &str) -> String {
    let (status, body) = json(
        http.post(format!("{base}/nonce"))
            .send()
            .await
            .expect("nonce"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["c_nonce"].as_str().expect("c_nonce").to_owned()
}

/// POST /credential with the given proofs, presenting the access token with its DPoP key (as
/// Bearer if [`token`] did not get it).
pub async fn credential(
    http: &reqwest::Client,
    base: &str,
    access_token: &str,
    proofs: &[String],
) -> (u16, Value) {
    try_credential(http, base, access_token, proofs)
        .await
        .expect("credential")
}

/// [`credential`], with `Err` when the issuer did not answer.
pub async fn try_credential(
    http: &reqwest::Client,
    base: &str,
    access_token: &str,
    proofs: &[String],
) -> reqwest::Result<(u16, Value)> {
    let body =
        json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": proofs } });
    let url = format!("{base}/credential");
    let key = dpop_keys().lock().expect("keys").get(access_token).cloned();
    match key {
        Some(dpop) => {
            dpop.send(
                |proof| {
                    http.post(&url)
                        .header("Authorization", format!("DPoP {access_token}"))
                        .header("DPoP", proof)
                        .json(&body)
                },
                &url,
                Some(access_token),
            )
            .await
        }
        None => {
            let resp = http
                .post(&url)
                .bearer_auth(access_token)
                .json(&body)
                .send()
                .await?;
            Ok(json(resp).await)
        }
    }
}

/// The pre-authorized code of an offer.
pub fn pre_authorized_code(offer: &Value) -> String {
    offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .expect("pre-authorized code")
        .to_owned()
}

/// Redeems an offer (with its transaction code, if it asks for one) for `copies` credentials:
/// token, nonce, one proof per fresh key, proofs made at `now`.
pub async fn redeem(
    http: &reqwest::Client,
    base: &str,
    offer: &Value,
    tx_code: Option<&str>,
    copies: usize,
    now: i64,
) -> (Vec<String>, Vec<SigningKey>) {
    let (status, tok) = token(http, base, &pre_authorized_code(offer), tx_code).await;
    assert_eq!(status, 200, "{tok}");
    let access = tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let n = nonce(http, base).await;
    let keys: Vec<SigningKey> = (0..copies).map(|_| holder_key()).collect();
    let proofs: Vec<String> = keys.iter().map(|k| proof(k, base, Some(&n), now)).collect();
    let (status, body) = credential(http, base, &access, &proofs).await;
    assert_eq!(status, 200, "{body}");
    let creds = body["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["credential"].as_str().expect("credential").to_owned())
        .collect();
    (creds, keys)
}

/// The (status list number, index) of a credential's status reference.
pub fn status_ref(credential: &str) -> (u32, u32) {
    let jwt = credential.split('~').next().expect("jwt");
    let part = jwt.split('.').nth(1).expect("payload");
    let bytes = civic_credential::encoding::b64_decode(part, "payload").expect("b64");
    let p: Value = serde_json::from_slice(&bytes).expect("json");
    let reference = &p["status"]["status_list"];
    let uri = reference["uri"].as_str().expect("uri");
    let list = uri
        .rsplit('/')
        .next()
        .and_then(|l| l.parse().ok())
        .expect("list number");
    let idx = reference["idx"].as_u64().expect("idx");
    (list, u32::try_from(idx).expect("idx fits"))
}

/// What a wallet does with an `openid4vp://` link: fetch the request, present exactly the DCQL
/// claims with key binding, and post.
pub struct Presenter<'a> {
    /// The client the wallet uses (resolving `localhost` where needed).
    pub http: &'a reqwest::Client,
    /// The credential copy it presents.
    pub credential: &'a Credential,
}

impl Presenter<'_> {
    /// The request behind `link`, checked as a wallet does: fetched from `request_uri` or
    /// carried by value, unsigned for a `redirect_uri:` client, verified with the DID document
    /// for a `decentralized_identifier:` one.
    pub async fn request(&self, link: &str) -> AuthorizationRequest {
        let (client_id, jwt) = match LinkedRequest::parse(link).expect("link") {
            LinkedRequest::Parameters(req) => return *req,
            LinkedRequest::Object { client_id, request } => (client_id, request),
            LinkedRequest::ByReference(l) => {
                let jwt = self
                    .http
                    .get(&l.request_uri)
                    .send()
                    .await
                    .expect("request")
                    .text()
                    .await
                    .expect("text");
                (l.client_id, jwt)
            }
        };
        let req = read_request(self.http, &client_id, &jwt)
            .await
            .expect("request object");
        assert_eq!(req.client_id, client_id);
        req
    }

    /// The `vp_token` for `req`, bound to `aud` and `nonce` (normally the request's) now.
    pub fn vp_token(&self, req: &AuthorizationRequest, aud: &str, nonce: &str) -> String {
        let query = &req.dcql_query.credentials[0];
        let presentation =
            self.credential
                .present(&query.requested_paths(), aud, nonce, crate::now());
        vp_token(&query.id, &presentation)
    }

    /// Posts a form (`vp_token` and `state`, or an error) to the request's response URI, as a
    /// wallet does: encrypted into `response` when the request asks for `direct_post.jwt`.
    pub async fn post(&self, req: &AuthorizationRequest, form: &[(&str, &str)]) -> (u16, Value) {
        if req.response_mode != DIRECT_POST_JWT {
            return self.post_plain(req, form).await;
        }
        let sealed = seal(req, form);
        self.post_plain(req, &[("response", &sealed)]).await
    }

    /// Posts `form` as it is, whatever the request asked for.
    pub async fn post_plain(
        &self,
        req: &AuthorizationRequest,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let resp = self
            .http
            .post(&req.response_uri)
            .form(form)
            .send()
            .await
            .expect("post");
        json(resp).await
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

/// A wallet with a plain client (the examples serve on 127.0.0.1): follows the request link,
/// presents exactly the DCQL query's claims with key binding, and posts the answer. Returns the
/// status of the answer (or of the request object, when that is refused).
pub async fn present(link: &str, credential: &Credential) -> u16 {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let wallet = Presenter {
        http: &http,
        credential,
    };
    let req = match LinkedRequest::parse(link).expect("request link") {
        LinkedRequest::ByReference(l) => {
            // A request that is no longer open is refused here, before anything is presented.
            let fetched = http
                .get(&l.request_uri)
                .send()
                .await
                .expect("request object");
            if !fetched.status().is_success() {
                return fetched.status().as_u16();
            }
            let jwt = fetched.text().await.expect("body");
            let req = read_request(&http, &l.client_id, &jwt)
                .await
                .expect("request object");
            assert_eq!(req.client_id, l.client_id);
            req
        }
        _ => wallet.request(link).await,
    };
    let vp = wallet.vp_token(&req, &req.client_id, &req.nonce);
    let state = req.state.clone().unwrap_or_default();
    wallet
        .post(&req, &[("vp_token", &vp), ("state", &state)])
        .await
        .0
}

/// The response parameters `form` (`vp_token`, `state`, `error`) as a JWE to the key in
/// `req`'s `client_metadata` (`direct_post.jwt`).
pub fn seal(req: &AuthorizationRequest, form: &[(&str, &str)]) -> String {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let params = DirectPostResponse {
        vp_token: field("vp_token"),
        state: field("state"),
        error: field("error"),
        response: None,
    }
    .to_params()
    .expect("response parameters");
    ResponseEncryption::from_client_metadata(req.client_metadata.as_ref())
        .expect("the request's encryption key")
        .seal(&params, &mut rand::rngs::OsRng)
        .expect("seal")
}

/// Reads request object `jwt` of the link's client `client_id`: unsigned for `redirect_uri:`,
/// verified with the resolved DID document (loopback over http) for
/// `decentralized_identifier:`.
pub async fn read_request(
    http: &reqwest::Client,
    client_id: &str,
    jwt: &str,
) -> civic_credential::Result<AuthorizationRequest> {
    let Some(did) = client_id.strip_prefix(DID_PREFIX) else {
        return AuthorizationRequest::from_jwt(jwt, None);
    };
    let url = did_web::resolution_url(did, true).expect("did:web");
    let doc: Value = http
        .get(url)
        .send()
        .await
        .expect("DID document")
        .json()
        .await
        .expect("DID document JSON");
    let doc = did_web::DidDocument::parse(&doc, did).expect("DID document");
    AuthorizationRequest::from_jwt_with_did_document(jwt, &doc)
}
