//! An example platform on 127.0.0.1, launched from its shipped configuration with its data in a
//! temporary directory, and a browser to drive its pages.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use serde_json::Value;

use civic_credential::residency::ResidentRecord;
use civic_verifier::VerifierConfig;

use crate::credentials::TestIssuer;

/// An example app on 127.0.0.1, configured from its shipped `config.toml` with the data
/// directory and trust list moved into a temporary directory.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The temporary directory with the app's data.
    pub dir: tempfile::TempDir,
}

/// Launches `app` (an example's router builder) from `examples/<example>/config.toml` under
/// `examples_dir`, trusting `issuer`. The app's platform id becomes its origin on this port (the
/// verifier wallets give its pseudonym to), and `issuer` issues pseudonyms for it.
pub async fn run(
    examples_dir: &Path,
    example: &str,
    app: fn(VerifierConfig) -> anyhow::Result<Router>,
    issuer: &TestIssuer,
) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let template = examples_dir.join(example).join("config.toml");
    let mut config = VerifierConfig::load(&template).expect("the shipped config.toml loads");
    let trust = dir.path().join("trust.json");
    std::fs::write(&trust, issuer.trust_list()).expect("trust list");
    config.listen = addr.to_string();
    config.public_url = base.clone();
    for platform in &mut config.platforms {
        platform.id = base.clone();
    }
    issuer.add_platform(&base);
    config.data_dir = dir.path().join("data").join("verifier");
    config.trust_list = trust;
    let router = app(config).expect("app");
    tokio::spawn(async move { axum::serve(listener, router).await });
    Running { base, dir }
}

/// A browser: keeps cookies, does not follow redirects, uses no proxy.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client")
}

/// A page as the browser sees it.
pub struct Page {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The HTML (or JSON).
    pub body: String,
}

async fn read(r: reqwest::Response) -> Page {
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.expect("body"),
    }
}

/// GETs `url`.
pub async fn get(browser: &reqwest::Client, url: &str) -> Page {
    read(browser.get(url).send().await.expect("GET")).await
}

/// POSTs `form` to `url`.
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
    /// The wallet link.
    pub link: String,
    /// The status endpoint the page polls.
    pub poll: String,
    /// Where the page goes once the wallet answered.
    pub next: String,
    /// The prompt page.
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
