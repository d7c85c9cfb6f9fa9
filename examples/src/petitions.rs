//! Petitions (crowdsourced policymaking): residents of municipality 0363 aged 16 or over submit
//! proposals and co-sign others' under their pairwise pseudonym, once per proposal, across copies
//! of their credential and across devices; a proposal with enough signatures is forwarded to the
//! council; signatures can be withdrawn; a moderator hides a proposal without learning who wrote
//! it. The records are in [`crate::petition_book`].
//! `petitions --config examples/petitions/config.toml` (its own settings in `petitions.toml`
//! beside it, see [`Settings`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::{b64_encode, ct_eq, sha256_hex};
use civic_service::cookies::{CookieJar, CookiePolicy};
use civic_verifier::VerifierConfig;

use crate::petition_book::{clean, Book, BookError, Proposal, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use crate::{escape, open_records, page, page_with_status, utc, Checks, Failure, Outcome};

/// The app's name (its binary, records directory and settings file).
pub const NAME: &str = "petitions";
const SITE: &str = "Teststad proposals";
/// The policy (in the configuration) a resident must meet to propose and co-sign.
pub const POLICY: &str = "cosign";
/// The moderator's cookie.
const MODERATOR_COOKIE: &str = "petitions_moderator";
/// How long a moderator stays signed in.
const MODERATOR_SECS: i64 = 3600;

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
    Ok(crate::SECURITY_HEADERS.apply(
        Router::new()
            .route("/", get(home))
            .route("/forwarded.json", get(forwarded))
            .route("/check/start", post(start))
            .route("/check/{id}", get(resident_page))
            .route("/check/{id}/status", get(status))
            .route("/check/{id}/propose", post(propose))
            .route("/check/{id}/sign", post(sign))
            .route("/check/{id}/withdraw", post(withdraw))
            .route("/moderate", get(moderate))
            .route("/moderate/login", post(moderator_login))
            .route("/moderate/logout", post(moderator_logout))
            .route("/moderate/hide", post(hide))
            .route("/moderate/show", post(show))
            .layer(DefaultBodyLimit::max(32 * 1024))
            .with_state(app)
            .merge(crate::assets())
            .merge(wallet),
    ))
}

impl From<BookError> for Failure {
    fn from(e: BookError) -> Self {
        match e {
            BookError::NotFound => Failure::new(404, "This proposal does not exist or was hidden by a moderator."),
            BookError::AlreadySigned => Failure::new(
                409,
                "You have already signed this proposal. Each resident signs once, whichever copy or device.",
            ),
            BookError::NotSigned => Failure::new(409, "You have not signed this proposal."),
            BookError::TooManyProposals => {
                Failure::new(409, "You have submitted as many proposals as one resident may.")
            }
            BookError::Invalid(m) => Failure::new(400, m),
            BookError::Storage(e) => {
                tracing::error!(error = %e, "petition records");
                Failure::new(503, "The service is temporarily unavailable. Please try again in a moment.")
            }
        }
    }
}

impl App {
    fn progress(&self, p: &Proposal) -> String {
        let forwarded = match p.forwarded_at {
            Some(t) => format!(
                " <span class=\"badge\">Forwarded to the council</span> <time>{}</time>",
                utc(t)
            ),
            None => String::new(),
        };
        format!(
            "<p class=\"meta\"><strong class=\"signatures\">{}</strong> of {} signatures{forwarded}</p>",
            p.signatures, self.settings.signature_threshold
        )
    }

    /// The visible proposals; `actions(id)` adds the forms a resident or moderator may use.
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
            items = "<li>No proposals yet.</li>".into();
        }
        Ok(format!(
            "<ol class=\"comments\" aria-labelledby=\"proposals\">\n{items}</ol>"
        ))
    }

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
        let Some(value) = self.cookies.read(&jar, MODERATOR_COOKIE) else {
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
            Err(Failure::new(403, "Please sign in as a moderator first."))
        }
    }
}

const START: &str =
    "<form method=\"post\" action=\"/check/start\"><button type=\"submit\">Propose or co-sign \
                     with my residency credential</button></form>";

async fn home(State(app): S) -> Result<Response, Failure> {
    let body = format!(
        "<p>Residents of Teststad aged 16 or over put proposals to the council. A proposal that {} \
         residents co-sign is forwarded to the council, which must put it on its agenda.</p>\n\
         <p>Your wallet proves that you live in Teststad and are 16 or over, and gives this site a \
         pseudonym, so that you can sign each proposal once. Your name, birthdate and address stay in \
         your wallet, and no one here can see who signed or wrote a proposal.</p>\n{START}\n\
         <h2 id=\"proposals\">Proposals</h2>\n{}\n\
         <p class=\"small\"><a href=\"/moderate\">Moderators</a> · <a href=\"/forwarded.json\">Forwarded \
         proposals (JSON, for the council)</a></p>",
        app.settings.signature_threshold,
        app.proposals(false, |_, _| String::new())?
    );
    Ok(page(SITE, "Proposals for Teststad", &body))
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
        .start_page(SITE, "Show that you can take part", "/check")
        .await
}

async fn status(State(app): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    app.checks.status_json(&headers, &id).await
}

fn hidden_field(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

async fn resident_page(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
) -> Result<Response, Failure> {
    let outcome = app.checks.outcome(&headers, &check).await?;
    let body = match &outcome {
        Outcome::Eligible { pseudonym } => {
            let c = escape(&check);
            let actions = |id: &str, p: &Proposal| {
                match app.book.has_signed(id, pseudonym) {
                Ok(true) => format!(
                    "<form method=\"post\" action=\"/check/{c}/withdraw\">{}<button type=\"submit\" \
                     aria-label=\"Withdraw my signature from: {t}\">Withdraw my signature</button></form>",
                    hidden_field("proposal", id),
                    t = escape(&p.title)
                ),
                Ok(false) => format!(
                    "<form method=\"post\" action=\"/check/{c}/sign\">{}<button type=\"submit\" \
                     aria-label=\"Sign: {t}\">Sign</button></form>",
                    hidden_field("proposal", id),
                    t = escape(&p.title)
                ),
                Err(_) => String::new(),
            }
            };
            format!(
                "<p class=\"notice\" role=\"status\">{}</p>\n<h2 id=\"proposals\">Proposals</h2>\n{}\n\
                 <h2 id=\"new\">Submit a proposal</h2>\n<form method=\"post\" action=\"/check/{c}/propose\">\n\
                 <label for=\"title\">Title</label>\n<input id=\"title\" name=\"title\" required minlength=\"5\" \
                 maxlength=\"{MAX_TITLE_CHARS}\">\n<label for=\"text\">Your proposal</label>\n\
                 <textarea id=\"text\" name=\"text\" required minlength=\"20\" maxlength=\"{MAX_TEXT_CHARS}\" \
                 aria-describedby=\"text-hint\"></textarea>\n<p id=\"text-hint\" class=\"small\">Proposals are \
                 public and do not show who wrote them. Please do not write personal details.</p>\n\
                 <p><button type=\"submit\">Submit the proposal</button></p>\n</form>",
                escape(&outcome.message()),
                app.proposals(false, actions)?
            )
        }
        Outcome::Pending => format!(
            "<p role=\"status\">{}</p>\n<p><a href=\"/check/{}\">Check again</a></p>",
            escape(&outcome.message()),
            escape(&check)
        ),
        Outcome::NotEligible => {
            "<p class=\"notice\">Proposals are open to residents of Teststad aged 16 \
             or over, and your credential does not show that. Nothing about you was stored.</p>"
                .to_owned()
        }
        other => format!(
            "<p class=\"notice\">{}</p>\n{START}",
            escape(&other.message())
        ),
    };
    Ok(page(SITE, "Propose and co-sign", &body))
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
    Form(f): Form<NewProposal>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let (title, text) = clean(&f.title, &f.text)?;
    let shown = title.clone();
    app.book.submit(
        &pseudonym,
        title,
        text,
        app.checks.now(),
        app.settings.max_proposals_per_resident,
    )?;
    app.book.flush().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">Your proposal <strong>{}</strong> is published. It does not \
         show who wrote it.</p>\n<p><a href=\"/check/{}\">Back to the proposals</a></p>",
        escape(&shown),
        escape(&check)
    );
    Ok(page(SITE, "Proposal published", &body))
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    proposal: String,
}

async fn sign(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
    Form(f): Form<Choice>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let threshold = app.settings.signature_threshold;
    let signed = app
        .book
        .sign(&f.proposal, &pseudonym, app.checks.now(), threshold);
    let signed = match signed {
        Err(BookError::AlreadySigned) => {
            let body = format!(
                "<p class=\"notice\" role=\"status\">You have already signed this proposal. Each resident \
                 signs once, whichever copy of the credential or device.</p>\n\
                 <p><a href=\"/check/{}\">Back to the proposals</a></p>",
                escape(&check)
            );
            return Ok(page_with_status(
                StatusCode::CONFLICT,
                SITE,
                "Already signed",
                &body,
            ));
        }
        other => other?,
    };
    app.book.flush().await?;
    let forwarded = if signed.forwarded_now {
        " Your signature reached the threshold: the proposal is forwarded to the council."
    } else {
        ""
    };
    let body = format!(
        "<p class=\"notice\" role=\"status\">Your signature is counted: {} of {threshold}.{forwarded}</p>\n\
         <p><a href=\"/check/{}\">Back to the proposals</a></p>",
        signed.signatures,
        escape(&check)
    );
    Ok(page(SITE, "Thank you for signing", &body))
}

async fn withdraw(
    State(app): S,
    headers: HeaderMap,
    Path(check): Path<String>,
    Form(f): Form<Choice>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &check).await?;
    let left = app.book.withdraw(&f.proposal, &pseudonym)?;
    app.book.flush().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">Your signature is withdrawn: {left} of {} left.</p>\n\
         <p><a href=\"/check/{}\">Back to the proposals</a></p>",
        app.settings.signature_threshold,
        escape(&check)
    );
    Ok(page(SITE, "Signature withdrawn", &body))
}

async fn moderate(State(app): S, headers: HeaderMap) -> Result<Response, Failure> {
    if !app.is_moderator(&headers) {
        let body = "<form method=\"post\" action=\"/moderate/login\">\n<label for=\"token\">Moderator \
                    token</label>\n<input id=\"token\" name=\"token\" type=\"password\" required \
                    autocomplete=\"current-password\">\n<p><button type=\"submit\">Sign in</button></p>\n</form>";
        return Ok(page(SITE, "Moderation", body));
    }
    let actions = |id: &str, p: &Proposal| {
        let (action, label) = if p.hidden {
            ("show", "Show again")
        } else {
            ("hide", "Hide")
        };
        format!(
            "<form method=\"post\" action=\"/moderate/{action}\">{}<button type=\"submit\" \
             aria-label=\"{label}: {t}\">{label}</button>{}</form>",
            hidden_field("proposal", id),
            if p.hidden {
                " <span class=\"badge\">Hidden</span>"
            } else {
                ""
            },
            t = escape(&p.title)
        )
    };
    let body = format!(
        "<p>Hide a proposal that breaks the house rules. You see what residents see: no proposal says \
         who wrote or signed it.</p>\n<h2 id=\"proposals\">All proposals</h2>\n{}\n\
         <form method=\"post\" action=\"/moderate/logout\"><button type=\"submit\">Sign out</button></form>",
        app.proposals(true, actions)?
    );
    Ok(page(SITE, "Moderation", &body))
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    token: String,
}

async fn moderator_login(
    State(app): S,
    headers: HeaderMap,
    Form(f): Form<Login>,
) -> Result<Response, Failure> {
    app.checks.same_origin(&headers)?;
    let expected = app.settings.moderator_token_sha256.to_ascii_lowercase();
    if !ct_eq(sha256_hex(&f.token).as_bytes(), expected.as_bytes()) {
        return Err(Failure::new(403, "That is not the moderator token."));
    }
    let expires = app.checks.now() + MODERATOR_SECS;
    let cookie = app.cookies.cookie(
        MODERATOR_COOKIE,
        app.moderator_value(expires),
        Duration::from_secs(MODERATOR_SECS.unsigned_abs()),
    );
    let body =
        "<p class=\"notice\" role=\"status\">Signed in for an hour.</p>\n<p><a href=\"/moderate\">\
                To the proposals</a></p>";
    Ok((CookieJar::new().add(cookie), page(SITE, "Moderation", body)).into_response())
}

async fn moderator_logout(State(app): S, headers: HeaderMap) -> Result<Response, Failure> {
    app.checks.same_origin(&headers)?;
    let body = "<p class=\"notice\" role=\"status\">Signed out.</p>";
    let removal = app.cookies.removal(MODERATOR_COOKIE);
    Ok((
        CookieJar::new().add(removal),
        page(SITE, "Moderation", body),
    )
        .into_response())
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
    let done = if hidden { "hidden" } else { "shown again" };
    let body = format!(
        "<p class=\"notice\" role=\"status\">The proposal is {done}.</p>\n<p><a href=\"/moderate\">Back to \
         moderation</a></p>"
    );
    Ok(page(SITE, "Moderation", &body))
}

async fn hide(
    State(app): S,
    headers: HeaderMap,
    Form(f): Form<Choice>,
) -> Result<Response, Failure> {
    set_hidden(&app, &headers, &f.proposal, true).await
}

async fn show(
    State(app): S,
    headers: HeaderMap,
    Form(f): Form<Choice>,
) -> Result<Response, Failure> {
    set_hidden(&app, &headers, &f.proposal, false).await
}
