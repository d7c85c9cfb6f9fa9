//! Cookies for sessions, ceremonies and browser bindings, built one way: `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and over https `Secure` with the `__Host-` name prefix (the
//! browser then takes the cookie only if it is secure, host-only and for `/`, so a sibling
//! subdomain can neither plant nor overwrite it). Reading and setting go through
//! `axum_extra`'s `CookieJar`.

use std::borrow::Cow;

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

    /// The name cookie `base` is sent under: `__Host-<base>` over https, `<base>` over http
    /// (local development, where browsers refuse `Secure` cookies from other hosts than
    /// `localhost`).
    pub fn name(&self, base: &'static str) -> Cow<'static, str> {
        if self.secure {
            Cow::Owned(format!("__Host-{base}"))
        } else {
            Cow::Borrowed(base)
        }
    }

    /// The value of cookie `base` in `jar`, if the browser sent it under its name.
    pub fn read<'a>(&self, jar: &'a CookieJar, base: &'static str) -> Option<&'a str> {
        jar.get(&self.name(base)).map(|c| c.value())
    }

    /// A cookie `base=value` (under [`CookiePolicy::name`]) that lives `max_age`.
    pub fn cookie(&self, base: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        Cookie::build((self.name(base), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build()
    }

    /// A cookie that removes `base` from the browser.
    pub fn removal(&self, base: &'static str) -> Cookie<'static> {
        self.cookie(base, String::new(), Duration::ZERO)
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
            "__Host-s=v",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{text}");
        }
        assert!(!text.contains("Domain"), "host-only: {text}");
        let plain = CookiePolicy::for_url("http://localhost:8080").removal("s");
        assert!(!plain.to_string().contains("Secure"));
        assert!(plain.to_string().starts_with("s=;"), "{plain}");
        assert!(plain.to_string().contains("Max-Age=0"));
        // Reading takes the name the cookie was set under, and only that one.
        let https = CookiePolicy::for_url("https://id.example");
        let jar = CookieJar::new().add(Cookie::new("s", "planted"));
        assert_eq!(https.read(&jar, "s"), None);
        let jar = jar.add(https.cookie("s", "real".into(), Duration::from_secs(1)));
        assert_eq!(https.read(&jar, "s"), Some("real"));
    }
}
