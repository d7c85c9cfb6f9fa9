//! A software WebAuthn platform authenticator ("passkey") for integration tests.
//!
//! It speaks the JSON that webauthn-rs 0.6 produces (`CreationChallengeResponse`,
//! `RequestChallengeResponse`) and consumes (`RegisterPublicKeyCredential`,
//! `PublicKeyCredential`): binary fields are base64url without padding. Registration uses
//! "none" attestation, a zero AAGUID and an ES256 (P-256) key, like a synced platform passkey.
//!
//! To forge bad responses: pass a wrong `origin`, change [`SoftPasskey::flags`] or
//! [`SoftPasskey::counter`], or corrupt a returned field with [`tamper`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use rand::{rngs::OsRng, Rng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Authenticator-data flag: user present.
pub const FLAG_UP: u8 = 0x01;
/// Authenticator-data flag: user verified.
pub const FLAG_UV: u8 = 0x04;
/// Authenticator-data flag: backup eligible (synced passkey).
pub const FLAG_BE: u8 = 0x08;
/// Authenticator-data flag: backed up (synced passkey).
pub const FLAG_BS: u8 = 0x10;
/// Authenticator-data flag: attested credential data present (set by `register` only).
pub const FLAG_AT: u8 = 0x40;

/// A single software passkey: one P-256 key bound to one RP and user on registration.
pub struct SoftPasskey {
    key: SigningKey,
    cred_id: Vec<u8>,
    user_handle: Option<Vec<u8>>,
    rp_id: Option<String>,
    /// Signature counter; incremented before each assertion. Rewind it to mimic a clone.
    pub counter: u32,
    /// Flags put in authenticator data (`FLAG_AT` is added on registration).
    /// Defaults to UP|UV|BE|BS; clear `FLAG_UV` to forge an unverified response.
    pub flags: u8,
}

impl Default for SoftPasskey {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftPasskey {
    /// A fresh passkey with a random key and a random 16..=32 byte credential id.
    pub fn new() -> Self {
        let mut cred_id = vec![0u8; OsRng.gen_range(16..=32)];
        OsRng.fill_bytes(&mut cred_id);
        Self {
            key: SigningKey::random(&mut OsRng),
            cred_id,
            user_handle: None,
            rp_id: None,
            counter: 0,
            flags: FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS,
        }
    }

    /// The raw credential id.
    pub fn credential_id(&self) -> &[u8] {
        &self.cred_id
    }

    /// The user handle (`user.id`) stored at registration, if registered.
    pub fn user_handle(&self) -> Option<&[u8]> {
        self.user_handle.as_deref()
    }

    /// Answer `navigator.credentials.create()` for `options` (`{"publicKey": {...}}`) as if
    /// called from `origin`. Returns `RegisterPublicKeyCredential` JSON.
    ///
    /// Panics (like a browser's `InvalidStateError`/`NotSupportedError`) if the credential is in
    /// `excludeCredentials` or ES256 is not offered.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = text(pk, "/rp/id").to_owned();
        let user_id = bytes(pk, "/user/id");
        let algs = pk["pubKeyCredParams"].as_array().map(Vec::as_slice);
        assert!(
            algs.unwrap_or_default().iter().any(|p| p["alg"] == -7),
            "RP does not offer ES256"
        );
        let excluded = pk["excludeCredentials"].as_array().map(Vec::as_slice);
        assert!(
            !excluded
                .unwrap_or_default()
                .iter()
                .any(|c| bytes(c, "/id") == self.cred_id),
            "InvalidStateError: credential is excluded"
        );

        let client_data = client_data("webauthn.create", pk, origin);
        let mut auth_data = auth_data_head(&rp_id, self.flags | FLAG_AT, self.counter);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID
        let id_len = u16::try_from(self.cred_id.len()).expect("credential id length");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.cred_id);
        auth_data.extend(self.cose_key());

        let mut att = Vec::new();
        cbor_head(&mut att, MAJOR_MAP, 3);
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        cbor_head(&mut att, MAJOR_MAP, 0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &auth_data);

        self.rp_id = Some(rp_id);
        self.user_handle = Some(user_id);
        let id = B64.encode(&self.cred_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(att),
                "clientDataJSON": B64.encode(client_data),
                "transports": ["hybrid", "internal"],
            },
            "extensions": {},
        })
    }

    /// Answer `navigator.credentials.get()` for `options` (`{"publicKey": {...}}`) as if called
    /// from `origin`. An empty `allowCredentials` is a discoverable request. Always returns
    /// `userHandle`. Returns `PublicKeyCredential` JSON with a DER ECDSA signature.
    ///
    /// Panics ("no passkey available") if not registered for `rpId` or not in a non-empty
    /// `allowCredentials`.
    pub fn authenticate(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = text(pk, "/rpId");
        assert_eq!(
            Some(rp_id),
            self.rp_id.as_deref(),
            "no passkey registered for this rpId"
        );
        let allowed = pk["allowCredentials"].as_array().map(Vec::as_slice);
        let allowed = allowed.unwrap_or_default();
        assert!(
            allowed.is_empty() || allowed.iter().any(|c| bytes(c, "/id") == self.cred_id),
            "no passkey in allowCredentials"
        );

        self.counter = self.counter.wrapping_add(1);
        let client_data = client_data("webauthn.get", pk, origin);
        let auth_data = auth_data_head(rp_id, self.flags, self.counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);

        let id = B64.encode(&self.cred_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.to_der().as_bytes()),
                "userHandle": self.user_handle.as_ref().map(|h| B64.encode(h)),
            },
            "extensions": {},
        })
    }

    /// COSE_Key for the public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut out = Vec::new();
        cbor_head(&mut out, MAJOR_MAP, 5);
        for (label, value) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut out, label);
            cbor_int(&mut out, value);
        }
        cbor_int(&mut out, -2);
        cbor_bytes(&mut out, x);
        cbor_int(&mut out, -3);
        cbor_bytes(&mut out, y);
        out
    }
}

/// Flip the last byte of the base64url field at JSON `pointer` (e.g. `/response/signature`).
/// On a DER signature this keeps the encoding valid but breaks the signature.
pub fn tamper(credential: &mut Value, pointer: &str) {
    let mut raw = bytes(credential, pointer);
    *raw.last_mut().expect("empty field") ^= 0x01;
    *credential.pointer_mut(pointer).expect("field") = Value::String(B64.encode(raw));
}

/// Collected client data as the browser serialises it (the exact bytes get signed).
fn client_data(kind: &str, pk: &Value, origin: &str) -> Vec<u8> {
    let challenge = text(pk, "/challenge");
    let json =
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false});
    serde_json::to_vec(&json).expect("client data")
}

/// rpIdHash || flags || signCount.
fn auth_data_head(rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
    let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
    out.push(flags);
    out.extend_from_slice(&counter.to_be_bytes());
    out
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string at {pointer}"))
}

fn bytes(v: &Value, pointer: &str) -> Vec<u8> {
    B64.decode(text(v, pointer))
        .unwrap_or_else(|e| panic!("bad base64url at {pointer}: {e}"))
}

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_MAP: u8 = 5;

/// CBOR item head with the shortest argument encoding (map heads count pairs).
fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, i: i64) {
    match u64::try_from(i) {
        Ok(n) => cbor_head(out, MAJOR_UINT, n),
        Err(_) => cbor_head(out, MAJOR_NINT, (-1 - i) as u64),
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, MAJOR_BYTES, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, MAJOR_TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}
