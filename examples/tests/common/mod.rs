//! Test helpers shared by the example tests: a test issuer with its trust list, residency
//! credentials, a wallet that answers OID4VP requests, a browser with cookies, and an example
//! app served on 127.0.0.1 with its data in a temporary directory.

#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use rand::rngs::OsRng;
use serde_json::{json, Value};

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_credential::oid4vp::{AuthorizationRequest, RequestLink};
use civic_credential::pseudonym::pairwise_pseudonym;
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_verifier::server::config::ServiceConfig;
use civic_verifier::server::now;

/// The test issuer's identifier.
pub const ISSUER: &str = "https://id.teststad.example";
/// The issuer's pseudonym secret (pseudonyms are HMACs under it).
const PSEUDONYM_SECRET: &[u8] = b"test issuer pseudonym secret";
/// The platforms the credentials carry pseudonyms for (those of the example configurations).
pub const PLATFORMS: [&str; 3] = [
    "https://budget.teststad.example",
    "https://consult.teststad.example",
    "https://deliberation.teststad.example",
];

pub fn vct() -> String {
    format!("{ISSUER}/credentials/residency")
}

/// An issuer key; `trust_list` publishes it inline, so the verifier fetches nothing.
pub struct Issuer {
    key: SigningKey,
}

impl Issuer {
    pub fn new() -> Self {
        let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)
            .expect("issuer key")
            .with_kid("key-1");
        Issuer { key }
    }

    /// A trust list (JSON) with this issuer for municipality 0363 and its key inline.
    pub fn trust_list(&self) -> String {
        let jwk = self.key.public_jwk().clone().with_kid("key-1");
        json!({
            "issuer": [{
                "id": ISSUER,
                "vct": [vct()],
                "municipality_codes": ["0363"],
                "jwks": { "keys": [jwk] },
            }]
        })
        .to_string()
    }

    /// A residency credential for `record` (register id `subject`), without a status reference,
    /// bound to a fresh holder key.
    pub fn issue(&self, record: &ResidentRecord, subject: &str) -> Credential {
        let t = now();
        let pseudonyms: BTreeMap<String, String> = PLATFORMS
            .iter()
            .map(|p| (p.to_string(), pseudonym(p, subject)))
            .collect();
        let claims = ResidencyClaims::new(record, Date::from_unix(t), pseudonyms);
        let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("holder key");
        let paths = claims.disclosable_paths();
        let vct = vct();
        let spec = CredentialSpec {
            issuer: ISSUER,
            vct: &vct,
            iat: t - 60,
            nbf: None,
            exp: t + 30 * 86_400,
            holder_key: holder.public_jwk(),
            status: None,
            claims: claims.to_claims().expect("claims"),
            disclosable: &paths,
            decoys: 2,
        };
        let issued = sd_jwt_vc::issue(&spec, &self.key, &mut OsRng).expect("issue");
        Credential { issued, holder }
    }
}

/// The pseudonym the test issuer gives `subject` for `platform`.
pub fn pseudonym(platform: &str, subject: &str) -> String {
    pairwise_pseudonym(PSEUDONYM_SECRET, platform, subject)
}

/// One credential copy in a wallet.
pub struct Credential {
    pub issued: String,
    pub holder: SigningKey,
}

/// A fictional resident of Teststad (0363) with this birthdate and district.
pub fn resident(
    given_name: &str,
    birthdate: Date,
    code: &str,
    district: Option<&str>,
) -> ResidentRecord {
    ResidentRecord {
        given_name: given_name.into(),
        family_name: "Zwanenburg".into(),
        birthdate,
        address: Address {
            street_address: "Lindengracht 77".into(),
            locality: "Teststad".into(),
            postal_code: "1015 KD".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Teststad".into(),
            municipality_code: code.into(),
            district: district.map(Into::into),
        },
        resident_since: Date::parse("2011-05-01").expect("date"),
    }
}

/// A birthdate that makes someone `years` old today (their birthday was 10 days ago).
pub fn aged(years: i32) -> Date {
    let today = Date::from_unix(now());
    let birthday = Date {
        year: today.year - years,
        ..today
    };
    Date::from_unix(birthday.to_unix() - 10 * 86_400)
}

/// A birthdate that makes someone `years - 1` old today: they turn `years` in 10 days.
pub fn almost(years: i32) -> Date {
    let today = Date::from_unix(now());
    let birthday = Date {
        year: today.year - years,
        ..today
    };
    Date::from_unix(birthday.to_unix() + 10 * 86_400)
}

/// The wallet: follows the request link, reads the request object, presents exactly the DCQL
/// query's claims with key binding, and posts the answer. Returns the status of the answer (or of
/// the request object, when that is refused).
pub async fn present(link: &str, credential: &Credential) -> u16 {
    let link = RequestLink::parse(link).expect("request link");
    let wallet = reqwest::Client::new();
    let fetched = wallet
        .get(&link.request_uri)
        .send()
        .await
        .expect("request object");
    if !fetched.status().is_success() {
        return fetched.status().as_u16();
    }
    let jwt = fetched.text().await.expect("body");
    let request = AuthorizationRequest::from_jwt(&jwt, None).expect("request object");
    assert_eq!(request.client_id, link.client_id);
    let query = &request.dcql_query.credentials[0];
    let paths = query.requested_paths();
    let holder: &dyn JwsSigner = &credential.holder;
    let vp = sd_jwt_vc::present(
        &credential.issued,
        &paths,
        Some((holder, &request.client_id, &request.nonce, now())),
    )
    .expect("presentation");
    let vp_token = json!({ query.id.clone(): [vp] }).to_string();
    let state = request.state.clone().unwrap_or_default();
    wallet
        .post(&request.response_uri)
        .form(&[("vp_token", vp_token.as_str()), ("state", state.as_str())])
        .send()
        .await
        .expect("direct_post")
        .status()
        .as_u16()
}

/// An example app on 127.0.0.1, configured from its shipped `config.toml` with the data
/// directory and trust list moved into a temporary directory.
pub struct Running {
    pub base: String,
    pub dir: tempfile::TempDir,
}

pub async fn run(
    example: &str,
    app: fn(ServiceConfig) -> anyhow::Result<Router>,
    issuer: &Issuer,
) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(example)
        .join("config.toml");
    let mut config = ServiceConfig::load(&template).expect("the shipped config.toml loads");
    let trust = dir.path().join("trust.json");
    std::fs::write(&trust, issuer.trust_list()).expect("trust list");
    config.listen = addr.to_string();
    config.public_url = base.clone();
    config.data_dir = dir.path().join("data").join("verifier");
    config.trust_list = trust;
    let router = app(config).expect("app");
    tokio::spawn(async move { axum::serve(listener, router).await });
    Running { base, dir }
}

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A page as the browser sees it.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

async fn read(r: reqwest::Response) -> Page {
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.expect("body"),
    }
}

pub async fn get(browser: &reqwest::Client, url: &str) -> Page {
    read(browser.get(url).send().await.expect("GET")).await
}

pub async fn post(browser: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Page {
    read(browser.post(url).form(form).send().await.expect("POST")).await
}

/// Undoes the page template's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of attribute `attr` of the element with id `id`.
pub fn attr(page: &str, id: &str, attr: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let start = page[..at].rfind('<').expect("tag start");
    let end = at + page[at..].find('>').expect("tag end");
    let tag = &page[start..end];
    let from = tag
        .find(&format!(" {attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
        + attr.len()
        + 3;
    let len = tag[from..].find('"').expect("attribute end");
    unescape(&tag[from..from + len])
}

/// A started check, as read from the prompt page.
pub struct Check {
    pub link: String,
    pub poll: String,
    pub next: String,
    pub page: Page,
}

/// Presses the start button at `path` and reads the prompt.
pub async fn start_check(browser: &reqwest::Client, base: &str, path: &str) -> Check {
    let page = post(browser, &format!("{base}{path}"), &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "the prompt shows a QR code");
    Check {
        link: attr(&page.body, "wallet-link", "href"),
        poll: format!("{base}{}", attr(&page.body, "check-status", "data-poll")),
        next: format!("{base}{}", attr(&page.body, "check-status", "data-next")),
        page,
    }
}

/// Polls the status endpoint like `/static/app.js` until the wallet has answered.
pub async fn wait(browser: &reqwest::Client, poll: &str) -> Value {
    for _ in 0..100 {
        let page = get(browser, poll).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let v: Value = serde_json::from_str(&page.body).expect("status JSON");
        if v["status"] != "pending" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the check stayed pending");
}

/// Checks that no page shows anything personal: none of the register data, and not the
/// pseudonym itself.
pub fn assert_no_personal_data(pages: &[&str], record: &ResidentRecord, pseudonyms: &[String]) {
    let personal = [
        record.given_name.clone(),
        record.family_name.clone(),
        record.birthdate.to_string(),
        record.address.street_address.clone(),
        record.address.postal_code.clone(),
        record.resident_since.to_string(),
    ];
    for page in pages {
        for p in personal.iter().chain(pseudonyms) {
            assert!(!page.contains(p.as_str()), "a page shows {p:?}:\n{page}");
        }
    }
}

/// The strict CSP and the page basics (language, viewport, the script as a file).
pub fn assert_page_basics(page: &Page) {
    let csp = page
        .headers
        .get("content-security-policy")
        .expect("CSP")
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("name=\"viewport\""));
    assert!(page
        .body
        .contains("<script src=\"/static/app.js\" defer></script>"));
    assert_eq!(page.body.matches("<script").count(), 1, "no inline script");
    assert!(!page.body.contains("style=\""), "no inline style");
    assert!(page
        .body
        .contains("<link rel=\"stylesheet\" href=\"/static/app.css\">"));
    for external in [" src=\"http", " href=\"http", " src=\"//", " href=\"//"] {
        assert!(!page.body.contains(external), "no external assets");
    }
}
