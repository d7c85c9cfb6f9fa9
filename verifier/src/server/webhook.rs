//! Webhooks: the result is POSTed to the platform, signed with HMAC-SHA256 over
//! `"{timestamp}.{body}"`, in the header `Civic-Signature: t={timestamp},v1={hex}`. Platforms
//! must check the signature and reject timestamps older than a few minutes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
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

/// Posts `body` to `url`, retrying 3 times with back-off; logs the outcome, never the body.
pub async fn deliver(
    client: reqwest::Client,
    url: String,
    secret: String,
    body: String,
    now: impl Fn() -> i64,
) {
    for attempt in 0..4u32 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500 * 2u64.pow(attempt))).await;
        }
        let sig = signature(&secret, now(), &body);
        let sent = client
            .post(&url)
            .header("content-type", "application/json")
            .header("civic-signature", sig)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(url, attempt, "webhook delivered");
                return;
            }
            Ok(r) => tracing::warn!(
                url,
                attempt,
                status = r.status().as_u16(),
                "webhook refused"
            ),
            Err(e) => tracing::warn!(url, attempt, error = %e, "webhook failed"),
        }
    }
    tracing::error!(url, "webhook gave up after 4 attempts");
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
