//! civic-wallet: the resident's wallet, running in the browser as WebAssembly.
//!
//! The logic lives in plain Rust modules that are tested natively; [`bindings`] exposes them to
//! JavaScript with wasm-bindgen on wasm32. All protocol work is done by `civic-credential`.
//!
//! - [`holder`]: holder keys; [`card`]: credential cards and checking received credentials;
//! - [`receive`]: OID4VCI offer links and batch proofs;
//! - [`request`]: OID4VP requests matched against stored credentials, in plain words for consent;
//! - [`presentation`]: the presentation itself (exactly the requested claims, key-bound);
//! - [`vault`]: the holder private keys, held only in WebAssembly memory while unlocked.
//!
//! The JavaScript side (`web/wallet.js`) does the HTTP, storage and the keystore.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod card;
pub mod holder;
pub mod presentation;
pub mod receive;
pub mod request;
pub mod vault;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

/// A wallet error as shown to the page: a stable code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WalletError {
    /// Machine-readable code (for example `invalid_request`, `credential_invalid`).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl WalletError {
    /// An error with `code` and `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        WalletError {
            code,
            message: message.into(),
        }
    }
}

impl From<civic_credential::Error> for WalletError {
    fn from(e: civic_credential::Error) -> Self {
        WalletError::new("credential_error", e.to_string())
    }
}

impl core::fmt::Display for WalletError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
