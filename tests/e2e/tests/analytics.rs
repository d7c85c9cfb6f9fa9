//! Engagement analytics through the verifier service over HTTP on 127.0.0.1 (sled, or
//! PostgreSQL with `CIVIC_TEST_BACKEND=postgres`): residents verify with credentials from the
//! issuer, days close, and the platform reads its report as JSON, as CSV and on the dashboard.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::Value;

use civic_service::Clock;
use civic_testkit::credentials::{vp_token, Credential};
use civic_testkit::services::*;
use civic_testkit::wallet::Presenter;

#[path = "analytics/dashboard.rs"]
mod dashboard;
use dashboard::dashboard;

const DAY: i64 = 86_400;
const K: i64 = 3;

/// One verification by `cred` for `key`'s `policy`, presented at the verifier's time.
async fn verify(v: &VerifierHandle, key: &str, policy: &str, cred: &Credential) -> Value {
    let (s, created) = v.session(key, policy, None).await;
    assert_eq!(s, 200, "{created}");
    let wallet = Presenter {
        http: &v.http,
        credential: cred,
    };
    let req = wallet
        .request(created["openid4vp_url"].as_str().unwrap())
        .await;
    let query = &req.dcql_query.credentials[0];
    let presentation = cred.present(
        &query.requested_paths(),
        &req.client_id,
        &req.nonce,
        v.clock.now(),
    );
    let vp = vp_token(&query.id, &presentation);
    let state = req.state.clone().unwrap_or_default();
    let (s, body) = wallet
        .post(&req, &[("vp_token", &vp), ("state", &state)])
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, result) = v.result(key, created["id"].as_str().unwrap(), None).await;
    result
}

/// The resident declines.
async fn decline(v: &VerifierHandle, key: &str, policy: &str, cred: &Credential) {
    let (_, created) = v.session(key, policy, None).await;
    let wallet = Presenter {
        http: &v.http,
        credential: cred,
    };
    let req = wallet
        .request(created["openid4vp_url"].as_str().unwrap())
        .await;
    let state = req.state.clone().unwrap_or_default();
    let (s, body) = wallet
        .post(&req, &[("error", "access_denied"), ("state", &state)])
        .await;
    assert_eq!(s, 200, "{body}");
}

fn date(now: i64) -> String {
    civic_verifier::analytics::Day::of(now, 0).to_string()
}

async fn get(v: &VerifierHandle, key: Option<&str>, path: &str) -> reqwest::Response {
    let mut r = v.http.get(format!("{}{path}", v.base));
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.expect("get")
}

/// Every figure of a report's days and totals: none under k.
fn assert_no_small_figure(report: &Value) {
    let mut views = Vec::new();
    for d in report["days"].as_array().unwrap() {
        if let Some(t) = d["total"].as_i64() {
            assert!(t >= K, "{d}");
        }
        views.extend(["outcome", "district", "age_band"].map(|v| d[v].clone()));
    }
    views.extend(["outcome", "district", "age_band"].map(|v| report["totals"][v].clone()));
    for v in views {
        for c in v["cells"].as_array().unwrap() {
            assert!(c["count"].as_i64().unwrap() >= K, "{v}");
        }
        if let Some(o) = v["other"].as_i64() {
            assert!(o >= K, "other under k: {v}");
        }
    }
}

fn categories(view: &Value) -> Vec<(String, i64)> {
    view["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platforms_see_counts_per_day_with_no_figure_under_k() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, v) = start_issuer_and_verifier(
        tmp.path(),
        &format!("[analytics]\nk = {K}\nclose_after_secs = 0\n"),
    )
    .await;
    let mut creds = std::collections::HashMap::new();
    for (resident, copies) in [
        ("D-0001", 4), // district 1, adult
        ("D-0003", 3), // district 1, adult
        ("D-0005", 2), // district 2, adult
        ("D-0006", 1), // district 3, 16
        ("D-0008", 2), // district 1, adult
        ("D-0009", 1), // district 3
        ("D-0013", 1), // district 3
        ("D-0016", 1), // district 4, 14: under 16
    ] {
        creds.insert(resident, issuer.credentials(resident, copies).await);
    }
    let c = |r: &str, i: usize| &creds[r][i];
    // Not within ten minutes of midnight, so that "day one" is one day.
    let to_midnight = DAY - v.clock.now().rem_euclid(DAY);
    if to_midnight < 600 {
        v.clock.advance(to_midnight + 60);
        issuer.clock.advance(to_midnight + 60);
    }
    let day1 = v.clock.now();

    // Day one, budget ("vote": municipality and 16+): D-0001 twice (two copies, one pseudonym),
    // D-0003, D-0005, the minor D-0016, and one decline.
    let r = verify(&v, BUDGET_KEY, "vote", c("D-0001", 0)).await;
    let pseudonym = r["eligibility"]["pseudonym"].clone();
    let r = verify(&v, BUDGET_KEY, "vote", c("D-0001", 1)).await;
    assert_eq!(r["eligibility"]["pseudonym"], pseudonym, "one resident");
    for (who, eligible) in [("D-0003", true), ("D-0005", true), ("D-0016", false)] {
        let r = verify(&v, BUDGET_KEY, "vote", c(who, 0)).await;
        assert_eq!(r["eligibility"]["eligible"], eligible, "{who}: {r}");
    }
    decline(&v, BUDGET_KEY, "vote", c("D-0005", 1)).await;
    // Consultation ("district-3"): three of district 3, three of district 1, one of district 2.
    for who in ["D-0006", "D-0009", "D-0013"] {
        let r = verify(&v, CONSULT_KEY, "district-3", c(who, 0)).await;
        assert_eq!(r["eligibility"]["eligible"], true, "{who}: {r}");
    }
    for (who, i) in [("D-0001", 2), ("D-0003", 1), ("D-0008", 0), ("D-0005", 0)] {
        let r = verify(&v, CONSULT_KEY, "district-3", c(who, i)).await;
        assert_eq!(r["eligibility"]["eligible"], false, "{who}: {r}");
    }

    // Today is not published yet: figures taken minutes apart cannot be subtracted.
    let resp = get(
        &v,
        Some(BUDGET_KEY),
        &format!("/v1/analytics/report?from={}&to={}", date(day1), date(day1)),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let today: Value = resp.json().await.unwrap();
    assert_eq!(today["days"][0]["closed"], false, "{today}");
    assert!(today["days"][0]["total"].is_null(), "{today}");

    // Day two: D-0001 again (counts again on a new day), D-0003 and D-0008.
    v.clock.advance(DAY);
    issuer.clock.advance(DAY);
    for (who, i) in [("D-0001", 3), ("D-0003", 2), ("D-0008", 1)] {
        let r = verify(&v, BUDGET_KEY, "vote", c(who, i)).await;
        assert_eq!(r["eligibility"]["eligible"], true, "{who}: {r}");
    }
    v.clock.advance(DAY);
    let range = format!("from={}&to={}", date(day1), date(day1 + DAY));

    // Budget: day one counts 5 (D-0001 once, not twice), day two 3.
    let resp = get(
        &v,
        Some(BUDGET_KEY),
        &format!("/v1/analytics/report?{range}"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let budget: Value = resp.json().await.unwrap();
    assert_eq!(budget["k"], K, "{budget}");
    assert!(budget["epsilon"].is_null(), "{budget}");
    let totals: Vec<Option<i64>> = budget["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["total"].as_i64())
        .collect();
    assert_eq!(totals, vec![Some(5), Some(3)], "{budget}");
    assert_no_small_figure(&budget);
    // Day one: 3 eligible, the minor and the decline: the two small outcomes are under k
    // together, so `eligible` joins them (or 5 - 3 would give them back).
    let d1 = &budget["days"][0];
    assert_eq!(categories(&d1["outcome"]), vec![]);
    assert_eq!(d1["outcome"]["other"], 5);
    let d2 = &budget["days"][1];
    assert_eq!(categories(&d2["outcome"]), vec![("eligible".into(), 3)]);
    assert_eq!(categories(&d2["age_band"]), vec![("16+".into(), 3)]);

    // Consultation: by district, with the lone resident of district 2 hidden, and not
    // recoverable: district 3 joins `other` (7 - 3 = 4, not 1).
    let resp = get(
        &v,
        Some(CONSULT_KEY),
        &format!("/v1/analytics/report?{range}"),
    )
    .await;
    let consult: Value = resp.json().await.unwrap();
    assert_no_small_figure(&consult);
    let d1 = &consult["days"][0];
    assert_eq!(d1["total"], 7, "{consult}");
    assert_eq!(categories(&d1["district"]), vec![("1".into(), 3)], "{d1}");
    assert_eq!(d1["district"]["other"], 4, "{d1}");
    let outcomes = categories(&d1["outcome"]);
    assert_eq!(
        outcomes,
        vec![
            ("not_eligible: residence.district in [\"3\"]".into(), 4),
            ("eligible".into(), 3)
        ],
        "{d1}"
    );
    assert!(
        consult["days"][1]["total"].is_null(),
        "nobody on day two: {consult}"
    );
    // Closed days keep no key, tag or count: only their published figures.
    // (On a blocking thread: the PostgreSQL client runs a runtime of its own.)
    let (flow, now) = (v.service.flow.clone(), v.clock.now());
    let open = tokio::task::spawn_blocking(move || {
        let analytics = flow.analytics().expect("analytics on");
        analytics
            .store()
            .open_days(civic_verifier::analytics::Day::of(now, 0))
            .unwrap()
    })
    .await
    .unwrap();
    assert!(open.is_empty(), "{open:?}");
    if civic_testkit::issuer_process::on_postgres() {
        let config = std::fs::read_to_string(&v.config).unwrap();
        assert!(config.contains("database = \"postgres"), "{config}");
    }
    // Each platform sees its own counts only.
    assert_eq!(budget["totals"]["total"], 8);
    assert_eq!(consult["totals"]["total"], 7);

    // CSV: the same figures, quoted where needed.
    let resp = get(
        &v,
        Some(CONSULT_KEY),
        &format!("/v1/analytics/report.csv?{range}"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "date,dimension,category,count,k,epsilon");
    let d = date(day1);
    for row in [
        format!("{d},total,,7,3,"),
        format!("{d},district,1,3,3,"),
        format!("{d},district,(other),4,3,"),
        format!("{d},outcome,\"not_eligible: residence.district in [\"\"3\"\"]\",4,3,"),
        format!("{},total,,,3,", date(day1 + DAY)),
        "total,total,,7,3,".to_owned(),
    ] {
        assert!(lines.contains(&row.as_str()), "{row} missing:\n{csv}");
    }

    // Bad input: a clear 4xx in the service's error format, never a 500.
    for (key, query, status, code) in [
        (None, "", 401, "invalid_client"),
        (Some("not-a-key"), "", 401, "invalid_client"),
        (
            Some(CONSULT_KEY),
            "?from=2026-02-30",
            400,
            "invalid_request",
        ),
        (Some(CONSULT_KEY), "?from=yesterday", 400, "invalid_request"),
        (
            Some(CONSULT_KEY),
            "?from=2026-12-05&to=2026-12-01",
            400,
            "invalid_request",
        ),
        (
            Some(CONSULT_KEY),
            "?from=2020-01-01&to=2026-12-01",
            400,
            "invalid_request",
        ),
        (
            Some(CONSULT_KEY),
            "?since=2026-12-01",
            400,
            "invalid_request",
        ),
        (Some(CONSULT_KEY), "?from=%FF", 400, "invalid_request"),
    ] {
        for path in ["/v1/analytics/report", "/v1/analytics/report.csv"] {
            let resp = get(&v, key, &format!("{path}{query}")).await;
            let got = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(got, status, "{path}{query}: {body}");
            assert_eq!(body["error"], code, "{path}{query}: {body}");
        }
    }

    // The OpenAPI document the service serves describes the endpoints.
    let api: Value = get(&v, None, "/openapi.json").await.json().await.unwrap();
    for path in [
        "/v1/analytics/report",
        "/v1/analytics/report.csv",
        "/v1/analytics/dashboard",
        "/v1/analytics/dashboard/login",
        "/v1/analytics/dashboard/logout",
    ] {
        assert!(api["paths"][path].is_object(), "{path} not in openapi.json");
    }

    dashboard(&v, &range, &d).await;
}

/// Two instances on one PostgreSQL database: a resident answering both at the same moment is
/// counted once, and either instance publishes the day once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_count_a_resident_once() {
    let cluster = civic_storage::pg_cluster::TestCluster::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let dir = tempfile::tempdir().expect("verifier dir");
    let a = start_verifier(
        dir.path(),
        &issuer,
        &format!(
            "database = \"{}\"\n[analytics]\nk = 2\nclose_after_secs = 0\n",
            cluster.url()
        ),
    )
    .await;
    let b = start_verifier_replica(&a).await;
    let to_midnight = DAY - a.clock.now().rem_euclid(DAY);
    for clock in [&a.clock, &b.clock, &issuer.clock] {
        if to_midnight < 600 {
            clock.advance(to_midnight + 60);
        }
    }
    let day1 = a.clock.now();
    for resident in ["D-0001", "D-0003", "D-0008"] {
        let copies = issuer.credentials(resident, 2).await;
        let (ra, rb) = tokio::join!(
            verify(&a, BUDGET_KEY, "vote", &copies[0]),
            verify(&b, BUDGET_KEY, "vote", &copies[1])
        );
        assert_eq!(
            ra["eligibility"]["pseudonym"], rb["eligibility"]["pseudonym"],
            "{ra} {rb}"
        );
    }
    for clock in [&a.clock, &b.clock] {
        clock.advance(DAY);
    }
    let path = format!("/v1/analytics/report?from={}&to={}", date(day1), date(day1));
    let (ja, jb) = tokio::join!(
        get(&a, Some(BUDGET_KEY), &path),
        get(&b, Some(BUDGET_KEY), &path)
    );
    let (ja, jb): (Value, Value) = (ja.json().await.unwrap(), jb.json().await.unwrap());
    assert_eq!(ja["days"][0]["total"], 3, "{ja}");
    assert_eq!(ja["days"], jb["days"], "one publication, read by both");
    assert_no_small_figure(&ja);
}

/// With `enabled = false` nothing is counted and the report is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_can_be_turned_off() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, v) = start_issuer_and_verifier(tmp.path(), "[analytics]\nenabled = false\n").await;
    let copies = issuer.credentials("D-0001", 1).await;
    let r = verify(&v, BUDGET_KEY, "vote", &copies[0]).await;
    assert_eq!(r["eligibility"]["eligible"], true, "{r}");
    assert!(v.service.flow.analytics().is_none());
    for path in ["/v1/analytics/report", "/v1/analytics/report.csv"] {
        let resp = get(&v, Some(BUDGET_KEY), path).await;
        assert_eq!(resp.status(), 404, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "not_found", "{body}");
    }
}

/// With `epsilon`, the report states the noise, and the noise is drawn once per figure: a
/// second read gives the same figures (nothing to average away).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_is_stated_and_drawn_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, v) = start_issuer_and_verifier(
        tmp.path(),
        "[analytics]\nk = 2\nepsilon = 2.0\nclose_after_secs = 0\n",
    )
    .await;
    let to_midnight = DAY - v.clock.now().rem_euclid(DAY);
    if to_midnight < 600 {
        v.clock.advance(to_midnight + 60);
        issuer.clock.advance(to_midnight + 60);
    }
    let day1 = v.clock.now();
    for resident in ["D-0001", "D-0003", "D-0008", "D-0010"] {
        let copies = issuer.credentials(resident, 1).await;
        verify(&v, BUDGET_KEY, "vote", &copies[0]).await;
    }
    v.clock.advance(DAY);
    let path = format!("/v1/analytics/report?from={}&to={}", date(day1), date(day1));
    let first: Value = get(&v, Some(BUDGET_KEY), &path).await.json().await.unwrap();
    assert_eq!(first["epsilon"], 2.0, "{first}");
    assert_eq!(first["noise"]["scale"], 1.5, "{first}");
    assert_eq!(first["noise"]["sensitivity"], 1, "{first}");
    assert!(first["noise"]["delta"].as_f64().unwrap() > 0.0, "{first}");
    assert_eq!(first["days"][0]["epsilon"], 2.0, "{first}");
    for _ in 0..3 {
        let again: Value = get(&v, Some(BUDGET_KEY), &path).await.json().await.unwrap();
        assert_eq!(
            again["days"], first["days"],
            "the figures do not change between reads"
        );
    }
    let csv = get(
        &v,
        Some(BUDGET_KEY),
        &path.replace("report?", "report.csv?"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.contains(",2,2\r\n"), "k and ε on each row: {csv}");
}
