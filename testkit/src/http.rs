//! HTTP for tests: clients that reach the services on 127.0.0.1 and never a proxy, JSON answers,
//! and table-driven bad-input cases.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

/// A listener on a free port of 127.0.0.1, and the port.
pub async fn listen() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// A client that sends `localhost` to 127.0.0.1:`port`, keeps cookies and uses no proxy.
pub fn client(port: u16) -> reqwest::Client {
    client_with_jar(port).0
}

/// A client for one instance of several behind the same public URL, as a load balancer would
/// route it: every plain-http request, whatever its host and port, goes to 127.0.0.1:`port`
/// (sent as to a forwarding proxy; the services route on the path). Keeps cookies.
pub fn client_to_instance(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).expect("proxy"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Like [`client`], with its cookie jar, so a test can plant a cookie (as an attacker would).
pub fn client_with_jar(port: u16) -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    (client, jar)
}

/// Status and JSON body (`Null` if the body is not JSON).
pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One bad request and the error it must get.
pub struct BadInput {
    /// What the case is, for the failure message.
    pub name: &'static str,
    /// The method.
    pub method: reqwest::Method,
    /// The path below the service's base URL.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The status it must get.
    pub status: u16,
    /// The `error` code it must carry.
    pub error: &'static str,
}

impl BadInput {
    /// A case without headers or body.
    pub fn new(
        name: &'static str,
        method: reqwest::Method,
        path: impl Into<String>,
        status: u16,
        error: &'static str,
    ) -> Self {
        BadInput {
            name,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            status,
            error,
        }
    }

    /// With a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// With a body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// With an `application/x-www-form-urlencoded` body.
    pub fn form(self, body: &str) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// With a JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }

    /// With `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// With these headers (`crate::wallet::access_headers`: a token and its DPoP proof).
    pub fn headers(mut self, headers: Vec<(&'static str, String)>) -> Self {
        self.headers.extend(headers);
        self
    }
}

/// Sends every case to `base` and checks its status and error code (and that no case gets a
/// 5xx or a body that is not the JSON error shape). Panics listing every case that failed.
pub async fn check_bad_inputs(http: &reqwest::Client, base: &str, cases: Vec<BadInput>) {
    let mut failed = Vec::new();
    for case in cases {
        let mut req = http.request(case.method.clone(), format!("{base}{}", case.path));
        for (name, value) in &case.headers {
            req = req.header(*name, value);
        }
        if let Some(body) = case.body.clone() {
            req = req.body(body);
        }
        let (status, body) = json(req.send().await.expect("request")).await;
        let error = body["error"].as_str().unwrap_or("<no JSON error>");
        let described = body["error_description"].is_string();
        if status != case.status || error != case.error || !described {
            failed.push(format!(
                "{}: {} {} got {status} {error} (want {} {}): {body}",
                case.name, case.method, case.path, case.status, case.error
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "bad inputs answered wrongly:\n{}",
        failed.join("\n")
    );
}
