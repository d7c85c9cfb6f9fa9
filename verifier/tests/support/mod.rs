//! What the verifier's flow tests share: a platform with a 16-or-older policy, a flow on the
//! library with an in-memory store and a clock stopped at [`NOW`], a session's request as a
//! wallet reads it, and answers (plain or sealed).
#![allow(dead_code)] // each test file uses part of it
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use civic_credential::form::percent_encode;
use civic_credential::jwe::ResponseEncryption;
use civic_credential::oid4vp::{AuthorizationRequest, DirectPostResponse};
use civic_credential::sd_jwt::ClaimPath;
use civic_service::ManualClock;
use civic_testkit::credentials::vp_token;
use civic_verifier::fetch::{Fetcher, StaticFetcher};
use civic_verifier::flow::{Flow, FlowSettings};
use civic_verifier::store::MemoryStore;
use civic_verifier::{Platform, Policy, Rule, TrustList, Verifier, VerifierOptions};

/// The flows' clock.
pub(crate) const NOW: i64 = 1_800_000_000;

/// Now, for certificate validity (development certificates are made now, valid for days).
pub(crate) fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A platform `id` whose policy `policy` asks for 16 or older and the platform's pseudonym;
/// `encrypt` says whether it asks for encrypted answers, whatever the deployment says.
pub(crate) fn platform(id: &str, policy: &str, encrypt: bool) -> Platform {
    Platform {
        id: id.into(),
        name: "Budget".into(),
        api_key_sha256: "0".repeat(64),
        webhook_url: None,
        webhook_secret: None,
        redirect_uris: Vec::new(),
        encrypt_responses: Some(encrypt),
        requests_by_value: false,
        policies: vec![Policy {
            name: policy.into(),
            rules: vec![Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"]))],
            pseudonym: true,
            vct: Vec::new(),
        }],
    }
}

/// A flow at `public_url` for `platforms`, trusting `trust_list` (text) and fetching with
/// `fetcher`.
pub(crate) fn flow_with(
    trust_list: &str,
    fetcher: Arc<dyn Fetcher>,
    public_url: &str,
    platforms: Vec<Platform>,
) -> Flow {
    flow_at(trust_list, fetcher, public_url, platforms, NOW)
}

/// [`flow_with`] with the clock stopped at `now` (the wall clock, for certificates made now).
pub(crate) fn flow_at(
    trust_list: &str,
    fetcher: Arc<dyn Fetcher>,
    public_url: &str,
    platforms: Vec<Platform>,
    now: i64,
) -> Flow {
    let trust = TrustList::parse(trust_list).expect("trust list");
    let verifier = Verifier::new(trust, fetcher, VerifierOptions::default());
    let settings = FlowSettings {
        public_url: public_url.into(),
        wallet_link_base: "openid4vp://".into(),
        session_ttl_secs: 600,
    };
    Flow::new(
        verifier,
        Arc::new(MemoryStore::default()),
        ManualClock::at(now),
        settings,
        platforms,
    )
}

/// A flow at `public_url` for `platforms`, trusting `trust_list` with nothing to fetch.
pub(crate) fn flow(trust_list: &str, public_url: &str, platforms: Vec<Platform>) -> Flow {
    flow_with(
        trust_list,
        Arc::new(StaticFetcher::new()),
        public_url,
        platforms,
    )
}

/// A session of `platform`'s `policy`, and its (unsigned) request as a wallet reads it.
pub(crate) fn open(flow: &Flow, platform: &str, policy: &str) -> (String, AuthorizationRequest) {
    let created = flow.create(platform, policy, None).expect("session");
    let req = AuthorizationRequest::from_jwt(&flow.request_object(&created.id).unwrap(), None)
        .expect("request object");
    (created.id, req)
}

/// The response parameters answering `req` with `presentation`.
pub(crate) fn params(
    req: &AuthorizationRequest,
    presentation: &str,
) -> serde_json::Map<String, serde_json::Value> {
    DirectPostResponse {
        vp_token: Some(vp_token("residency", presentation)),
        state: req.state.clone(),
        ..DirectPostResponse::default()
    }
    .to_params()
    .unwrap()
}

/// `params` sealed to the key `req` names (`direct_post.jwt`).
pub(crate) fn sealed(
    req: &AuthorizationRequest,
    params: &serde_json::Map<String, serde_json::Value>,
) -> String {
    ResponseEncryption::from_client_metadata(req.client_metadata.as_ref())
        .expect("the request's key")
        .seal(params, &mut rand::rngs::OsRng)
        .expect("sealed")
}

/// A form body of `fields`.
pub(crate) fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// The form a wallet posts answering `req` with `presentation`: sealed when the request asks
/// for encryption, plain otherwise.
pub(crate) fn answer_form(req: &AuthorizationRequest, presentation: &str) -> Vec<u8> {
    let p = params(req, presentation);
    if req.response_mode == civic_credential::oid4vp::DIRECT_POST_JWT {
        return form(&[("response", &sealed(req, &p))]);
    }
    let vp = p["vp_token"].to_string();
    form(&[
        ("vp_token", &vp),
        ("state", req.state.as_deref().unwrap_or_default()),
    ])
}
