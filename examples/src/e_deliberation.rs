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

use crate::{escape, open_records, page, short_hash, utc, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "e_deliberation";
const SITE: &str = "Teststad deliberation";
/// The policy (in the configuration) behind the badge.
pub const POLICY: &str = "verified-resident";
/// The proposal under discussion.
pub const PROPOSAL: &str = "Draft plan: a new library in the former tram depot";
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
    Ok(crate::SECURITY_HEADERS.apply(
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
    ))
}

impl App {
    async fn add(&self, text: Option<String>, badge: Option<String>) -> Result<Response, Failure> {
        let text = text.unwrap_or_default().trim().replace("\r\n", "\n");
        if text.is_empty() || text.chars().count() > MAX_COMMENT_CHARS {
            return Err(Failure::new(
                400,
                format!("A comment has 1 to {MAX_COMMENT_CHARS} characters."),
            ));
        }
        let record = serde_json::to_vec(&Comment {
            text,
            at: self.checks.now(),
            badge,
        })
        .map_err(|_| Failure::new(400, "This comment could not be stored."))?;
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
                Some(b) => format!(
                    "<span class=\"badge\">Verified resident</span> <code>{}</code>",
                    escape(b)
                ),
                None => "Not verified".to_owned(),
            };
            items.push_str(&format!(
                "<li class=\"comment\"><p>{}</p><p class=\"meta\">{who} · <time>{}</time></p></li>\n",
                escape(&c.text),
                utc(c.at)
            ));
        }
        if items.is_empty() {
            items = "<li>No comments yet.</li>".into();
        }
        Ok(format!("<h2 id=\"comments\">Comments</h2>\n<ol class=\"comments\" aria-labelledby=\"comments\">\n{items}</ol>"))
    }
}

fn comment_form(action: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">\n<label for=\"text\">Your comment</label>\n\
         <textarea id=\"text\" name=\"text\" maxlength=\"{MAX_COMMENT_CHARS}\" required \
         aria-describedby=\"text-hint\"></textarea>\n<p id=\"text-hint\" class=\"small\">Please do not write \
         personal details: comments are public.</p>\n<p><button type=\"submit\">{}</button></p>\n</form>",
        escape(action),
        escape(button)
    )
}

async fn home(State(app): S) -> Result<Response, Failure> {
    let body = format!(
        "<p>The council asks for your views on: <strong>{}</strong>.</p>\n\
         <h2>Comment as a verified resident</h2>\n<p>Your wallet shows that you live in Teststad and \
         gives this site a pseudonym. Your comment then shows a <em>verified resident</em> badge with a \
         short code made from that pseudonym, never your name.</p>\n\
         <form method=\"post\" action=\"/verify/start\"><button type=\"submit\">Verify with my residency \
         credential</button></form>\n<h2>Comment without verifying</h2>\n{}\n{}",
        escape(PROPOSAL),
        comment_form("/comments", "Post without badge"),
        app.list()?
    );
    Ok(page(SITE, "E-deliberation", &body))
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
        .start_page(SITE, "Verify: show that you live in Teststad", "/verify")
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
            "<p class=\"notice\">{} Your comments will show <span class=\"badge\">Verified resident</span> \
             <code>{}</code>.</p>\n{}",
            escape(&outcome.message()),
            escape(&short_hash(pseudonym)),
            comment_form(&format!("/verify/{id}/comment"), "Post as verified resident")
        ),
        Outcome::Pending => format!(
            "<p role=\"status\">{}</p>\n<p><a href=\"/verify/{}\">Check again</a></p>",
            escape(&outcome.message()),
            escape(&id)
        ),
        other => format!(
            "<p class=\"notice\">{}</p>\n<p>You can still <a href=\"/\">comment without a badge</a>.</p>",
            escape(&other.message())
        ),
    };
    Ok(page(SITE, "Comment as a verified resident", &body))
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
