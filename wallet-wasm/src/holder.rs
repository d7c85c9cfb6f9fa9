//! Holder keys: one fresh key per single-use credential copy, generated on the device.

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::jwk::Jwk;
use rand_core::OsRng;

use crate::WalletError;

/// Generates a new ES256 holder key from the platform's CSPRNG (WebCrypto in the browser).
/// Returns the private JWK, which the wallet keeps encrypted; its public part goes into `cnf`.
pub fn generate_holder_key() -> Result<Jwk, WalletError> {
    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)?;
    Ok(key.to_private_jwk())
}

/// Loads a stored private holder key.
pub fn load_holder_key(private_jwk: &Jwk) -> Result<SigningKey, WalletError> {
    if !private_jwk.is_private() {
        return Err(WalletError::new(
            "invalid_key",
            "holder key has no private part",
        ));
    }
    Ok(SigningKey::from_jwk(private_jwk)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_fresh_and_loadable() {
        let a = generate_holder_key().unwrap();
        let b = generate_holder_key().unwrap();
        assert_ne!(a.x, b.x);
        let key = load_holder_key(&a).unwrap();
        assert_eq!(key.public_jwk().x, a.x);
        assert_eq!(
            load_holder_key(&a.to_public()).map(|_| ()),
            Err(WalletError::new(
                "invalid_key",
                "holder key has no private part"
            ))
        );
    }
}
