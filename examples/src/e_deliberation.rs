//! E-deliberation: anyone may comment on a proposal; residents of municipality 0363 who show
//! their residency credential get a "verified resident" badge with a short hash of their
//! pairwise pseudonym. A comment stores its text, its time and that short hash (if any), nothing
//! else. `e_deliberation --config examples/e_deliberation/config.toml`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};

use crate::messages::{f, t};
use crate::{escape, open_records, page, short_hash, utc, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "e_deliberation";
/// The policy (in the configuration) behind the badge.
pub const POLICY: &str = "verified-resident";
/// The proposal under discussion, in the request's language.
pub fn proposal() -> String {
    t("deliberation-proposal")
}

fn site() -> String {
    t("deliberation-site")
}

fn badge() -> String {
    format!(
        "<span class=\"badge\">{}</span>",
        escape(&t("deliberation-badge"))
    )
}
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Comments shown on the page, newest first.
const SHOWN: usize = 100;

struct App {
    checks: Checks,
    db: sled::Db,
    comments: sled::Tree,
}

/// A stored comment.
#[derive(Serialize, Deserialize)]
struct Comment {
    text: String,
    at: i64,
    /// [`short_hash`] of the author's pseudonym, for a verified comment.
    badge: Option<String>,
}

type S = State<Arc<App>>;

/// The app: its pages and the verifier's wallet endpoints, with the comments in sled next to the
/// verifier's data directory.
pub fn app(config: VerifierConfig) -> anyhow::Result<Router> {
    let db = open_records(&config, NAME)?;
    let comments = db.open_tree("comments")?;
    let checks = Checks::new(config, POLICY)?;
    let wallet = checks.wallet_routes();
    let app = Arc::new(App {
        checks,
        db,
        comments,
    });
    Ok(crate::messages::with_language(
        crate::SECURITY_HEADERS.apply(
            Router::new()
                .route("/", get(home))
                .route("/comments", post(comment))
                .route("/verify/start", post(start))
                .route("/verify/{id}", get(verified))
                .route("/verify/{id}/status", get(status))
                .route("/verify/{id}/comment", post(verified_comment))
                .layer(DefaultBodyLimit::max(32 * 1024))
                .with_state(app)
                .merge(crate::assets())
                .merge(wallet),
        ),
    ))
}

impl App {
    async fn add(&self, text: Option<String>, badge: Option<String>) -> Result<Response, Failure> {
        let text = text.unwrap_or_default().trim().replace("\r\n", "\n");
        if text.is_empty() || text.chars().count() > MAX_COMMENT_CHARS {
            return Err(Failure::new(
                400,
                f("deliberation-length", &[("max", MAX_COMMENT_CHARS.into())]),
            ));
        }
        let record = serde_json::to_vec(&Comment {
            text,
            at: self.checks.now(),
            badge,
        })
        .map_err(|_| Failure::new(400, t("deliberation-not-stored")))?;
        let id = self.db.generate_id()?;
        self.comments.insert(id.to_be_bytes(), record)?;
        self.db.flush_async().await?;
        let mut r = StatusCode::SEE_OTHER.into_response();
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/#comments"));
        Ok(r)
    }

    fn list(&self) -> Result<String, Failure> {
        let mut items = String::new();
        for item in self.comments.iter().rev().take(SHOWN) {
            let (_, bytes) = item?;
            let Ok(c) = serde_json::from_slice::<Comment>(&bytes) else {
                continue;
            };
            let who = match &c.badge {
                Some(b) => format!("{} <code>{}</code>", badge(), escape(b)),
                None => escape(&t("deliberation-not-verified")),
            };
            items.push_str(&format!(
                "<li class=\"comment\"><p>{}</p><p class=\"meta\">{who} · <time>{}</time></p></li>\n",
                escape(&c.text),
                utc(c.at)
            ));
        }
        if items.is_empty() {
            items = format!("<li>{}</li>", escape(&t("deliberation-no-comments")));
        }
        Ok(format!(
            "<h2 id=\"comments\">{}</h2>\n<ol class=\"comments\" aria-labelledby=\"comments\">\n{items}</ol>",
            escape(&t("deliberation-comments"))
        ))
    }
}

fn comment_form(action: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">\n<label for=\"text\">{}</label>\n\
         <textarea id=\"text\" name=\"text\" maxlength=\"{MAX_COMMENT_CHARS}\" required \
         aria-describedby=\"text-hint\"></textarea>\n<p id=\"text-hint\" class=\"small\">{}</p>\n\
         <p><button type=\"submit\">{}</button></p>\n</form>",
        escape(action),
        escape(&t("deliberation-your-comment")),
        escape(&t("deliberation-public")),
        escape(button)
    )
}

async fn home(State(app): S) -> Result<Response, Failure> {
    let e = |id: &str| escape(&t(id));
    let body = format!(
        "<p>{} <strong>{}</strong></p>\n<h2>{}</h2>\n<p>{}</p>\n\
         <form method=\"post\" action=\"/verify/start\"><button type=\"submit\">{}</button></form>\n\
         <h2>{}</h2>\n{}\n{}",
        e("deliberation-asks"),
        escape(&proposal()),
        e("deliberation-as-verified"),
        e("deliberation-privacy"),
        e("deliberation-start"),
        e("deliberation-without"),
        comment_form("/comments", &t("deliberation-post-plain")),
        app.list()?
    );
    Ok(page(&site(), &t("deliberation-title"), &body))
}

#[derive(Deserialize)]
struct CommentForm {
    #[serde(default)]
    text: Option<String>,
}

async fn comment(
    State(app): S,
    headers: HeaderMap,
    Form(f): Form<CommentForm>,
) -> Result<Response, Failure> {
    app.checks.same_origin(&headers)?;
    app.add(f.text, None).await
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(&site(), &t("deliberation-check-title"), "/verify")
        .await
}

async fn status(State(app): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    app.checks.status_json(&headers, &id).await
}

async fn verified(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let outcome = app.checks.outcome(&headers, &id).await?;
    let body = match &outcome {
        Outcome::Eligible { pseudonym } => format!(
            "<p class=\"notice\">{} {} {} <code>{}</code></p>\n{}",
            escape(&outcome.message()),
            escape(&t("deliberation-will-show")),
            badge(),
            escape(&short_hash(pseudonym)),
            comment_form(
                &format!("/verify/{id}/comment"),
                &t("deliberation-post-verified")
            )
        ),
        Outcome::Pending => crate::checks::pending_page(&outcome, &format!("/verify/{id}")),
        other => format!(
            "<p class=\"notice\">{}</p>\n<p><a href=\"/\">{}</a></p>",
            escape(&other.message()),
            escape(&t("deliberation-still-plain"))
        ),
    };
    Ok(page(&site(), &t("deliberation-verified-title"), &body))
}

async fn verified_comment(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &id).await?;
    app.add(f.text, Some(short_hash(&pseudonym))).await
}
