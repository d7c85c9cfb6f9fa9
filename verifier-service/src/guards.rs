//! The guard of the platform API, as an extractor: the platform whose API key is in
//! `Authorization: Bearer`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use civic_credential::bearer::bearer_token;
use civic_credential::encoding::{ct_eq, sha256_hex};
use civic_service::ApiError;

use crate::Service;

/// An authenticated platform, by id.
pub struct PlatformKey {
    /// The platform's identifier.
    pub platform_id: String,
}

impl FromRequestParts<Arc<Service>> for PlatformKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Self, ApiError> {
        let invalid = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_client", why);
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| invalid("a platform API key is required"))?;
        PlatformKey::of(service, key).ok_or_else(|| invalid("unknown API key"))
    }
}

impl PlatformKey {
    /// The platform whose API key is `key`, if any.
    pub fn of(service: &Service, key: &str) -> Option<PlatformKey> {
        let hash = sha256_hex(key);
        // Every platform is compared, in constant time, whichever matches.
        let mut found = None;
        for p in service.flow.platforms() {
            let matches = ct_eq(
                p.api_key_sha256.to_ascii_lowercase().as_bytes(),
                hash.as_bytes(),
            );
            if matches && found.is_none() {
                found = Some(p.id.clone());
            }
        }
        found.map(|platform_id| PlatformKey { platform_id })
    }
}
