//! The key vault: holder private keys, kept only in WebAssembly memory while the wallet is
//! unlocked. JavaScript sees key ids and public keys; it gets the private keys only as one byte
//! string to encrypt for storage ([`Vault::export`]), and hands them back once on unlock
//! ([`Vault::load`]). [`Vault::wipe`] zeroizes them (the JWK's private part is wiped on drop).

use std::collections::BTreeMap;

use civic_credential::jwk::Jwk;
use zeroize::Zeroizing;

use crate::WalletError;

/// Holder keys by id.
#[derive(Default)]
pub struct Vault {
    keys: BTreeMap<String, Jwk>,
}

impl Vault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the keys with those in `bytes` (the JSON written by [`Vault::export`]).
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), WalletError> {
        let keys: BTreeMap<String, Jwk> = civic_credential::encoding::json_from_bytes(bytes)
            .ok_or_else(|| WalletError::new("unlock_failed", "the key vault is damaged"))?;
        if keys.values().any(|k| !k.is_private()) {
            return Err(WalletError::new(
                "unlock_failed",
                "the key vault holds a public key",
            ));
        }
        self.wipe();
        self.keys = keys;
        Ok(())
    }

    /// The keys as JSON bytes, to be encrypted and stored; the buffer is wiped when dropped. An
    /// export that fails is an error, never an empty vault that would overwrite the keys.
    pub fn export(&self) -> Result<Zeroizing<Vec<u8>>, WalletError> {
        serde_json::to_vec(&self.keys)
            .map(Zeroizing::new)
            .map_err(|e| WalletError::new("vault_error", e.to_string()))
    }

    /// Makes `n` fresh holder keys; returns their ids.
    pub fn generate(&mut self, n: usize) -> Result<Vec<String>, WalletError> {
        if n == 0 || n > 100 {
            return Err(WalletError::new(
                "invalid_request",
                "between 1 and 100 keys",
            ));
        }
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let jwk = crate::holder::generate_holder_key()?;
            let id = jwk.thumbprint()?;
            self.keys.insert(id.clone(), jwk);
            ids.push(id);
        }
        Ok(ids)
    }

    /// The public part of holder key `id`.
    pub fn public_key(&self, id: &str) -> Result<Jwk, WalletError> {
        Ok(self.key(id)?.to_public())
    }

    fn key(&self, id: &str) -> Result<&Jwk, WalletError> {
        self.keys
            .get(id)
            .ok_or_else(|| WalletError::new("unknown_key", "no such holder key in the vault"))
    }

    /// One proof JWT per key id, for a batch credential request.
    pub fn proofs(
        &self,
        ids: &[String],
        credential_issuer: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Vec<String>, WalletError> {
        let keys = ids
            .iter()
            .map(|id| self.key(id).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        crate::receive::proofs(&keys, credential_issuer, nonce, now)
    }

    /// A DPoP proof with key `id` (one [`Vault::generate`] made for the issuer's tokens) for a
    /// POST to `url` ([`crate::receive::dpop_proof`]).
    pub fn dpop_proof(
        &self,
        id: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        now: i64,
    ) -> Result<String, WalletError> {
        crate::receive::dpop_proof(self.key(id)?, url, nonce, access_token, now)
    }

    /// Opens a response the issuer sealed to key `id` (credential response encryption, ECDH-ES):
    /// the plaintext, as text.
    pub fn open_sealed(&self, id: &str, jwe: &str) -> Result<String, WalletError> {
        let plain = civic_credential::jwe::open(jwe, self.key(id)?)?;
        String::from_utf8(plain).map_err(|_| WalletError::new("invalid_response", "not text"))
    }

    /// The `vp_token` for a prepared request, with the copy whose holder key is `id`.
    pub fn vp_token(
        &self,
        prepared: &crate::request::PreparedRequest,
        issued: &str,
        id: &str,
        now: i64,
    ) -> Result<String, WalletError> {
        crate::request::vp_token(prepared, issued, self.key(id)?, now)
    }

    /// Forgets keys (deleted credentials).
    pub fn remove(&mut self, ids: &[String]) {
        for id in ids {
            self.keys.remove(id);
        }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Zeroizes and forgets every key.
    pub fn wipe(&mut self) {
        // Dropping a Jwk wipes its private part.
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_credential::oid4vci::{verify_proof, ProofExpectation};

    #[test]
    fn keys_round_trip_through_export_sign_and_are_wiped() {
        let mut v = Vault::new();
        let ids = v.generate(3).expect("keys");
        assert_eq!(v.len(), 3);
        let proofs = v
            .proofs(&ids, "https://id.example", "n", 1000)
            .expect("proofs");
        let expect = ProofExpectation {
            aud: "https://id.example",
            now: 1000,
            max_age: 60,
            clock_skew: 60,
        };
        for (p, id) in proofs.iter().zip(&ids) {
            let proof = verify_proof(p, &expect).expect("valid");
            assert_eq!(
                proof.holder_key.thumbprint().as_deref(),
                Ok(id.as_str()),
                "the id is the key's thumbprint"
            );
        }
        let bytes = v.export().unwrap();
        let mut other = Vault::new();
        other.load(&bytes).expect("load");
        assert_eq!(
            other
                .proofs(&ids[..1], "https://id.example", "n", 1000)
                .map(|p| p.len()),
            Ok(1)
        );
        v.wipe();
        assert!(v.is_empty());
        assert_eq!(
            v.proofs(&ids[..1], "https://id.example", "n", 1000)
                .map_err(|e| e.code),
            Err("unknown_key")
        );
        assert_eq!(
            other.load(b"not json").map_err(|e| e.code),
            Err("unlock_failed")
        );
        let public: BTreeMap<String, Jwk> = BTreeMap::from([(
            ids[0].clone(),
            crate::holder::generate_holder_key().expect("k").to_public(),
        )]);
        assert_eq!(
            other
                .load(&serde_json::to_vec(&public).expect("json"))
                .map_err(|e| e.code),
            Err("unlock_failed")
        );
        other.remove(&ids);
        assert!(other.is_empty());
    }
}
