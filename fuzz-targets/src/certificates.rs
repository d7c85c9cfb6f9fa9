//! The X.509 target: the wallet reads certificates a verifier sends (`x5c`), so the reader must
//! turn any bytes into a certificate or an error, never a panic.

use std::sync::OnceLock;

use civic_credential::x509::{verify_chain, Certificate};

/// A development CA and a leaf it signed (DER), made once with `civic-verifier`'s `dev_ca`.
pub fn pki() -> &'static (Vec<u8>, Vec<u8>) {
    static PKI: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PKI.get_or_init(|| {
        let made =
            civic_verifier::certificate::dev_ca("Fuzz verifier", &["fuzz.example".into()], 30)
                .expect("dev CA");
        let der = |pem: &str| {
            use base64::Engine as _;
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("PEM")
        };
        (der(&made.ca_pem), der(&made.chain_pem))
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
    let anchor = Certificate::parse(&pki().0).expect("the CA parses");
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
