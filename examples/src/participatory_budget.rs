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

use crate::messages::{f, t};
use crate::{escape, open_records, page, page_with_status, Checks, Failure, Outcome};
use civic_verifier::VerifierConfig;

/// The app's name (its binary and records directory).
pub const NAME: &str = "participatory_budget";
/// The policy (in the configuration) the ballot checks.
pub const POLICY: &str = "ballot";
/// The projects on the ballot, by id; their titles and descriptions are in the catalogue
/// (`budget-project-{id}`, `budget-project-{id}-text`).
pub const PROJECTS: [&str; 3] = ["playground", "trees", "bikes"];

/// A project's title, in the request's language.
pub fn project_title(id: &str) -> String {
    t(&format!("budget-project-{id}"))
}

fn project_text(id: &str) -> String {
    t(&format!("budget-project-{id}-text"))
}

fn site() -> String {
    t("budget-site")
}

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
    Ok(crate::messages::with_language(
        crate::SECURITY_HEADERS.apply(
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
        ),
    ))
}

impl App {
    /// Votes per project, counted from the ballot box.
    fn tallies(&self) -> Result<Vec<(String, u64)>, Failure> {
        let mut counts = [0u64; PROJECTS.len()];
        for item in self.votes.iter() {
            let (_, choice) = item?;
            let at = PROJECTS.iter().position(|p| p.as_bytes() == &choice[..]);
            if let Some(count) = at.and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        Ok(PROJECTS
            .iter()
            .zip(counts)
            .map(|(p, n)| (project_title(p), n))
            .collect())
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
            "<h2 id=\"results\">{}</h2>\n<table aria-labelledby=\"results\">\n\
             <thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"count\">{}</th></tr></thead>\n\
             <tbody>{rows}</tbody></table>",
            escape(&t("budget-results")),
            escape(&t("budget-project")),
            escape(&t("budget-votes")),
        ))
    }
}

fn start_form() -> String {
    format!(
        "<form method=\"post\" action=\"/ballot/start\"><button type=\"submit\">{}</button></form>",
        escape(&t("budget-start"))
    )
}

async fn home(State(app): S) -> Result<Response, Failure> {
    let projects: String = PROJECTS
        .iter()
        .map(|id| {
            format!(
                "<li><strong>{}</strong>: {}</li>",
                escape(&project_title(id)),
                escape(&project_text(id))
            )
        })
        .collect();
    let body = format!(
        "<p>{}</p>\n<h2>{}</h2>\n<ul>{projects}</ul>\n<p>{}</p>\n{}\n{}",
        escape(&t("budget-intro")),
        escape(&t("budget-projects")),
        escape(&t("budget-privacy")),
        start_form(),
        app.results()?
    );
    Ok(page(&site(), &t("budget-title"), &body))
}

async fn start(State(app): S) -> Result<Response, Failure> {
    app.checks
        .start_page(&site(), &t("budget-check-title"), "/ballot")
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
            format!(
                "<p class=\"notice\">{}</p>\n{}",
                escape(&t("budget-voted-already")),
                app.results()?
            )
        }
        Outcome::Eligible { .. } => {
            let options: String = PROJECTS
                .iter()
                .map(|value| {
                    format!(
                        "<div class=\"option\"><input type=\"radio\" id=\"p-{value}\" name=\"project\" value=\"{value}\" \
                         required><label for=\"p-{value}\"><strong>{}</strong><br>{}</label></div>",
                        escape(&project_title(value)),
                        escape(&project_text(value))
                    )
                })
                .collect();
            format!(
                "<p class=\"notice\">{}</p>\n<form method=\"post\" action=\"/ballot/{}/vote\">\n<fieldset>\
                 <legend>{}</legend>\n{options}</fieldset>\n\
                 <p><button type=\"submit\">{}</button></p>\n</form>",
                escape(&outcome.message()),
                escape(&id),
                escape(&t("budget-choose")),
                escape(&t("budget-cast")),
            )
        }
        Outcome::Pending => crate::checks::pending_page(&outcome, &format!("/ballot/{id}")),
        Outcome::NotEligible => format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&t("budget-not-eligible")),
            app.results()?
        ),
        other => format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&other.message()),
            start_form()
        ),
    };
    Ok(page(&site(), &t("budget-ballot-title"), &body))
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
    let Some(value) = PROJECTS.iter().find(|p| Some(**p) == v.project.as_deref()) else {
        return Err(Failure::new(400, t("budget-choose-one")));
    };
    // One vote per pseudonym: the first write wins, atomically.
    let cas = app.votes.compare_and_swap(
        pseudonym.as_bytes(),
        None as Option<&[u8]>,
        Some(value.as_bytes()),
    )?;
    if cas.is_err() {
        let body = format!(
            "<p class=\"notice\">{}</p>\n{}",
            escape(&t("budget-second-vote")),
            app.results()?
        );
        return Ok(page_with_status(
            axum::http::StatusCode::CONFLICT,
            &site(),
            &t("budget-already-voted-title"),
            &body,
        ));
    }
    app.db.flush_async().await?;
    let body = format!(
        "<p class=\"notice\" role=\"status\">{}</p>\n{}",
        escape(&f(
            "budget-counted",
            &[("project", project_title(value).into())]
        )),
        app.results()?
    );
    Ok(page(&site(), &t("budget-thanks-title"), &body))
}
