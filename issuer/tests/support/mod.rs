//! Shared helpers for the issuer integration tests.
//!
//! Each test binary pulls this in with `mod support;` and uses only part of it.
#![allow(dead_code)]

pub mod server;
pub mod soft_passkey;
pub mod wallet;
