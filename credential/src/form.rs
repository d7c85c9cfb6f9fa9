//! `application/x-www-form-urlencoded`: the encoding of HTML form bodies (the OAuth token request,
//! the OpenID4VP `direct_post` answer) and of URL queries (offer and request links).
//!
//! Parsing refuses a parameter given more than once (RFC 6749 §3.1 and §3.2: "parameters MUST NOT
//! be included more than once"): a repeated `state` or `vp_token` is an attack or a bug, never
//! something to choose from.

use core::fmt;

/// Why a form could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// The named parameter appears more than once.
    Repeated(String),
    /// The named parameter's value is not valid percent-encoded UTF-8.
    Encoding(String),
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::Repeated(name) => write!(f, "parameter {name} appears more than once"),
            FormError::Encoding(name) => {
                write!(f, "parameter {name} is not valid percent-encoded UTF-8")
            }
        }
    }
}

impl std::error::Error for FormError {}

/// Reads the parameters `names` from a form body or a URL query (the part after `?` is used when
/// there is one; a `#fragment` is dropped). Returns one value per name, in the order of `names`:
/// `None` when absent. Other parameters are skipped; a wanted one given twice is an error.
///
/// ```
/// # use civic_credential::form::fields;
/// let [grant, code] = fields(b"grant_type=x&code=a%20b+c", ["grant_type", "code"]).unwrap();
/// assert_eq!((grant.as_deref(), code.as_deref()), (Some("x"), Some("a b c")));
/// assert!(fields(b"code=1&code=2", ["code"]).is_err());
/// ```
pub fn fields<const N: usize>(
    input: &[u8],
    names: [&str; N],
) -> Result<[Option<String>; N], FormError> {
    let mut out: [Option<String>; N] = core::array::from_fn(|_| None);
    for pair in query_part(input).split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (raw_name, raw_value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (pair.get(..at).unwrap_or_default(), pair.get(at + 1..)),
            None => (pair, None),
        };
        // A name that does not decode cannot be one we want.
        let Some(name) = decode(raw_name) else {
            continue;
        };
        let Some((slot, wanted)) = out
            .iter_mut()
            .zip(names)
            .find(|(_, wanted)| *wanted == name)
        else {
            continue;
        };
        let value = decode(raw_value.unwrap_or_default())
            .ok_or_else(|| FormError::Encoding(wanted.to_owned()))?;
        if slot.replace(value).is_some() {
            return Err(FormError::Repeated(wanted.to_owned()));
        }
    }
    Ok(out)
}

/// The query of a URL (after `?`, without a `#fragment`), or the whole input when it has no `?`.
fn query_part(input: &[u8]) -> &[u8] {
    let query = match input.iter().position(|b| *b == b'?') {
        Some(at) => input.get(at + 1..).unwrap_or_default(),
        None => input,
    };
    match query.iter().position(|b| *b == b'#') {
        Some(at) => query.get(..at).unwrap_or_default(),
        None => query,
    }
}

/// Percent-encodes everything except the RFC 3986 unreserved characters, so the result is safe
/// in a query value, a form body and a path segment alike.
pub fn percent_encode(text: &str) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space, in form encoding). `None` on a bad escape or when the
/// result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    decode(text.as_bytes())
}

fn decode(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'%' => {
                let (hex, tail) = rest.split_at_checked(2)?;
                let hex = core::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                rest = tail;
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_fields_are_decoded_and_others_skipped() {
        let [a, b, c] = fields(
            b"a=1&junk=%ZZ&b=x%2By+z&&pre%2Dauthorized=ok&c",
            ["a", "b", "c"],
        )
        .unwrap();
        assert_eq!(a.as_deref(), Some("1"));
        assert_eq!(b.as_deref(), Some("x+y z"));
        assert_eq!(c.as_deref(), Some(""));
        let [code] = fields(b"pre%2Dauthorized_code=7", ["pre-authorized_code"]).unwrap();
        assert_eq!(code.as_deref(), Some("7"));
        let [missing] = fields(b"", ["x"]).unwrap();
        assert_eq!(missing, None);
    }

    #[test]
    fn queries_of_urls_are_read_without_their_fragment() {
        let url = b"openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv.example&x=1#frag=2";
        let [id, frag] = fields(url, ["client_id", "frag"]).unwrap();
        assert_eq!(id.as_deref(), Some("redirect_uri:https://v.example"));
        assert_eq!(frag, None);
    }

    #[test]
    fn repeats_and_bad_encodings_of_wanted_fields_are_refused() {
        assert_eq!(
            fields(b"state=1&state=1", ["state"]),
            Err(FormError::Repeated("state".into()))
        );
        // Repeated under another spelling of the same name.
        assert_eq!(
            fields(b"state=1&st%61te=2", ["state"]),
            Err(FormError::Repeated("state".into()))
        );
        assert_eq!(
            fields(b"state=%E2%82", ["state"]),
            Err(FormError::Encoding("state".into()))
        );
        assert_eq!(
            fields(b"state=%4", ["state"]),
            Err(FormError::Encoding("state".into()))
        );
        // Repeats of parameters nobody asked for are not our business.
        assert!(fields(b"x=1&x=2&state=s", ["state"]).is_ok());
    }

    #[test]
    fn percent_encoding_round_trips() {
        for text in ["", "a b+c", "https://x.example/p?q=1&r=é", "%%", "~._-"] {
            assert_eq!(percent_decode(&percent_encode(text)).as_deref(), Some(text));
        }
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(percent_decode("a%20b+c"), Some("a b c".into()));
        assert_eq!(percent_decode("%E2%82"), None);
        assert_eq!(percent_decode("%"), None);
    }
}
