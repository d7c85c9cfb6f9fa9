//! `Authorization: Bearer <token>` (RFC 6750 §2.1), read the same way by every endpoint that
//! takes a bearer secret: the issuer's credential endpoint and admin API, and the verifier
//! service's platform API.

/// The token of an `Authorization` header value that uses the Bearer scheme, or `None`.
///
/// The scheme is matched without regard to case (RFC 9110 §11.1); one or more spaces separate it
/// from the token, which must be a non-empty `b64token` (letters, digits, `-._~+/`, then any
/// `=` padding). Anything else (another scheme, an empty token, a token with spaces or commas)
/// is `None`, so a malformed header is refused like a missing one.
///
/// ```
/// # use civic_credential::bearer::bearer_token;
/// assert_eq!(bearer_token("Bearer abc.DEF-1~"), Some("abc.DEF-1~"));
/// assert_eq!(bearer_token("bearer  x=="), Some("x=="));
/// assert_eq!(bearer_token("Basic abc"), None);
/// ```
pub fn bearer_token(header: &str) -> Option<&str> {
    scheme_token(header, "Bearer")
}

/// The token of an `Authorization` header value that uses `scheme` (`Bearer`, `DPoP`), read as
/// [`bearer_token`] reads Bearer.
pub fn scheme_token<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    if !given.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let valid = !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    valid.then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers_are_read_strictly() {
        for (header, token) in [
            ("Bearer t", Some("t")),
            ("BEARER t0k/en+==", Some("t0k/en+==")),
            ("Bearer   spaced", Some("spaced")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearer ==", None),
            ("Bearer a b", None),
            ("Bearer a,b", None),
            ("Bearer a=b", None),
            ("DPoP t", None),
            ("Bearertoken", None),
            ("", None),
        ] {
            assert_eq!(bearer_token(header), token, "{header:?}");
        }
    }
}
