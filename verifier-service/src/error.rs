//! The one place where the flow's errors become HTTP answers, per endpoint family: the platform
//! API speaks OAuth's codes, the wallet endpoints OpenID4VP's.

use axum::http::StatusCode;

use civic_service::ApiError;
use civic_verifier::analytics::AnalyticsError;
use civic_verifier::flow::FlowError;

/// Storage, signing and other failures that are no one's input.
fn internal(e: FlowError) -> ApiError {
    match e {
        FlowError::Storage(s) => s.into(),
        other => {
            tracing::error!(error = %other, "verifier flow");
            ApiError::unavailable(other.to_string())
        }
    }
}

/// An error of the platform API (`/v1/sessions…`).
pub fn platform_api(e: FlowError) -> ApiError {
    match e {
        FlowError::UnknownPlatform => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_client", e.to_string())
        }
        FlowError::UnknownPolicy(_) | FlowError::RedirectNotRegistered => {
            ApiError::bad_request("invalid_request", e.to_string())
        }
        FlowError::NoSuchSession => ApiError::not_found(e.to_string()),
        FlowError::WrongResponseCode => ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_response_code",
            e.to_string(),
        ),
        other => internal(other),
    }
}

/// An error of the request object endpoint (`/v1/request/{id}`).
pub fn request_endpoint(e: FlowError) -> ApiError {
    match e {
        FlowError::NoSuchSession => {
            ApiError::new(StatusCode::NOT_FOUND, "invalid_request_uri", e.to_string())
        }
        FlowError::RequestClosed => ApiError::bad_request("invalid_request_uri", e.to_string()),
        other => internal(other),
    }
}

/// An error of the response endpoint (`/v1/response/{id}`, `direct_post`).
pub fn response_endpoint(e: FlowError) -> ApiError {
    match e {
        FlowError::MalformedAnswer(_)
        | FlowError::NoSuchSession
        | FlowError::StateMismatch
        | FlowError::Expired
        | FlowError::AlreadyAnswered
        | FlowError::Encryption(_) => ApiError::bad_request("invalid_request", e.to_string()),
        other => internal(other),
    }
}

/// An error of the analytics API (`/v1/analytics/…`): bad dates and ranges are the platform's
/// input (400 `invalid_request`).
pub fn analytics_api(e: AnalyticsError) -> ApiError {
    match e {
        AnalyticsError::BadDate(_)
        | AnalyticsError::Reversed { .. }
        | AnalyticsError::TooLong { .. } => ApiError::bad_request("invalid_request", e.to_string()),
        AnalyticsError::Disabled => ApiError::not_found(e.to_string()),
        AnalyticsError::Storage(s) => s.into(),
    }
}
