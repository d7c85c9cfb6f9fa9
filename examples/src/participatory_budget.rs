//! Participatory budget: residents of municipality 0363 aged 16 or over choose one of three
//! (fictional) projects, once each. The ballot box stores one vote per pairwise pseudonym and
//! nothing else. `participatory_budget --config examples/participatory_budget/config.toml`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::{escape, open_records, page, page_with_status, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "participatory_budget";
const SITE: &str = "Teststad participatory budget";
/// The policy (in the configuration) the ballot checks.
pub const POLICY: &str = "ballot";
/// The projects on the ballot: id, title, description.
pub const PROJECTS: [(&str, &str, &str); 3] = [
    (
        "playground",
        "A playground in Oosterpark",
        "Climbing frames, swings and a sandpit for ages 2 to 12.",
    ),
    (
        "trees",
        "200 street trees",
        "Shade and greenery in the five streets with the fewest trees.",
    ),
    (
        "bikes",
        "Covered bike parking",
        "Space for 400 bicycles next to the railway station.",
    ),
];

struct App {
    checks: Checks,
    db: sled::Db,
    votes: sled::Tree,
}

type S = State<Arc<App>>;

/// The app: its pages and the verifier's wallet endpoints, with the ballot box in sled next to
/// the verifier's data directory.
pub fn app(config: VerifierConfig) -> anyhow::Result<Router> {
    let db = open_records(&config, NAME)?;
    let votes = db.open_tree("votes")?;
    let checks = Checks::new(config, POLICY)?;
    let wallet = checks.wallet_routes();
    let app = Arc::new(App { checks, db, votes });
    Ok(crate::SECURITY_HEADERS.apply(
        Router::new()
            .route("/", get(home))
            .route("/ballot/start", post(start))
            .route("/ballot/{id}", get(ballot))
            .route("/ballot/{id}/status", get(status))
            .route("/ballot/{id}/vote", post(vote))
            .layer(DefaultBodyLimit::max(16 * 1024))
            .with_state(app)
            .merge(crate::assets())
            .merge(wallet),
    ))
}

impl App {
    /// Votes per project, counted from the ballot box.
    fn tallies(&self) -> Result<Vec<(&'static str, u64)>, Failure> {
        let mut counts = [0u64; PROJECTS.len()];
        for item in self.votes.iter() {
            let (_, choice) = item?;
            let at = PROJECTS.iter().position(|p| p.0.as_bytes() == &choice[..]);
            if let Some(count) = at.and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        Ok(PROJECTS.iter().zip(counts).map(|(p, n)| (p.1, n)).collect())
    }

    fn results(&self) -> Result<String, Failure> {
        let rows: String = self
            .tallies()?
            .iter()
            .map(|(title, n)| {
                format!(
                    "<tr><th scope=\"row\">{}</th><td class=\"count\">{n}</td></tr>",
                    escape(title)
                )
            })
            .collect();
        Ok(format!(
            "<h2 id=\"results\">Votes so far</h2>\n<table aria-labelledby=\"results\">\n\
             <thead><tr><th scope=\"col\">Project</th><th scope=\"col\" class=\"count\">Votes</th></tr></thead>\n\
             <tbody>{rows}</tbody></table>"
        ))
    }
}

const START: &str = "<form method=\"post\" action=\"/ballot/start\"><button type=\"submit\">Vote with my residency \
                     credential</button></form>";

async fn home(State(app): S) -> Result<Response, Failure> {
    let projects: String = PROJECTS
        .iter()
        .map(|(_, title, text)| {
            format!(
                "<li><strong>{}</strong>: {}</li>",
                escape(title),
                escape(text)
            )
        })
        .collect();
    let body = format!(
        "<p>Residents of Teststad aged 16 or over decide how to spend €600,000. Choose one project; \
         you can vote once.</p>\n<h2>The projects</h2>\n<ul>{projects}</ul>\n\
         <p>Your wallet proves that you live in Teststad and are 16 or over, and gives this ballot a \
         pseudonym so you can vote only once. Your name, birthdate and address stay in your wallet.</p>\n\
         {START}\n{}",
        app.results()?
    );
    Ok(page(SITE, "Participatory budget 2027", &body))
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(SITE, "Vote: show that you can take part", "/ballot")
        .await
}

async fn status(State(app): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    app.checks.status_json(&headers, &id).await
}

async fn ballot(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let outcome = app.checks.outcome(&headers, &id).await?;
    let body = match &outcome {
        Outcome::Eligible { pseudonym } if app.votes.contains_key(pseudonym.as_bytes())? => {
            format!("<p class=\"notice\">You have already voted. Thank you!</p>\n{}", app.results()?)
        }
        Outcome::Eligible { .. } => {
            let options: String = PROJECTS
                .iter()
                .map(|(value, title, text)| {
                    format!(
                        "<div class=\"option\"><input type=\"radio\" id=\"p-{value}\" name=\"project\" value=\"{value}\" \
                         required><label for=\"p-{value}\"><strong>{}</strong><br>{}</label></div>",
                        escape(title),
                        escape(text)
                    )
                })
                .collect();
            format!(
                "<p class=\"notice\">{}</p>\n<form method=\"post\" action=\"/ballot/{}/vote\">\n<fieldset>\
                 <legend>Choose one project</legend>\n{options}</fieldset>\n\
                 <p><button type=\"submit\">Cast my vote</button></p>\n</form>",
                escape(&outcome.message()),
                escape(&id)
            )
        }
        Outcome::Pending => format!(
            "<p role=\"status\">{}</p>\n<p><a href=\"/ballot/{}\">Check again</a></p>",
            escape(&outcome.message()),
            escape(&id)
        ),
        Outcome::NotEligible => format!(
            "<p class=\"notice\">This ballot is open to residents of Teststad aged 16 or over, and your \
             credential does not show that. Nothing about you was stored.</p>\n{}",
            app.results()?
        ),
        other => format!("<p class=\"notice\">{}</p>\n{START}", escape(&other.message())),
    };
    Ok(page(SITE, "Your ballot", &body))
}

#[derive(Deserialize)]
struct Vote {
    #[serde(default)]
    project: Option<String>,
}

async fn vote(
    State(app): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<Vote>,
) -> Result<Response, Failure> {
    let pseudonym = app.checks.eligible(&headers, &id).await?;
    let Some((value, title, _)) = PROJECTS.iter().find(|p| Some(p.0) == v.project.as_deref())
    else {
        return Err(Failure::new(400, "Please choose one of the projects."));
    };
    // One vote per pseudonym: the first write wins, atomically.
    let cas = app.votes.compare_and_swap(
        pseudonym.as_bytes(),
        None as Option<&[u8]>,
        Some(value.as_bytes()),
    )?;
    if cas.is_err() {
        let body = format!(
            "<p class=\"notice\">You have already voted; a second vote is not counted.</p>\n{}",
            app.results()?
        );
        return Ok(page_with_status(
            axum::http::StatusCode::CONFLICT,
            SITE,
            "Already voted",
            &body,
        ));
    }
    app.db.flush_async().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">Your vote for <strong>{}</strong> is counted. Thank you!</p>\n{}",
        escape(title),
        app.results()?
    );
    Ok(page(SITE, "Thank you for voting", &body))
}
