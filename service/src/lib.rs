//! civic-service: the plumbing the civic-id services share, written once.
//!
//! Protocol logic lives in `civic-credential` and storage in `civic-storage`; this crate holds
//! what every service needs around them:
//!
//! - [`clock`]: the time services read ([`SystemClock`]), and the clocks tests move
//!   ([`ShiftedClock`], [`ManualClock`]);
//! - [`html`]: escaping text into server-rendered pages;
//! - [`certificate`]: PEM certificate chains, and (feature `dev-ca`) development CAs;
//! - (feature `did`) [`did_document`]: the DID documents the services publish, built with ssi.
//!
//! With feature `http` (axum):
//!
//! - [`error::ApiError`]: the JSON error answer (`{"error", "error_description"}`), with
//!   `Cache-Control: no-store`, `Retry-After` on 503 and a Bearer challenge on 401; storage
//!   errors become 503s worded by `civic_storage::StorageError`;
//! - [`layers`]: security headers, and JSON bodies for the framework's own plain-text
//!   rejections (413, 405, 415, 400);
//! - [`extract`]: [`extract::JsonBody`] (JSON with a JSON rejection), [`extract::ClientIp`]
//!   (the client's address, behind [`client_addr::TrustedProxies`] too);
//! - [`respond`]: `Cache-Control: no-store` answers, assets;
//! - [`cookies`]: session-style cookies (HttpOnly, SameSite=Strict, Secure on https);
//! - [`rate_limit`]: a per-address rate limit (governor);
//! - (feature `i18n`) [`i18n`]: message catalogues (Project Fluent) and the language the
//!   browser asks for;
//! - [`run`]: blocking store calls off the async threads, periodic jobs, logging, serving
//!   with graceful shutdown on Ctrl-C and SIGTERM.

#![forbid(unsafe_code)]

pub mod certificate;
pub mod clock;
#[cfg(feature = "did")]
pub mod did_document;
pub mod html;

#[cfg(feature = "http")]
pub mod client_addr;
#[cfg(feature = "http")]
pub mod cookies;
#[cfg(feature = "http")]
pub mod error;
#[cfg(feature = "http")]
pub mod extract;
#[cfg(feature = "i18n")]
pub mod i18n;
#[cfg(feature = "http")]
pub mod layers;
#[cfg(feature = "http")]
pub mod rate_limit;
#[cfg(feature = "http")]
pub mod respond;
#[cfg(feature = "http")]
pub mod run;

pub use clock::{Clock, ManualClock, SharedClock};
#[cfg(not(target_arch = "wasm32"))]
pub use clock::{ShiftedClock, SystemClock};
#[cfg(feature = "http")]
pub use error::ApiError;
