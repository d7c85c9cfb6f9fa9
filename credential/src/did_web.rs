//! did:web (W3C CCG did:web method): the DID of an https base URL, where its document is served,
//! and reading a fetched DID document (the wallet reads verifiers' documents here; it cannot
//! afford ssi). The services build the documents they publish with ssi, in
//! `civic_service::did_document`.
//!
//! ```
//! # use civic_credential::did_web::{did_for_url, document_url};
//! let did = did_for_url("https://id.example.city:8443/issuer").unwrap();
//! assert_eq!(did, "did:web:id.example.city%3A8443:issuer");
//! assert_eq!(document_url(&did).unwrap(), "https://id.example.city:8443/issuer/did.json");
//! ```

use core::fmt;

use serde_json::Value;

use crate::jwk::Jwk;

/// The method prefix.
pub const PREFIX: &str = "did:web:";
/// Where a DID without a path serves its document.
pub const WELL_KNOWN_PATH: &str = "/.well-known/did.json";
/// The media type of a served DID document.
pub const MEDIA_TYPE: &str = "application/did+json";

/// Why a URL, a DID or a DID document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DidError {
    /// The base URL cannot be turned into a did:web (scheme, user info, query, fragment, host).
    Url(&'static str),
    /// The identifier is not a well-formed did:web.
    Did(&'static str),
    /// The DID document is not usable.
    Document(String),
}

impl fmt::Display for DidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DidError::Url(why) => write!(f, "no did:web for this URL: {why}"),
            DidError::Did(why) => write!(f, "not a did:web: {why}"),
            DidError::Document(why) => write!(f, "DID document: {why}"),
        }
    }
}

impl std::error::Error for DidError {}

/// What a key in a DID document may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Purpose {
    /// `assertionMethod`: signing credentials and status lists (issuers), request objects.
    Assertion,
    /// `authentication`: proving control of the DID (a verifier signing its requests).
    Authentication,
}

impl Purpose {
    fn member(self) -> &'static str {
        match self {
            Purpose::Assertion => "assertionMethod",
            Purpose::Authentication => "authentication",
        }
    }
}

/// The did:web of an http(s) base URL: the host (lower case), a non-default port as `%3A<port>`,
/// and each path segment after a `:`. `http` is accepted for local deployments; the document is
/// still looked for over https (see [`document_url`]) unless the caller says otherwise.
pub fn did_for_url(url: &str) -> Result<String, DidError> {
    let (scheme, rest) = url.split_once("://").ok_or(DidError::Url("no scheme"))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(DidError::Url("the scheme must be https or http")),
    };
    if rest.contains(['?', '#']) {
        return Err(DidError::Url("a base URL has no query or fragment"));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(DidError::Url("a base URL has no user info"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        Some(_) => return Err(DidError::Url("the port is not a number")),
        None => (authority, None),
    };
    check_host(host).map_err(DidError::Url)?;
    let mut did = format!("{PREFIX}{}", host.to_ascii_lowercase());
    if let Some(port) = port.filter(|p| *p != default_port) {
        did.push_str("%3A");
        did.push_str(port);
    }
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.contains(':') {
            return Err(DidError::Url("a path segment holds a colon"));
        }
        did.push(':');
        did.push_str(segment);
    }
    Ok(did)
}

fn check_host(host: &str) -> Result<(), &'static str> {
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    ok.then_some(())
        .ok_or("the host must be a DNS name or an IPv4 address")
}

/// The parts of a did:web: host, optional port, path segments.
struct Parsed<'a> {
    host: &'a str,
    port: Option<&'a str>,
    path: Vec<&'a str>,
}

fn parse(did: &str) -> Result<Parsed<'_>, DidError> {
    let rest = did
        .strip_prefix(PREFIX)
        .ok_or(DidError::Did("it does not start with did:web:"))?;
    if rest.contains(['/', '?', '#']) {
        return Err(DidError::Did("a DID has no path, query or fragment"));
    }
    let mut parts = rest.split(':');
    let authority = parts.next().unwrap_or_default();
    let (host, port) = match authority
        .find("%3A")
        .or_else(|| authority.find("%3a"))
        .map(|at| authority.split_at(at))
    {
        Some((host, port)) => {
            let port = port.get(3..).unwrap_or_default();
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DidError::Did("the port is not a number"));
            }
            (host, Some(port))
        }
        None => (authority, None),
    };
    check_host(host).map_err(DidError::Did)?;
    let path: Vec<&str> = parts.collect();
    if path.iter().any(|s| s.is_empty() || s.contains('%')) {
        return Err(DidError::Did("an empty or encoded path segment"));
    }
    Ok(Parsed { host, port, path })
}

/// Where the document of `did` is served: `https://<host>[:port]/<path…>/did.json`, or
/// `https://<host>[:port]/.well-known/did.json` without a path.
pub fn document_url(did: &str) -> Result<String, DidError> {
    let p = parse(did)?;
    let mut url = format!("https://{}", p.host);
    if let Some(port) = p.port {
        url.push(':');
        url.push_str(port);
    }
    if p.path.is_empty() {
        url.push_str(WELL_KNOWN_PATH);
    } else {
        for segment in p.path {
            url.push('/');
            url.push_str(segment);
        }
        url.push_str("/did.json");
    }
    Ok(url)
}

/// Where to fetch the document of `did`: [`document_url`], but over plain http when the DID
/// names this device's loopback address and `allow_loopback_http` is on (a service under
/// development beside the wallet or verifier).
pub fn resolution_url(did: &str, allow_loopback_http: bool) -> Result<String, DidError> {
    let url = document_url(did)?;
    let loopback = crate::origin::Origin::of(&url).is_ok_and(|o| o.is_loopback());
    Ok(match url.strip_prefix("https://") {
        Some(rest) if loopback && allow_loopback_http => format!("http://{rest}"),
        _ => url,
    })
}

/// The host (and port) a did:web names, for showing to people: `id.example.city:8443`.
pub fn host_of(did: &str) -> Result<String, DidError> {
    let p = parse(did)?;
    Ok(match p.port {
        Some(port) => format!("{}:{port}", p.host),
        None => p.host.to_owned(),
    })
}

/// A key in a DID document: its absolute id (`did:web:…#fragment`) and public JWK.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationMethod {
    /// `did#fragment`.
    pub id: String,
    /// The public key.
    pub jwk: Jwk,
    /// What it may be used for.
    pub purposes: Vec<Purpose>,
}

/// A DID document with JSON Web Key verification methods.
#[derive(Debug, Clone, PartialEq)]
pub struct DidDocument {
    /// The DID.
    pub id: String,
    /// Other identifiers of the same subject (the issuer's https URL).
    pub also_known_as: Vec<String>,
    /// The keys.
    pub methods: Vec<VerificationMethod>,
}

impl DidDocument {
    /// Reads a fetched document of `did`: its `id` must be `did`; keys are the verification
    /// methods of this DID that carry a `publicKeyJwk` (relative ids are made absolute; a method
    /// of another DID, or a private key, is refused), with the purposes that reference them.
    pub fn parse(doc: &Value, did: &str) -> Result<Self, DidError> {
        let bad = |why: &str| DidError::Document(why.to_owned());
        if doc.get("id").and_then(Value::as_str) != Some(did) {
            return Err(bad("its id is not the DID that was resolved"));
        }
        let absolute = |id: &str| {
            if id.starts_with('#') {
                format!("{did}{id}")
            } else {
                id.to_owned()
            }
        };
        let referenced = |purpose: Purpose| -> Vec<String> {
            doc.get(purpose.member())
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().or_else(|| m.get("id").and_then(Value::as_str)))
                .map(absolute)
                .collect()
        };
        // In the order of `Purpose`.
        let refs = [
            (Purpose::Assertion, referenced(Purpose::Assertion)),
            (Purpose::Authentication, referenced(Purpose::Authentication)),
        ];
        let own = format!("{did}#");
        let mut methods = Vec::new();
        for m in doc
            .get("verificationMethod")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = m.get("id").and_then(Value::as_str).map(absolute) else {
                continue;
            };
            let Some(raw) = m.get("publicKeyJwk") else {
                continue;
            };
            if !id.starts_with(&own) {
                return Err(bad("a verification method belongs to another DID"));
            }
            let jwk: Jwk = serde_json::from_value(raw.clone())
                .map_err(|e| DidError::Document(format!("key {id}: {e}")))?;
            if jwk.is_private() {
                return Err(bad("a published key is private"));
            }
            let purposes = refs
                .iter()
                .filter(|(_, ids)| ids.contains(&id))
                .map(|(p, _)| *p)
                .collect();
            methods.push(VerificationMethod { id, jwk, purposes });
        }
        let also_known_as = doc
            .get("alsoKnownAs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        Ok(DidDocument {
            id: did.to_owned(),
            also_known_as,
            methods,
        })
    }

    /// The keys usable for `purpose`, each with its absolute id as `kid`.
    pub fn keys_for(&self, purpose: Purpose) -> Vec<Jwk> {
        self.methods
            .iter()
            .filter(|m| m.purposes.contains(&purpose))
            .map(|m| m.jwk.clone().with_kid(m.id.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests;
