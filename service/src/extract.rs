//! Extractors shared by the services' handlers.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::client_addr::TrustedProxies;
use crate::error::ApiError;
use crate::layers::rejection_code;

/// A JSON request body, parsed into `T`. Unlike `axum::Json`, the content type is not checked
/// (wallets and scripts send JSON without it), and a body that is not valid JSON for `T` is
/// refused with the service's JSON error: 400 `invalid_request` saying what is wrong.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), rejection_code(e.status()), e.body_text()))?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request("invalid_request", format!("invalid JSON body: {e}"))
        })
    }
}

/// The address of the client that sent the request (for rate limits): the peer's, or, when the
/// peer is one of the [`TrustedProxies`] the router carries as an extension
/// (`.layer(Extension(proxies))`), the address the proxies forwarded. `0.0.0.0` when the server
/// runs without connection info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let ip = match parts.extensions.get::<TrustedProxies>() {
            Some(proxies) => proxies.client(peer, &parts.headers),
            None => peer,
        };
        Ok(ClientIp(ip))
    }
}
