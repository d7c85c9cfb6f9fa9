//! The resident pages: server-rendered HTML that works without a framework, with one small script
//! (`/static/app.js`) for the WebAuthn ceremonies and the offer dialog.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::resident::session;
use super::{blocking, AppState};
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/me") }))
        .route("/enroll", get(enroll))
        .route("/login", get(login))
        .route("/me", get(me))
        .route(
            "/static/app.js",
            get(|| async {
                asset(
                    include_str!("../../assets/app.js"),
                    "text/javascript; charset=utf-8",
                )
            }),
        )
        .route(
            "/static/style.css",
            get(|| async {
                asset(
                    include_str!("../../assets/style.css"),
                    "text/css; charset=utf-8",
                )
            }),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(agency: &str, title: &str, csrf: Option<&str>, main: &str) -> Html<String> {
    let csrf = csrf.map_or(String::new(), |t| {
        format!(r#"<meta name="csrf-token" content="{}">"#, esc(t))
    });
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{csrf}
<title>{title} · {agency}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script type="module" src="/static/app.js"></script>
</head>
<body>
<header><p class="agency">{agency}</p></header>
<main id="main">
<h1>{title}</h1>
{main}
<p id="status" role="status" aria-live="polite"></p>
</main>
</body>
</html>"#,
        agency = esc(agency),
        title = esc(title),
    ))
}

async fn enroll(State(s): State<AppState>) -> Html<String> {
    page(
        &s.issuer.config.agency_name,
        "Set up your passkey",
        None,
        r#"<p>Enter the enrollment code from your letter. Your device will then create a passkey: you unlock it with your fingerprint, face or screen lock.</p>
<form id="enroll-form" autocomplete="off">
<label for="code">Enrollment code</label>
<input id="code" name="code" required inputmode="text" autocapitalize="characters" spellcheck="false" placeholder="ABCDE-FGHJK-MNPQR-STVWX" aria-describedby="code-help">
<p id="code-help" class="help">20 letters and digits; dashes and spaces are optional.</p>
<button type="submit">Create passkey</button>
</form>
<p>Already set up? <a href="/login">Sign in</a>.</p>"#,
    )
}

async fn login(State(s): State<AppState>) -> Html<String> {
    page(
        &s.issuer.config.agency_name,
        "Sign in",
        None,
        r#"<p>Sign in with the passkey you created for this service.</p>
<button id="login-button" type="button">Sign in with a passkey</button>
<p>No passkey yet? <a href="/enroll">Set one up with your enrollment code</a>.</p>"#,
    )
}

fn row(label: &str, value: &str) -> String {
    format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value))
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

async fn me(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Ok(session) = session(&st, &headers).await else {
        return Ok(Redirect::to("/login").into_response());
    };
    let id = session.register_id.clone();
    let view = blocking(&st, move |i| crate::account::account_view(i, &id)).await?;
    let r = &view["resident"];
    let mut main = String::from(
        "<section aria-labelledby=\"held\"><h2 id=\"held\">What we hold about you</h2><dl>",
    );
    for (label, ptr) in [
        ("Register number", "/register_id"),
        ("Given name", "/given_name"),
        ("Family name", "/family_name"),
        ("Date of birth", "/birthdate"),
        ("Street address", "/address/street_address"),
        ("Postal code", "/address/postal_code"),
        ("Town or city", "/address/locality"),
        ("Country", "/address/country"),
        ("Municipality", "/residence/municipality"),
        ("Municipality code", "/residence/municipality_code"),
        ("District", "/residence/district"),
        ("Resident since", "/resident_since"),
        ("Registration valid until", "/valid_until"),
    ] {
        main.push_str(&row(label, s(r, ptr)));
    }
    main.push_str("</dl></section>\n<section aria-labelledby=\"pk\"><h2 id=\"pk\">Your passkeys</h2><ul class=\"list\">");
    for p in view["passkeys"].as_array().into_iter().flatten() {
        main.push_str(&format!(
            r#"<li><span>{name}</span> <button type="button" class="secondary" data-remove-passkey="{}" aria-label="Remove {name}">Remove</button></li>"#,
            esc(s(p, "/id")),
            name = esc(s(p, "/name")),
        ));
    }
    main.push_str("</ul><button id=\"add-passkey\" type=\"button\" class=\"secondary\">Add a passkey</button></section>\n");
    main.push_str("<section aria-labelledby=\"cr\"><h2 id=\"cr\">Your residency credentials</h2>");
    let creds = view["credentials"].as_array().cloned().unwrap_or_default();
    if creds.is_empty() {
        main.push_str("<p>You have not added a residency credential to a wallet yet.</p>");
    } else {
        let count = |st: &str| creds.iter().filter(|c| c["status"] == st).count();
        main.push_str(&format!(
            "<p>{} copies issued: {} valid, {} suspended, {} revoked, {} expired.</p>",
            creds.len(),
            count("valid"),
            count("suspended"),
            count("revoked"),
            count("expired")
        ));
    }
    if view["can_receive_credential"].as_bool() == Some(true) {
        main.push_str(r##"<button id="offer-button" type="button">Add residency credential to my wallet</button>
<div id="offer" hidden>
<p>Scan this code with your wallet, or open the link on this device.</p>
<figure id="offer-qr" role="img" aria-label="QR code of the credential offer"></figure>
<p><a id="offer-link" href="#">Open in my wallet on this device</a></p>
<p id="offer-tx" hidden>Your wallet will ask for this code: <strong id="offer-tx-code"></strong></p>
<p class="help">The offer works once and expires in a few minutes.</p>
</div>"##);
    } else {
        main.push_str(&format!(
            "<p>A credential cannot be issued now: {}.</p>",
            esc(view["blocked_because"].as_str().unwrap_or("unknown reason"))
        ));
    }
    main.push_str("</section>\n<p><button id=\"logout\" type=\"button\" class=\"secondary\">Sign out</button></p>");
    Ok(page(
        &st.issuer.config.agency_name,
        "Your residency",
        Some(&session.csrf_token),
        &main,
    )
    .into_response())
}
