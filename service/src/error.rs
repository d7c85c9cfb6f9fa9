//! The error answer of every JSON endpoint: `{"error": code, "error_description": text}`.
//!
//! Services decide the status and the code at their HTTP edge, from their domain errors; this
//! type only carries them to the wire, the same way everywhere.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use civic_credential::oid4vci::ProtocolError;
use civic_storage::StorageError;

/// How long a client should wait before retrying a 503.
const RETRY_AFTER_SECS: &str = "5";

/// An error answer: a status, a machine-readable code (the protocol's own, where it defines
/// one) and a description for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error code (`invalid_request`, `invalid_grant`, …).
    pub code: &'static str,
    /// What went wrong, for people.
    pub description: String,
    /// The authentication scheme a 401 challenges with (`Bearer` unless set), and its extra
    /// parameters (`algs="ES256"` for DPoP).
    challenge: (&'static str, &'static str),
    /// Headers the answer carries besides (a `DPoP-Nonce` to retry with).
    headers: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl ApiError {
    /// An error with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
            challenge: ("Bearer", ""),
            headers: Vec::new(),
        }
    }

    /// With a 401's challenge in `scheme` (`DPoP`) and its extra auth parameters, instead of
    /// Bearer (RFC 9449 §7.1).
    pub fn with_challenge(mut self, scheme: &'static str, params: &'static str) -> Self {
        self.challenge = (scheme, params);
        self
    }

    /// With a header `name: value` besides (a value that is not a valid header is left out).
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    /// 404 `not_found`.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// 503 `temporarily_unavailable`.
    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            description,
        )
    }
}

impl From<StorageError> for ApiError {
    /// A 503 that says whether the disk is full, read-only or not responding; the details go to
    /// the log only.
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error");
        ApiError::unavailable(e.public_message())
    }
}

impl From<ProtocolError> for ApiError {
    /// An OAuth / OID4VCI error in its own format, with the status the protocol gives it.
    fn from(e: ProtocolError) -> Self {
        ApiError::new(
            StatusCode::from_u16(e.error.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.error.as_str(),
            e.error_description.unwrap_or_default(),
        )
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.description
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            error_description: &self.description,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: the challenge names the error; quotes in the text would end it early.
            let (scheme, params) = self.challenge;
            let mut challenge = format!(
                "{scheme} error=\"{}\", error_description=\"{}\"",
                self.code,
                self.description.replace(['"', '\\'], "'")
            );
            if !params.is_empty() {
                challenge.push_str(", ");
                challenge.push_str(params);
            }
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 4096)
            .await
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[tokio::test]
    async fn errors_answer_json_and_the_headers_their_status_needs() {
        let resp = ApiError::from(StorageError::Full).into_response();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "5");
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        let json = body(resp).await;
        assert_eq!(json["error"], "temporarily_unavailable");
        assert!(json["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("storage full"));

        let resp =
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "say \"hi\"").into_response();
        assert_eq!(
            resp.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\", error_description=\"say 'hi'\""
        );
        assert_eq!(body(resp).await["error"], "invalid_token");
    }
}
