//! civic-credential: the protocol core shared by the civic-id issuer, wallet and verifier.
//!
//! - [`sd_jwt`]: Selective Disclosure for JWTs (RFC 9901): issue, present, verify.
//! - [`key_binding`]: key-binding JWTs (`kb+jwt`).
//! - [`sd_jwt_vc`]: the SD-JWT VC profile (`dc+sd-jwt`) with issuer key binding and validity.
//! - [`status_list`]: IETF Token Status List (`statuslist+jwt`).
//! - [`oid4vci`]: OpenID for Verifiable Credential Issuance 1.0 messages and proof JWTs;
//!   [`dpop`]: DPoP proofs (RFC 9449) that bind access tokens to the wallet's key.
//! - [`oid4vp`]: OpenID for Verifiable Presentations 1.0 requests, DCQL and `vp_token`;
//!   [`jwe`]: encrypted answers (`direct_post.jwt`, ECDH-ES with AES-GCM, pure Rust).
//! - [`residency`]: the residency credential's claims and age predicates.
//! - [`pseudonym`]: pairwise pseudonyms for civic platforms.
//! - [`crypto`] and [`jwk`]: ES256 / EdDSA behind an allow-list; aws-lc-rs natively, RustCrypto on
//!   wasm32; HMAC-SHA-256 ([`crypto::hmac_sha256`]).
//! - [`did_web`]: did:web identifiers, and reading DID documents.
//! - [`form`]: `application/x-www-form-urlencoded` bodies and queries; [`bearer`]: `Authorization:
//!   Bearer` headers.
//!
//! The crate is pure: no network, no files, and time and randomness are passed in.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bearer;
pub mod crypto;
pub mod did_web;
pub mod dpop;
pub mod encoding;
pub mod error;
pub mod form;
pub mod jwe;
pub mod jwk;
pub mod jws;
pub mod key_binding;
pub mod oid4vci;
pub mod oid4vp;
pub mod origin;
pub mod pseudonym;
#[cfg(feature = "qr")]
pub mod qr;
pub mod residency;
pub mod sd_jwt;
pub mod sd_jwt_vc;
pub mod status_list;
pub mod x509;

pub use error::{Error, Result};
