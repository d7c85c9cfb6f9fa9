//! How the sled store lays out its keys and records, and the helpers its transactions share.

use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use civic_credential::status_list::{Status, StatusList};

use super::{CredentialRecord, StorageError, StoreResult};

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StorageError>>;

pub(super) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|_| StorageError::corrupt(String::from_utf8_lossy(key)))
}

/// A record as stored (JSON). Our record types always serialise; should one ever fail, the write
/// fails instead of storing an empty record.
pub(super) fn encode<T: Serialize>(value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StorageError::corrupt(format!("encoding: {e}")))
}

/// [`encode`] inside a transaction.
pub(super) fn tx_encode<T: Serialize>(value: &T) -> TxResult<Vec<u8>> {
    encode(value).map_err(ConflictableTransactionError::Abort)
}

pub(super) fn tx_get<T: DeserializeOwned>(
    tx: &TransactionalTree,
    key: &[u8],
) -> TxResult<Option<T>> {
    match tx.get(key)? {
        None => Ok(None),
        Some(v) => decode(key, &v)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
    }
}

pub(super) fn cred_key(list: u32, idx: u32) -> Vec<u8> {
    let mut k = b"cred/".to_vec();
    k.extend_from_slice(&list.to_be_bytes());
    k.extend_from_slice(&idx.to_be_bytes());
    k
}

pub(super) fn resident_cred_key(register_id: &str, list: u32, idx: u32) -> Vec<u8> {
    let mut k = format!("rc/{register_id}\0").into_bytes();
    k.extend_from_slice(&list.to_be_bytes());
    k.extend_from_slice(&idx.to_be_bytes());
    k
}

pub(super) fn list_bytes_key(list: u32) -> Vec<u8> {
    let mut k = b"slb/".to_vec();
    k.extend_from_slice(&list.to_be_bytes());
    k
}

pub(super) fn list_key(list: u32) -> Vec<u8> {
    let mut k = b"sl/".to_vec();
    k.extend_from_slice(&list.to_be_bytes());
    k
}

pub(super) const CURRENT_LIST: &[u8] = b"meta/current_list";
pub(super) const AUDIT_SEQ: &[u8] = b"meta/audit_seq";
/// A new list is opened when the current one is this full (per mille), keeping indexes random.
pub(super) const FILL_LIMIT_PER_MILLE: u64 = 750;

pub(super) fn split_expiry(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (head, rest) = bytes.split_at_checked(8)?;
    Some((i64::from_be_bytes(head.try_into().ok()?), rest))
}

/// Updates one credential's status in its record and its list. Returns whether it changed.
pub(super) fn apply_status(
    tx: &TransactionalTree,
    list: u32,
    idx: u32,
    target: Status,
) -> TxResult<bool> {
    let key = cred_key(list, idx);
    let Some(mut rec) = tx_get::<CredentialRecord>(tx, &key)? else {
        return Ok(false);
    };
    if !super::status_changes(rec.status, target) {
        return Ok(false);
    }
    rec.status = target.value();
    tx.insert(key, tx_encode(&rec)?)?;
    let corrupt = || ConflictableTransactionError::Abort(StorageError::corrupt("status list"));
    let lk = list_key(list);
    let mut meta = tx_get::<ListMeta>(tx, &lk)?.ok_or_else(corrupt)?;
    let bytes = match tx.get(list_bytes_key(list))? {
        Some(b) => b.to_vec(),
        None => vec![0; meta.byte_len()],
    };
    let mut sl = StatusList::from_bytes(meta.bits, bytes).map_err(|_| corrupt())?;
    sl.set(u64::from(idx), target).map_err(|_| corrupt())?;
    tx.insert(list_bytes_key(list), sl.as_bytes())?;
    meta.version += 1;
    tx.insert(lk, tx_encode(&meta)?)?;
    Ok(true)
}

/// A status list's bookkeeping, kept apart from its (large) packed statuses so that allocating
/// an index does not rewrite the list.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct ListMeta {
    pub(super) bits: u8,
    pub(super) size: u32,
    pub(super) allocated: u32,
    pub(super) version: u64,
}

impl ListMeta {
    pub(super) fn new(size: u32) -> Self {
        ListMeta {
            bits: 2,
            size,
            allocated: 0,
            version: 0,
        }
    }

    pub(super) fn byte_len(&self) -> usize {
        (self.size as usize * usize::from(self.bits)).div_ceil(8)
    }
}
