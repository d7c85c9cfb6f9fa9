//! Cookies for sessions, ceremonies and browser bindings, built one way: `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and `Secure` whenever the service is served over https.
//! Reading and setting go through `axum_extra`'s `CookieJar`.

use std::time::Duration;

use axum_extra::extract::cookie::SameSite;
pub use axum_extra::extract::cookie::{Cookie, CookieJar};

/// How a service makes its cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// Whether the service is reached over https (then every cookie is `Secure`).
    pub secure: bool,
}

impl CookiePolicy {
    /// The policy for a service whose public URL is `public_url`.
    pub fn for_url(public_url: &str) -> Self {
        CookiePolicy {
            secure: public_url.starts_with("https://"),
        }
    }

    /// A cookie `name=value` that lives `max_age`.
    pub fn cookie(&self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build()
    }

    /// A cookie that removes `name` from the browser.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        self.cookie(name, String::new(), Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_secure_on_https() {
        let c = CookiePolicy::for_url("https://id.example").cookie(
            "s",
            "v".into(),
            Duration::from_secs(60),
        );
        let text = c.to_string();
        for part in [
            "s=v",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{text}");
        }
        let plain = CookiePolicy::for_url("http://localhost:8080").removal("s");
        assert!(!plain.to_string().contains("Secure"));
        assert!(plain.to_string().contains("Max-Age=0"));
    }
}
