//! The JavaScript API (wasm-bindgen). Values cross as JSON strings; errors are thrown as
//! `{code, message}` JSON strings.

use wasm_bindgen::prelude::*;

use crate::presentation::PresentationRequest;
use crate::WalletError;

fn js_err(e: WalletError) -> JsValue {
    JsValue::from_str(&serde_json::to_string(&e).unwrap_or_else(|_| e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(json: &str, what: &'static str) -> Result<T, JsValue> {
    serde_json::from_str(json)
        .map_err(|e| js_err(WalletError::new("invalid_request", format!("{what}: {e}"))))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(|e| js_err(WalletError::new("internal", e.to_string())))
}

/// Generates a holder key; returns the private JWK as JSON.
#[wasm_bindgen(js_name = generateHolderKey)]
pub fn generate_holder_key() -> Result<String, JsValue> {
    to_json(&crate::holder::generate_holder_key().map_err(js_err)?)
}

/// Reads a credential (issuance form) into a card; returns JSON.
#[wasm_bindgen(js_name = credentialCard)]
pub fn credential_card(issued: &str) -> Result<String, JsValue> {
    to_json(&crate::card::card(issued).map_err(js_err)?)
}

/// Makes a presentation for `request_json` (`{paths, client_id, nonce}`) with the private
/// holder key `holder_jwk_json`, at `now` (seconds since the epoch).
#[wasm_bindgen]
pub fn present(
    issued: &str,
    request_json: &str,
    holder_jwk_json: &str,
    now: f64,
) -> Result<String, JsValue> {
    let request: PresentationRequest = parse(request_json, "request")?;
    let holder = parse(holder_jwk_json, "holder key")?;
    crate::presentation::present(issued, &request, &holder, now as i64).map_err(js_err)
}

/// Verifies a received credential against the issuer's published keys (`issuer_jwks_json`: a
/// JSON array of JWKs) at `now`; returns its card as JSON.
#[wasm_bindgen(js_name = verifyReceived)]
pub fn verify_received(issued: &str, issuer_jwks_json: &str, now: f64) -> Result<String, JsValue> {
    let keys: Vec<civic_credential::jwk::Jwk> = parse(issuer_jwks_json, "issuer keys")?;
    to_json(&crate::card::verify_received(issued, &keys, now as i64).map_err(js_err)?)
}
