//! Web origins (RFC 6454): the scheme, host and port of an http(s) URL, parsed rather than
//! matched by prefix, so `http://localhost.evil.example` is not `localhost`. Used for the
//! rules that depend on where something is: a verifier's identity for pseudonyms, which
//! addresses may be fetched, and which may be plain http (only loopback, for development).

use core::fmt;

/// Why a URL has no usable origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not `http://` or `https://`.
    #[error("the URL must start with https:// (or http:// for a local address)")]
    Scheme,
    /// The host part is empty, carries user info, or holds characters a host cannot have.
    #[error("the URL's host is not a DNS name or an IP address")]
    Host,
    /// The port is not a number from 1 to 65535.
    #[error("the URL's port is not a number from 1 to 65535")]
    Port,
}

/// The origin of an http(s) URL: scheme and host in lower case, the port only when it is not
/// the scheme's default. Its [`Display`](fmt::Display) is the ASCII serialization
/// (`https://budget.example`, `http://localhost:8091`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    secure: bool,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// The origin of `url`.
    pub fn of(url: &str) -> Result<Self, OriginError> {
        let (scheme, rest) = url.split_once("://").ok_or(OriginError::Scheme)?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(OriginError::Scheme),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') || authority.is_empty() {
            return Err(OriginError::Host);
        }
        let (host, port) = split_port(authority)?;
        let host = host.to_ascii_lowercase();
        if !valid_host(&host) {
            return Err(OriginError::Host);
        }
        let default = if secure { 443 } else { 80 };
        Ok(Origin {
            secure,
            host,
            port: port.filter(|p| *p != default),
        })
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.secure
    }

    /// The host, lower case (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is this device: `localhost` (or a name under it), `127.0.0.0/8` or
    /// `[::1]`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// Whether a fetch may go here: https, or plain http to a loopback address when
    /// `allow_loopback_http` (a development setting) is on.
    pub fn is_trustworthy(&self, allow_loopback_http: bool) -> bool {
        self.secure || (allow_loopback_http && self.is_loopback())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), OriginError> {
    let colon = if authority.starts_with('[') {
        // [v6]:port
        let close = authority.find(']').ok_or(OriginError::Host)?;
        match authority.get(close + 1..) {
            Some("") => None,
            Some(rest) if rest.starts_with(':') => Some(close + 1),
            _ => return Err(OriginError::Host),
        }
    } else {
        authority.rfind(':')
    };
    let Some(at) = colon else {
        return Ok((authority, None));
    };
    let (host, port) = authority.split_at(at);
    let digits = port.get(1..).unwrap_or_default();
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OriginError::Port);
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err(OriginError::Port),
        Ok(p) => Ok((host, Some(p))),
    }
}

fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    !host.is_empty()
        && !host.starts_with(['.', '-'])
        && !host.ends_with('-')
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

/// Whether `host` (lower case, IPv6 in brackets) names this device.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_parsed_not_prefix_matched() {
        let cases = [
            ("https://Budget.Example/path?q#f", "https://budget.example"),
            ("https://budget.example:443/", "https://budget.example"),
            ("https://budget.example:8443", "https://budget.example:8443"),
            ("HTTP://localhost:80/x", "http://localhost"),
            (
                "http://127.0.0.1:8091/v1/response/1",
                "http://127.0.0.1:8091",
            ),
            ("http://[::1]:3000/", "http://[::1]:3000"),
        ];
        for (url, origin) in cases {
            assert_eq!(
                Origin::of(url).map(|o| o.to_string()),
                Ok(origin.to_owned()),
                "{url}"
            );
        }
        for bad in [
            "ftp://x.example",
            "https://",
            "https://user@budget.example",
            "https://budget.example:0",
            "https://budget.example:99999",
            "https://budget.example:8o",
            "https://bud get.example",
            "https://a..b",
            "budget.example",
            "https://[::1",
        ] {
            assert!(Origin::of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_is_the_host_not_a_prefix() {
        let loopback = |u: &str| Origin::of(u).map(|o| o.is_loopback()).unwrap_or(false);
        assert!(loopback("http://localhost:8080"));
        assert!(loopback("http://127.0.0.1:8080"));
        assert!(loopback("http://127.9.9.9"));
        assert!(loopback("http://[::1]:1"));
        assert!(!loopback("http://localhost.evil.example"));
        assert!(!loopback("http://127.0.0.1.evil.example"));
        assert!(!loopback("http://128.0.0.1"));
        assert!(!loopback("http://evil.example/localhost"));
        let o = Origin::of("http://localhost:1").expect("origin");
        assert!(!o.is_trustworthy(false) && o.is_trustworthy(true));
        let o = Origin::of("http://10.0.0.1").expect("origin");
        assert!(!o.is_trustworthy(true));
        assert!(Origin::of("https://x.example")
            .expect("o")
            .is_trustworthy(false));
    }
}
