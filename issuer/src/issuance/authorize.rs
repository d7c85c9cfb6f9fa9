//! The authorization code flow (HAIP 1.0 §4): a wallet pushes its authorization request (PAR),
//! the resident signs in with the passkey at `/authorize` and confirms which wallet gets the
//! credential, and the wallet redeems the code with its PKCE verifier (and a DPoP proof) at the
//! token endpoint. The messages and PKCE are `civic_credential::oid4vci::authorization`'s; this
//! module keeps the state between the steps, each piece single use and short lived.

use serde::{Deserialize, Serialize};

use civic_credential::oid4vci::authorization::{
    authorization_response, pkce_matches, ParResponse, PushedAuthorizationRequest,
    REQUEST_URI_PREFIX,
};
use civic_credential::oid4vci::{ErrorCode, TokenRequest, TokenResponse};

use super::client_auth::AttestationHeaders;
use super::dpop::{PAR_PATH, TOKEN_PATH};
use super::offer::{encode, IssuerState};
use super::token::{Granted, RefreshBasis, RefreshGrant};
use super::{Issuance, IssuanceError};
use crate::secrets::{hash_hex, random_token};
use crate::store::Ephemeral;

/// The scope of the residency credential (its `scope` in the issuer metadata).
pub const RESIDENCY_SCOPE: &str = "residency";

/// A pushed request as stored until the resident decides.
#[derive(Serialize, Deserialize)]
struct Pushed {
    /// The hash of the offer's `issuer_state`, for a request that came from an offer.
    #[serde(default)]
    issuer_state_key: Option<String>,
    /// The resident the offer was made for: only they may approve.
    #[serde(default)]
    for_resident: Option<String>,
    /// The wallet provider whose attestation authenticated the request, if one did: the code
    /// is then redeemed only with an attestation too.
    #[serde(default)]
    attested_by: Option<String>,
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: String,
    dpop_jkt: Option<String>,
    expires: i64,
}

/// An authorization code as stored until the wallet redeems it.
#[derive(Serialize, Deserialize)]
struct Code {
    #[serde(default)]
    attested_by: Option<String>,
    register_id: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    dpop_jkt: Option<String>,
}

/// What the consent page shows about a pushed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The wallet's name.
    pub wallet: String,
    /// The host the credential goes to (the redirect URI's).
    pub destination: String,
}

/// Where the resident's browser goes after deciding: the wallet's redirect URI with the code
/// (or `access_denied`), the wallet's `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The URL to send the browser to.
    pub redirect: String,
}

impl Issuance {
    /// The PAR endpoint: checks a pushed authorization request (a registered wallet, one of its
    /// redirect URIs, the residency scope, PKCE S256) and keeps it under a fresh `request_uri`.
    /// A wallet that sends a client attestation (`attestation`) is authenticated by it, and
    /// must be when the configuration requires it. A DPoP proof sent with the request
    /// (`dpop_proofs`, RFC 9449 §10.1) binds the code to its key, as `dpop_jkt` does; when both
    /// are sent they must name the same key.
    pub fn push_authorization(
        &self,
        body: &[u8],
        dpop_proofs: &[String],
        attestation: &AttestationHeaders,
    ) -> Result<ParResponse, IssuanceError> {
        let mut req = PushedAuthorizationRequest::from_form(body)?;
        // The attestation, then the proof (which may send the wallet back for a nonce), then
        // the attestation's PoP is spent.
        let attested = self.check_client(attestation, Some(&req.client_id))?;
        if !dpop_proofs.is_empty() {
            let jkt = self.check_dpop(dpop_proofs, PAR_PATH, None)?.jkt;
            if req.dpop_jkt.as_deref().is_some_and(|bound| bound != jkt) {
                return Err(civic_credential::dpop::DpopError::WrongKey.into());
            }
            req.dpop_jkt = Some(jkt);
        }
        if let Some(a) = &attested {
            self.spend_attestation_pop(a)?;
        }
        let config = &self.context.config;
        let client = config
            .wallet_client(&req.client_id)
            .ok_or(IssuanceError::UnknownClient)?;
        if !client.redirect_uris.contains(&req.redirect_uri) {
            return Err(IssuanceError::UnregisteredRedirect);
        }
        if !req.scope.iter().any(|s| s == RESIDENCY_SCOPE) {
            return Err(IssuanceError::UnknownScope);
        }
        let now = self.context.now();
        // From an offer: the offer must be open, and only its resident will approve.
        let from_offer = match &req.issuer_state {
            Some(state) => {
                let key = hash_hex(state);
                let offer: IssuerState = self
                    .context
                    .store
                    .get_ephemeral(Ephemeral::IssuerState, &key, now)?
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or(IssuanceError::UnknownIssuerState)?;
                Some((key, offer.register_id))
            }
            None => None,
        };
        let ttl = i64::from(config.authorization_ttl_secs);
        let expires = now + ttl;
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token());
        let (issuer_state_key, for_resident) = from_offer.unzip();
        let pushed = Pushed {
            issuer_state_key,
            for_resident,
            attested_by: attested.map(|a| a.provider),
            client_id: req.client_id,
            redirect_uri: req.redirect_uri,
            state: req.state,
            code_challenge: req.code_challenge,
            dpop_jkt: req.dpop_jkt,
            expires,
        };
        self.context.store.put_ephemeral(
            Ephemeral::PushedRequest,
            &hash_hex(&request_uri),
            &encode(&pushed)?,
            expires,
        )?;
        Ok(ParResponse {
            request_uri,
            expires_in: u64::try_from(ttl).unwrap_or_default(),
        })
    }

    fn pushed(&self, client_id: &str, request_uri: &str) -> Result<Pushed, IssuanceError> {
        let now = self.context.now();
        self.context
            .store
            .get_ephemeral(Ephemeral::PushedRequest, &hash_hex(request_uri), now)?
            .and_then(|bytes| serde_json::from_slice::<Pushed>(&bytes).ok())
            .filter(|p| p.client_id == client_id)
            .ok_or(IssuanceError::UnknownRequestUri)
    }

    /// What the authorization page shows for `request_uri` pushed by `client_id`; nothing is
    /// used up (the resident may sign in first).
    pub fn pending_authorization(
        &self,
        client_id: &str,
        request_uri: &str,
    ) -> Result<Pending, IssuanceError> {
        let pushed = self.pushed(client_id, request_uri)?;
        let wallet = self
            .context
            .config
            .wallet_client(client_id)
            .map(|c| c.name.clone())
            .ok_or(IssuanceError::UnknownClient)?;
        let destination = civic_credential::origin::Origin::of(&pushed.redirect_uri)
            .map(|o| o.to_string())
            .unwrap_or(pushed.redirect_uri);
        Ok(Pending {
            wallet,
            destination,
        })
    }

    /// The resident `register_id` decides on `request_uri`: the request is used up either way;
    /// approved (and the resident may receive a credential), the wallet gets a single-use code
    /// bound to its PKCE challenge and redirect URI, otherwise `access_denied`.
    pub fn decide_authorization(
        &self,
        register_id: &str,
        client_id: &str,
        request_uri: &str,
        approve: bool,
    ) -> Result<Decided, IssuanceError> {
        let context = &self.context;
        let now = context.now();
        let pushed: Pushed = context
            .store
            .take_ephemeral(Ephemeral::PushedRequest, &hash_hex(request_uri), now)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|p: &Pushed| p.client_id == client_id)
            .ok_or(IssuanceError::UnknownRequestUri)?;
        let iss = &context.config.public_url;
        let mut params: Vec<(&str, &str)> = Vec::new();
        let code = random_token();
        if approve {
            if pushed
                .for_resident
                .as_deref()
                .is_some_and(|r| r != register_id)
            {
                return Err(IssuanceError::OfferOfAnotherResident);
            }
            if let Some(key) = &pushed.issuer_state_key {
                // The offer is used up, by this grant: its pre-authorized code goes too.
                let offer: IssuerState = context
                    .store
                    .take_ephemeral(Ephemeral::IssuerState, key, now)?
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or(IssuanceError::UnknownIssuerState)?;
                // One grant per offer, even when the pre-authorized code is tried at once.
                let until = now + i64::from(context.config.offer_ttl_secs);
                if !context.store.claim_ephemeral(
                    Ephemeral::OfferUsed,
                    &offer.offer_key,
                    until,
                    now,
                )? {
                    return Err(IssuanceError::UnknownIssuerState);
                }
                context
                    .store
                    .take_ephemeral(Ephemeral::OfferById, &offer.offer_key, now)?;
                context
                    .store
                    .take_ephemeral(Ephemeral::PreAuthorizedCode, &offer.code_key, now)?;
            }
            let resident = context
                .store
                .resident(register_id)?
                .ok_or(IssuanceError::NoSuchResident)?;
            if let Some(b) = self.blocker(&resident, now)? {
                return Err(IssuanceError::Denied(b));
            }
            let expires = now + i64::from(context.config.authorization_ttl_secs);
            let stored = Code {
                attested_by: pushed.attested_by.clone(),
                register_id: register_id.to_owned(),
                client_id: pushed.client_id.clone(),
                redirect_uri: pushed.redirect_uri.clone(),
                code_challenge: pushed.code_challenge.clone(),
                dpop_jkt: pushed.dpop_jkt.clone(),
            };
            context.store.put_ephemeral(
                Ephemeral::AuthorizationCode,
                &hash_hex(&code),
                &encode(&stored)?,
                expires,
            )?;
            context.audit(
                &format!("resident:{register_id}"),
                "authorization_granted",
                Some(register_id),
                &pushed.client_id,
            )?;
            params.push(("code", &code));
        } else {
            params.push(("error", ErrorCode::AccessDenied.as_str()));
        }
        if let Some(state) = &pushed.state {
            params.push(("state", state));
        }
        Ok(Decided {
            redirect: authorization_response(&pushed.redirect_uri, &params, iss),
        })
    }

    /// The token endpoint's authorization code grant: the code (taken, so it works once), the
    /// same client and redirect URI, the PKCE verifier, and a DPoP proof (of the key the code is
    /// bound to, if it is). Returns the resident and the proof's key thumbprint.
    pub(super) fn redeem_code(
        &self,
        req: &TokenRequest,
        dpop_proofs: &[String],
        attestation: &AttestationHeaders,
    ) -> Result<Granted, IssuanceError> {
        let code = req
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or(IssuanceError::MissingCode)?;
        // The attestation, then the proof (which may send the wallet back for a nonce), then
        // the attestation's PoP is spent, then the code.
        let attested = self.check_client(attestation, req.client_id.as_deref())?;
        let jkt = self.token_binding(dpop_proofs)?;
        if let Some(a) = &attested {
            self.spend_attestation_pop(a)?;
        }
        let now = self.context.now();
        let stored: Code = self
            .context
            .store
            .take_ephemeral(Ephemeral::AuthorizationCode, &hash_hex(code), now)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(IssuanceError::UnknownAuthorizationCode)?;
        // The client names itself, or its attestation names it.
        let client_id = req
            .client_id
            .as_deref()
            .or(attested.as_ref().map(|a| a.client_id.as_str()));
        if client_id != Some(stored.client_id.as_str())
            || req.redirect_uri.as_deref() != Some(stored.redirect_uri.as_str())
        {
            return Err(IssuanceError::UnknownAuthorizationCode);
        }
        // Pushed with an attestation: redeemed with one too, from the same provider.
        if stored.attested_by.is_some()
            && stored.attested_by.as_deref() != attested.as_ref().map(|a| a.provider.as_str())
        {
            return Err(IssuanceError::ClientAttestationRequired);
        }
        let verifier = req.code_verifier.as_deref().unwrap_or_default();
        if !pkce_matches(verifier, &stored.code_challenge) {
            return Err(IssuanceError::PkceMismatch);
        }
        if let Some(bound) = &stored.dpop_jkt {
            if jkt.as_deref() != Some(bound.as_str()) {
                return Err(civic_credential::dpop::DpopError::WrongKey.into());
            }
        }
        let days = i64::from(self.context.config.refresh_token_days);
        Ok(Granted {
            register_id: stored.register_id,
            jkt,
            refresh: (days > 0).then(|| RefreshBasis {
                client_id: stored.client_id,
                until: now + days * 86_400,
                attested_by: stored.attested_by,
            }),
        })
    }

    /// The refresh token grant: a refresh token of this wallet, presented with a DPoP proof of
    /// the key it is bound to, for a resident who may still receive a credential. It is taken,
    /// so it works once; the answer carries the next one, valid until the same day.
    pub(super) fn redeem_refresh(
        &self,
        req: &TokenRequest,
        dpop_proofs: &[String],
        attestation: &AttestationHeaders,
    ) -> Result<Granted, IssuanceError> {
        let token = req
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(IssuanceError::MissingRefreshToken)?;
        let attested = self.check_client(attestation, req.client_id.as_deref())?;
        // Checked before the token is taken: a wallet sent back for a nonce keeps it.
        let jkt = self.check_dpop(dpop_proofs, TOKEN_PATH, None)?.jkt;
        if let Some(a) = &attested {
            self.spend_attestation_pop(a)?;
        }
        let context = &self.context;
        let now = context.now();
        let key = hash_hex(token);
        let stored: RefreshGrant = context
            .store
            .get_ephemeral(Ephemeral::RefreshToken, &key, now)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(IssuanceError::UnknownRefreshToken)?;
        if stored.jkt != jkt {
            return Err(civic_credential::dpop::DpopError::WrongKey.into());
        }
        let client_id = req
            .client_id
            .as_deref()
            .or(attested.as_ref().map(|a| a.client_id.as_str()));
        if client_id != Some(stored.client_id.as_str()) {
            return Err(IssuanceError::UnknownRefreshToken);
        }
        if stored.attested_by.is_some()
            && stored.attested_by.as_deref() != attested.as_ref().map(|a| a.provider.as_str())
        {
            return Err(IssuanceError::ClientAttestationRequired);
        }
        context
            .store
            .take_ephemeral(Ephemeral::RefreshToken, &key, now)?
            .ok_or(IssuanceError::UnknownRefreshToken)?;
        let resident = context
            .store
            .resident(&stored.register_id)?
            .ok_or(IssuanceError::NoSuchResident)?;
        if let Some(b) = self.blocker(&resident, now)? {
            return Err(IssuanceError::Denied(b));
        }
        Ok(Granted {
            register_id: stored.register_id,
            jkt: Some(jkt),
            refresh: Some(RefreshBasis {
                client_id: stored.client_id,
                until: stored.until,
                attested_by: stored.attested_by,
            }),
        })
    }

    /// The key an access token will be bound to: the thumbprint of the request's DPoP proof, or
    /// `None` (a Bearer token) when it sent none and the configuration allows Bearer tokens.
    pub(super) fn token_binding(
        &self,
        dpop_proofs: &[String],
    ) -> Result<Option<String>, IssuanceError> {
        if dpop_proofs.is_empty() && self.context.config.allow_bearer_tokens {
            Ok(None)
        } else {
            Ok(Some(self.check_dpop(dpop_proofs, TOKEN_PATH, None)?.jkt))
        }
    }
}

/// A token response for a freshly granted access token.
pub(super) fn token_response(token: String, bound: bool, ttl: u32) -> TokenResponse {
    TokenResponse {
        access_token: token,
        token_type: if bound { "DPoP" } else { "Bearer" }.into(),
        expires_in: u64::from(ttl),
        refresh_token: None,
    }
}
