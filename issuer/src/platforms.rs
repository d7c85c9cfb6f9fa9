//! Civic platforms registered with the issuer: each gets a pairwise pseudonym in new credentials.

use crate::error::ApiError;
use crate::service::now;
use crate::store::Platform;

impl crate::service::Issuer {
    /// Registers (or renames) a civic platform; new credentials carry a pseudonym for it.
    pub fn register_platform(
        &self,
        id: &str,
        name: &str,
        actor: &str,
    ) -> Result<Platform, ApiError> {
        let url = url::Url::parse(id).map_err(|_| {
            ApiError::bad_request("invalid_request", "the platform id must be a URL")
        })?;
        if !matches!(url.scheme(), "https" | "http") || id.len() > 200 {
            return Err(ApiError::bad_request(
                "invalid_request",
                "the platform id must be an http(s) URL of at most 200 characters",
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(ApiError::bad_request(
                "invalid_request",
                "the platform name must be 1..200 characters",
            ));
        }
        let platform = Platform {
            id: id.to_owned(),
            name: name.to_owned(),
            created: now(),
        };
        self.store.put_platform(&platform)?;
        self.audit(actor, "platform_registered", None, id)?;
        Ok(platform)
    }
}
