//! [`Platforms`]: the civic platforms the agency works with. Each gets a pairwise pseudonym in
//! every credential issued after it was added.

use std::sync::Arc;

use crate::context::Context;
use crate::store::{Platform, StorageError};

/// Why a platform could not be added.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The identifier is not an http(s) URL of at most 200 characters.
    #[error("the platform id must be an http(s) URL of at most 200 characters")]
    InvalidId,
    /// The name is empty or longer than 200 characters.
    #[error("the platform name must be 1..200 characters")]
    InvalidName,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The civic platforms.
pub struct Platforms {
    context: Arc<Context>,
}

impl Platforms {
    /// Platforms over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        Platforms { context }
    }

    /// Adds (or renames) a civic platform; credentials issued from now on carry a pseudonym
    /// for it.
    pub fn add(&self, id: &str, name: &str, actor: &str) -> Result<Platform, PlatformError> {
        let url = url::Url::parse(id).map_err(|_| PlatformError::InvalidId)?;
        if !matches!(url.scheme(), "https" | "http") || id.len() > 200 {
            return Err(PlatformError::InvalidId);
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(PlatformError::InvalidName);
        }
        let platform = Platform {
            id: id.to_owned(),
            name: name.to_owned(),
            created: self.context.now(),
        };
        self.context.store.put_platform(&platform)?;
        self.context.audit(actor, "platform_registered", None, id)?;
        Ok(platform)
    }

    /// Every platform.
    pub fn list(&self) -> Result<Vec<Platform>, StorageError> {
        self.context.store.platforms()
    }
}
