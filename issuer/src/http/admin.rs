//! The admin API (`/admin/api/…`), for agency staff and their tools. Every call needs
//! `Authorization: Bearer <admin token>`; tokens are stored hashed.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use civic_credential::status_list::Status;

use super::{blocking, json_body, no_store, AppState};
use crate::error::ApiError;
use crate::secrets::hash_hex;
use crate::service::now;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/api/residents", get(search))
        .route("/admin/api/residents/{id}", get(resident))
        .route("/admin/api/residents/{id}/{action}", post(resident_action))
        .route("/admin/api/platforms", get(platforms).post(add_platform))
        .route("/admin/api/audit", get(audit))
        .route("/admin/api/keys/rotate", post(rotate))
}

/// Checks the bearer token and returns the admin's name.
async fn admin(s: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("an admin bearer token is required"))?
        .trim()
        .to_owned();
    let found = blocking(s, move |i| Ok(i.store.admin_token(&hash_hex(&token))?)).await?;
    found
        .map(|t| format!("admin:{}", t.name))
        .ok_or_else(|| ApiError::unauthorized("unknown admin token"))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

async fn search(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    admin(&s, &headers).await?;
    let limit = q.limit.unwrap_or(50).min(500);
    let found = blocking(&s, move |i| Ok(i.store.search_residents(&q.q, limit)?)).await?;
    Ok(no_store(json!({ "residents": found })))
}

async fn resident(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin(&s, &headers).await?;
    let view = blocking(&s, move |i| {
        let mut v = crate::account::account_view(i, &id)?;
        v["block"] = json!(i.store.resident_block(&id)?.map(|b| b.value()));
        Ok(v)
    })
    .await?;
    Ok(no_store(view))
}

async fn resident_action(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let actor = admin(&s, &headers).await?;
    let body = blocking(&s, move |i| match action.as_str() {
        "revoke" | "suspend" | "unsuspend" => {
            let status = match action.as_str() {
                "revoke" => Status::Invalid,
                "suspend" => Status::Suspended,
                _ => Status::Valid,
            };
            let changed = i.set_status(&id, status, &actor)?;
            Ok(json!({ "register_id": id, "action": action, "credentials_changed": changed }))
        }
        // Counter service: a clerk has checked the resident's identity in person.
        "offer" => Ok(serde_json::to_value(i.create_offer(&id, &actor)?).unwrap_or_default()),
        "enrollment-code" => {
            Ok(serde_json::to_value(i.enrollment_code(&id, &actor)?).unwrap_or_default())
        }
        _ => Err(ApiError::not_found("unknown action")),
    })
    .await?;
    Ok(no_store(body))
}

async fn platforms(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    admin(&s, &headers).await?;
    let list = blocking(&s, |i| Ok(i.store.platforms()?)).await?;
    Ok(no_store(json!({ "platforms": list })))
}

#[derive(Deserialize)]
struct NewPlatform {
    id: String,
    name: String,
}

async fn add_platform(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let actor = admin(&s, &headers).await?;
    let req: NewPlatform = json_body(&body, "invalid_request")?;
    let platform = blocking(&s, move |i| i.register_platform(&req.id, &req.name, &actor)).await?;
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
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    admin(&s, &headers).await?;
    let limit = q.limit.unwrap_or(100).min(1000);
    let events = blocking(&s, move |i| Ok(i.store.audit_log(q.after, limit)?)).await?;
    let events: Vec<_> = events
        .into_iter()
        .map(|(seq, e)| json!({ "seq": seq, "event": e }))
        .collect();
    Ok(no_store(json!({ "events": events })))
}

async fn rotate(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let actor = admin(&s, &headers).await?;
    let kids = blocking(&s, move |i| i.rotate_keys(&actor)).await?;
    Ok(no_store(json!({ "active_kids": kids, "at": now() })))
}
