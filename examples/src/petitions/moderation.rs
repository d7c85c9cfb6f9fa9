//! The petitions moderator: signs in with a token (its SHA-256 in [`super::Settings`]), gets an
//! `HttpOnly; SameSite=Strict` cookie for an hour (an expiry and an HMAC with a key random per
//! process), and hides or shows proposals. The moderator sees what residents see: no proposal
//! says who wrote or signed it.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{extract::State, Form, Router};
use serde::Deserialize;

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::{b64_encode, ct_eq, sha256_hex};
use civic_service::cookies::CookieJar;

use super::{button, site, App, Choice, S};
use crate::messages::t;
use crate::petition_book::Proposal;
use crate::{escape, page, Failure};

/// The moderator's cookie.
const COOKIE: &str = "petitions_moderator";
/// How long a moderator stays signed in.
const SECS: i64 = 3600;

/// The moderator's routes, on the app's state.
pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/moderate", get(moderate))
        .route("/moderate/login", post(login))
        .route("/moderate/logout", post(logout))
        .route("/moderate/hide", post(hide))
        .route("/moderate/show", post(show))
}

impl App {
    fn moderator_value(&self, expires: i64) -> String {
        let mac = hmac_sha256(
            &self.secret,
            &[b"moderator.", expires.to_string().as_bytes()],
        );
        format!("{expires}.{}", b64_encode(&mac))
    }

    /// Whether the request carries a live moderator cookie.
    fn is_moderator(&self, headers: &HeaderMap) -> bool {
        let jar = CookieJar::from_headers(headers);
        let Some(value) = self.cookies.read(&jar, COOKIE) else {
            return false;
        };
        let Some(expires) = value
            .split_once('.')
            .and_then(|(t, _)| t.parse::<i64>().ok())
        else {
            return false;
        };
        expires > self.checks.now()
            && ct_eq(value.as_bytes(), self.moderator_value(expires).as_bytes())
    }

    /// A moderator's state-changing request: same site, signed in.
    fn moderator(&self, headers: &HeaderMap) -> Result<(), Failure> {
        self.checks.same_origin(headers)?;
        if self.is_moderator(headers) {
            Ok(())
        } else {
            Err(Failure::new(403, t("moderation-sign-in-first")))
        }
    }
}

fn moderation_page(body: &str) -> Response {
    page(&site(), &t("moderation-title"), body)
}

async fn moderate(State(app): S, headers: HeaderMap) -> Result<Response, Failure> {
    let e = |id: &str| escape(&t(id));
    if !app.is_moderator(&headers) {
        let body = format!(
            "<form method=\"post\" action=\"/moderate/login\">\n<label for=\"token\">{}</label>\n\
             <input id=\"token\" name=\"token\" type=\"password\" required autocomplete=\"current-password\">\n\
             <p><button type=\"submit\">{}</button></p>\n</form>",
            e("moderation-token"),
            e("moderation-sign-in"),
        );
        return Ok(moderation_page(&body));
    }
    let actions = |id: &str, p: &Proposal| {
        if p.hidden {
            format!(
                "{} <span class=\"badge\">{}</span>",
                button("/moderate/show", id, "moderation-show", &p.title),
                e("moderation-hidden")
            )
        } else {
            button("/moderate/hide", id, "moderation-hide", &p.title)
        }
    };
    let body = format!(
        "<p>{}</p>\n<h2 id=\"proposals\">{}</h2>\n{}\n\
         <form method=\"post\" action=\"/moderate/logout\"><button type=\"submit\">{}</button></form>",
        e("moderation-intro"),
        e("moderation-all"),
        app.proposals(true, actions)?,
        e("moderation-sign-out"),
    );
    Ok(moderation_page(&body))
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    token: String,
}

async fn login(
    State(app): S,
    headers: HeaderMap,
    Form(form): Form<Login>,
) -> Result<Response, Failure> {
    app.checks.same_origin(&headers)?;
    let expected = app.settings.moderator_token_sha256.to_ascii_lowercase();
    if !ct_eq(sha256_hex(&form.token).as_bytes(), expected.as_bytes()) {
        return Err(Failure::new(403, t("moderation-wrong-token")));
    }
    let expires = app.checks.now() + SECS;
    let cookie = app.cookies.cookie(
        COOKIE,
        app.moderator_value(expires),
        Duration::from_secs(SECS.unsigned_abs()),
    );
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>\n<p><a href=\"/moderate\">{}</a></p>",
        escape(&t("moderation-signed-in")),
        escape(&t("moderation-to-proposals"))
    );
    Ok((CookieJar::new().add(cookie), moderation_page(&body)).into_response())
}

async fn logout(State(app): S, headers: HeaderMap) -> Result<Response, Failure> {
    app.checks.same_origin(&headers)?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>",
        escape(&t("moderation-signed-out"))
    );
    let removal = app.cookies.removal(COOKIE);
    Ok((CookieJar::new().add(removal), moderation_page(&body)).into_response())
}

async fn set_hidden(
    app: &App,
    headers: &HeaderMap,
    id: &str,
    hidden: bool,
) -> Result<Response, Failure> {
    app.moderator(headers)?;
    app.book.set_hidden(id, hidden)?;
    app.book.flush().await?;
    let done = t(if hidden {
        "moderation-done-hidden"
    } else {
        "moderation-done-shown"
    });
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>\n<p><a href=\"/moderate\">{}</a></p>",
        escape(&done),
        escape(&t("moderation-back"))
    );
    Ok(moderation_page(&body))
}

async fn hide(
    State(app): S,
    headers: HeaderMap,
    Form(form): Form<Choice>,
) -> Result<Response, Failure> {
    set_hidden(&app, &headers, &form.proposal, true).await
}

async fn show(
    State(app): S,
    headers: HeaderMap,
    Form(form): Form<Choice>,
) -> Result<Response, Failure> {
    set_hidden(&app, &headers, &form.proposal, false).await
}
