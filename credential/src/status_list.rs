//! IETF Token Status List (draft-ietf-oauth-status-list, current draft; not draft-02).
//!
//! A status list is a byte array holding one `bits`-wide status per credential, LSB first: the
//! status of index `i` is at byte `i * bits / 8`, bit offset `(i * bits) % 8`. It travels zlib
//! compressed and base64url encoded (`lst`) inside a signed `statuslist+jwt`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{b64_decode, b64_encode, numeric_date, optional_date, required_str};
use crate::error::{Error, Result};
use crate::jws::{self, Jws};

/// The JOSE `typ` of a status list token.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";

/// The largest decompressed status list accepted (guards against zlib bombs): 16 MiB, which
/// holds 128 million 1-bit or 16 million 8-bit statuses.
pub const MAX_LIST_BYTES: usize = 16 << 20;

/// A credential's status, as registered by the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x00: valid.
    Valid,
    /// 0x01: revoked, for good.
    Invalid,
    /// 0x02: suspended, may become valid again.
    Suspended,
    /// Any other value (application specific).
    Other(u8),
}

impl Status {
    /// The numeric value stored in the list.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }
}

impl From<u8> for Status {
    fn from(v: u8) -> Self {
        match v {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            v => Status::Other(v),
        }
    }
}

/// An uncompressed status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

fn check_bits(bits: u64) -> Result<u8> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits as u8),
        other => Err(Error::InvalidStatusBits(other)),
    }
}

impl StatusList {
    /// A list of `len` valid statuses of `bits` bits each (rounded up to whole bytes).
    pub fn new(bits: u8, len: usize) -> Result<Self> {
        let bits = check_bits(bits.into())?;
        let n_bytes = len
            .checked_mul(bits as usize)
            .map(|b| b.div_ceil(8))
            .filter(|&n| n <= MAX_LIST_BYTES)
            .ok_or(Error::TooLarge("status list"))?;
        Ok(StatusList {
            bits,
            bytes: vec![0; n_bytes],
        })
    }

    /// Wraps raw bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self> {
        let bits = check_bits(bits.into())?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(Error::TooLarge("status list"));
        }
        Ok(StatusList { bits, bytes })
    }

    /// Bits per status.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many statuses the list holds.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// Whether the list holds no statuses.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn locate(&self, idx: u64) -> Result<(usize, u8)> {
        let len = self.len();
        if idx >= len {
            return Err(Error::StatusListIndexOutOfRange { idx, len });
        }
        let bit = idx * u64::from(self.bits);
        Ok(((bit / 8) as usize, (bit % 8) as u8))
    }

    fn mask(&self) -> u8 {
        (((1u16) << self.bits) - 1) as u8
    }

    /// The status at `idx`.
    pub fn get(&self, idx: u64) -> Result<Status> {
        let (byte, shift) = self.locate(idx)?;
        match self.bytes.get(byte) {
            Some(b) => Ok(Status::from((b >> shift) & self.mask())),
            None => Err(self.out_of_range(idx)),
        }
    }

    /// The error for an index past the end (`locate` refuses those first; this keeps the lookup
    /// free of a panic path).
    #[cold]
    fn out_of_range(&self, idx: u64) -> Error {
        Error::StatusListIndexOutOfRange {
            idx,
            len: self.len(),
        }
    }

    /// Sets the status at `idx`.
    pub fn set(&mut self, idx: u64, status: Status) -> Result<()> {
        let value = status.value();
        if value > self.mask() {
            return Err(Error::StatusValueTooLarge {
                value,
                bits: self.bits,
            });
        }
        let (byte, shift) = self.locate(idx)?;
        let mask = self.mask() << shift;
        if byte >= self.bytes.len() {
            return Err(self.out_of_range(idx));
        }
        if let Some(b) = self.bytes.get_mut(byte) {
            *b = (*b & !mask) | (value << shift);
        }
        Ok(())
    }

    /// The compressed, encoded form (`lst`): zlib (best compression), base64url.
    pub fn to_lst(&self) -> String {
        b64_encode(&miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 9))
    }

    /// Decodes an `lst`. Refuses lists that would inflate beyond [`MAX_LIST_BYTES`].
    pub fn from_lst(bits: u8, lst: &str) -> Result<Self> {
        let bits = check_bits(bits.into())?;
        let compressed = b64_decode(lst, "lst")?;
        let bytes =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, MAX_LIST_BYTES)
                .map_err(|e| match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                        Error::TooLarge("status list")
                    }
                    _ => Error::StatusListCompression,
                })?;
        Ok(StatusList { bits, bytes })
    }
}

/// The `status` claim of a Referenced Token: `{"status_list": {"idx": …, "uri": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReference {
    /// Where the credential's status is.
    pub status_list: StatusListRef,
}

/// The index and URI of one status in one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListRef {
    /// Index in the list.
    pub idx: u64,
    /// The `sub` of the status list token, and where to fetch it.
    pub uri: String,
}

/// A signed status list token's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// The URI the token is for.
    pub sub: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry, if any.
    pub exp: Option<i64>,
    /// Seconds a verifier may cache the token.
    pub ttl: Option<u64>,
    /// The list.
    pub list: StatusList,
}

impl StatusListToken {
    /// Signs the token (`typ statuslist+jwt`).
    pub fn sign(&self, signer: &dyn JwsSigner) -> Result<String> {
        let mut list = Map::new();
        list.insert("bits".into(), self.list.bits.into());
        list.insert("lst".into(), self.list.to_lst().into());
        let mut claims = Map::new();
        claims.insert("sub".into(), self.sub.clone().into());
        claims.insert("iat".into(), self.iat.into());
        if let Some(exp) = self.exp {
            claims.insert("exp".into(), exp.into());
        }
        if let Some(ttl) = self.ttl {
            claims.insert("ttl".into(), ttl.into());
        }
        claims.insert("status_list".into(), Value::Object(list));
        jws::sign(STATUS_LIST_TYP, jws::chain_header(signer), &claims, signer)
    }

    /// Verifies a token fetched from `uri`: typ, signature with `key`, `sub == uri`, not expired.
    pub fn verify(
        token: &str,
        key: &VerifyingKey,
        uri: &str,
        now: i64,
        clock_skew: i64,
    ) -> Result<Self> {
        let jws = Jws::parse(token)?;
        jws.require_typ(STATUS_LIST_TYP)?;
        jws.verify(key)?;
        Self::from_claims(&jws.payload, uri, now, clock_skew)
    }

    fn from_claims(c: &Map<String, Value>, uri: &str, now: i64, clock_skew: i64) -> Result<Self> {
        let sub = required_str(c, "sub")?;
        if sub != uri {
            return Err(Error::StatusListSubjectMismatch(sub.to_owned()));
        }
        let iat = c
            .get("iat")
            .ok_or(Error::MissingClaim("iat"))
            .and_then(|v| numeric_date(v).ok_or(Error::InvalidClaim("iat")))?;
        let exp = optional_date(c, "exp")?;
        if exp.is_some_and(|e| e <= now.saturating_sub(clock_skew)) {
            return Err(Error::StatusListExpired);
        }
        let ttl = match c.get("ttl") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or(Error::InvalidClaim("ttl"))?),
        };
        let sl = c
            .get("status_list")
            .and_then(Value::as_object)
            .ok_or(Error::MissingClaim("status_list"))?;
        let bits = sl
            .get("bits")
            .and_then(Value::as_u64)
            .ok_or(Error::InvalidClaim("status_list.bits"))?;
        let bits = check_bits(bits)?;
        let lst = sl
            .get("lst")
            .and_then(Value::as_str)
            .ok_or(Error::InvalidClaim("status_list.lst"))?;
        Ok(StatusListToken {
            sub: sub.to_owned(),
            iat,
            exp,
            ttl,
            list: StatusList::from_lst(bits, lst)?,
        })
    }
}

#[cfg(test)]
mod tests;
