//! Petitions (crowdsourced policymaking): residents of municipality 0363 aged 16 or over submit
//! proposals and co-sign others' under their pairwise pseudonym, once per proposal, across copies
//! of their credential and across devices; a proposal with enough signatures is forwarded to the
//! council; signatures can be withdrawn; a moderator ([`moderation`]) hides a proposal without
//! learning who wrote it. The records are in [`crate::petition_book`].
//! `petitions --config examples/petitions/config.toml` (its own settings in `petitions.toml`
//! beside it, see [`Settings`]).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use civic_service::cookies::CookiePolicy;
use civic_verifier::VerifierConfig;

use crate::messages::{f, t};
use crate::petition_book::{
    clean, Book, BookError, Invalid, Proposal, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use crate::{escape, open_records, page, page_with_status, utc, Checks, Failure, Outcome};

pub mod moderation;

/// The app's name (its binary, records directory and settings file).
pub const NAME: &str = "petitions";
/// The policy (in the configuration) a resident must meet to propose and co-sign.
pub const POLICY: &str = "cosign";

/// The app's own settings (`petitions.toml` beside the verifier configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Signatures from eligible residents that forward a proposal to the council.
    pub signature_threshold: u32,
    /// Hex SHA-256 of the moderator's token (`printf %s TOKEN | sha256sum`).
    pub moderator_token_sha256: String,
    /// How many proposals one resident may submit.
    #[serde(default = "default_max_proposals")]
    pub max_proposals_per_resident: u32,
}

fn default_max_proposals() -> u32 {
    3
}

impl Settings {
    fn check(&self) -> anyhow::Result<()> {
        if self.signature_threshold == 0 {
            anyhow::bail!("signature_threshold must be 1 or more");
        }
        let hash = &self.moderator_token_sha256;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("moderator_token_sha256 must be 64 hex digits");
        }
        Ok(())
    }
}

struct App {
    checks: Checks,
    book: Book,
    settings: Settings,
    cookies: CookiePolicy,
    /// Signs moderator cookies; random per process.
    secret: [u8; 32],
}

type S = State<Arc<App>>;

/// The app: its pages, the moderator's pages, the council's feed and the verifier's wallet
/// endpoints, with the records in sled next to the verifier's data directory.
pub fn app(config: VerifierConfig, settings: Settings) -> anyhow::Result<Router> {
    settings.check()?;
    let book = Book::open(open_records(&config, NAME)?)?;
    let cookies = CookiePolicy::for_url(&config.public_url);
    let checks = Checks::new(config, POLICY)?;
    let wallet = checks.wallet_routes();
    let mut secret = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let app = Arc::new(App {
        checks,
        book,
        settings,
        cookies,
        secret,
    });
    Ok(crate::messages::with_language(
        crate::SECURITY_HEADERS.apply(
            Router::new()
                .route("/", get(home))
                .route("/forwarded.json", get(forwarded))
                .route("/check/start", post(start))
                .route("/check/{id}", get(resident_page))
                .route("/check/{id}/status", get(status))
                .route("/check/{id}/propose", post(propose))
                .route("/check/{id}/sign", post(sign))
                .route("/check/{id}/withdraw", post(withdraw))
                .merge(moderation::routes())
                .layer(DefaultBodyLimit::max(32 * 1024))
                .with_state(app)
                .merge(crate::assets())
                .merge(wallet),
        ),
    ))
}

impl From<BookError> for Failure {
    fn from(e: BookError) -> Self {
        match e {
            BookError::NotFound => Failure::new(404, t("petitions-not-found")),
            BookError::AlreadySigned => Failure::new(409, t("petitions-already-signed")),
            BookError::NotSigned => Failure::new(409, t("petitions-not-signed")),
            BookError::TooManyProposals => Failure::new(409, t("petitions-too-many")),
            BookError::Invalid(Invalid::Title) => Failure::new(
                400,
                f("petitions-bad-title", &[("max", MAX_TITLE_CHARS.into())]),
            ),
            BookError::Invalid(Invalid::Text) => Failure::new(
                400,
                f("petitions-bad-text", &[("max", MAX_TEXT_CHARS.into())]),
            ),
            BookError::Storage(e) => {
                tracing::error!(error = %e, "petition records");
                Failure::new(503, t("failure-unavailable"))
            }
        }
    }
}

fn site() -> String {
    t("petitions-site")
}

/// A page (status `status`, title message `title`) that says `said` and links back to the
/// resident's page of check `check`.
fn said_page(status: StatusCode, title: &str, said: &str, check: &str) -> Response {
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>\n<p><a href=\"/check/{}\">{}</a></p>",
        escape(said),
        escape(check),
        escape(&t("petitions-back"))
    );
    page_with_status(status, &site(), &t(title), &body)
}

fn hidden_field(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

/// A one-button form that posts `proposal=id` to `action`, labelled `label` (and, for screen
/// readers, `{label}-for` with the proposal's title).
fn button(action: &str, id: &str, label: &str, title: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{}<button type=\"submit\" aria-label=\"{}\">{}</button></form>",
        escape(action),
        hidden_field("proposal", id),
        escape(&f(&format!("{label}-for"), &[("title", title.into())])),
        escape(&t(label)),
    )
}

impl App {
    fn progress(&self, p: &Proposal) -> String {
        let forwarded = match p.forwarded_at {
            Some(at) => format!(
                " <span class=\"badge\">{}</span> <time>{}</time>",
                escape(&t("petitions-forwarded")),
                utc(at)
            ),
            None => String::new(),
        };
        let of = f(
            "petitions-of-signatures",
            &[("threshold", self.settings.signature_threshold.into())],
        );
        format!(
            "<p class=\"meta\"><strong class=\"signatures\">{}</strong> {}{forwarded}</p>",
            p.signatures,
            escape(&of)
        )
    }

    /// The proposals (the hidden ones too when `hidden`); `actions(id, proposal)` adds the forms
    /// a resident or moderator may use.
    fn proposals(
        &self,
        hidden: bool,
        actions: impl Fn(&str, &Proposal) -> String,
    ) -> Result<String, Failure> {
        let mut items = String::new();
        for (id, p) in self.book.list(hidden)? {
            items.push_str(&format!(
                "<li class=\"proposal\" id=\"proposal-{id}\"><h3>{}</h3><p>{}</p>{}{}</li>\n",
                escape(&p.title),
                escape(&p.text),
                self.progress(&p),
                actions(&id, &p),
                id = escape(&id),
            ));
        }
        if items.is_empty() {
            items = format!("<li>{}</li>", escape(&t("petitions-none")));
        }
        Ok(format!(
            "<ol class=\"comments\" aria-labelledby=\"proposals\">\n{items}</ol>"
        ))
    }
}

fn start_form() -> String {
    format!(
        "<form method=\"post\" action=\"/check/start\"><button type=\"submit\">{}</button></form>",
        escape(&t("petitions-start"))
    )
}

async fn home(State(app): S) -> Result<Response, Failure> {
    let intro = f(
        "petitions-intro",
        &[("threshold", app.settings.signature_threshold.into())],
    );
    let body = format!(
        "<p>{}</p>\n<p>{}</p>\n{}\n<h2 id=\"proposals\">{}</h2>\n{}\n\
         <p class=\"small\"><a href=\"/moderate\">{}</a> · <a href=\"/forwarded.json\">{}</a></p>",
        escape(&intro),
        escape(&t("petitions-privacy")),
        start_form(),
        escape(&t("petitions-proposals")),
        app.proposals(false, |_, _| String::new())?,
        escape(&t("petitions-moderators")),
        escape(&t("petitions-feed")),
    );
    Ok(page(&site(), &t("petitions-title"), &body))
}

/// The forwarded proposals, for the council's clerk: title, text, signatures, when.
async fn forwarded(State(app): S) -> Result<Response, Failure> {
    let list: Vec<_> = app
        .book
        .list(false)?
        .into_iter()
        .filter_map(|(id, p)| {
            p.forwarded_at.map(|at| {
                serde_json::json!({ "id": id, "title": p.title, "text": p.text,
                    "signatures": p.signatures, "forwarded_at": at })
            })
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "threshold": app.settings.signature_threshold, "forwarded": list }),
    )
    .into_response())
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(&site(), &t("petitions-check-title"), "/check")
        .await
}

async fn status(State(app): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    app.checks.status_json(&headers, &id).await
}

async fn resident_page(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
) -> Result<Response, Failure> {
    let outcome = app.checks.outcome(&headers, &check).await?;
    let e = |id: &str| escape(&t(id));
    let body = match &outcome {
        Outcome::Eligible { pseudonym } => {
            let actions = |id: &str, p: &Proposal| match app.book.has_signed(id, pseudonym) {
                Ok(true) => button(
                    &format!("/check/{check}/withdraw"),
                    id,
                    "petitions-withdraw",
                    &p.title,
                ),
                Ok(false) => button(
                    &format!("/check/{check}/sign"),
                    id,
                    "petitions-sign",
                    &p.title,
                ),
                Err(_) => String::new(),
            };
            format!(
                "<p class=\"notice\" role=\"status\">{}</p>\n<h2 id=\"proposals\">{}</h2>\n{}\n\
                 <h2 id=\"new\">{}</h2>\n<form method=\"post\" action=\"/check/{}/propose\">\n\
                 <label for=\"title\">{}</label>\n<input id=\"title\" name=\"title\" required minlength=\"5\" \
                 maxlength=\"{MAX_TITLE_CHARS}\">\n<label for=\"text\">{}</label>\n\
                 <textarea id=\"text\" name=\"text\" required minlength=\"20\" maxlength=\"{MAX_TEXT_CHARS}\" \
                 aria-describedby=\"text-hint\"></textarea>\n<p id=\"text-hint\" class=\"small\">{}</p>\n\
                 <p><button type=\"submit\">{}</button></p>\n</form>",
                escape(&outcome.message()),
                e("petitions-proposals"),
                app.proposals(false, actions)?,
                e("petitions-new"),
                escape(&check),
                e("petitions-field-title"),
                e("petitions-field-text"),
                e("petitions-field-hint"),
                e("petitions-submit"),
            )
        }
        Outcome::Pending => crate::checks::pending_page(&outcome, &format!("/check/{check}")),
        Outcome::NotEligible => format!("<p class=\"notice\">{}</p>", e("petitions-not-eligible")),
        other => format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&other.message()),
            start_form()
        ),
    };
    Ok(page(&site(), &t("petitions-resident-title"), &body))
}

#[derive(Deserialize)]
struct NewProposal {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

async fn propose(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
    Form(form): Form<NewProposal>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let (title, text) = clean(&form.title, &form.text)?;
    let published = f("petitions-published", &[("title", title.as_str().into())]);
    app.book.submit(
        &pseudonym,
        title,
        text,
        app.checks.now(),
        app.settings.max_proposals_per_resident,
    )?;
    app.book.flush().await?;
    Ok(said_page(
        StatusCode::OK,
        "petitions-published-title",
        &published,
        &check,
    ))
}

/// A form that names one proposal.
#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    proposal: String,
}

async fn sign(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
    Form(form): Form<Choice>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let threshold = app.settings.signature_threshold;
    let signed = app
        .book
        .sign(&form.proposal, &pseudonym, app.checks.now(), threshold);
    let signed = match signed {
        Err(BookError::AlreadySigned) => {
            return Ok(said_page(
                StatusCode::CONFLICT,
                "petitions-already-signed-title",
                &t("petitions-already-signed"),
                &check,
            ));
        }
        other => other?,
    };
    app.book.flush().await?;
    let mut said = f(
        "petitions-counted",
        &[
            ("count", signed.signatures.into()),
            ("threshold", threshold.into()),
        ],
    );
    if signed.forwarded_now {
        said = format!("{said} {}", t("petitions-reached"));
    }
    Ok(said_page(
        StatusCode::OK,
        "petitions-signed-title",
        &said,
        &check,
    ))
}

async fn withdraw(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
    Form(form): Form<Choice>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let left = app.book.withdraw(&form.proposal, &pseudonym)?;
    app.book.flush().await?;
    let said = f(
        "petitions-withdrawn",
        &[
            ("count", left.into()),
            ("threshold", app.settings.signature_threshold.into()),
        ],
    );
    Ok(said_page(
        StatusCode::OK,
        "petitions-withdrawn-title",
        &said,
        &check,
    ))
}
