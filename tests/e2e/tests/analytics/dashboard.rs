//! The operator's dashboard of the analytics suite (`analytics.rs`): sign-in, charts and
//! tables under a strict CSP, escaping.

use std::net::SocketAddr;

use civic_testkit::services::*;

/// A client that neither follows redirects nor keeps cookies (the test sends them itself).
fn browser(v: &VerifierHandle) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], v.http_port)))
        .no_proxy()
        .build()
        .expect("client")
}

/// The operator's dashboard: sign in with the key in a form, see charts and tables under a
/// strict CSP, everything escaped.
pub(crate) async fn dashboard(v: &VerifierHandle, range: &str, d1: &str) {
    let b = browser(v);
    let url = |p: &str| format!("{}{p}", v.base);
    let strict = |resp: &reqwest::Response| {
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        for loose in [
            "unsafe-inline",
            "unsafe-eval",
            "script-src",
            "http:",
            "https:",
            "*",
        ] {
            assert!(!csp.contains(loose), "{loose} in {csp}");
        }
    };
    // Not signed in: the sign-in form, posting the key in the body.
    let resp = b.get(url("/v1/analytics/dashboard")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    strict(&resp);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("method=\"post\"") && page.contains("name=\"api_key\""),
        "{page}"
    );

    // A wrong key, and a form posted from another site, are refused.
    let resp = b
        .post(url("/v1/analytics/dashboard/login"))
        .form(&[("api_key", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("set-cookie").is_none());
    let resp = b
        .post(url("/v1/analytics/dashboard/login"))
        .header("origin", "https://evil.example")
        .form(&[("api_key", CONSULT_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("set-cookie").is_none());

    // The right key: a cookie (HttpOnly, SameSite=Strict) and back to the dashboard.
    let resp = b
        .post(url("/v1/analytics/dashboard/login"))
        .header("origin", &v.base)
        .form(&[("api_key", CONSULT_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/v1/analytics/dashboard");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Max-Age=28800"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    // The cookie is a sign-in ticket, not the key: it is no API key, and a changed expiry
    // or another platform's name in it is refused.
    assert!(!set.contains(CONSULT_KEY), "{set}");
    let value = cookie.split_once('=').unwrap().1.to_owned();
    let resp = b
        .get(url("/v1/analytics/report"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let parts: Vec<&str> = value.split('.').collect();
    let later: i64 = parts[1].parse::<i64>().unwrap() + 86_400;
    for forged in [
        format!("{}.{later}.{}", parts[0], parts[2]),
        format!(
            "{}.{}.{}",
            civic_credential::encoding::b64_encode(b"https://other.example"),
            parts[1],
            parts[2]
        ),
        format!("{}.{}", parts[0], parts[1]),
    ] {
        let resp = b
            .get(url("/v1/analytics/dashboard"))
            .header("cookie", format!("civic_dashboard={forged}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{forged}");
    }
    // A genuine ticket that has expired is refused; the same made for later is taken.
    let id =
        String::from_utf8(civic_credential::encoding::b64_decode(parts[0], "platform").unwrap())
            .unwrap();
    let hash = civic_credential::encoding::sha256_hex(CONSULT_KEY);
    let now = parts[1].parse::<i64>().unwrap() - 8 * 3600;
    for (expires, status) in [(now - 1, 401), (now + 60, 200)] {
        let made = civic_verifier_service::analytics::ticket(&id, &hash, expires);
        let resp = b
            .get(url("/v1/analytics/dashboard"))
            .header("cookie", format!("civic_dashboard={made}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "expires {expires}");
    }

    let resp = b
        .get(url(&format!("/v1/analytics/dashboard?{range}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    strict(&resp);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    for part in [
        "Participation over time",
        "By district",
        "By age band",
        "<svg",
        "role=\"img\"",
        "<table",
        "<th scope=\"row\">1</th><td class=\"n\">3</td>",
        "k = 3",
        d1,
        // The rule's quotes, escaped.
        "not_eligible: residence.district in [&quot;3&quot;]",
    ] {
        assert!(
            page.contains(part),
            "{part} missing from the dashboard:\n{page}"
        );
    }
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    for bad in ["<script", "in [\"3\"]", "http://", "https://", "src="] {
        assert!(!page.contains(bad), "{bad} in the dashboard");
    }
    assert!(!page.contains(CONSULT_KEY), "the key is not in the page");

    // The CSV from the dashboard, with the cookie; bad dates on the page are a 400 page.
    let resp = b
        .get(url(&format!("/v1/analytics/dashboard/report.csv?{range}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().starts_with("date,dimension"));
    let resp = b
        .get(url("/v1/analytics/dashboard?from=2026-13-01"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    strict(&resp);
    let page = resp.text().await.unwrap();
    assert!(page.contains("is not a date"), "{page}");
    // A planted cookie with another value is not a sign-in.
    let resp = b
        .get(url("/v1/analytics/dashboard"))
        .header("cookie", "civic_dashboard=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = b
        .get(url("/v1/analytics/dashboard/report.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Sign-out removes the cookie.
    let resp = b
        .post(url("/v1/analytics/dashboard/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
}
