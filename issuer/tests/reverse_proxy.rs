//! Rate limits per client address: with `trusted_proxies`, the limit counts each client the
//! proxy forwards, not the proxy; a client that is not a trusted proxy cannot pick its address
//! with a forwarding header; PAR and the token endpoint have a limit of their own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_testkit::issuer_process::TestIssuer;

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

/// The statuses of `n` sign-in starts, each with the `X-Forwarded-For` value `xff(i)`.
async fn sign_ins(t: &TestIssuer, n: usize, xff: impl Fn(usize) -> String) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..n {
        statuses.push(
            t.http
                .post(t.url("/api/login/start"))
                .header("x-forwarded-for", xff(i))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16(),
        );
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    // The test's client connects from 127.0.0.1: here that is the proxy.
    let mut t = TestIssuer::init(
        BIN,
        "rate_limit_per_minute = 3\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]",
    );
    t.start().await;
    // Ten residents behind the proxy: none is locked out by the others.
    let many = sign_ins(&t, 10, |i| format!("203.0.113.{}", i + 1)).await;
    assert!(many.iter().all(|s| *s == 200), "{many:?}");
    // One resident retrying is limited, whatever the proxy's own traffic.
    let one = sign_ins(&t, 5, |_| "198.51.100.7".to_owned()).await;
    assert_eq!(one, [200, 200, 200, 429, 429]);
    // A forged entry on the left of the chain does not get a fresh limit.
    let forged = sign_ins(&t, 2, |i| format!("192.0.2.{i}, 198.51.100.7")).await;
    assert_eq!(forged, [429, 429]);
    // Nor does a `Forwarded` header of the client's own, which a proxy that writes
    // X-Forwarded-For passes on untouched.
    let mut smuggled = Vec::new();
    for i in 0..3 {
        smuggled.push(
            t.http
                .post(t.url("/api/login/start"))
                .header("forwarded", format!("for=192.0.2.{}", 100 + i))
                .header("x-forwarded-for", "198.51.100.7")
                .send()
                .await
                .expect("login")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(smuggled, [429, 429, 429]);
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let mut t = TestIssuer::init(BIN, "rate_limit_per_minute = 3");
    t.start().await;
    let spoofed = sign_ins(&t, 5, |i| format!("203.0.113.{}", i + 1)).await;
    assert_eq!(spoofed, [200, 200, 200, 429, 429]);
}

#[test]
fn a_bad_trusted_proxies_entry_is_refused_at_start() {
    let t = TestIssuer::init(BIN, "");
    let config = t.data.join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    // First, so it is a top-level key whatever tables the file has.
    std::fs::write(
        &config,
        format!("trusted_proxies = [\"proxy.example\"]\n{text}"),
    )
    .expect("write");
    let out = t.tmp.path().join("codes.csv");
    let (ok, _, stderr) = t.try_cli(&[
        "enrollment-codes",
        "--all-unenrolled",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("\"proxy.example\" is not an IP address or network"),
        "{stderr}"
    );
}

/// The statuses and `Retry-After` of `n` token requests with a made-up pre-authorized code.
async fn token_guesses(t: &TestIssuer, n: usize) -> Vec<(u16, Option<String>)> {
    let mut seen = Vec::new();
    for i in 0..n {
        let resp = t
            .http
            .post(t.url("/token"))
            .form(&[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", &format!("guess-{i}")),
            ])
            .send()
            .await
            .expect("token");
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        seen.push((resp.status().as_u16(), retry));
    }
    seen
}

#[tokio::test]
async fn a_code_guesser_at_the_token_endpoint_is_slowed_per_address() {
    let mut t = TestIssuer::init(BIN, "oauth_rate_limit_per_minute = 3");
    t.start().await;
    let seen = token_guesses(&t, 5).await;
    let statuses: Vec<u16> = seen.iter().map(|(s, _)| *s).collect();
    // Three wrong guesses get their protocol error, then the address waits.
    assert_eq!(statuses, [400, 400, 400, 429, 429], "{seen:?}");
    assert_eq!(seen[3].1.as_deref(), Some("60"));
    // PAR shares the budget.
    let par = t
        .http
        .post(t.url("/par"))
        .form(&[("client_id", "x")])
        .send()
        .await
        .expect("par");
    assert_eq!(par.status(), 429);
}
