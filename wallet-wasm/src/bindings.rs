//! The JavaScript API (wasm-bindgen). Values cross as JSON strings; errors are thrown as
//! `{code, message}` JSON strings.

use wasm_bindgen::prelude::*;

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

/// Reads a credential (issuance form) into a card; returns JSON.
#[wasm_bindgen(js_name = credentialCard)]
pub fn credential_card(issued: &str) -> Result<String, JsValue> {
    to_json(&crate::card::card(issued).map_err(js_err)?)
}

/// Verifies a credential received from `credential_issuer` (the issuer the wallet asked)
/// against that issuer's published keys (`issuer_jwks_json`: a JSON array of JWKs) at `now`;
/// returns its card as JSON. A credential naming another issuer is refused.
#[wasm_bindgen(js_name = verifyReceived)]
pub fn verify_received(
    issued: &str,
    issuer_jwks_json: &str,
    credential_issuer: &str,
    now: f64,
) -> Result<String, JsValue> {
    let keys: Vec<civic_credential::jwk::Jwk> = parse(issuer_jwks_json, "issuer keys")?;
    to_json(
        &crate::card::verify_received(issued, &keys, credential_issuer, now as i64)
            .map_err(js_err)?,
    )
}

/// Where to fetch the keys of credential issuer `issuer` (its SD-JWT VC issuer metadata).
#[wasm_bindgen(js_name = issuerKeysUrl)]
pub fn issuer_keys_url(issuer: &str) -> Result<String, JsValue> {
    crate::card::issuer_keys_url(issuer).map_err(js_err)
}

/// The keys (a JSON array of JWKs) in the fetched issuer metadata of `issuer`, checked to name
/// that issuer and to hold only public keys.
#[wasm_bindgen(js_name = issuerKeys)]
pub fn issuer_keys(metadata_json: &str, issuer: &str) -> Result<String, JsValue> {
    to_json(&crate::card::issuer_keys(metadata_json, issuer).map_err(js_err)?)
}

/// Reads an offer link (`openid-credential-offer://?…` or the wallet's `/receive?…`); returns
/// `{credential_offer}` or `{credential_offer_uri}` as JSON.
#[wasm_bindgen(js_name = parseOfferLink)]
pub fn parse_offer_link(url: &str) -> Result<String, JsValue> {
    to_json(&crate::receive::parse_offer_link(url).map_err(js_err)?)
}

/// What to fetch before `prepareRequest`, read from the link once, as JSON:
/// `{"request_uri", "post": {"form", "wallet_nonce"}, "did_document_url"}`. `request_uri` is
/// null for a link that carries the request by value; `post` is null unless the link asks for
/// `request_uri_method=post` (then POST `form` and give `wallet_nonce` to `prepareRequest`);
/// `did_document_url` is null unless the client is a `decentralized_identifier:`.
#[wasm_bindgen(js_name = fetchPlan)]
pub fn fetch_plan(link: &str) -> Result<String, JsValue> {
    to_json(&crate::request::fetch_plan(link).map_err(js_err)?)
}

/// Checks a request object against its link and matches it with the stored credentials
/// (`credentials_json`: a JSON array of issuance forms); `did_document_json` is the document
/// fetched from `fetchPlan`'s `did_document_url`, or empty; `wallet_nonce` the nonce of its
/// `post`, or empty; `anchors_json` a JSON array of the trust anchors for certificate
/// verifiers (base64 DER, as in `x5c`; the platform registry's `trust_anchors`), checked at
/// `now` (seconds). Returns the prepared request as JSON; its `refused` says why the wallet
/// will not answer (another platform's pseudonym).
#[wasm_bindgen(js_name = prepareRequest)]
pub fn prepare_request(
    request_object: &str,
    link: &str,
    did_document_json: &str,
    credentials_json: &str,
    wallet_nonce: &str,
    anchors_json: &str,
    now: f64,
) -> Result<String, JsValue> {
    let credentials: Vec<String> = parse(credentials_json, "credentials")?;
    let anchors: Vec<String> = if anchors_json.is_empty() {
        Vec::new()
    } else {
        parse(anchors_json, "trust anchors")?
    };
    let anchors = crate::request::Anchors::parse(&anchors, now as i64);
    let doc: Option<serde_json::Value> = if did_document_json.is_empty() {
        None
    } else {
        Some(parse(did_document_json, "DID document")?)
    };
    to_json(
        &crate::request::prepare(
            request_object,
            link,
            doc.as_ref(),
            &credentials,
            (!wallet_nonce.is_empty()).then_some(wallet_nonce),
            &anchors,
        )
        .map_err(js_err)?,
    )
}

/// The form to post to the prepared request's `response_uri` for the response parameters in
/// `params_json` (`{"vp_token": {…}, "state": …}` or `{"error": …, "state": …}`): as they are
/// for `direct_post`, or only `response`, encrypted to the verifier's key, for
/// `direct_post.jwt`. Returns a JSON object of form fields.
#[wasm_bindgen(js_name = responseForm)]
pub fn response_form(prepared_json: &str, params_json: &str) -> Result<String, JsValue> {
    let prepared: crate::request::PreparedRequest = parse(prepared_json, "prepared request")?;
    let params: serde_json::Map<String, serde_json::Value> = parse(params_json, "parameters")?;
    let form: serde_json::Map<String, serde_json::Value> =
        crate::request::response_form(&prepared, &params)
            .map_err(js_err)?
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
    to_json(&form)
}

/// The live status (`valid`, `revoked`, `suspended`) of entry `idx` in the status list token
/// fetched from `uri`, checked with the issuer's keys (`issuer_jwks_json`).
#[wasm_bindgen(js_name = statusOf)]
pub fn status_of(
    token: &str,
    issuer_jwks_json: &str,
    uri: &str,
    idx: f64,
    now: f64,
) -> Result<String, JsValue> {
    let keys: Vec<civic_credential::jwk::Jwk> = parse(issuer_jwks_json, "issuer keys")?;
    crate::card::status_of(token, &keys, uri, idx as u64, now as i64).map_err(js_err)
}

/// The holder-key vault, living in WebAssembly memory (see `crate::vault`).
#[wasm_bindgen]
pub struct KeyVault(crate::vault::Vault);

#[wasm_bindgen]
impl KeyVault {
    /// An empty vault.
    #[wasm_bindgen(constructor)]
    pub fn new() -> KeyVault {
        KeyVault(crate::vault::Vault::new())
    }

    /// Loads the decrypted key bytes (the caller then zero-fills its copy). The copy in
    /// WebAssembly memory is wiped once read.
    pub fn load(&mut self, bytes: Vec<u8>) -> Result<(), JsValue> {
        let bytes = zeroize::Zeroizing::new(bytes);
        self.0.load(&bytes).map_err(js_err)
    }

    /// The keys as bytes to encrypt for storage (the caller zero-fills them after encrypting).
    /// They are copied straight into a JavaScript array; the buffer in WebAssembly memory is
    /// wiped.
    pub fn export(&self) -> Result<js_sys::Uint8Array, JsValue> {
        let bytes = self.0.export().map_err(js_err)?;
        Ok(js_sys::Uint8Array::from(bytes.as_slice()))
    }

    /// The public JWK (JSON) of holder key `id`; the private part never leaves the vault.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self, id: &str) -> Result<String, JsValue> {
        to_json(&self.0.public_key(id).map_err(js_err)?)
    }

    /// Makes `n` holder keys; returns their ids as a JSON array.
    pub fn generate(&mut self, n: u32) -> Result<String, JsValue> {
        to_json(&self.0.generate(n as usize).map_err(js_err)?)
    }

    /// Proof JWTs for the key ids (`ids_json`), as a JSON array.
    pub fn proofs(
        &self,
        ids_json: &str,
        credential_issuer: &str,
        nonce: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        let ids: Vec<String> = parse(ids_json, "key ids")?;
        to_json(
            &self
                .0
                .proofs(&ids, credential_issuer, nonce, now as i64)
                .map_err(js_err)?,
        )
    }

    /// A DPoP proof (RFC 9449) with key `id` for a POST to `url` at `now`, with the issuer's
    /// latest `DPoP-Nonce` and the access token it presents (each empty when there is none).
    #[wasm_bindgen(js_name = dpopProof)]
    pub fn dpop_proof(
        &self,
        id: &str,
        url: &str,
        nonce: &str,
        access_token: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        let given = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        self.0
            .dpop_proof(
                id,
                url,
                given(nonce).as_deref(),
                given(access_token).as_deref(),
                now as i64,
            )
            .map_err(js_err)
    }

    /// Opens a credential response the issuer sealed (a JWE, ECDH-ES) to key `id`.
    #[wasm_bindgen(js_name = openSealed)]
    pub fn open_sealed(&self, id: &str, jwe: &str) -> Result<String, JsValue> {
        self.0.open_sealed(id, jwe).map_err(js_err)
    }

    /// The `vp_token` for a prepared request with the copy whose holder key is `id`.
    #[wasm_bindgen(js_name = vpToken)]
    pub fn vp_token(
        &self,
        prepared_json: &str,
        issued: &str,
        id: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        let prepared: crate::request::PreparedRequest = parse(prepared_json, "prepared request")?;
        self.0
            .vp_token(&prepared, issued, id, now as i64)
            .map_err(js_err)
    }

    /// Forgets the key ids in `ids_json`.
    pub fn remove(&mut self, ids_json: &str) -> Result<(), JsValue> {
        let ids: Vec<String> = parse(ids_json, "key ids")?;
        self.0.remove(&ids);
        Ok(())
    }

    /// Zeroizes every key.
    pub fn wipe(&mut self) {
        self.0.wipe();
    }
}

impl Default for KeyVault {
    fn default() -> Self {
        Self::new()
    }
}
