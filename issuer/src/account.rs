//! What a signed-in resident (or an admin) sees about one resident: the register data, passkeys
//! and credential status.

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::issuance::issuance_blocker;
use crate::service::{now, Issuer};

/// The register entry, passkeys (without keys) and credentials (without personal data).
pub fn account_view(issuer: &Issuer, register_id: &str) -> Result<Value, ApiError> {
    let resident = issuer
        .store
        .resident(register_id)?
        .ok_or_else(|| ApiError::not_found("no such resident"))?;
    let passkeys: Vec<Value> = issuer
        .store
        .passkeys(register_id)?
        .iter()
        .map(|p| json!({ "id": p.credential_id, "name": p.name, "created": p.created, "last_used": p.last_used }))
        .collect();
    let t = now();
    let credentials: Vec<Value> = issuer
        .store
        .credentials_of(register_id)?
        .iter()
        .map(|c| {
            let status = match c.status {
                0 if c.exp <= t => "expired",
                0 => "valid",
                1 => "revoked",
                2 => "suspended",
                _ => "unknown",
            };
            json!({ "status_list": c.list, "idx": c.idx, "issued_at": c.iat, "expires_at": c.exp, "status": status })
        })
        .collect();
    let blocker = issuance_blocker(issuer, &resident, t)?;
    Ok(json!({
        "resident": resident,
        "passkeys": passkeys,
        "credentials": credentials,
        "can_receive_credential": blocker.is_none(),
        "blocked_because": blocker,
    }))
}

/// Removes one of the resident's passkeys; the last one cannot be removed (the resident would
/// be locked out and need a new letter).
pub fn remove_passkey(
    issuer: &Issuer,
    register_id: &str,
    credential_id: &str,
) -> Result<(), ApiError> {
    let keys = issuer.store.passkeys(register_id)?;
    if !keys.iter().any(|p| p.credential_id == credential_id) {
        return Err(ApiError::not_found("no such passkey"));
    }
    if keys.len() == 1 {
        return Err(ApiError::new(
            409,
            "last_passkey",
            "add another passkey before removing this one",
        ));
    }
    issuer.store.remove_passkey(register_id, credential_id)?;
    issuer.audit("resident", "passkey_removed", Some(register_id), "")?;
    Ok(())
}
