//! The X.509 target: the wallet reads certificates a verifier sends (`x5c`), so the reader must
//! turn any bytes into a certificate or an error, never a panic.

use std::sync::OnceLock;

use civic_credential::x509::{verify_chain, Certificate};

/// A development CA and a leaf it signed, made once with `civic-verifier`'s `dev_ca`.
pub struct Pki {
    /// The CA certificate (DER).
    pub ca: Vec<u8>,
    /// The leaf certificate (DER).
    pub leaf: Vec<u8>,
    /// The CA, parsed: the anchor every input is checked against.
    anchor: Certificate,
}

/// The fuzz PKI, made on first use.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let made =
            civic_verifier::certificate::dev_ca("Fuzz verifier", &["fuzz.example".into()], 30)
                .expect("dev CA");
        let ca = made.ca_der().expect("CA DER");
        Pki {
            anchor: Certificate::parse(&ca).expect("the CA parses"),
            ca,
            leaf: made.leaf_der().expect("leaf DER"),
        }
    })
}

/// One DER certificate: parsed, then checked as a leaf against the development CA and against
/// itself as an anchor. Accepted when it parses.
pub fn x509_chain(data: &[u8]) -> bool {
    let Ok(cert) = Certificate::parse(data) else {
        return false;
    };
    assert_eq!(cert.der(), data, "the certificate is the whole input");
    assert_eq!(cert.x509_hash().len(), 43, "a base64url SHA-256");
    assert!(
        cert.names().iter().all(|n| *n == n.to_ascii_lowercase()),
        "names are compared in lower case"
    );
    let _ = cert.verifying_key();
    let anchor = pki().anchor.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let _ = verify_chain(
        std::slice::from_ref(&cert),
        std::slice::from_ref(&anchor),
        now,
    );
    let _ = verify_chain(&[cert.clone(), anchor.clone()], &[anchor], now);
    let _ = verify_chain(
        std::slice::from_ref(&cert),
        std::slice::from_ref(&cert),
        now,
    );
    true
}
