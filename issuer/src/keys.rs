//! The issuer's key ring (`keys.json`, owner-only): signing keys with their history, and the
//! secret behind pairwise pseudonyms. Private keys never leave this module except as signers.

use std::path::{Path, PathBuf};

use base64::Engine;
use rand::{rngs::OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_credential::jwk::Jwk;

/// One signing key and when it was retired.
#[derive(Serialize, Deserialize)]
struct KeyEntry {
    kid: String,
    private_jwk: Jwk,
    created: i64,
    #[serde(default)]
    retired: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    pseudonym_secret: String,
    keys: Vec<KeyEntry>,
}

/// Why the key ring could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `keys.json` could not be read or written.
    #[error("key file {0}: {1}")]
    Io(String, std::io::Error),
    /// `keys.json` is not valid.
    #[error("key file {0} is invalid: {1}")]
    Invalid(String, String),
}

/// The loaded key ring.
pub struct KeyRing {
    path: PathBuf,
    pseudonym_secret: Zeroizing<Vec<u8>>,
    entries: Vec<KeyEntry>,
    signers: Vec<SigningKey>,
}

impl KeyRing {
    /// Creates a fresh key ring: an ES256 key, optionally an Ed25519 key, and a pseudonym secret.
    pub fn create(dir: &Path, ed25519: bool, now: i64) -> Result<Self, KeyError> {
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        OsRng.fill_bytes(&mut secret);
        let mut ring = KeyRing {
            path: dir.join("keys.json"),
            pseudonym_secret: secret,
            entries: Vec::new(),
            signers: Vec::new(),
        };
        ring.add_key(Algorithm::Es256, now)?;
        if ed25519 {
            ring.add_key(Algorithm::EdDsa, now)?;
        }
        ring.save()?;
        Ok(ring)
    }

    /// Loads `keys.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join("keys.json");
        let name = path.display().to_string();
        let text = Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| KeyError::Io(name.clone(), e))?,
        );
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Invalid(name.clone(), e.to_string()))?;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&file.pseudonym_secret)
            .map_err(|_| KeyError::Invalid(name.clone(), "pseudonym_secret".into()))?;
        let mut signers = Vec::new();
        for e in &file.keys {
            let key = SigningKey::from_jwk(&e.private_jwk)
                .map_err(|err| KeyError::Invalid(name.clone(), format!("key {}: {err}", e.kid)))?;
            signers.push(key.with_kid(e.kid.clone()));
        }
        Ok(KeyRing {
            path,
            pseudonym_secret: Zeroizing::new(secret),
            entries: file.keys,
            signers,
        })
    }

    fn add_key(&mut self, alg: Algorithm, now: i64) -> Result<String, KeyError> {
        let key = SigningKey::generate(alg, &mut OsRng)
            .map_err(|e| KeyError::Invalid(self.path.display().to_string(), e.to_string()))?;
        let thumb = key
            .public_jwk()
            .thumbprint()
            .map_err(|e| KeyError::Invalid(self.path.display().to_string(), e.to_string()))?;
        let prefix = match alg {
            Algorithm::Es256 => "es256",
            Algorithm::EdDsa => "ed25519",
        };
        let kid = format!("{prefix}-{}", &thumb[..12]);
        self.entries.push(KeyEntry {
            kid: kid.clone(),
            private_jwk: key.to_private_jwk(),
            created: now,
            retired: None,
        });
        self.signers.push(key.with_kid(kid.clone()));
        Ok(kid)
    }

    /// Makes a new key for each algorithm in use and retires the old ones. Returns the new kids.
    pub fn rotate(&mut self, now: i64) -> Result<Vec<String>, KeyError> {
        let algs: Vec<Algorithm> = self.active_entries().map(|(_, s)| s.algorithm()).collect();
        for e in self.entries.iter_mut().filter(|e| e.retired.is_none()) {
            e.retired = Some(now);
        }
        let mut kids = Vec::new();
        for alg in algs {
            kids.push(self.add_key(alg, now)?);
        }
        self.save()?;
        Ok(kids)
    }

    fn active_entries(&self) -> impl Iterator<Item = (&KeyEntry, &SigningKey)> {
        self.entries
            .iter()
            .zip(&self.signers)
            .filter(|(e, _)| e.retired.is_none())
    }

    /// The current signer for `alg`.
    pub fn signer(&self, alg: Algorithm) -> Option<&SigningKey> {
        self.active_entries()
            .map(|(_, s)| s)
            .filter(|s| s.algorithm() == alg)
            .last()
    }

    /// The public keys to publish: active keys, and retired keys while credentials signed with
    /// them may still be valid (`retired + max_validity_secs`).
    pub fn published(&self, now: i64, max_validity_secs: i64) -> Vec<Jwk> {
        self.entries
            .iter()
            .zip(&self.signers)
            .filter(|(e, _)| {
                e.retired
                    .is_none_or(|r| r.saturating_add(max_validity_secs) > now)
            })
            .map(|(e, s)| s.public_jwk().clone().with_kid(e.kid.clone()))
            .collect()
    }

    /// Attaches a certificate chain (DER, leaf first) to the key its leaf certifies, so that
    /// what that key signs carries it in `x5c`. Returns the key's kid, or `None` when the leaf
    /// is for none of the keys.
    pub fn attach_certificate(&mut self, chain: &[Vec<u8>]) -> Result<Option<String>, KeyError> {
        let invalid = |e: String| KeyError::Invalid("signing certificate".into(), e);
        let Some(leaf) = chain.first() else {
            return Ok(None);
        };
        let leaf = civic_credential::x509::Certificate::parse(leaf)
            .and_then(|c| c.verifying_key())
            .map_err(|e| invalid(e.to_string()))?;
        let (x, y) = (&leaf.jwk().x, &leaf.jwk().y);
        for (entry, signer) in self.entries.iter().zip(self.signers.iter_mut()) {
            if &signer.public_jwk().x == x && &signer.public_jwk().y == y {
                let key = SigningKey::from_jwk(&entry.private_jwk)
                    .map_err(|e| invalid(e.to_string()))?
                    .with_kid(entry.kid.clone())
                    .with_x5c(chain.to_vec());
                *signer = key;
                return Ok(Some(entry.kid.clone()));
            }
        }
        Ok(None)
    }

    /// The secret for [`civic_credential::pseudonym::pairwise_pseudonym`].
    pub fn pseudonym_secret(&self) -> &[u8] {
        &self.pseudonym_secret
    }

    fn save(&self) -> Result<(), KeyError> {
        let file = KeyFile {
            pseudonym_secret: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&*self.pseudonym_secret),
            keys: self
                .entries
                .iter()
                .map(|e| KeyEntry {
                    kid: e.kid.clone(),
                    private_jwk: e.private_jwk.clone(),
                    created: e.created,
                    retired: e.retired,
                })
                .collect(),
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&file)
                .map_err(|e| KeyError::Invalid(self.path.display().to_string(), e.to_string()))?,
        );
        crate::fsutil::write_atomic(&self.path, text.as_bytes(), true)
            .map_err(|e| KeyError::Io(self.path.display().to_string(), e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failure stops at its line
    use super::*;

    /// A certificate for the current ES256 key puts `x5c` on what it signs; one for another key
    /// attaches to nothing.
    #[test]
    fn a_certificate_attaches_to_the_key_it_certifies_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::create(dir.path(), false, 0).unwrap();
        let signer = ring.signer(Algorithm::Es256).unwrap();
        let pkcs8 = signer.to_pkcs8_der().unwrap();
        let made = civic_service::certificate::dev_ca(
            "Teststad",
            &["id.teststad.example".into()],
            30,
            Some(&pkcs8),
        )
        .unwrap();
        let (chain, _) = civic_service::certificate::chain_from_pem(&made.chain_pem).unwrap();
        let other =
            civic_service::certificate::dev_ca("x", &["x.example".into()], 30, None).unwrap();
        let (other_chain, _) =
            civic_service::certificate::chain_from_pem(&other.chain_pem).unwrap();
        assert_eq!(ring.attach_certificate(&other_chain).unwrap(), None);
        assert!(ring.signer(Algorithm::Es256).unwrap().x5c().is_none());
        let kid = ring.attach_certificate(&chain).unwrap().unwrap();
        let signer = ring.signer(Algorithm::Es256).unwrap();
        assert_eq!(signer.key_id(), Some(kid.as_str()));
        assert_eq!(signer.x5c(), Some(chain.as_slice()));
        // After a rotation the new key signs without a certificate.
        ring.rotate(1).unwrap();
        assert!(ring.signer(Algorithm::Es256).unwrap().x5c().is_none());
    }
}
