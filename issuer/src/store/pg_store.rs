//! The PostgreSQL implementation of [`Store`], for several issuer instances on one database.
//!
//! Every call is one serializable transaction ([`civic_storage::postgres::Database`]), run again
//! when it conflicts with another instance's, so each call's logic is the sled store's, read as
//! if it ran alone. A commit is durable when it returns (`synchronous_commit = on`), so
//! [`Store::sync`] has nothing left to do. The schema is in `pg_schema.rs`.

use rand::Rng;

use civic_credential::status_list::{Status, StatusList};
use civic_storage::postgres::{decode, encode, Database, Json, PgOptions, Transaction, TxResult};

use super::pg_schema::MIGRATIONS;
use super::sled_layout::FILL_LIMIT_PER_MILLE;
use super::*;

/// The PostgreSQL-backed store.
pub struct PgStore {
    db: Database,
}

type Value = serde_json::Value;

impl PgStore {
    /// Connects to `url` and brings the schema up to date (other instances starting at the same
    /// time wait for the first).
    pub fn open(url: &str, options: &PgOptions) -> StoreResult<Self> {
        Ok(PgStore {
            db: Database::open(url, options, "issuer", MIGRATIONS)?,
        })
    }

    /// The database (for copying into it: `transfer`).
    pub(super) fn db(&self) -> &Database {
        &self.db
    }

    /// The schema version this build brings databases to.
    pub fn schema_version() -> i32 {
        MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

fn int(v: u32) -> i64 {
    i64::from(v)
}

fn uint(v: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StorageError::corrupt(format!("{what}: {v}")))
}

fn resident_in(tx: &mut Transaction<'_>, register_id: &str) -> TxResult<Option<Resident>> {
    match tx.query_opt(
        "SELECT resident FROM issuer_residents WHERE register_id = $1",
        &[&register_id],
    )? {
        None => Ok(None),
        Some(row) => Ok(Some(decode("resident", row.try_get::<_, Value>(0)?)?)),
    }
}

fn code_in(tx: &mut Transaction<'_>, code_id: &str) -> TxResult<Option<EnrollmentCode>> {
    match tx.query_opt(
        "SELECT code FROM issuer_enrollment_codes WHERE code_id = $1",
        &[&code_id],
    )? {
        None => Ok(None),
        Some(row) => Ok(Some(decode(
            "enrollment code",
            row.try_get::<_, Value>(0)?,
        )?)),
    }
}

fn put_code(tx: &mut Transaction<'_>, code: &EnrollmentCode) -> TxResult<()> {
    tx.execute(
        "INSERT INTO issuer_enrollment_codes (code_id, code) VALUES ($1, $2)
         ON CONFLICT (code_id) DO UPDATE SET code = EXCLUDED.code",
        &[&code.code_id, &Json(encode(code)?)],
    )?;
    Ok(())
}

/// A status list's bookkeeping row.
struct ListRow {
    bits: u8,
    size: u32,
    allocated: u32,
    version: u64,
    bytes: Option<Vec<u8>>,
}

impl ListRow {
    fn new(size: u32) -> Self {
        ListRow {
            bits: 2,
            size,
            allocated: 0,
            version: 0,
            bytes: None,
        }
    }

    fn byte_len(&self) -> usize {
        (self.size as usize * usize::from(self.bits)).div_ceil(8)
    }
}

fn list_in(tx: &mut Transaction<'_>, list: u32) -> TxResult<Option<ListRow>> {
    let Some(row) = tx.query_opt(
        "SELECT bits, size, allocated, version, bytes FROM issuer_status_lists WHERE list = $1",
        &[&int(list)],
    )?
    else {
        return Ok(None);
    };
    let bits: i16 = row.try_get(0)?;
    Ok(Some(ListRow {
        bits: u8::try_from(bits).map_err(|_| StorageError::corrupt("status list bits"))?,
        size: uint(row.try_get(1)?, "status list size")?,
        allocated: uint(row.try_get(2)?, "status list allocation")?,
        version: u64::try_from(row.try_get::<_, i64>(3)?)
            .map_err(|_| StorageError::corrupt("status list version"))?,
        bytes: row.try_get(4)?,
    }))
}

fn put_list(tx: &mut Transaction<'_>, list: u32, row: &ListRow) -> TxResult<()> {
    let version =
        i64::try_from(row.version).map_err(|_| StorageError::corrupt("status list version"))?;
    tx.execute(
        "INSERT INTO issuer_status_lists (list, bits, size, allocated, version, bytes)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (list) DO UPDATE SET bits = EXCLUDED.bits, size = EXCLUDED.size,
             allocated = EXCLUDED.allocated, version = EXCLUDED.version, bytes = EXCLUDED.bytes",
        &[
            &int(list),
            &i16::from(row.bits),
            &int(row.size),
            &int(row.allocated),
            &version,
            &row.bytes,
        ],
    )?;
    Ok(())
}

fn meta_in(tx: &mut Transaction<'_>, name: &str) -> TxResult<Option<i64>> {
    Ok(tx
        .query_opt("SELECT value FROM issuer_meta WHERE name = $1", &[&name])?
        .map(|r| r.try_get(0))
        .transpose()?)
}

fn put_meta(tx: &mut Transaction<'_>, name: &str, value: i64) -> TxResult<()> {
    tx.execute(
        "INSERT INTO issuer_meta (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &value],
    )?;
    Ok(())
}

fn records_of(tx: &mut Transaction<'_>, register_id: &str) -> TxResult<Vec<CredentialRecord>> {
    let rows = tx.query(
        "SELECT record FROM issuer_credentials WHERE register_id = $1 ORDER BY list, idx",
        &[&register_id],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(decode("credential", row.try_get::<_, Value>(0)?)?);
    }
    Ok(out)
}

/// Updates one credential's status in its record and its list. Returns whether it changed.
fn apply_status(
    tx: &mut Transaction<'_>,
    rec: &CredentialRecord,
    target: Status,
) -> TxResult<bool> {
    if !status_changes(rec.status, target) {
        return Ok(false);
    }
    let mut rec = rec.clone();
    rec.status = target.value();
    tx.execute(
        "UPDATE issuer_credentials SET record = $3 WHERE list = $1 AND idx = $2",
        &[&int(rec.list), &int(rec.idx), &Json(encode(&rec)?)],
    )?;
    let corrupt = || StorageError::corrupt("status list");
    let mut row = list_in(tx, rec.list)?.ok_or_else(corrupt)?;
    let bytes = row.bytes.take().unwrap_or_else(|| vec![0; row.byte_len()]);
    let mut sl = StatusList::from_bytes(row.bits, bytes).map_err(|_| corrupt())?;
    sl.set(u64::from(rec.idx), target).map_err(|_| corrupt())?;
    row.bytes = Some(sl.as_bytes().to_vec());
    row.version += 1;
    put_list(tx, rec.list, &row)?;
    Ok(true)
}

const CURRENT_LIST: &str = "current_list";
const AUDIT_SEQ: &str = "audit_seq";

impl Store for PgStore {
    fn sync(&self) -> StoreResult<()> {
        // Each call committed with synchronous_commit on: already durable.
        Ok(())
    }

    fn resident(&self, register_id: &str) -> StoreResult<Option<Resident>> {
        self.db.transaction(|tx| resident_in(tx, register_id))
    }

    fn upsert_resident(&self, resident: &Resident) -> StoreResult<Upsert> {
        let mut new = resident.clone();
        new.removed_at = None;
        let value = encode(&new)?;
        self.db.transaction(|tx| {
            let outcome = Upsert::of(resident_in(tx, &resident.register_id)?.as_ref(), resident);
            if outcome == Upsert::Unchanged {
                return Ok(outcome);
            }
            tx.execute(
                "INSERT INTO issuer_residents (register_id, resident) VALUES ($1, $2)
                 ON CONFLICT (register_id) DO UPDATE SET resident = EXCLUDED.resident",
                &[&resident.register_id, &Json(&value)],
            )?;
            Ok(outcome)
        })
    }

    fn active_register_ids(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .search_residents("", usize::MAX)?
            .into_iter()
            .filter(|r| r.removed_at.is_none())
            .map(|r| r.register_id)
            .collect())
    }

    fn search_residents(&self, prefix: &str, limit: usize) -> StoreResult<Vec<Resident>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.transaction(|tx| {
            let rows = tx.query(
                "SELECT resident FROM issuer_residents WHERE starts_with(register_id, $1)
                 ORDER BY register_id COLLATE \"C\" LIMIT $2",
                &[&prefix, &limit],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(decode("resident", row.try_get::<_, Value>(0)?)?);
            }
            Ok(out)
        })
    }

    fn mark_removed(&self, register_id: &str, now: i64) -> StoreResult<()> {
        self.db.transaction(|tx| {
            if let Some(mut r) = resident_in(tx, register_id)? {
                r.removed_at.get_or_insert(now);
                tx.execute(
                    "UPDATE issuer_residents SET resident = $2 WHERE register_id = $1",
                    &[&register_id, &Json(encode(&r)?)],
                )?;
            }
            Ok(())
        })
    }

    fn insert_code(&self, code: &EnrollmentCode, now: i64) -> StoreResult<bool> {
        self.db.transaction(|tx| {
            if code_in(tx, &code.code_id)?.is_some_and(|old| old.is_live(now)) {
                return Ok(false);
            }
            put_code(tx, code)?;
            Ok(true)
        })
    }

    fn check_code(
        &self,
        code_id: &str,
        secret_hash: &[u8; 32],
        now: i64,
    ) -> StoreResult<CodeCheck> {
        self.db.transaction(|tx| {
            let Some(mut code) = code_in(tx, code_id)? else {
                return Ok(CodeCheck::Unknown);
            };
            let (check, changed) = code.check(secret_hash, now);
            if changed {
                put_code(tx, &code)?;
            }
            Ok(check)
        })
    }

    fn passkeys(&self, register_id: &str) -> StoreResult<Vec<StoredPasskey>> {
        self.db.transaction(|tx| {
            let rows = tx.query(
                "SELECT passkey FROM issuer_passkeys WHERE register_id = $1
                 ORDER BY credential_id COLLATE \"C\"",
                &[&register_id],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(decode("passkey", row.try_get::<_, Value>(0)?)?);
            }
            Ok(out)
        })
    }

    fn add_passkey(
        &self,
        register_id: &str,
        passkey: &StoredPasskey,
        consume_code: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let value = encode(passkey)?;
        self.db.transaction(|tx| {
            let mut code = None;
            if let Some(code_id) = consume_code {
                let Some(c) = code_in(tx, code_id)? else {
                    return Ok(false);
                };
                if !c.can_enroll(register_id, now) {
                    return Ok(false);
                }
                code = Some(c);
            }
            let inserted = tx.execute(
                "INSERT INTO issuer_passkeys (credential_id, register_id, passkey) VALUES ($1, $2, $3)
                 ON CONFLICT (credential_id) DO NOTHING",
                &[&passkey.credential_id, &register_id, &Json(&value)],
            )?;
            if inserted == 0 {
                // Someone owns this credential id already.
                return Ok(false);
            }
            if let Some(mut c) = code {
                c.used = true;
                put_code(tx, &c)?;
            }
            Ok(true)
        })
    }

    fn update_passkey(&self, register_id: &str, passkey: &StoredPasskey) -> StoreResult<()> {
        let value = encode(passkey)?;
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO issuer_passkeys (credential_id, register_id, passkey) VALUES ($1, $2, $3)
                 ON CONFLICT (credential_id) DO UPDATE SET passkey = EXCLUDED.passkey
                 WHERE issuer_passkeys.register_id = EXCLUDED.register_id",
                &[&passkey.credential_id, &register_id, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn remove_passkey(&self, register_id: &str, credential_id: &str) -> StoreResult<bool> {
        self.db.transaction(|tx| {
            let n = tx.execute(
                "DELETE FROM issuer_passkeys WHERE register_id = $1 AND credential_id = $2",
                &[&register_id, &credential_id],
            )?;
            Ok(n > 0)
        })
    }

    fn passkey_owner(&self, credential_id: &str) -> StoreResult<Option<String>> {
        self.db.transaction(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT register_id FROM issuer_passkeys WHERE credential_id = $1",
                    &[&credential_id],
                )?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn put_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        value: &[u8],
        expires: i64,
    ) -> StoreResult<()> {
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO issuer_ephemeral (kind, key, expires, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, key) DO UPDATE SET expires = EXCLUDED.expires, value = EXCLUDED.value",
                &[&kind.prefix(), &key, &expires, &value],
            )?;
            Ok(())
        })
    }

    fn get_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
        self.db.transaction(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT value FROM issuer_ephemeral WHERE kind = $1 AND key = $2 AND expires > $3",
                    &[&kind.prefix(), &key, &now],
                )?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn claim_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        expires: i64,
        now: i64,
    ) -> StoreResult<bool> {
        self.db.transaction(|tx| {
            // Inserted, or over an expired one: the first live claim wins.
            let n = tx.execute(
                "INSERT INTO issuer_ephemeral (kind, key, expires, value) VALUES ($1, $2, $3, '')
                 ON CONFLICT (kind, key) DO UPDATE SET expires = EXCLUDED.expires, value = ''
                 WHERE issuer_ephemeral.expires <= $4",
                &[&kind.prefix(), &key, &expires, &now],
            )?;
            Ok(n == 1)
        })
    }

    fn take_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
        self.db.transaction(|tx| {
            let row = tx.query_opt(
                "DELETE FROM issuer_ephemeral WHERE kind = $1 AND key = $2 RETURNING expires, value",
                &[&kind.prefix(), &key],
            )?;
            let Some(row) = row else { return Ok(None) };
            let expires: i64 = row.try_get(0)?;
            Ok((expires > now).then(|| row.try_get(1)).transpose()?)
        })
    }

    fn purge_expired(&self, now: i64) -> StoreResult<usize> {
        self.db.transaction(|tx| {
            let n = tx.execute("DELETE FROM issuer_ephemeral WHERE expires <= $1", &[&now])?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn end_sessions_of(&self, register_id: &str, keep: Option<&str>) -> StoreResult<usize> {
        #[derive(serde::Deserialize)]
        struct Owner {
            register_id: String,
        }
        let kind = Ephemeral::Session.prefix();
        self.db.transaction(|tx| {
            let rows = tx.query(
                "SELECT key, value FROM issuer_ephemeral WHERE kind = $1",
                &[&kind],
            )?;
            let mut ended = 0;
            for row in rows {
                let key: String = row.try_get(0)?;
                let value: Vec<u8> = row.try_get(1)?;
                let theirs = serde_json::from_slice::<Owner>(&value)
                    .is_ok_and(|o| o.register_id == register_id);
                if theirs && keep != Some(key.as_str()) {
                    tx.execute(
                        "DELETE FROM issuer_ephemeral WHERE kind = $1 AND key = $2",
                        &[&kind, &key],
                    )?;
                    ended += 1;
                }
            }
            Ok(ended)
        })
    }

    fn allocate_credentials(&self, batch: &NewBatch, now: i64) -> StoreResult<Allocation> {
        let list_size = batch.list_size.max(8);
        self.db.transaction(|tx| {
            match resident_in(tx, &batch.register_id)? {
                None => return Ok(Allocation::Denied(Blocker::NotOnRegister)),
                Some(r) if r.removed_at.is_some() => {
                    return Ok(Allocation::Denied(Blocker::LeftRegister))
                }
                Some(_) => {}
            }
            if tx
                .query_opt(
                    "SELECT 1 FROM issuer_blocks WHERE register_id = $1",
                    &[&batch.register_id],
                )?
                .is_some()
            {
                return Ok(Allocation::Denied(Blocker::RevokedOrSuspended));
            }
            // Nonces are stateless until spent; a spent one is kept until it expires.
            if let Some((nonce, expires)) = &batch.nonce {
                if *expires <= now {
                    return Ok(Allocation::NonceInvalid);
                }
                let spent = tx.execute(
                    "INSERT INTO issuer_ephemeral (kind, key, expires, value) VALUES ($1, $2, $3, '')
                     ON CONFLICT (kind, key) DO NOTHING",
                    &[&Ephemeral::Nonce.prefix(), nonce, expires],
                )?;
                if spent == 0 {
                    return Ok(Allocation::NonceInvalid);
                }
            }
            let mut list = uint(meta_in(tx, CURRENT_LIST)?.unwrap_or(0), "current list")?;
            let mut meta = list_in(tx, list)?.unwrap_or_else(|| ListRow::new(list_size));
            let mut rng = rand::thread_rng();
            let mut out = Vec::with_capacity(batch.holder_thumbprints.len());
            for thumbprint in &batch.holder_thumbprints {
                if u64::from(meta.allocated) * 1000 >= u64::from(meta.size) * FILL_LIMIT_PER_MILLE {
                    put_list(tx, list, &meta)?;
                    list += 1;
                    meta = ListRow::new(list_size);
                }
                let idx = loop {
                    let idx = rng.gen_range(0..meta.size);
                    let taken = tx
                        .query_opt(
                            "SELECT 1 FROM issuer_credentials WHERE list = $1 AND idx = $2",
                            &[&int(list), &int(idx)],
                        )?
                        .is_some();
                    if !taken {
                        break idx;
                    }
                };
                let rec = CredentialRecord {
                    list,
                    idx,
                    register_id: batch.register_id.clone(),
                    kid: batch.kid.clone(),
                    iat: batch.iat,
                    exp: batch.exp,
                    holder_thumbprint: thumbprint.clone(),
                    status: Status::Valid.value(),
                };
                tx.execute(
                    "INSERT INTO issuer_credentials (list, idx, register_id, record) VALUES ($1, $2, $3, $4)",
                    &[&int(list), &int(idx), &batch.register_id, &Json(encode(&rec)?)],
                )?;
                meta.allocated += 1;
                out.push(rec);
            }
            put_list(tx, list, &meta)?;
            put_meta(tx, CURRENT_LIST, int(list))?;
            Ok(Allocation::Allocated(out))
        })
    }

    fn credentials_of(&self, register_id: &str) -> StoreResult<Vec<CredentialRecord>> {
        self.db.transaction(|tx| records_of(tx, register_id))
    }

    fn set_resident_status(
        &self,
        register_id: &str,
        status: Status,
        block: bool,
    ) -> StoreResult<usize> {
        // One transaction: the block and every credential change together, so no credential
        // can be allocated in between.
        self.db.transaction(|tx| {
            let current: Option<i16> = tx
                .query_opt(
                    "SELECT status FROM issuer_blocks WHERE register_id = $1",
                    &[&register_id],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            let set = |tx: &mut Transaction<'_>, s: Status| {
                tx.execute(
                    "INSERT INTO issuer_blocks (register_id, status) VALUES ($1, $2)
                     ON CONFLICT (register_id) DO UPDATE SET status = EXCLUDED.status",
                    &[&register_id, &i16::from(s.value())],
                )
            };
            let suspended = i16::from(Status::Suspended.value());
            match status {
                Status::Invalid if block => {
                    set(tx, Status::Invalid)?;
                }
                Status::Suspended if current.is_none() => {
                    set(tx, Status::Suspended)?;
                }
                Status::Valid if current == Some(suspended) => {
                    tx.execute(
                        "DELETE FROM issuer_blocks WHERE register_id = $1",
                        &[&register_id],
                    )?;
                }
                _ => {}
            }
            let mut changed = 0;
            for rec in records_of(tx, register_id)? {
                changed += usize::from(apply_status(tx, &rec, status)?);
            }
            Ok(changed)
        })
    }

    fn resident_block(&self, register_id: &str) -> StoreResult<Option<Status>> {
        let status: Option<i16> = self.db.transaction(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT status FROM issuer_blocks WHERE register_id = $1",
                    &[&register_id],
                )?
                .map(|r| r.try_get(0))
                .transpose()?)
        })?;
        Ok(match status {
            Some(1) => Some(Status::Invalid),
            Some(2) => Some(Status::Suspended),
            _ => None,
        })
    }

    fn status_list(&self, list: u32) -> StoreResult<Option<StoredStatusList>> {
        let Some(row) = self.db.transaction(|tx| list_in(tx, list))? else {
            return Ok(None);
        };
        let len = row.byte_len();
        Ok(Some(StoredStatusList {
            bits: row.bits,
            size: row.size,
            allocated: row.allocated,
            version: row.version,
            bytes: row.bytes.unwrap_or_else(|| vec![0; len]),
        }))
    }

    fn all_status_indexes(&self) -> StoreResult<Vec<(u32, u32)>> {
        let rows = self.db.transaction(|tx| {
            Ok(tx.query(
                "SELECT list, idx FROM issuer_credentials ORDER BY list, idx",
                &[],
            )?)
        })?;
        rows.iter()
            .map(|r| {
                let list = r
                    .try_get::<_, i64>(0)
                    .map_err(|_| StorageError::corrupt("list"))?;
                let idx = r
                    .try_get::<_, i64>(1)
                    .map_err(|_| StorageError::corrupt("idx"))?;
                Ok((uint(list, "list")?, uint(idx, "idx")?))
            })
            .collect()
    }

    fn put_platform(&self, platform: &Platform) -> StoreResult<()> {
        let value = encode(platform)?;
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO issuer_platforms (id, platform) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET platform = EXCLUDED.platform",
                &[&platform.id, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn platforms(&self) -> StoreResult<Vec<Platform>> {
        self.db.transaction(|tx| {
            let rows = tx.query(
                "SELECT platform FROM issuer_platforms ORDER BY id COLLATE \"C\"",
                &[],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(decode("platform", row.try_get::<_, Value>(0)?)?);
            }
            Ok(out)
        })
    }

    fn put_admin_token(&self, token: &AdminToken) -> StoreResult<()> {
        let value = encode(token)?;
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO issuer_admin_tokens (hash_hex, token) VALUES ($1, $2)
                 ON CONFLICT (hash_hex) DO UPDATE SET token = EXCLUDED.token",
                &[&token.hash_hex, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn admin_token(&self, hash_hex: &str) -> StoreResult<Option<AdminToken>> {
        self.db.transaction(|tx| {
            match tx.query_opt(
                "SELECT token FROM issuer_admin_tokens WHERE hash_hex = $1",
                &[&hash_hex],
            )? {
                None => Ok(None),
                Some(row) => Ok(Some(decode("admin token", row.try_get::<_, Value>(0)?)?)),
            }
        })
    }

    fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let value = encode(event)?;
        self.db.transaction(|tx| {
            // The counter and the entry in one transaction: numbers without gaps or repeats.
            let seq = meta_in(tx, AUDIT_SEQ)?.unwrap_or(0) + 1;
            put_meta(tx, AUDIT_SEQ, seq)?;
            tx.execute(
                "INSERT INTO issuer_audit (seq, event) VALUES ($1, $2)",
                &[&seq, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn audit_log(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, AuditEvent)>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.transaction(|tx| {
            let rows = tx.query(
                "SELECT seq, event FROM issuer_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get(0)?;
                let seq = u64::try_from(seq).map_err(|_| StorageError::corrupt("audit seq"))?;
                out.push((seq, decode("audit event", row.try_get::<_, Value>(1)?)?));
            }
            Ok(out)
        })
    }

    fn health(&self) -> StoreResult<()> {
        self.db.health()
    }
}
