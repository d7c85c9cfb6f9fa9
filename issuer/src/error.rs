//! The one error type of the issuer's HTTP surface: a status, a protocol error code and a message.
//! Handlers never panic and never answer 500 for bad input; storage trouble is a 503.

use civic_credential::oid4vci::ProtocolError;

use crate::store::StoreError;

/// An error answer: `{"error": code, "error_description": message}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Machine-readable code (OAuth/OID4VCI codes where the protocol defines one).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    /// Any status.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    /// 401: no or bad credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }
    /// 403: a CSRF or origin check failed, or not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }
    /// 429.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(429, "rate_limited", message)
    }
}

impl From<StoreError> for ApiError {
    /// A 503 `temporarily_unavailable`, saying whether the disk is full, read-only or not
    /// responding; other
    /// details (paths, record keys) go to the log only.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage error");
        let message = match e {
            StoreError::Full => "storage full (no space left on device); try again later",
            StoreError::ReadOnly => "storage is read-only; try again later",
            StoreError::Stalled(_) => {
                "storage not responding (a write to disk has not finished); try again later"
            }
            _ => "storage is unavailable; try again later",
        };
        ApiError::new(503, "temporarily_unavailable", message)
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        ApiError {
            status: e.error.http_status(),
            code: e.error.as_str(),
            message: e.error_description.unwrap_or_default(),
        }
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}
