//! X.509 certificate files as the services load and, for development, make them.
//!
//! - [`chain_from_pem`]: a PEM certificate chain (leaf first, without the trust anchor, as
//!   `x5c` carries it) read and checked, for the verifier's request certificate and the
//!   issuer's signing certificate.
//! - [`certified_key`]: that chain with the PKCS#8 key of its leaf, as a signer that puts the
//!   chain in `x5c` (the verifier's request certificate, the issuer's wallet provider).
//! - [`dev_ca`] (feature `dev-ca`, rcgen): a development CA and a leaf it signed, for
//!   `civic-verifier dev-ca` and `civic-issuer dev-ca`.

use civic_credential::crypto::SigningKey;
use civic_credential::x509::{Certificate, MAX_CHAIN};

/// Reads a PEM certificate chain: 1 to [`MAX_CHAIN`] `CERTIFICATE` blocks, leaf first, each one
/// a certificate [`Certificate::parse`] reads, none self-signed (HAIP 1.0 keeps the anchor out
/// of `x5c`, and a self-signed leaf certifies nothing). Returns the DER and the parsed leaf.
pub fn chain_from_pem(text: &str) -> Result<(Vec<Vec<u8>>, Certificate), String> {
    let chain: Vec<Vec<u8>> = pem::parse_many(text)
        .map_err(|e| format!("certificate chain: {e}"))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if chain.is_empty() || chain.len() > MAX_CHAIN {
        return Err(format!(
            "certificate chain: expected 1 to {MAX_CHAIN} CERTIFICATE blocks, leaf first"
        ));
    }
    let parsed = chain
        .iter()
        .map(|der| Certificate::parse(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate chain: {e}"))?;
    if parsed.iter().any(Certificate::is_self_issued) {
        return Err(
            "certificate chain: a self-signed certificate (the trust anchor) does not go in \
             the chain, and the leaf may not be one (HAIP 1.0 §5)"
                .into(),
        );
    }
    let leaf = parsed
        .into_iter()
        .next()
        .ok_or("certificate chain: empty")?;
    Ok((chain, leaf))
}

/// Reads a certificate chain ([`chain_from_pem`]) and the PKCS#8 PEM key (P-256) of its leaf:
/// the key, which signs with the chain in `x5c`, and the parsed leaf. Refuses a key that is not
/// the leaf's.
pub fn certified_key(chain_pem: &str, key_pem: &str) -> Result<(SigningKey, Certificate), String> {
    let (chain, leaf) = chain_from_pem(chain_pem)?;
    let key = pem::parse(key_pem).map_err(|e| format!("certificate key: {e}"))?;
    if key.tag() != "PRIVATE KEY" {
        return Err("certificate key: expected a PKCS#8 PRIVATE KEY block (P-256)".into());
    }
    let key =
        SigningKey::from_pkcs8(key.contents()).map_err(|e| format!("certificate key: {e}"))?;
    let leaf_key = leaf
        .verifying_key()
        .map_err(|e| format!("certificate chain: {e}"))?;
    if leaf_key.jwk().x != key.public_jwk().x || leaf_key.jwk().y != key.public_jwk().y {
        return Err("the certificate key is not the key of the chain's first certificate".into());
    }
    Ok((key.with_x5c(chain), leaf))
}

/// A development CA and a certificate it signed, as PEM.
#[cfg(feature = "dev-ca")]
pub struct DevCa {
    /// The CA certificate: the trust anchor to give to wallets or verifiers.
    pub ca_pem: String,
    /// The leaf certificate (the chain, without the anchor).
    pub chain_pem: String,
    /// The leaf's private key (PKCS#8).
    pub key_pem: String,
}

#[cfg(feature = "dev-ca")]
impl DevCa {
    /// The CA certificate as DER (as a trust anchor is given to wallets).
    pub fn ca_der(&self) -> Result<Vec<u8>, String> {
        first_der(&self.ca_pem)
    }

    /// The leaf certificate as DER.
    pub fn leaf_der(&self) -> Result<Vec<u8>, String> {
        first_der(&self.chain_pem)
    }
}

/// The first PEM block of `text`, as DER.
#[cfg(feature = "dev-ca")]
fn first_der(text: &str) -> Result<Vec<u8>, String> {
    pem::parse(text)
        .map(pem::Pem::into_contents)
        .map_err(|e| e.to_string())
}

/// Makes a development CA named `organization` and a leaf for `hosts` (DNS names or IP
/// addresses), valid for `days` days from now, for the key `leaf_pkcs8` (PKCS#8 DER, P-256) or
/// a fresh one. The leaf names the CA's key in `authorityKeyIdentifier` (what DCQL
/// `trusted_authorities` of type `aki` match). For local use only: the CA's key is not kept,
/// so nothing else can ever be signed under it.
#[cfg(feature = "dev-ca")]
pub fn dev_ca(
    organization: &str,
    hosts: &[String],
    days: i64,
    leaf_pkcs8: Option<&[u8]>,
) -> Result<DevCa, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
        PKCS_ECDSA_P256_SHA256,
    };
    let err = |e: rcgen::Error| e.to_string();
    let now = time::OffsetDateTime::now_utc();
    let window = |p: &mut CertificateParams, days: i64| {
        p.not_before = now - time::Duration::minutes(5);
        p.not_after = now + time::Duration::days(days);
    };
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("{organization} development CA"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    window(&mut ca, days.saturating_add(1));
    let ca = ca.self_signed(&ca_key).map_err(err)?;

    let key = match leaf_pkcs8 {
        Some(der) => KeyPair::try_from(der).map_err(err)?,
        None => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?,
    };
    let mut leaf = CertificateParams::new(hosts.to_vec()).map_err(err)?;
    leaf.distinguished_name
        .push(DnType::OrganizationName, organization);
    leaf.distinguished_name.push(
        DnType::CommonName,
        hosts.first().cloned().unwrap_or_default(),
    );
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    window(&mut leaf, days);
    let leaf = leaf.signed_by(&key, &ca, &ca_key).map_err(err)?;
    Ok(DevCa {
        ca_pem: ca.pem(),
        chain_pem: leaf.pem(),
        key_pem: key.serialize_pem(),
    })
}
