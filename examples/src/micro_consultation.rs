//! Micro-consultation: one yes/no question for the residents of one district (district 3 of
//! municipality 0363), one answer per pairwise pseudonym; the answers are stored under the
//! pseudonym and nothing else. `micro_consultation --config examples/micro_consultation/config.toml`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::messages::{f, t};
use crate::{escape, open_records, page, page_with_status, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "micro_consultation";
/// The policy (in the configuration) the consultation checks.
pub const POLICY: &str = "district-3";
/// The possible answers; their labels are `consultation-answer-{value}` in the catalogue.
pub const ANSWERS: [&str; 2] = ["yes", "no"];

/// The question put to the district, in the request's language.
pub fn question_text() -> String {
    t("consultation-question")
}

fn label(value: &str) -> String {
    t(&format!("consultation-answer-{value}"))
}

fn site() -> String {
    t("consultation-site")
}

fn start_form() -> String {
    format!(
        "<form method=\"post\" action=\"/answer/start\"><button type=\"submit\">{}</button></form>",
        escape(&t("consultation-start"))
    )
}

struct App {
    checks: Checks,
    db: sled::Db,
    answers: sled::Tree,
}

type S = State<Arc<App>>;

/// The app: its pages and the verifier's wallet endpoints, with the answers in sled next to the
/// verifier's data directory.
pub fn app(config: VerifierConfig) -> anyhow::Result<Router> {
    let db = open_records(&config, NAME)?;
    let answers = db.open_tree("answers")?;
    let checks = Checks::new(config, POLICY)?;
    let wallet = checks.wallet_routes();
    let app = Arc::new(App {
        checks,
        db,
        answers,
    });
    Ok(crate::messages::with_language(
        crate::SECURITY_HEADERS.apply(
            Router::new()
                .route("/", get(home))
                .route("/answer/start", post(start))
                .route("/answer/{id}", get(question).post(answer))
                .route("/answer/{id}/status", get(status))
                .layer(DefaultBodyLimit::max(16 * 1024))
                .with_state(app)
                .merge(crate::assets())
                .merge(wallet),
        ),
    ))
}

impl App {
    fn results(&self) -> Result<String, Failure> {
        let mut counts = [0u64; ANSWERS.len()];
        for item in self.answers.iter() {
            let (_, value) = item?;
            let at = ANSWERS.iter().position(|a| a.as_bytes() == &value[..]);
            if let Some(count) = at.and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        let items: String = ANSWERS
            .iter()
            .zip(counts)
            .map(|(value, n)| format!("<li>{}: <strong>{n}</strong></li>", escape(&label(value))))
            .collect();
        Ok(format!(
            "<h2>{}</h2>\n<ul>{items}</ul>",
            escape(&t("consultation-results"))
        ))
    }
}

async fn home(State(app): S) -> Result<Response, Failure> {
    let body = format!(
        "<p>{}</p>\n<p><strong>{}</strong></p>\n<p>{}</p>\n{}\n{}",
        escape(&t("consultation-asks")),
        escape(&question_text()),
        escape(&t("consultation-privacy")),
        start_form(),
        app.results()?
    );
    Ok(page(&site(), &t("consultation-title"), &body))
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(&site(), &t("consultation-check-title"), "/answer")
        .await
}

async fn status(State(app): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    app.checks.status_json(&headers, &id).await
}

async fn question(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let outcome = app.checks.outcome(&headers, &id).await?;
    let body = match &outcome {
        Outcome::Eligible { pseudonym } if app.answers.contains_key(pseudonym.as_bytes())? => {
            format!(
                "<p class=\"notice\">{}</p>\n{}",
                escape(&t("consultation-answered-already")),
                app.results()?
            )
        }
        Outcome::Eligible { .. } => {
            let options: String = ANSWERS
                .iter()
                .map(|value| {
                    format!(
                        "<div class=\"option\"><input type=\"radio\" id=\"a-{value}\" name=\"answer\" value=\"{value}\" \
                         required><label for=\"a-{value}\">{}</label></div>",
                        escape(&label(value))
                    )
                })
                .collect();
            format!(
                "<p class=\"notice\">{}</p>\n<form method=\"post\" action=\"/answer/{}\">\n<fieldset>\
                 <legend>{}</legend>\n{options}</fieldset>\n<p><button type=\"submit\">{}</button></p>\n</form>",
                escape(&outcome.message()),
                escape(&id),
                escape(&question_text()),
                escape(&t("consultation-send")),
            )
        }
        Outcome::Pending => crate::checks::pending_page(&outcome, &format!("/answer/{id}")),
        Outcome::NotEligible => format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&t("consultation-not-eligible")),
            app.results()?
        ),
        other => format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&other.message()),
            start_form()
        ),
    };
    Ok(page(&site(), &t("consultation-answer-title"), &body))
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: Option<String>,
}

async fn answer(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &id).await?;
    let Some(value) = ANSWERS.iter().find(|a| Some(**a) == form.answer.as_deref()) else {
        return Err(Failure::new(400, t("consultation-yes-or-no")));
    };
    // One answer per pseudonym: the first write wins, atomically.
    let cas = app.answers.compare_and_swap(
        pseudonym.as_bytes(),
        None as Option<&[u8]>,
        Some(value.as_bytes()),
    )?;
    if cas.is_err() {
        let body = format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&t("consultation-second-answer")),
            app.results()?
        );
        return Ok(page_with_status(
            StatusCode::CONFLICT,
            &site(),
            &t("consultation-already-title"),
            &body,
        ));
    }
    app.db.flush_async().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>\n{}",
        escape(&f(
            "consultation-counted",
            &[("answer", label(value).into())]
        )),
        app.results()?
    );
    Ok(page(&site(), &t("consultation-thanks-title"), &body))
}
