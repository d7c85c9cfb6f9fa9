//! [`Platforms`]: the civic platforms the agency works with. Each gets a pairwise pseudonym in
//! every credential issued after it was added.

use std::sync::Arc;

use crate::context::Context;
use crate::store::{Platform, StorageError};

/// Why a platform could not be added.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The identifier is not a platform identifier (the verifier's origin or did:web, at most
    /// 200 characters; [`civic_credential::pseudonym::platform_id`]).
    #[error(
        "the platform id must be the verifier's origin (https://host[:port], lower case, no \
         path) or its did:web, at most 200 characters: wallets give a pseudonym only to the \
         verifier it names"
    )]
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
        if id.len() > 200 || civic_credential::pseudonym::platform_id(id).is_err() {
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

    /// The platform registry wallets read (`/platform-registry`): the platforms (id and name)
    /// and the trust anchors of certificate verifiers (base64 DER, as in `x5c`).
    pub fn registry(&self) -> Result<serde_json::Value, StorageError> {
        use base64::Engine as _;
        let config = &self.context.config;
        let platforms: Vec<serde_json::Value> = self
            .list()?
            .into_iter()
            .map(|p| serde_json::json!({ "id": p.id, "name": p.name }))
            .collect();
        let anchors: Vec<String> = config
            .platform_anchor_der
            .iter()
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
            .collect();
        Ok(serde_json::json!({
            "issuer": config.public_url,
            "platforms": platforms,
            "trust_anchors": anchors,
        }))
    }
}
