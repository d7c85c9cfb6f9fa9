//! Shared helpers for the issuer integration tests.
//!
//! Each test binary pulls this in with `mod support;` and uses only part of it.
#![allow(dead_code)]

pub mod soft_passkey;
