//! Moving an agency's state from sled to PostgreSQL (`civic-issuer migrate --from DIR --to URL`).
//!
//! Every sled key space is read and written to its table in one PostgreSQL transaction: the
//! copy is all or nothing. Key spaces sled keeps only as indexes (a passkey's owner, a
//! resident's credentials) are columns in PostgreSQL and are rebuilt from the records. A key
//! this build does not know stops the copy, so nothing is left behind unnoticed. After the copy,
//! [`verify`] compares what both hold: counts of every kind, every credential's status list
//! index, and every status list's bits and version.

use std::collections::BTreeMap;

use civic_storage::postgres::{Json, Transaction, TxResult};

use super::pg_store::PgStore;
use super::sled_layout::{decode, split_expiry, ListMeta};
use super::sled_store::SledStore;
use super::*;

/// How many records of each kind were copied (and are in both stores after [`verify`]).
pub type Counts = BTreeMap<&'static str, u64>;

/// Why a transfer did not happen or did not check out.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The target database already holds issuer state: copying would mix two agencies' data.
    #[error("the target database already holds issuer data ({0}); move into an empty database")]
    TargetNotEmpty(String),
    /// After the copy, the two stores differ.
    #[error("after the copy the stores differ: {0}")]
    Mismatch(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn be_u32(bytes: &[u8], what: &str) -> StoreResult<u32> {
    <[u8; 4]>::try_from(bytes)
        .map(u32::from_be_bytes)
        .map_err(|_| StorageError::corrupt(what.to_owned()))
}

fn be_u64(bytes: &[u8], what: &str) -> StoreResult<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::corrupt(what.to_owned()))
}

fn text(bytes: &[u8], what: &str) -> StoreResult<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StorageError::corrupt(what.to_owned()))
}

fn i(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StorageError::corrupt("number out of range"))
}

/// Copies one sled record into the open PostgreSQL transaction; the kind it counts as, or `None`
/// for a sled index that PostgreSQL keeps as a column.
fn copy_record(
    tx: &mut Transaction<'_>,
    key: &[u8],
    value: &[u8],
) -> TxResult<Option<&'static str>> {
    let k = |p: &[u8]| key.strip_prefix(p);
    if k(b"pko/").is_some() || k(b"rc/").is_some() {
        return Ok(None);
    }
    if let Some(id) = k(b"r/") {
        let r: Resident = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_residents (register_id, resident) VALUES ($1, $2)",
            &[
                &text(id, "resident key")?,
                &Json(civic_storage::postgres::encode(&r)?),
            ],
        )?;
        return Ok(Some("residents"));
    }
    if let Some(id) = k(b"code/") {
        let c: EnrollmentCode = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_enrollment_codes (code_id, code) VALUES ($1, $2)",
            &[
                &text(id, "code key")?,
                &Json(civic_storage::postgres::encode(&c)?),
            ],
        )?;
        return Ok(Some("enrollment codes"));
    }
    if let Some(rest) = k(b"pk/") {
        let rid = rest.split(|b| *b == 0).next().unwrap_or_default();
        let p: StoredPasskey = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_passkeys (credential_id, register_id, passkey) VALUES ($1, $2, $3)",
            &[
                &p.credential_id,
                &text(rid, "passkey key")?,
                &Json(civic_storage::postgres::encode(&p)?),
            ],
        )?;
        return Ok(Some("passkeys"));
    }
    if k(b"e/").is_some() {
        let Some(kind) = Ephemeral::ALL
            .iter()
            .find(|e| key.starts_with(e.prefix().as_bytes()))
        else {
            return Err(unknown(key));
        };
        let name = text(
            key.get(kind.prefix().len()..).unwrap_or_default(),
            "ephemeral key",
        )?;
        let (expires, v) = split_expiry(value).ok_or_else(|| StorageError::corrupt("ephemeral"))?;
        tx.execute(
            "INSERT INTO issuer_ephemeral (kind, key, expires, value) VALUES ($1, $2, $3, $4)",
            &[&kind.prefix(), &name, &expires, &v],
        )?;
        return Ok(Some("short-lived records"));
    }
    if let Some(id) = k(b"rb/") {
        let status = i16::from(value.first().copied().unwrap_or_default());
        tx.execute(
            "INSERT INTO issuer_blocks (register_id, status) VALUES ($1, $2)",
            &[&text(id, "block key")?, &status],
        )?;
        return Ok(Some("issuance blocks"));
    }
    if let Some(list) = k(b"slb/") {
        let list = i64::from(be_u32(list, "status list key")?);
        // The list's row comes first or later; either way the bytes land on it.
        tx.execute(
            "INSERT INTO issuer_status_lists (list, bits, size, allocated, version, bytes)
             VALUES ($1, 2, 0, 0, 0, $2)
             ON CONFLICT (list) DO UPDATE SET bytes = EXCLUDED.bytes",
            &[&list, &value],
        )?;
        return Ok(None);
    }
    if let Some(list) = k(b"sl/") {
        let list = i64::from(be_u32(list, "status list key")?);
        let m: ListMeta = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_status_lists (list, bits, size, allocated, version, bytes)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (list) DO UPDATE SET bits = EXCLUDED.bits, size = EXCLUDED.size,
                 allocated = EXCLUDED.allocated, version = EXCLUDED.version",
            &[
                &list,
                &i16::from(m.bits),
                &i64::from(m.size),
                &i64::from(m.allocated),
                &i(m.version)?,
            ],
        )?;
        return Ok(Some("status lists"));
    }
    if k(b"cred/").is_some() {
        let c: CredentialRecord = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_credentials (list, idx, register_id, record) VALUES ($1, $2, $3, $4)",
            &[&i64::from(c.list), &i64::from(c.idx), &c.register_id, &Json(civic_storage::postgres::encode(&c)?)],
        )?;
        return Ok(Some("credentials"));
    }
    if let Some(id) = k(b"plat/") {
        let p: Platform = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_platforms (id, platform) VALUES ($1, $2)",
            &[
                &text(id, "platform key")?,
                &Json(civic_storage::postgres::encode(&p)?),
            ],
        )?;
        return Ok(Some("platforms"));
    }
    if let Some(id) = k(b"adm/") {
        let t: AdminToken = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_admin_tokens (hash_hex, token) VALUES ($1, $2)",
            &[
                &text(id, "admin token key")?,
                &Json(civic_storage::postgres::encode(&t)?),
            ],
        )?;
        return Ok(Some("admin tokens"));
    }
    if let Some(seq) = k(b"aud/") {
        let e: AuditEvent = decode(key, value)?;
        tx.execute(
            "INSERT INTO issuer_audit (seq, event) VALUES ($1, $2)",
            &[
                &i(be_u64(seq, "audit key")?)?,
                &Json(civic_storage::postgres::encode(&e)?),
            ],
        )?;
        return Ok(Some("audit events"));
    }
    let meta = match key {
        b"meta/current_list" => Some(("current_list", u64::from(be_u32(value, "current list")?))),
        b"meta/audit_seq" => Some(("audit_seq", be_u64(value, "audit sequence")?)),
        _ => None,
    };
    if let Some((name, v)) = meta {
        tx.execute(
            "INSERT INTO issuer_meta (name, value) VALUES ($1, $2)",
            &[&name, &i(v)?],
        )?;
        return Ok(None);
    }
    Err(unknown(key))
}

/// A sled key of a kind this build does not know: the copy stops (and rolls back).
fn unknown(key: &[u8]) -> civic_storage::postgres::TxError {
    StorageError::Corrupt(format!(
        "unknown record in the sled database: {:?}; nothing was copied",
        String::from_utf8_lossy(key)
    ))
    .into()
}

/// Copies everything in `from` into the empty database behind `to`, in one transaction.
pub fn copy(from: &SledStore, to: &PgStore) -> Result<Counts, TransferError> {
    let present = to.db().transaction(|tx| {
        let row = tx.query_one(
            "SELECT (SELECT COUNT(*) FROM issuer_residents) + (SELECT COUNT(*) FROM issuer_credentials)
                  + (SELECT COUNT(*) FROM issuer_audit) + (SELECT COUNT(*) FROM issuer_admin_tokens)",
            &[],
        )?;
        Ok(row.try_get::<_, i64>(0)?)
    })?;
    if present > 0 {
        return Err(TransferError::TargetNotEmpty(format!("{present} records")));
    }
    let counts = to.db().transaction(|tx| {
        let mut counts = Counts::new();
        for item in from.db().scan_prefix(b"") {
            let (key, value) = item.map_err(StorageError::from)?;
            if let Some(kind) = copy_record(tx, &key, &value)? {
                *counts.entry(kind).or_default() += 1;
            }
        }
        Ok(counts)
    })?;
    Ok(counts)
}

/// Compares the two stores after a copy: counts of each kind, every credential's status list
/// index and status, and every status list's bits and version.
pub fn verify(from: &SledStore, to: &PgStore, copied: &Counts) -> Result<(), TransferError> {
    let tables = [
        ("residents", "issuer_residents"),
        ("enrollment codes", "issuer_enrollment_codes"),
        ("passkeys", "issuer_passkeys"),
        ("short-lived records", "issuer_ephemeral"),
        ("issuance blocks", "issuer_blocks"),
        ("status lists", "issuer_status_lists"),
        ("credentials", "issuer_credentials"),
        ("platforms", "issuer_platforms"),
        ("admin tokens", "issuer_admin_tokens"),
        ("audit events", "issuer_audit"),
    ];
    for (kind, table) in tables {
        let n: i64 = to.db().transaction(|tx| {
            Ok(tx
                .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
                .try_get(0)?)
        })?;
        let expected = copied.get(kind).copied().unwrap_or(0);
        if u64::try_from(n).ok() != Some(expected) {
            return Err(TransferError::Mismatch(format!(
                "{kind}: {expected} in sled, {n} in PostgreSQL"
            )));
        }
    }
    let (old, new) = (from.all_status_indexes()?, to.all_status_indexes()?);
    if old != new {
        return Err(TransferError::Mismatch(format!(
            "status list indexes: {} in sled, {} in PostgreSQL",
            old.len(),
            new.len()
        )));
    }
    let mut lists: Vec<u32> = old.iter().map(|(l, _)| *l).collect();
    lists.dedup();
    for list in lists {
        let (a, b) = (from.status_list(list)?, to.status_list(list)?);
        let same = match (&a, &b) {
            (Some(a), Some(b)) => {
                a.bytes == b.bytes
                    && a.version == b.version
                    && a.allocated == b.allocated
                    && a.size == b.size
            }
            _ => false,
        };
        if !same {
            return Err(TransferError::Mismatch(format!(
                "status list {list} differs"
            )));
        }
    }
    for r in from.active_register_ids()? {
        let (a, b) = (from.credentials_of(&r)?, to.credentials_of(&r)?);
        if a != b {
            return Err(TransferError::Mismatch(format!("credentials of {r}")));
        }
    }
    let (a, b) = (from.audit_log(0, usize::MAX)?, to.audit_log(0, usize::MAX)?);
    if a.len() != b.len() || a.last().map(|e| e.0) != b.last().map(|e| e.0) {
        return Err(TransferError::Mismatch("audit log".into()));
    }
    Ok(())
}
