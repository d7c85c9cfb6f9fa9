//! The bodies of civic-id's fuzz targets, in one place.
//!
//! The cargo-fuzz crate in `fuzz/` wraps each function here in a thin `fuzz_target!`, and
//! `tests/regressions.rs` feeds every file of `fuzz/corpus/<target>/` and
//! `fuzz/artifacts-regressions/<target>/` through the same function under plain `cargo test`.
//! Each body returns whether the input went all the way through (was accepted); the fuzzer
//! ignores that, the seed test checks it so that the seeds demonstrably reach the deep paths.
//!
//! Inputs that start with `{` select a *structured* mode in the token targets: the JSON names the
//! header and claims, and the body signs them with a fixed test key before verifying, so that the
//! fuzzer reaches the checks behind the signature. Other inputs are taken as raw tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // fuzz target bodies: a panic is the finding, and fixed fixtures are built with expect
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod certificates;
pub mod credential;
pub mod fixtures;
pub mod protocol;
pub mod seeds;
pub mod services;

pub use certificates::x509_chain;
pub use credential::{kb_jwt, sd_jwt, sd_jwt_claims, status_list};
pub use protocol::{
    dcql, dpop_proof, oid4vci_credential_request, oid4vci_messages, oid4vci_proof, oid4vci_token,
    oid4vp_request, vp_token,
};
pub use services::{register_csv, verifier_presentation};

/// A fuzz target body: takes the raw input, returns whether it was accepted.
pub type Body = fn(&[u8]) -> bool;

/// Every target: its name (the `fuzz/fuzz_targets/<name>.rs` binary) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("sd_jwt", credential::sd_jwt),
    ("sd_jwt_claims", credential::sd_jwt_claims),
    ("kb_jwt", credential::kb_jwt),
    ("status_list", credential::status_list),
    ("oid4vp_request", protocol::oid4vp_request),
    ("dcql", protocol::dcql),
    ("vp_token", protocol::vp_token),
    (
        "oid4vci_credential_request",
        protocol::oid4vci_credential_request,
    ),
    ("oid4vci_proof", protocol::oid4vci_proof),
    ("dpop_proof", protocol::dpop_proof),
    ("oid4vci_token", protocol::oid4vci_token),
    ("oid4vci_messages", protocol::oid4vci_messages),
    ("register_csv", services::register_csv),
    ("verifier_presentation", services::verifier_presentation),
    ("x509_chain", certificates::x509_chain),
];

/// The body of target `name`, if there is one.
pub fn body(name: &str) -> Option<Body> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}
