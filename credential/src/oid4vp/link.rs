//! The links that carry a presentation request to a wallet (OpenID4VP 1.0 §5): by reference
//! (`request_uri`, fetched with GET or, with `request_uri_method=post`, by POST with the wallet's
//! metadata and nonce), or by value (a request object in `request`, or the request's parameters
//! in the link itself).

use serde_json::{Map, Value};

use super::{AuthorizationRequest, DcqlQuery, REDIRECT_URI_PREFIX};
use crate::error::{Error, Result};
use crate::form;

/// The `openid4vp://` link: client id and where to fetch the request object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLink {
    /// The verifier's client identifier.
    pub client_id: String,
    /// Where the wallet fetches the request object.
    pub request_uri: String,
    /// `post` when the verifier takes the wallet's metadata and nonce by POST at `request_uri`
    /// (OpenID4VP §5.10); `None` (or `get`) for a plain GET.
    pub request_uri_method: Option<String>,
}

impl RequestLink {
    /// `openid4vp://?client_id=…&request_uri=…`, or the same query on another base (a web
    /// wallet's `…/present`).
    pub fn to_url(&self, base: &str) -> String {
        let method = match &self.request_uri_method {
            Some(m) => format!("&request_uri_method={}", form::percent_encode(m)),
            None => String::new(),
        };
        format!(
            "{base}?client_id={}&request_uri={}{method}",
            form::percent_encode(&self.client_id),
            form::percent_encode(&self.request_uri)
        )
    }

    /// Whether the wallet fetches the request object by POST.
    pub fn wants_post(&self) -> bool {
        self.request_uri_method.as_deref() == Some(REQUEST_URI_METHOD_POST)
    }

    /// Parses the query of a request link (any scheme, or a bare query string).
    pub fn parse(url: &str) -> Result<Self> {
        let [client_id, request_uri, method] = form::fields(
            url.as_bytes(),
            ["client_id", "request_uri", "request_uri_method"],
        )
        .map_err(link_error)?;
        if method
            .as_deref()
            .is_some_and(|m| m != "get" && m != REQUEST_URI_METHOD_POST)
        {
            return Err(Error::InvalidClaim(
                "request_uri_method must be get or post",
            ));
        }
        Ok(RequestLink {
            client_id: client_id.ok_or(Error::MissingClaim("client_id"))?,
            request_uri: request_uri.ok_or(Error::MissingClaim("request_uri"))?,
            request_uri_method: method,
        })
    }
}

/// `request_uri_method` for a wallet that POSTs its metadata and nonce to `request_uri`.
pub const REQUEST_URI_METHOD_POST: &str = "post";

/// What a wallet POSTs to `request_uri` (`request_uri_method=post`, OpenID4VP §5.10): its
/// metadata and a fresh nonce the request object must echo.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestUriPost {
    /// A fresh nonce for the request object's `wallet_nonce`.
    pub wallet_nonce: Option<String>,
    /// What the wallet supports (a JSON object).
    pub wallet_metadata: Option<Map<String, Value>>,
}

impl RequestUriPost {
    /// Reads the form body: a parameter given twice, a nonce that is empty or over 256
    /// characters, or metadata that is not a JSON object (or over 16 KiB) is refused.
    pub fn from_form(body: &[u8]) -> Result<Self> {
        let [nonce, metadata] = form::fields(body, ["wallet_nonce", "wallet_metadata"])
            .map_err(|_| Error::InvalidClaim("request_uri POST body"))?;
        if nonce
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.len() > 256)
        {
            return Err(Error::InvalidClaim("wallet_nonce"));
        }
        let wallet_metadata = match metadata {
            None => None,
            Some(m) if m.len() > 16 * 1024 => return Err(Error::TooLarge("wallet_metadata")),
            Some(m) => match serde_json::from_str(&m) {
                Ok(Value::Object(o)) => Some(o),
                _ => return Err(Error::Json("wallet_metadata must be a JSON object")),
            },
        };
        Ok(RequestUriPost {
            wallet_nonce: nonce,
            wallet_metadata,
        })
    }

    /// The form body.
    pub fn to_form(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.wallet_metadata {
            let text = Value::Object(m.clone()).to_string();
            parts.push(format!("wallet_metadata={}", form::percent_encode(&text)));
        }
        if let Some(n) = &self.wallet_nonce {
            parts.push(format!("wallet_nonce={}", form::percent_encode(n)));
        }
        parts.join("&")
    }
}

/// The longest request link a wallet reads (a QR code holds far less).
pub const MAX_LINK_BYTES: usize = 16 * 1024;

/// What a request link carries, as a wallet reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkedRequest {
    /// `request_uri`: the wallet fetches the request object (by GET, or by POST when the link
    /// says `request_uri_method=post`).
    ByReference(RequestLink),
    /// `request`: the request object itself, checked as a fetched one would be.
    Object {
        /// The link's `client_id` (the object's must be the same).
        client_id: String,
        /// The request object (a JWT).
        request: String,
    },
    /// The request's parameters in the link (OpenID4VP §5): unsigned, so only for a
    /// `redirect_uri:` client identifier; already checked with [`AuthorizationRequest::validate`].
    Parameters(Box<AuthorizationRequest>),
}

impl LinkedRequest {
    /// Reads a request link (any scheme, or a bare query). `request` and `request_uri` together
    /// are refused (RFC 9101 §5), as are parameters by value for any client identifier but a
    /// `redirect_uri:` one (such a request cannot be signed).
    pub fn parse(url: &str) -> Result<Self> {
        if url.len() > MAX_LINK_BYTES {
            return Err(Error::TooLarge("request link"));
        }
        let [client_id, request_uri, request] =
            form::fields(url.as_bytes(), ["client_id", "request_uri", "request"])
                .map_err(link_error)?;
        let client_id = client_id.ok_or(Error::MissingClaim("client_id"))?;
        match (request_uri, request) {
            (Some(_), Some(_)) => Err(Error::InvalidClaim(
                "a request link carries request or request_uri, not both",
            )),
            (Some(_), None) => RequestLink::parse(url).map(LinkedRequest::ByReference),
            (None, Some(request)) => Ok(LinkedRequest::Object { client_id, request }),
            (None, None) => {
                let request = AuthorizationRequest::from_link_parameters(url, client_id)?;
                Ok(LinkedRequest::Parameters(Box::new(request)))
            }
        }
    }

    /// The client identifier the link names.
    pub fn client_id(&self) -> &str {
        match self {
            LinkedRequest::ByReference(link) => &link.client_id,
            LinkedRequest::Object { client_id, .. } => client_id,
            LinkedRequest::Parameters(request) => &request.client_id,
        }
    }
}

fn link_error(e: form::FormError) -> Error {
    match e {
        form::FormError::Repeated(_) => Error::InvalidClaim("request link repeats a parameter"),
        form::FormError::Encoding(_) => Error::InvalidClaim("request link encoding"),
    }
}

impl AuthorizationRequest {
    /// The request by value, as a link on `base` (`openid4vp://` or a web wallet's
    /// `…/present`): its parameters in the query, `dcql_query` and `client_metadata` as JSON
    /// (OpenID4VP §5). Only for a `redirect_uri:` client identifier, whose requests are unsigned.
    pub fn to_link(&self, base: &str) -> Result<String> {
        if !self.client_id.starts_with(REDIRECT_URI_PREFIX) {
            return Err(Error::InvalidClaim(
                "only a redirect_uri: client's request goes by value unsigned",
            ));
        }
        let dcql =
            serde_json::to_string(&self.dcql_query).map_err(|_| Error::Json("dcql_query"))?;
        let mut params = vec![
            ("client_id", self.client_id.clone()),
            ("response_type", self.response_type.clone()),
            ("response_mode", self.response_mode.clone()),
            ("response_uri", self.response_uri.clone()),
            ("nonce", self.nonce.clone()),
            ("dcql_query", dcql),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state.clone()));
        }
        if let Some(metadata) = &self.client_metadata {
            params.push(("client_metadata", metadata.to_string()));
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", form::percent_encode(v)))
            .collect();
        Ok(format!("{base}?{}", query.join("&")))
    }

    /// Reads a request given by value in a link's query (see [`AuthorizationRequest::to_link`]).
    fn from_link_parameters(url: &str, client_id: String) -> Result<Self> {
        if !client_id.starts_with(REDIRECT_URI_PREFIX) {
            return Err(Error::InvalidClaim(
                "a request by value without a signature is only for a redirect_uri: client",
            ));
        }
        let [response_type, response_mode, response_uri, nonce, state, dcql, metadata] =
            form::fields(
                url.as_bytes(),
                [
                    "response_type",
                    "response_mode",
                    "response_uri",
                    "nonce",
                    "state",
                    "dcql_query",
                    "client_metadata",
                ],
            )
            .map_err(link_error)?;
        let dcql = dcql.ok_or(Error::MissingClaim(
            "the link has neither request_uri, request nor dcql_query",
        ))?;
        // Through `Value`, as request objects are read: one deserializer for the query in
        // the wallet's WebAssembly, not a second one for text.
        let dcql_query: DcqlQuery = serde_json::from_str::<Value>(&dcql)
            .and_then(serde_json::from_value)
            .map_err(|_| Error::Json("dcql_query"))?;
        let client_metadata = match metadata {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => Some(Value::Object(m)),
                _ => return Err(Error::Json("client_metadata must be a JSON object")),
            },
        };
        let request = AuthorizationRequest {
            response_type: response_type.ok_or(Error::MissingClaim("response_type"))?,
            client_id,
            response_mode: response_mode.ok_or(Error::MissingClaim("response_mode"))?,
            response_uri: response_uri.ok_or(Error::MissingClaim("response_uri"))?,
            nonce: nonce.ok_or(Error::MissingClaim("nonce"))?,
            state,
            dcql_query,
            client_metadata,
            aud: None,
            iat: None,
            wallet_nonce: None,
        };
        request.validate()?;
        Ok(request)
    }
}
