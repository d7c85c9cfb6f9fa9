//! The resident pages: server-rendered HTML that works without a framework, with one small script
//! (`/static/app.js`) for the WebAuthn ceremonies and the offer dialog.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use civic_credential::residency::labels::CLAIM_LABELS;
use civic_credential::sd_jwt::ClaimPath;
use civic_service::html::escape as esc;
use civic_service::respond::asset;
use civic_service::ApiError;

use super::guards::Resident;
use super::messages::{f, lang_tag, script_messages, t, with_language};
use super::AppState;
use crate::account::CredentialState;
use crate::issuance::Blocker;

pub(super) fn routes() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/me") }))
        .route("/enroll", get(enroll))
        .route("/login", get(login))
        .route("/me", get(me))
        .route("/authorize", get(authorize))
        .route("/wallet-provider", get(wallet_provider));
    with_language(pages)
        .route(
            "/static/app.js",
            get(|| async {
                asset(
                    include_str!("../../assets/app.js"),
                    "text/javascript; charset=utf-8",
                    "no-cache",
                )
            }),
        )
        .route(
            "/static/style.css",
            get(|| async {
                asset(
                    include_str!("../../assets/style.css"),
                    "text/css; charset=utf-8",
                    "no-cache",
                )
            }),
        )
}

fn page(agency: &str, title: &str, csrf: Option<&str>, main: &str) -> Html<String> {
    let csrf = csrf.map_or(String::new(), |t| {
        format!(r#"<meta name="csrf-token" content="{}">"#, esc(t))
    });
    Html(format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{csrf}
<title>{title} · {agency}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<script type="module" src="/static/app.js"></script>
</head>
<body data-messages="{messages}">
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
        lang = esc(&lang_tag()),
        messages = esc(&script_messages()),
    ))
}

/// `t(id)`, escaped for HTML.
fn e(id: &str) -> String {
    esc(&t(id))
}

/// The "Sign in with a passkey" button that returns to this page, and the enrollment link.
fn sign_in_here() -> String {
    format!(
        r#"<button id="login-button" type="button" data-return-here>{}</button>
<p>{} <a href="/enroll">{}</a>.</p>"#,
        e("sign-in-button"),
        e("no-passkey-yet"),
        e("no-passkey-link")
    )
}

/// A wallet's request that cannot be used, as a page with the error's status.
fn unusable(agency: &str, title: &str, e: &ApiError) -> Response {
    let main = format!(
        "<p>{}</p><p>{}</p>",
        esc(&f(
            "request-unusable",
            &[("reason", e.description.as_str().into())]
        )),
        esc(&t("start-again-wallet"))
    );
    let mut resp = page(agency, title, None, &main).into_response();
    *resp.status_mut() = e.status;
    resp
}

async fn enroll(State(app): State<AppState>) -> Html<String> {
    let main = format!(
        r#"<p>{}</p>
<form id="enroll-form" autocomplete="off">
<label for="code">{}</label>
<input id="code" name="code" required inputmode="text" autocapitalize="characters" spellcheck="false" placeholder="ABCDE-FGHJK-MNPQR-STVWX" aria-describedby="code-help">
<p id="code-help" class="help">{}</p>
<button type="submit">{}</button>
</form>
<p>{} <a href="/login">{}</a>.</p>"#,
        e("enroll-intro"),
        e("enroll-code"),
        e("enroll-code-help"),
        e("enroll-create"),
        e("enroll-already"),
        e("sign-in"),
    );
    page(
        &app.issuer.context.config.agency_name,
        &t("enroll-title"),
        None,
        &main,
    )
}

async fn login(State(app): State<AppState>) -> Html<String> {
    let main = format!(
        r#"<p>{}</p>
<button id="login-button" type="button">{}</button>
<p>{} <a href="/enroll">{}</a>.</p>"#,
        e("sign-in-intro"),
        e("sign-in-button"),
        e("no-passkey-yet"),
        e("no-passkey-link"),
    );
    page(
        &app.issuer.context.config.agency_name,
        &t("sign-in-title"),
        None,
        &main,
    )
}

/// `GET /authorize?client_id=…&request_uri=…` (the authorization code flow): the passkey
/// sign-in, then which credential goes to which wallet, with a button to confirm or cancel.
async fn authorize(
    State(app): State<AppState>,
    Query(query): Query<AuthorizeQuery>,
    resident: Result<Resident, ApiError>,
) -> Response {
    let agency = app.issuer.context.config.agency_name.clone();
    let (client_id, request_uri) = (query.client_id.clone(), query.request_uri.clone());
    let pending = app
        .run(move |issuer| {
            issuer
                .issuance
                .pending_authorization(&client_id, &request_uri)
        })
        .await;
    let pending = match pending {
        Ok(p) => p,
        Err(err) => return unusable(&agency, &t("request-expired-title"), &err),
    };
    let wallet = pending.wallet.as_str();
    let Ok(resident) = resident else {
        let main = format!(
            "<p>{}</p>\n{}",
            esc(&f("authorize-asks-sign-in", &[("wallet", wallet.into())])),
            sign_in_here()
        );
        return page(&agency, &t("sign-in-title"), None, &main).into_response();
    };
    let main = format!(
        r#"<section id="authorization" data-client-id="{client}" data-request-uri="{uri}">
<p>{asks}</p>
<p>{destination}</p>
<p><button type="button" data-authorize="approve">{approve}</button>
<button type="button" class="secondary" data-authorize="deny">{cancel}</button></p>
</section>"#,
        client = esc(&query.client_id),
        uri = esc(&query.request_uri),
        asks = esc(&f("authorize-asks", &[("wallet", wallet.into())])),
        destination = esc(&f(
            "authorize-destination",
            &[("destination", pending.destination.as_str().into())]
        )),
        approve = esc(&f("authorize-approve", &[("wallet", wallet.into())])),
        cancel = e("cancel"),
    );
    page(
        &agency,
        &t("authorize-title"),
        Some(&resident.session.csrf_token),
        &main,
    )
    .into_response()
}

/// The query of `GET /authorize`.
#[derive(serde::Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    request_uri: String,
}

/// `GET /wallet-provider?client_id=…&redirect_uri=…&state=…&jwk=…`: the issuer's wallet
/// provider. After the passkey sign-in the resident confirms that this issuer may vouch for the
/// wallet on their device (HAIP 1.0 §4.4.1); the wallet comes back with the attestation.
async fn wallet_provider(
    State(app): State<AppState>,
    Query(query): Query<crate::issuance::wallet_provider::AttestationRequest>,
    resident: Result<Resident, ApiError>,
) -> Response {
    let agency = app.issuer.context.config.agency_name.clone();
    let request = query.clone();
    let asked = app
        .run(move |issuer| issuer.issuance.attestation_asked(&request))
        .await;
    let asked = match asked {
        Ok(a) => a,
        Err(err) => return unusable(&agency, &t("request-refused-title"), &err),
    };
    let wallet = asked.wallet.as_str();
    let Ok(resident) = resident else {
        let main = format!(
            "<p>{}</p>\n{}",
            esc(&f(
                "provider-asks-sign-in",
                &[
                    ("wallet", wallet.into()),
                    ("agency", agency.as_str().into())
                ]
            )),
            sign_in_here()
        );
        return page(&agency, &t("sign-in-title"), None, &main).into_response();
    };
    let main = format!(
        r#"<section id="wallet-attestation" data-client-id="{client}" data-redirect-uri="{redirect}" data-state="{state}" data-jwk="{jwk}">
<p>{asks}</p>
<p>{names}</p>
<p><button type="button" data-attest="approve">{approve}</button>
<button type="button" class="secondary" data-attest="deny">{cancel}</button></p>
</section>"#,
        client = esc(&query.client_id),
        redirect = esc(&query.redirect_uri),
        state = esc(&query.state),
        jwk = esc(&query.jwk),
        asks = esc(&f(
            "provider-asks",
            &[
                ("wallet", wallet.into()),
                ("destination", asked.destination.as_str().into()),
                ("agency", agency.as_str().into())
            ]
        )),
        names = esc(&f("provider-names", &[("agency", agency.as_str().into())])),
        approve = esc(&f("provider-approve", &[("wallet", wallet.into())])),
        cancel = e("cancel"),
    );
    page(
        &agency,
        &t("provider-title"),
        Some(&resident.session.csrf_token),
        &main,
    )
    .into_response()
}

fn row(label: &str, value: &str) -> String {
    format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value))
}

async fn me(
    State(app): State<AppState>,
    resident: Result<Resident, ApiError>,
) -> Result<Response, ApiError> {
    let Ok(resident) = resident else {
        return Ok(Redirect::to("/login").into_response());
    };
    let id = resident.session.register_id.clone();
    let view = app.run(move |issuer| issuer.accounts.view(&id)).await?;
    let held = serde_json::to_value(&view.resident)
        .map_err(|e| ApiError::unavailable(format!("the register entry cannot be shown: {e}")))?;
    let value = |path: &ClaimPath| {
        path.lookup(&held)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let mut main = format!(
        "<section aria-labelledby=\"held\"><h2 id=\"held\">{}</h2><dl>",
        e("me-held")
    );
    main.push_str(&row(&t("me-register-number"), &view.resident.register_id));
    for label in CLAIM_LABELS {
        let path = ClaimPath::keys(label.path.iter().copied());
        let name = t(&format!("claim-{}", label.path.join("-")));
        main.push_str(&row(&name, &value(&path)));
    }
    main.push_str(&row(&t("me-valid-until"), &view.resident.valid_until));
    main.push_str(&format!(
        "</dl></section>\n<section aria-labelledby=\"pk\"><h2 id=\"pk\">{}</h2><ul class=\"list\">",
        e("me-passkeys")
    ));
    for p in &view.passkeys {
        main.push_str(&format!(
            r#"<li><span>{}</span> <button type="button" class="secondary" data-remove-passkey="{}" aria-label="{}">{}</button></li>"#,
            esc(&p.name),
            esc(&p.id),
            esc(&f("me-remove-label", &[("name", p.name.as_str().into())])),
            e("me-remove"),
        ));
    }
    main.push_str(&format!(
        "</ul><button id=\"add-passkey\" type=\"button\" class=\"secondary\">{}</button></section>\n\
         <section aria-labelledby=\"cr\"><h2 id=\"cr\">{}</h2>",
        e("me-add-passkey"),
        e("me-credentials")
    ));
    if view.credentials.is_empty() {
        main.push_str(&format!("<p>{}</p>", e("me-no-credentials")));
    } else {
        let count = |s| view.count(s).into();
        main.push_str(&format!(
            "<p>{}</p>",
            esc(&f(
                "me-credential-counts",
                &[
                    ("total", view.credentials.len().into()),
                    ("valid", count(CredentialState::Valid)),
                    ("suspended", count(CredentialState::Suspended)),
                    ("revoked", count(CredentialState::Revoked)),
                    ("expired", count(CredentialState::Expired)),
                ]
            ))
        ));
    }
    if view.can_receive_credential {
        main.push_str(&format!(
            r##"<button id="offer-button" type="button">{}</button>
<div id="offer" hidden>
<p>{}</p>
<figure id="offer-qr" role="img" aria-label="{}"></figure>
<p><a id="offer-link" href="#">{}</a></p>
<p id="offer-tx" hidden>{} <strong id="offer-tx-code"></strong></p>
<p class="help">{}</p>
</div>"##,
            e("me-offer-button"),
            e("me-offer-scan"),
            e("me-offer-qr"),
            e("me-offer-link"),
            e("me-offer-tx"),
            e("me-offer-once"),
        ));
    } else {
        let reason = t(match view.blocker {
            Some(Blocker::NotOnRegister) => "blocked-not-on-register",
            Some(Blocker::LeftRegister) => "blocked-left-register",
            Some(Blocker::RevokedOrSuspended) => "blocked-revoked",
            Some(Blocker::RegistrationExpired) => "blocked-expired",
            Some(Blocker::IncompleteEntry) | None => "blocked-incomplete",
        });
        main.push_str(&format!(
            "<p>{}</p>",
            esc(&f("me-blocked", &[("reason", reason.into())]))
        ));
    }
    main.push_str(&format!(
        "</section>\n<p><button id=\"logout\" type=\"button\" class=\"secondary\">{}</button></p>",
        e("me-sign-out")
    ));
    Ok(page(
        &app.issuer.context.config.agency_name,
        &t("me-title"),
        Some(&resident.session.csrf_token),
        &main,
    )
    .into_response())
}
