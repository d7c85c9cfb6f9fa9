//! X.509 certificates as OpenID4VP verifiers present them (`x5c` on a signed request object, for
//! `x509_hash:` and `x509_san_dns:` client identifiers): the RFC 5280 subset HAIP 1.0 needs.
//!
//! [`Certificate::parse`] reads one DER certificate: its issuer and subject names, validity, the
//! P-256 or Ed25519 key, `basicConstraints`, `keyUsage`, the DNS and IP names of
//! `subjectAltName`, and the signature. An unknown critical extension is refused, as RFC 5280
//! asks. [`verify_chain`] checks a leaf-first chain against trust anchors: names link, each
//! signature verifies, every certificate is within its validity, and every certificate that signs
//! another is a CA.
//!
//! This is a small hand-written reader, not a general X.509 library, because the browser wallet
//! links it and has a 200 KB budget; a DER parser crate plus its name and time types would cost
//! several times its size. It reads only what is listed above and rejects what it cannot read.

use crate::crypto::{Algorithm, VerifyingKey};
use crate::encoding::b64_encode;
use crate::error::{Error, Result};
use crate::jwk::Jwk;

/// The most certificates a chain may have (leaf included).
pub const MAX_CHAIN: usize = 4;

const SEQUENCE: u8 = 0x30;
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_ORG: &[u8] = &[0x55, 0x04, 0x0a];

/// One parsed certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: core::ops::Range<usize>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    not_before: i64,
    not_after: i64,
    key: Jwk,
    signature_alg: Algorithm,
    signature: Vec<u8>,
    ca: bool,
    /// `pathLenConstraint`: how many CA certificates may follow it down to the leaf.
    path_len: Option<usize>,
    key_usage: Option<u8>,
    /// The `dNSName`s and `iPAddress`es (as text) of `subjectAltName`.
    names: Vec<String>,
    /// The subject's organization, else its common name.
    display_name: Option<String>,
    /// `subjectKeyIdentifier`: names this certificate's key.
    subject_key_id: Option<Vec<u8>>,
    /// The `keyIdentifier` of `authorityKeyIdentifier`: names the key that signed it (what a
    /// DCQL `aki` trusted authority matches, OpenID4VP §6.1.1.1).
    authority_key_id: Option<Vec<u8>>,
}

impl Certificate {
    /// Parses one DER certificate.
    pub fn parse(der: &[u8]) -> Result<Self> {
        let bad = |what| Error::Certificate(what);
        let mut outer = Der(der);
        let cert = outer.expect(SEQUENCE, "certificate")?;
        if !outer.0.is_empty() {
            return Err(bad("bytes after the certificate"));
        }
        let mut parts = Der(cert);
        let tbs_whole_start = der.len() - cert.len();
        let tbs = parts.expect(SEQUENCE, "tbsCertificate")?;
        let tbs_len = cert.len() - parts.0.len();
        let outer_alg = parts.expect(SEQUENCE, "signatureAlgorithm")?;
        let signature_bits = bit_string(parts.expect(0x03, "signature")?)?;

        let mut t = Der(tbs);
        let version = t.optional(0xa0)?;
        if version != Some(&[0x02, 0x01, 0x02][..]) {
            return Err(bad("not an X.509 v3 certificate"));
        }
        t.expect(0x02, "serialNumber")?;
        let inner_alg = t.expect(SEQUENCE, "signature")?;
        if inner_alg != outer_alg {
            return Err(bad("the two signature algorithms differ"));
        }
        let signature_alg = signature_algorithm(inner_alg)?;
        let issuer = t.whole(SEQUENCE, "issuer")?.to_vec();
        let mut validity = Der(t.expect(SEQUENCE, "validity")?);
        let not_before = time(&mut validity)?;
        let not_after = time(&mut validity)?;
        let subject_whole = t.whole(SEQUENCE, "subject")?;
        let subject = subject_whole.to_vec();
        let key = public_key(t.expect(SEQUENCE, "subjectPublicKeyInfo")?)?;
        let _ = t.optional(0x81)?;
        let _ = t.optional(0x82)?;
        let mut certificate = Certificate {
            der: der.to_vec(),
            tbs: tbs_whole_start..tbs_whole_start + tbs_len,
            issuer,
            subject,
            not_before,
            not_after,
            key,
            signature: match signature_alg {
                Algorithm::Es256 => ecdsa_signature(signature_bits)?,
                Algorithm::EdDsa => signature_bits.to_vec(),
            },
            signature_alg,
            ca: false,
            path_len: None,
            key_usage: None,
            names: Vec::new(),
            display_name: display_name(subject_whole),
            subject_key_id: None,
            authority_key_id: None,
        };
        if let Some(extensions) = t.optional(0xa3)? {
            certificate.read_extensions(extensions)?;
        }
        if !t.0.is_empty() {
            return Err(bad("unexpected fields in tbsCertificate"));
        }
        Ok(certificate)
    }

    /// Parses an `x5c` entry: standard base64 (with padding) of the DER.
    pub fn from_x5c(text: &str) -> Result<Self> {
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|_| Error::Base64("x5c"))?;
        Self::parse(&der)
    }

    #[inline(never)]
    fn read_extensions(&mut self, extensions: &[u8]) -> Result<()> {
        let mut list = Der(extensions);
        let mut list = Der(list.expect(SEQUENCE, "extensions")?);
        while !list.0.is_empty() {
            let mut ext = Der(list.expect(SEQUENCE, "extension")?);
            let id = ext.expect(0x06, "extnID")?;
            let critical = ext.optional(0x01)? == Some(&[0xff][..]);
            let value = ext.expect(0x04, "extnValue")?;
            match id {
                OID_SAN => self.names = subject_alt_names(value)?,
                OID_BASIC_CONSTRAINTS => {
                    let mut bc = Der(Der(value).expect(SEQUENCE, "basicConstraints")?);
                    self.ca = bc.optional(0x01)? == Some(&[0xff][..]);
                    self.path_len = bc.optional(0x02)?.map(|n| {
                        n.iter().fold(0usize, |a, &b| {
                            a.saturating_mul(256).saturating_add(b.into())
                        })
                    });
                }
                OID_KEY_USAGE => {
                    let bits = bit_string(Der(value).expect(0x03, "keyUsage")?)?;
                    self.key_usage = Some(bits.first().copied().unwrap_or(0));
                }
                OID_SUBJECT_KEY_ID => {
                    self.subject_key_id =
                        Some(Der(value).expect(0x04, "subjectKeyIdentifier")?.to_vec());
                }
                OID_AUTHORITY_KEY_ID => {
                    let mut aki = Der(Der(value).expect(SEQUENCE, "authorityKeyIdentifier")?);
                    self.authority_key_id = aki.optional(0x80)?.map(<[u8]>::to_vec);
                }
                _ if critical => return Err(Error::Certificate("unknown critical extension")),
                _ => {}
            }
        }
        Ok(())
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `x509_hash` of this certificate: base64url SHA-256 of its DER (OpenID4VP §5.9.3).
    pub fn x509_hash(&self) -> String {
        b64_encode(&crate::encoding::sha256(&self.der))
    }

    /// The DNS names and IP addresses its `subjectAltName` lists.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether `host` (a DNS name or an IP address, as in a URL) is one of its names.
    pub fn names_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.names.iter().any(|n| n.eq_ignore_ascii_case(host))
    }

    /// The subject's organization name, else its common name.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// Its `subjectKeyIdentifier`, if it has one (for a trust anchor: the `aki` value that
    /// certificates it signed carry).
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.subject_key_id.as_deref()
    }

    /// The `keyIdentifier` of its `authorityKeyIdentifier`, if it has one.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// The subject's public key, to verify what the certificate's holder signed.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_jwk(&self.key)
    }

    /// Whether it names itself as its issuer (a root, which HAIP 1.0 keeps out of `x5c`).
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// Whether `now` (seconds since the epoch) is within its validity.
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// Whether it may sign a certificate with `intermediates` CA certificates between it and
    /// the leaf (its CA flag and path length constraint).
    fn may_sign_below(&self, intermediates: usize) -> bool {
        self.ca && self.path_len.is_none_or(|max| intermediates <= max)
    }

    /// Whether `issuer`'s subject is this certificate's issuer and its key signed this one.
    fn signed_by(&self, issuer: &Certificate) -> bool {
        self.issuer == issuer.subject
            && issuer.key_usage.is_none_or(|bits| bits & 0x04 != 0)
            && issuer.verifying_key().is_ok_and(|key| {
                self.der
                    .get(self.tbs.clone())
                    .is_some_and(|tbs| key.verify(self.signature_alg, tbs, &self.signature).is_ok())
            })
    }
}

/// Checks `chain` (leaf first, as in `x5c`) against `anchors` at `now`: each certificate is
/// signed by the next one or by an anchor, each that signs is a CA whose path length
/// constraint allows the CAs below it, and all are valid at `now`. Returns the leaf.
pub fn verify_chain<'a>(
    chain: &'a [Certificate],
    anchors: &[Certificate],
    now: i64,
) -> Result<&'a Certificate> {
    let leaf = chain.first().ok_or(Error::Certificate("empty chain"))?;
    if chain.len() > MAX_CHAIN {
        return Err(Error::TooLarge("certificate chain"));
    }
    if leaf.key_usage.is_some_and(|bits| bits & 0x80 == 0) {
        return Err(Error::Certificate("the leaf may not sign"));
    }
    for (i, cert) in chain.iter().enumerate() {
        if !cert.valid_at(now) {
            return Err(Error::Certificate(
                "a certificate is expired or not yet valid",
            ));
        }
        // Below the certificate that signs chain[i]: the CAs chain[1..=i].
        let anchored = anchors
            .iter()
            .any(|a| a.may_sign_below(i) && a.valid_at(now) && cert.signed_by(a));
        if anchored || anchors.iter().any(|a| a.der == cert.der && i > 0) {
            return Ok(leaf);
        }
        match chain.get(i + 1) {
            Some(next) if next.may_sign_below(i) && cert.signed_by(next) => {}
            Some(_) => return Err(Error::Certificate("the chain is broken")),
            None => {
                return Err(Error::Certificate(
                    "the chain does not lead to a trusted anchor",
                ))
            }
        }
    }
    Err(Error::Certificate(
        "the chain does not lead to a trusted anchor",
    ))
}

/// The `x5c` of a JOSE header (RFC 7515 §4.1.6: standard base64 DER, leaf first), parsed;
/// `None` when the header has none.
pub fn chain_from_header(
    header: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<Vec<Certificate>>> {
    let Some(x5c) = header.get("x5c") else {
        return Ok(None);
    };
    let list = x5c
        .as_array()
        .filter(|l| !l.is_empty() && l.len() <= MAX_CHAIN)
        .ok_or(Error::InvalidClaim("x5c"))?;
    let mut chain = Vec::with_capacity(list.len());
    for entry in list {
        chain.push(Certificate::from_x5c(
            entry.as_str().ok_or(Error::InvalidClaim("x5c"))?,
        )?);
    }
    Ok(Some(chain))
}

/// The `x5c` header value for `chain` (DER, leaf first, without the trust anchor).
pub fn x5c_value(chain: &[Vec<u8>]) -> serde_json::Value {
    use base64::Engine as _;
    chain
        .iter()
        .map(|der| base64::engine::general_purpose::STANDARD.encode(der).into())
        .collect::<Vec<serde_json::Value>>()
        .into()
}

/// The private scalar of a PKCS#8 P-256 key (RFC 5208 / 5958 with an RFC 5915 `ECPrivateKey`),
/// as `openssl genpkey` and `civic-verifier dev-ca` write it.
pub(crate) fn pkcs8_p256_scalar(der: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let read = || -> Result<&[u8]> {
        let mut info = Der(Der(der).expect(SEQUENCE, "PKCS#8")?);
        let version = info.expect(0x02, "version")?;
        let mut alg = Der(info.expect(SEQUENCE, "algorithm")?);
        let key = info.expect(0x04, "privateKey")?;
        let p256 = matches!(version, [0] | [1])
            && alg.expect(0x06, "algorithm")? == OID_EC_PUBLIC_KEY
            && alg.expect(0x06, "curve")? == OID_P256;
        let mut ec = Der(Der(key).expect(SEQUENCE, "ECPrivateKey")?);
        let ec_version = ec.expect(0x02, "version")?;
        match ec.expect(0x04, "privateKey")? {
            d if p256 && ec_version == [1] && d.len() == 32 => Ok(d),
            _ => Err(Error::Certificate("PKCS#8")),
        }
    };
    read()
        .map(|d| zeroize::Zeroizing::new(d.to_vec()))
        .map_err(|_| Error::InvalidKey("not a PKCS#8 P-256 private key"))
}

/// A DER reader over a byte string.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element's tag, content and whole encoding.
    #[inline(never)]
    fn peek(&self) -> Result<(u8, &'a [u8], &'a [u8])> {
        let bad = || Error::Certificate("bad DER");
        let (&tag, rest) = self.0.split_first().ok_or_else(bad)?;
        let (&first, rest) = rest.split_first().ok_or_else(bad)?;
        let (len, rest) = match first {
            n if n < 0x80 => (usize::from(n), rest),
            0x81..=0x83 => {
                let n = usize::from(first & 0x7f);
                let (bytes, rest) = rest.split_at_checked(n).ok_or_else(bad)?;
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
                if len < 0x80 || bytes.first() == Some(&0) {
                    return Err(bad());
                }
                (len, rest)
            }
            _ => return Err(bad()),
        };
        let content = rest.get(..len).ok_or_else(bad)?;
        let whole_len = self.0.len() - rest.len() + len;
        Ok((tag, content, self.0.get(..whole_len).unwrap_or_default()))
    }

    /// Takes the next element, which must have tag `tag`, and returns its content.
    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8]> {
        Ok(self.take(tag, what)?.0)
    }

    /// Like [`Der::expect`], but returns the whole encoding.
    fn whole(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8]> {
        Ok(self.take(tag, what)?.1)
    }

    #[inline(never)]
    fn take(&mut self, tag: u8, what: &'static str) -> Result<(&'a [u8], &'a [u8])> {
        match self.peek() {
            Ok((t, content, whole)) if t == tag => {
                self.0 = self.0.get(whole.len()..).unwrap_or_default();
                Ok((content, whole))
            }
            _ => Err(Error::Certificate(what)),
        }
    }

    /// Takes the next element if it has tag `tag`.
    #[inline(never)]
    fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>> {
        if self.0.first() != Some(&tag) {
            return Ok(None);
        }
        self.expect(tag, "bad DER").map(Some)
    }
}

/// The bits of a BIT STRING with no unused bits (keys, signatures; `keyUsage` may have some).
#[inline(never)]
fn bit_string(content: &[u8]) -> Result<&[u8]> {
    match content.split_first() {
        Some((&unused, bits)) if unused < 8 => Ok(bits),
        _ => Err(Error::Certificate("bad BIT STRING")),
    }
}

#[inline(never)]
fn signature_algorithm(alg: &[u8]) -> Result<Algorithm> {
    let mut d = Der(alg);
    match d.expect(0x06, "signature algorithm")? {
        OID_ECDSA_SHA256 => Ok(Algorithm::Es256),
        OID_ED25519 => Ok(Algorithm::EdDsa),
        _ => Err(Error::Certificate(
            "the signature algorithm is not ES256 or Ed25519",
        )),
    }
}

/// The key of a SubjectPublicKeyInfo, as a JWK: P-256 (uncompressed) or Ed25519.
#[inline(never)]
fn public_key(spki: &[u8]) -> Result<Jwk> {
    let mut d = Der(spki);
    let mut alg = Der(d.expect(SEQUENCE, "key algorithm")?);
    let bits = bit_string(d.expect(0x03, "subjectPublicKey")?)?;
    let unsupported = Error::Certificate("the key is not P-256 or Ed25519");
    let jwk = match alg.expect(0x06, "key algorithm")? {
        OID_EC_PUBLIC_KEY if alg.expect(0x06, "curve")? == OID_P256 => match bits.split_first() {
            Some((4, xy)) if xy.len() == 64 => {
                let (x, y) = xy.split_at(32);
                public_jwk("EC", "P-256", x, Some(y))
            }
            _ => return Err(unsupported),
        },
        OID_ED25519 if bits.len() == 32 => public_jwk("OKP", "Ed25519", bits, None),
        _ => return Err(unsupported),
    };
    Ok(jwk)
}

fn public_jwk(kty: &str, crv: &str, x: &[u8], y: Option<&[u8]>) -> Jwk {
    Jwk {
        kty: kty.into(),
        crv: Some(crv.into()),
        x: Some(b64_encode(x)),
        y: y.map(b64_encode),
        d: None,
        kid: None,
        alg: None,
        use_: None,
    }
}

/// An ECDSA-Sig-Value (DER `SEQUENCE { r, s }`) as JOSE's fixed 64-byte `r || s`.
#[inline(never)]
fn ecdsa_signature(der: &[u8]) -> Result<Vec<u8>> {
    let mut d = Der(der);
    let mut seq = Der(d.expect(SEQUENCE, "ECDSA signature")?);
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        let int = seq.expect(0x02, "ECDSA signature")?;
        let int = match int {
            [0, rest @ ..] => rest,
            other => other,
        };
        if int.len() > 32 {
            return Err(Error::Certificate("ECDSA signature"));
        }
        out.extend(core::iter::repeat_n(0, 32 - int.len()));
        out.extend_from_slice(int);
    }
    Ok(out)
}

/// A UTCTime or GeneralizedTime (`…Z`, seconds) as seconds since the epoch.
#[inline(never)]
fn time(d: &mut Der<'_>) -> Result<i64> {
    let bad = || Error::Certificate("bad time");
    let (tag, _, _) = d.peek()?;
    let text = match tag {
        0x17 | 0x18 => d.expect(tag, "time")?,
        _ => return Err(bad()),
    };
    let digits = text.strip_suffix(b"Z").ok_or_else(bad)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |range: core::ops::Range<usize>| -> Result<i64> {
        digits
            .get(range)
            .ok_or_else(bad)
            .map(|d| d.iter().fold(0, |acc, &b| acc * 10 + i64::from(b - b'0')))
    };
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy = num(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (0x18, 14) => (num(0..4)?, 4),
        _ => return Err(bad()),
    };
    let field = |i: usize| num(rest + 2 * i..rest + 2 * i + 2);
    let (month, day, h, m, s) = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return Err(bad());
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + h * 3_600 + m * 60 + s)
}

/// The `dNSName`s and `iPAddress`es of a `subjectAltName` extension value.
#[inline(never)]
fn subject_alt_names(value: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut d = Der(Der(value).expect(SEQUENCE, "subjectAltName")?);
    while !d.0.is_empty() {
        let (tag, content, _) = d.peek()?;
        d.expect(tag, "subjectAltName")?;
        match (tag, content.len()) {
            (0x82, _) => names.push(
                core::str::from_utf8(content)
                    .map_err(|_| Error::Certificate("dNSName"))?
                    .to_ascii_lowercase(),
            ),
            (0x87, 4) => names.push(
                content
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            _ => {}
        }
    }
    Ok(names)
}

/// The organization name of a subject, else its common name.
#[inline(never)]
fn display_name(subject: &[u8]) -> Option<String> {
    let mut rdns = Der(Der(subject).expect(SEQUENCE, "subject").ok()?);
    let (mut org, mut cn) = (None, None);
    while let Ok(set) = rdns.expect(0x31, "name") {
        let mut set = Der(set);
        while let Ok(attribute) = set.expect(SEQUENCE, "name") {
            let mut a = Der(attribute);
            let (Ok(id), Ok((_, value, _))) = (a.expect(0x06, "name"), a.peek()) else {
                continue;
            };
            let text = core::str::from_utf8(value).ok().map(str::to_owned);
            match id {
                OID_ORG => org = text,
                OID_CN => cn = text,
                _ => {}
            }
        }
    }
    org.or(cn)
}

#[cfg(test)]
mod tests;
