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

use crate::{escape, open_records, page, page_with_status, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "micro_consultation";
const SITE: &str = "Teststad district 3 consultation";
/// The policy (in the configuration) the consultation checks.
pub const POLICY: &str = "district-3";
/// The question put to the district.
pub const QUESTION: &str = "Should Kastanjeplein become a car-free square on Sundays?";
/// The possible answers: value and label.
pub const ANSWERS: [(&str, &str); 2] = [("yes", "Yes"), ("no", "No")];

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
    Ok(crate::SECURITY_HEADERS.apply(
        Router::new()
            .route("/", get(home))
            .route("/answer/start", post(start))
            .route("/answer/{id}", get(question).post(answer))
            .route("/answer/{id}/status", get(status))
            .layer(DefaultBodyLimit::max(16 * 1024))
            .with_state(app)
            .merge(crate::assets())
            .merge(wallet),
    ))
}

impl App {
    fn results(&self) -> Result<String, Failure> {
        let mut counts = [0u64; ANSWERS.len()];
        for item in self.answers.iter() {
            let (_, value) = item?;
            let at = ANSWERS.iter().position(|a| a.0.as_bytes() == &value[..]);
            if let Some(count) = at.and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        let items: String = ANSWERS
            .iter()
            .zip(counts)
            .map(|((_, label), n)| format!("<li>{label}: <strong>{n}</strong></li>"))
            .collect();
        Ok(format!("<h2>Answers so far</h2>\n<ul>{items}</ul>"))
    }
}

const START: &str = "<form method=\"post\" action=\"/answer/start\"><button type=\"submit\">Answer with my residency \
                     credential</button></form>";

async fn home(State(app): S) -> Result<Response, Failure> {
    let body = format!(
        "<p>The district council asks the residents of district 3:</p>\n<p><strong>{}</strong></p>\n\
         <p>Your wallet shows that you live in district 3 of Teststad and gives this consultation a \
         pseudonym, so each resident answers once. Nothing else is shared.</p>\n{START}\n{}",
        escape(QUESTION),
        app.results()?
    );
    Ok(page(SITE, "Micro-consultation", &body))
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(SITE, "Answer: show that you live in district 3", "/answer")
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
                "<p class=\"notice\">You have already answered. Thank you!</p>\n{}",
                app.results()?
            )
        }
        Outcome::Eligible { .. } => {
            let options: String = ANSWERS
                .iter()
                .map(|(value, label)| {
                    format!(
                        "<div class=\"option\"><input type=\"radio\" id=\"a-{value}\" name=\"answer\" value=\"{value}\" \
                         required><label for=\"a-{value}\">{label}</label></div>"
                    )
                })
                .collect();
            format!(
                "<p class=\"notice\">{}</p>\n<form method=\"post\" action=\"/answer/{}\">\n<fieldset>\
                 <legend>{}</legend>\n{options}</fieldset>\n<p><button type=\"submit\">Send my answer</button></p>\n</form>",
                escape(&outcome.message()),
                escape(&id),
                escape(QUESTION)
            )
        }
        Outcome::Pending => format!(
            "<p role=\"status\">{}</p>\n<p><a href=\"/answer/{}\">Check again</a></p>",
            escape(&outcome.message()),
            escape(&id)
        ),
        Outcome::NotEligible => format!(
            "<p class=\"notice\">This consultation is only for residents of district 3, and your \
             credential does not show that. Nothing about you was stored.</p>\n{}",
            app.results()?
        ),
        other => format!(
            "<p class=\"notice\">{}</p>\n{START}",
            escape(&other.message())
        ),
    };
    Ok(page(SITE, "Your answer", &body))
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
    Form(f): Form<AnswerForm>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &id).await?;
    let Some((value, label)) = ANSWERS.iter().find(|a| Some(a.0) == f.answer.as_deref()) else {
        return Err(Failure::new(400, "Please answer yes or no."));
    };
    // One answer per pseudonym: the first write wins, atomically.
    let cas = app.answers.compare_and_swap(
        pseudonym.as_bytes(),
        None as Option<&[u8]>,
        Some(value.as_bytes()),
    )?;
    if cas.is_err() {
        let body = format!("<p class=\"notice\">You have already answered; a second answer is not counted.</p>\n{}", app.results()?);
        return Ok(page_with_status(
            StatusCode::CONFLICT,
            SITE,
            "Already answered",
            &body,
        ));
    }
    app.db.flush_async().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">Your answer <strong>{label}</strong> is counted. Thank you!</p>\n{}",
        app.results()?
    );
    Ok(page(SITE, "Thank you", &body))
}
