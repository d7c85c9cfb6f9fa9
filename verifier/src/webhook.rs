//! Webhooks: the result of a session is POSTed to the platform as a [`Notification`], signed
//! with HMAC-SHA256 over `"{timestamp}.{body}"` in the header
//! `Civic-Signature: t={timestamp},v1={hex}`. Platforms must check the signature and reject
//! timestamps older than a few minutes ([`verify`] does both). Delivery itself (HTTP, retries)
//! is the service's.

use serde::Serialize;

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::hex;

use crate::session::SessionStatus;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "civic-signature";

/// The body of a webhook: the session's outcome and its id.
#[derive(Debug, Clone, Serialize)]
pub struct Notification<'a> {
    /// The outcome (`{"status": "complete", "eligibility": …}`, …).
    #[serde(flatten)]
    pub outcome: &'a SessionStatus,
    /// The session id.
    pub id: &'a str,
}

/// The signature header value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[timestamp.to_string().as_bytes(), b".", body.as_bytes()],
    );
    format!("t={timestamp},v1={}", hex(&mac))
}

/// Checks a `Civic-Signature` header: the HMAC matches and the timestamp is within `tolerance`
/// seconds of `now`. For platforms written in Rust (and the examples).
pub fn verify(secret: &str, header: &str, body: &str, now: i64, tolerance: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > tolerance {
        return false;
    }
    let expected = signature(secret, t, body);
    civic_credential::encoding::ct_eq(expected.as_bytes(), format!("t={t},v1={v1}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_old_timestamps() {
        let h = signature("s3cret", 1000, r#"{"a":1}"#);
        assert!(h.starts_with("t=1000,v1="));
        assert!(verify("s3cret", &h, r#"{"a":1}"#, 1010, 300));
        assert!(!verify("s3cret", &h, r#"{"a":2}"#, 1010, 300));
        assert!(!verify("other", &h, r#"{"a":1}"#, 1010, 300));
        assert!(!verify("s3cret", &h, r#"{"a":1}"#, 2000, 300));
        assert!(!verify("s3cret", "garbage", r#"{"a":1}"#, 1000, 300));
    }
}
