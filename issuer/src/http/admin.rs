//! The admin API (`/admin/api/…`), for agency staff and their tools. Every call needs
//! `Authorization: Bearer <admin token>` (the [`Admin`] guard); tokens are stored hashed.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use civic_credential::status_list::Status;
use civic_service::extract::JsonBody;
use civic_service::respond::no_store;
use civic_service::ApiError;

use super::guards::Admin;
use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/api/residents", get(search))
        .route("/admin/api/residents/{id}", get(resident))
        .route("/admin/api/residents/{id}/{action}", post(resident_action))
        .route("/admin/api/platforms", get(platforms).post(add_platform))
        .route("/admin/api/audit", get(audit))
        .route("/admin/api/keys/rotate", post(rotate))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

async fn search(
    State(app): State<AppState>,
    _: Admin,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(50).min(500);
    let found = app
        .run(move |issuer| issuer.store().search_residents(&query.q, limit))
        .await?;
    Ok(no_store(json!({ "residents": found })))
}

async fn resident(
    State(app): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = app
        .run(move |issuer| issuer.accounts.agency_view(&id))
        .await?;
    Ok(no_store(view))
}

/// What an admin can do to one resident.
enum Action {
    /// Revoke, suspend or reinstate.
    Status(Status),
    /// Counter service: a clerk has checked the resident's identity in person.
    Offer,
    /// A new enrollment code (for a letter, or handed over at the counter).
    EnrollmentCode,
}

impl Action {
    fn parse(action: &str) -> Option<Self> {
        Some(match action {
            "revoke" => Action::Status(Status::Invalid),
            "suspend" => Action::Status(Status::Suspended),
            "unsuspend" => Action::Status(Status::Valid),
            "offer" => Action::Offer,
            "enrollment-code" => Action::EnrollmentCode,
            _ => return None,
        })
    }
}

async fn resident_action(
    State(app): State<AppState>,
    admin: Admin,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let what = Action::parse(&action).ok_or_else(|| ApiError::not_found("unknown action"))?;
    let actor = admin.actor;
    match what {
        Action::Status(status) => {
            let register_id = id.clone();
            let changed = app
                .run(move |issuer| issuer.status.set(&register_id, status, &actor))
                .await?;
            Ok(no_store(
                json!({ "register_id": id, "action": action, "credentials_changed": changed }),
            ))
        }
        Action::Offer => {
            let offer = app
                .run(move |issuer| issuer.issuance.create_offer(&id, &actor))
                .await?;
            Ok(no_store(offer))
        }
        Action::EnrollmentCode => {
            let code = app
                .run(move |issuer| issuer.enrollment.issue_code(&id, &actor))
                .await?;
            Ok(no_store(code))
        }
    }
}

async fn platforms(State(app): State<AppState>, _: Admin) -> Result<Response, ApiError> {
    let list = app.run(|issuer| issuer.platforms.list()).await?;
    Ok(no_store(json!({ "platforms": list })))
}

#[derive(Deserialize)]
struct NewPlatform {
    id: String,
    name: String,
}

async fn add_platform(
    State(app): State<AppState>,
    admin: Admin,
    JsonBody(new): JsonBody<NewPlatform>,
) -> Result<Response, ApiError> {
    let platform = app
        .run(move |issuer| issuer.platforms.add(&new.id, &new.name, &admin.actor))
        .await?;
    Ok(no_store(platform))
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<usize>,
}

async fn audit(
    State(app): State<AppState>,
    _: Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(100).min(1000);
    let events = app
        .run(move |issuer| issuer.store().audit_log(query.after, limit))
        .await?;
    let events: Vec<_> = events
        .into_iter()
        .map(|(seq, event)| json!({ "seq": seq, "event": event }))
        .collect();
    Ok(no_store(json!({ "events": events })))
}

async fn rotate(State(app): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    let (kids, at) = app
        .run(move |issuer| {
            let kids = issuer.context.rotate_keys(&admin.actor)?;
            Ok::<_, crate::context::RotationError>((kids, issuer.context.now()))
        })
        .await?;
    Ok(no_store(json!({ "active_kids": kids, "at": at })))
}
