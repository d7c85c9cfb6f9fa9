//! The authorization code flow of OID4VCI 1.0 as HAIP 1.0 profiles it: pushed authorization
//! requests (PAR, RFC 9126), PKCE with S256 (RFC 7636), and the authorization response with
//! `iss` (RFC 9207). The issuer reads these messages and the wallet writes them with the same
//! types.

use super::{ErrorCode, ProtocolError};
use crate::encoding::b64_encode;
use crate::form::{self, percent_encode};

/// The grant type of the authorization code flow.
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// The grant type that redeems a refresh token (RFC 6749 §6).
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";
/// The prefix of the `request_uri` a PAR endpoint hands out (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// The only PKCE method accepted (`plain` is refused, as FAPI 2.0 asks).
pub const PKCE_S256: &str = "S256";

fn invalid(description: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRequest, description)
}

/// A pushed authorization request (RFC 9126 §2.1) with the parameters this profile uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedAuthorizationRequest {
    /// The wallet's client identifier.
    pub client_id: String,
    /// Where the authorization response goes.
    pub redirect_uri: String,
    /// The scopes asked for (space-separated on the wire).
    pub scope: Vec<String>,
    /// The wallet's value to match the response with.
    pub state: Option<String>,
    /// The PKCE code challenge (S256).
    pub code_challenge: String,
    /// From a credential offer with the authorization code grant (OID4VCI §4.1.1).
    pub issuer_state: Option<String>,
    /// The thumbprint of the DPoP key the code is to be bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

impl PushedAuthorizationRequest {
    /// Reads the form body of a PAR request. `response_type` must be `code`, PKCE must be S256
    /// with a well-formed challenge, a `redirect_uri` and a `scope` are required; a parameter
    /// given twice, a request object (`request`) and `request_uri` (not allowed at the PAR
    /// endpoint) are refused.
    pub fn from_form(body: &[u8]) -> Result<Self, ProtocolError> {
        let [client_id, response_type, redirect_uri, scope, state, challenge, method, issuer_state, dpop_jkt, request, request_uri] =
            form::fields(
                body,
                [
                    "client_id",
                    "response_type",
                    "redirect_uri",
                    "scope",
                    "state",
                    "code_challenge",
                    "code_challenge_method",
                    "issuer_state",
                    "dpop_jkt",
                    "request",
                    "request_uri",
                ],
            )
            .map_err(|e| invalid(e.to_string()))?;
        if request.is_some() || request_uri.is_some() {
            return Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "request objects are not supported; push the parameters themselves",
            ));
        }
        // Lengths a wallet has no need to exceed (each is kept until the resident decides).
        for (name, value, max) in [
            ("client_id", &client_id, 512),
            ("redirect_uri", &redirect_uri, 2048),
            ("state", &state, 1024),
            ("issuer_state", &issuer_state, 256),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > max) {
                return Err(invalid(format!("{name} is longer than {max} bytes")));
            }
        }
        let client_id = client_id.ok_or_else(|| invalid("client_id is required"))?;
        if response_type.as_deref() != Some("code") {
            return Err(ProtocolError::new(
                ErrorCode::UnsupportedResponseType,
                "response_type must be code",
            ));
        }
        let redirect_uri = redirect_uri.ok_or_else(|| invalid("redirect_uri is required"))?;
        let scope: Vec<String> = scope
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if scope.is_empty() {
            return Err(ProtocolError::new(
                ErrorCode::InvalidScope,
                "scope is required (the credential's scope from the issuer metadata)",
            ));
        }
        if method.as_deref() != Some(PKCE_S256) {
            return Err(invalid("PKCE with code_challenge_method S256 is required"));
        }
        let code_challenge = challenge
            .filter(|c| c.len() == 43 && c.bytes().all(is_b64url))
            .ok_or_else(|| invalid("code_challenge must be a base64url SHA-256 (43 characters)"))?;
        if dpop_jkt
            .as_deref()
            .is_some_and(|j| j.len() != 43 || !j.bytes().all(is_b64url))
        {
            return Err(invalid("dpop_jkt must be a JWK SHA-256 thumbprint"));
        }
        Ok(PushedAuthorizationRequest {
            client_id,
            redirect_uri,
            scope,
            state,
            code_challenge,
            issuer_state,
            dpop_jkt,
        })
    }

    /// The form body (what a wallet POSTs to the PAR endpoint).
    pub fn to_form(&self) -> String {
        let mut parts = vec![
            ("client_id", self.client_id.clone()),
            ("response_type", "code".to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.join(" ")),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", PKCE_S256.to_owned()),
        ];
        for (name, value) in [
            ("state", &self.state),
            ("issuer_state", &self.issuer_state),
            ("dpop_jkt", &self.dpop_jkt),
        ] {
            if let Some(v) = value {
                parts.push((name, v.clone()));
            }
        }
        parts
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The PAR endpoint's answer (RFC 9126 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParResponse {
    /// The reference to send to the authorization endpoint.
    pub request_uri: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

/// The S256 code challenge of a PKCE `code_verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    b64_encode(&crate::encoding::sha256(verifier.as_bytes()))
}

/// Whether `verifier` is a well-formed PKCE code verifier (RFC 7636 §4.1: 43 to 128 unreserved
/// characters) whose S256 challenge is `challenge`. The comparison takes constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| is_b64url(b) || b == b'.' || b == b'~');
    well_formed && crate::encoding::ct_eq(pkce_challenge(verifier).as_bytes(), challenge.as_bytes())
}

/// The authorization response redirect (RFC 6749 §4.1.2, RFC 9207): `redirect_uri` with `params`
/// and `iss` added to its query.
/// A fragment in `redirect_uri` (which RFC 6749 §3.1.2 does not allow) is dropped.
pub fn authorization_response(redirect_uri: &str, params: &[(&str, &str)], iss: &str) -> String {
    let base = redirect_uri.split('#').next().unwrap_or_default();
    let mut url = base.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (name, value) in params.iter().copied().chain([("iss", iss)]) {
        url.push(sep);
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encode(value));
        sep = '&';
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn form(extra: &str) -> String {
        format!("client_id=w&response_type=code&redirect_uri=https%3A%2F%2Fw.example%2Fcb&scope=residency&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}")
    }

    #[test]
    fn pkce_is_the_rfcs_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_challenge(verifier), CHALLENGE);
        assert!(pkce_matches(verifier, CHALLENGE));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            CHALLENGE
        ));
        assert!(!pkce_matches("short", &pkce_challenge("short")));
    }

    #[test]
    fn pushed_requests_are_read_strictly_and_round_trip() {
        let req = PushedAuthorizationRequest::from_form(form("&state=s%201").as_bytes()).unwrap();
        assert_eq!(req.scope, vec!["residency".to_owned()]);
        assert_eq!(req.state.as_deref(), Some("s 1"));
        let again = PushedAuthorizationRequest::from_form(req.to_form().as_bytes()).unwrap();
        assert_eq!(again, req);
        for (what, body, code) in [
            (
                "plain PKCE",
                form("").replace("S256", "plain"),
                "invalid_request",
            ),
            (
                "no PKCE",
                form("").replace(&format!("&code_challenge={CHALLENGE}"), ""),
                "invalid_request",
            ),
            (
                "token response type",
                form("").replace("response_type=code", "response_type=token"),
                "unsupported_response_type",
            ),
            (
                "no scope",
                form("").replace("&scope=residency", ""),
                "invalid_scope",
            ),
            ("a request object", form("&request=eyJ"), "invalid_request"),
            ("twice", form("&client_id=x"), "invalid_request"),
            ("a bad dpop_jkt", form("&dpop_jkt=x"), "invalid_request"),
            (
                "a huge state",
                form(&format!("&state={}", "s".repeat(1025))),
                "invalid_request",
            ),
        ] {
            let err = PushedAuthorizationRequest::from_form(body.as_bytes()).unwrap_err();
            assert_eq!(err.error.as_str(), code, "{what}");
        }
    }

    #[test]
    fn responses_carry_iss_and_keep_the_redirects_own_query() {
        assert_eq!(
            authorization_response(
                "https://w.example/cb",
                &[("code", "c 1"), ("state", "s")],
                "https://id.example"
            ),
            "https://w.example/cb?code=c%201&state=s&iss=https%3A%2F%2Fid.example"
        );
        assert_eq!(
            authorization_response(
                "https://w.example/cb?x=1#frag",
                &[("error", "access_denied")],
                "https://id.example"
            ),
            "https://w.example/cb?x=1&error=access_denied&iss=https%3A%2F%2Fid.example"
        );
    }
}
