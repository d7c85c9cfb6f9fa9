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
use super::AppState;
use crate::account::CredentialState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/me") }))
        .route("/enroll", get(enroll))
        .route("/login", get(login))
        .route("/me", get(me))
        .route("/authorize", get(authorize))
        .route("/wallet-provider", get(wallet_provider))
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

async fn enroll(State(app): State<AppState>) -> Html<String> {
    page(
        &app.issuer.context.config.agency_name,
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

async fn login(State(app): State<AppState>) -> Html<String> {
    page(
        &app.issuer.context.config.agency_name,
        "Sign in",
        None,
        r#"<p>Sign in with the passkey you created for this service.</p>
<button id="login-button" type="button">Sign in with a passkey</button>
<p>No passkey yet? <a href="/enroll">Set one up with your enrollment code</a>.</p>"#,
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
        Err(e) => {
            let main = format!(
                "<p>This request from your wallet cannot be used: {}.</p><p>Start again from your wallet.</p>",
                esc(&e.description)
            );
            let mut resp = page(&agency, "Request expired", None, &main).into_response();
            *resp.status_mut() = e.status;
            return resp;
        }
    };
    let wallet = esc(&pending.wallet);
    let Ok(resident) = resident else {
        let main = format!(
            r#"<p><strong>{wallet}</strong> asks for your residency credential. Sign in with your passkey first.</p>
<button id="login-button" type="button" data-return-here>Sign in with a passkey</button>
<p>No passkey yet? <a href="/enroll">Set one up with your enrollment code</a>.</p>"#
        );
        return page(&agency, "Sign in", None, &main).into_response();
    };
    let main = format!(
        r#"<section id="authorization" data-client-id="{client}" data-request-uri="{uri}">
<p><strong>{wallet}</strong> asks for your residency credential.</p>
<p>It will go to the wallet at <strong>{destination}</strong>: a batch of single-use copies, each bound to a key on your device.</p>
<p><button type="button" data-authorize="approve">Add to {wallet}</button>
<button type="button" class="secondary" data-authorize="deny">Cancel</button></p>
</section>"#,
        client = esc(&query.client_id),
        uri = esc(&query.request_uri),
        destination = esc(&pending.destination),
    );
    page(
        &agency,
        "Add your residency credential",
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
        Err(e) => {
            let main = format!(
                "<p>This request from your wallet cannot be used: {}.</p><p>Start again from your wallet.</p>",
                esc(&e.description)
            );
            let mut resp = page(&agency, "Request refused", None, &main).into_response();
            *resp.status_mut() = e.status;
            return resp;
        }
    };
    let wallet = esc(&asked.wallet);
    let Ok(resident) = resident else {
        let main = format!(
            r#"<p><strong>{wallet}</strong> asks {agency} to confirm that it is a genuine civic wallet. Sign in with your passkey first.</p>
<button id="login-button" type="button" data-return-here>Sign in with a passkey</button>
<p>No passkey yet? <a href="/enroll">Set one up with your enrollment code</a>.</p>"#,
            agency = esc(&agency),
        );
        return page(&agency, "Sign in", None, &main).into_response();
    };
    let main = format!(
        r#"<section id="wallet-attestation" data-client-id="{client}" data-redirect-uri="{redirect}" data-state="{state}" data-jwk="{jwk}">
<p><strong>{wallet}</strong> at <strong>{destination}</strong> asks {agency} to confirm that it is a genuine civic wallet, so that it can ask for your residency credential.</p>
<p>The confirmation names the wallet and a key it made on this device. It does not name you or your device, and {agency} keeps no record of it.</p>
<p><button type="button" data-attest="approve">Confirm {wallet}</button>
<button type="button" class="secondary" data-attest="deny">Cancel</button></p>
</section>"#,
        client = esc(&query.client_id),
        redirect = esc(&query.redirect_uri),
        state = esc(&query.state),
        jwk = esc(&query.jwk),
        destination = esc(&asked.destination),
        agency = esc(&agency),
    );
    page(
        &agency,
        "Confirm your wallet",
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
    let mut main = String::from(
        "<section aria-labelledby=\"held\"><h2 id=\"held\">What we hold about you</h2><dl>",
    );
    main.push_str(&row("Register number", &view.resident.register_id));
    for label in CLAIM_LABELS {
        let path = ClaimPath::keys(label.path.iter().copied());
        main.push_str(&row(label.name, &value(&path)));
    }
    main.push_str(&row("Registration valid until", &view.resident.valid_until));
    main.push_str("</dl></section>\n<section aria-labelledby=\"pk\"><h2 id=\"pk\">Your passkeys</h2><ul class=\"list\">");
    for p in &view.passkeys {
        main.push_str(&format!(
            r#"<li><span>{name}</span> <button type="button" class="secondary" data-remove-passkey="{}" aria-label="Remove {name}">Remove</button></li>"#,
            esc(&p.id),
            name = esc(&p.name),
        ));
    }
    main.push_str("</ul><button id=\"add-passkey\" type=\"button\" class=\"secondary\">Add a passkey</button></section>\n");
    main.push_str("<section aria-labelledby=\"cr\"><h2 id=\"cr\">Your residency credentials</h2>");
    if view.credentials.is_empty() {
        main.push_str("<p>You have not added a residency credential to a wallet yet.</p>");
    } else {
        main.push_str(&format!(
            "<p>{} copies issued: {} valid, {} suspended, {} revoked, {} expired.</p>",
            view.credentials.len(),
            view.count(CredentialState::Valid),
            view.count(CredentialState::Suspended),
            view.count(CredentialState::Revoked),
            view.count(CredentialState::Expired),
        ));
    }
    if view.can_receive_credential {
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
            esc(view.blocked_because.as_deref().unwrap_or("unknown reason"))
        ));
    }
    main.push_str("</section>\n<p><button id=\"logout\" type=\"button\" class=\"secondary\">Sign out</button></p>");
    Ok(page(
        &app.issuer.context.config.agency_name,
        "Your residency",
        Some(&resident.session.csrf_token),
        &main,
    )
    .into_response())
}
