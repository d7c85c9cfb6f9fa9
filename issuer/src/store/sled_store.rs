//! The sled 0.34 implementation of [`Store`]: one tree, prefixed keys, one transaction per call,
//! and group commit in [`Store::sync`]. The database sits behind a [`civic_storage::Handle`],
//! which keeps it off a full disk, answers for a stalled one, and reopens it after a storage
//! failure.

use std::path::Path;

use rand::Rng;
use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::TransactionalTree;

use civic_credential::status_list::Status;

use super::sled_layout::*;
use super::*;
use civic_storage::{Handle, Options};

/// The sled-backed store.
pub struct SledStore {
    db: Handle,
}

impl SledStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path, options: Options) -> StoreResult<Self> {
        Ok(SledStore {
            db: Handle::open(dir, options).map_err(StorageError::from)?,
        })
    }

    /// Like [`SledStore::open`], for a long-running service: when the database cannot be opened
    /// because of the disk (full, read-only, I/O error), the store still starts, answers every
    /// call with that error, and opens the database as soon as the directory can be written.
    /// A database locked by another process or a corrupt one is still an error.
    pub fn open_for_service(dir: &Path, options: Options) -> StoreResult<Self> {
        Ok(SledStore {
            db: Handle::open_or_closed(dir, options).map_err(StorageError::from)?,
        })
    }

    /// The database (for copying it: `transfer`).
    pub(super) fn db(&self) -> &Handle {
        &self.db
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> StoreResult<Option<T>> {
        match self.db.get(key).map_err(StorageError::from)? {
            None => Ok(None),
            Some(v) => decode(key, &v).map(Some),
        }
    }

    fn put<T: Serialize>(&self, key: &[u8], value: &T) -> StoreResult<()> {
        self.db
            .insert(key, encode(value)?)
            .map(|_| ())
            .map_err(StorageError::from)
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &[u8]) -> StoreResult<Vec<(Vec<u8>, T)>> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix(prefix) {
            let (k, v) = item.map_err(StorageError::from)?;
            let value = decode(&k, &v)?;
            out.push((k.to_vec(), value));
        }
        Ok(out)
    }

    fn transaction<T>(&self, f: impl Fn(&TransactionalTree) -> TxResult<T>) -> StoreResult<T> {
        self.db.transaction(f).map_err(StorageError::from)
    }

    fn ephemeral_key(kind: Ephemeral, key: &str) -> Vec<u8> {
        format!("{}{key}", kind.prefix()).into_bytes()
    }
}

impl Store for SledStore {
    fn resident(&self, register_id: &str) -> StoreResult<Option<Resident>> {
        self.get(format!("r/{register_id}").as_bytes())
    }

    fn upsert_resident(&self, resident: &Resident) -> StoreResult<Upsert> {
        let key = format!("r/{}", resident.register_id).into_bytes();
        self.transaction(|tx| {
            let old: Option<Resident> = tx_get(tx, &key)?;
            let outcome = Upsert::of(old.as_ref(), resident);
            if outcome == Upsert::Unchanged {
                return Ok(outcome);
            }
            let mut new = resident.clone();
            new.removed_at = None;
            tx.insert(key.as_slice(), tx_encode(&new)?)?;
            Ok(outcome)
        })
    }

    fn active_register_ids(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .scan::<Resident>(b"r/")?
            .into_iter()
            .filter(|(_, r)| r.removed_at.is_none())
            .map(|(_, r)| r.register_id)
            .collect())
    }

    fn search_residents(&self, prefix: &str, limit: usize) -> StoreResult<Vec<Resident>> {
        let mut out = Vec::new();
        for item in self
            .db
            .scan_prefix(format!("r/{prefix}").as_bytes())
            .take(limit)
        {
            let (k, v) = item.map_err(StorageError::from)?;
            out.push(decode(&k, &v)?);
        }
        Ok(out)
    }

    fn mark_removed(&self, register_id: &str, now: i64) -> StoreResult<()> {
        let key = format!("r/{register_id}").into_bytes();
        self.transaction(|tx| {
            if let Some(mut r) = tx_get::<Resident>(tx, &key)? {
                r.removed_at.get_or_insert(now);
                tx.insert(key.as_slice(), tx_encode(&r)?)?;
            }
            Ok(())
        })
    }

    fn insert_code(&self, code: &EnrollmentCode, now: i64) -> StoreResult<bool> {
        let key = format!("code/{}", code.code_id).into_bytes();
        self.transaction(|tx| {
            if tx_get::<EnrollmentCode>(tx, &key)?.is_some_and(|old| old.is_live(now)) {
                return Ok(false);
            }
            tx.insert(key.as_slice(), tx_encode(code)?)?;
            Ok(true)
        })
    }

    fn check_code(
        &self,
        code_id: &str,
        secret_hash: &[u8; 32],
        now: i64,
    ) -> StoreResult<CodeCheck> {
        let key = format!("code/{code_id}").into_bytes();
        self.transaction(|tx| {
            let Some(mut code) = tx_get::<EnrollmentCode>(tx, &key)? else {
                return Ok(CodeCheck::Unknown);
            };
            let (check, changed) = code.check(secret_hash, now);
            if changed {
                tx.insert(key.as_slice(), tx_encode(&code)?)?;
            }
            Ok(check)
        })
    }

    fn passkeys(&self, register_id: &str) -> StoreResult<Vec<StoredPasskey>> {
        Ok(self
            .scan(format!("pk/{register_id}\0").as_bytes())?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    fn add_passkey(
        &self,
        register_id: &str,
        passkey: &StoredPasskey,
        consume_code: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let pk_key = format!("pk/{register_id}\0{}", passkey.credential_id).into_bytes();
        let owner_key = format!("pko/{}", passkey.credential_id).into_bytes();
        self.transaction(|tx| {
            if let Some(code_id) = consume_code {
                let key = format!("code/{code_id}").into_bytes();
                let Some(mut code) = tx_get::<EnrollmentCode>(tx, &key)? else {
                    return Ok(false);
                };
                if !code.can_enroll(register_id, now) {
                    return Ok(false);
                }
                code.used = true;
                tx.insert(key, tx_encode(&code)?)?;
            }
            if tx.get(owner_key.as_slice())?.is_some() {
                return Ok(false);
            }
            tx.insert(pk_key.as_slice(), tx_encode(passkey)?)?;
            tx.insert(owner_key.as_slice(), register_id.as_bytes())?;
            Ok(true)
        })
    }

    fn update_passkey(&self, register_id: &str, passkey: &StoredPasskey) -> StoreResult<()> {
        self.put(
            format!("pk/{register_id}\0{}", passkey.credential_id).as_bytes(),
            passkey,
        )
    }

    fn remove_passkey(&self, register_id: &str, credential_id: &str) -> StoreResult<bool> {
        let pk_key = format!("pk/{register_id}\0{credential_id}").into_bytes();
        let owner_key = format!("pko/{credential_id}").into_bytes();
        self.transaction(|tx| {
            let found = tx.remove(pk_key.as_slice())?.is_some();
            if found {
                tx.remove(owner_key.as_slice())?;
            }
            Ok(found)
        })
    }

    fn passkey_owner(&self, credential_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .db
            .get(format!("pko/{credential_id}").as_bytes())
            .map_err(StorageError::from)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn put_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        value: &[u8],
        expires: i64,
    ) -> StoreResult<()> {
        let mut bytes = expires.to_be_bytes().to_vec();
        bytes.extend_from_slice(value);
        self.db
            .insert(Self::ephemeral_key(kind, key), bytes)
            .map(|_| ())
            .map_err(StorageError::from)
    }

    fn get_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
        let Some(bytes) = self
            .db
            .get(Self::ephemeral_key(kind, key))
            .map_err(StorageError::from)?
        else {
            return Ok(None);
        };
        Ok(split_expiry(&bytes)
            .filter(|(exp, _)| *exp > now)
            .map(|(_, v)| v.to_vec()))
    }

    fn claim_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        expires: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let key = Self::ephemeral_key(kind, key);
        let marker = expires.to_be_bytes();
        let mut current = self.db.get(&key).map_err(StorageError::from)?;
        loop {
            if current
                .as_deref()
                .and_then(split_expiry)
                .is_some_and(|(exp, _)| exp > now)
            {
                return Ok(false);
            }
            match self
                .db
                .compare_and_swap(&key, current.clone(), Some(marker.to_vec()))
                .map_err(StorageError::from)?
            {
                Ok(()) => return Ok(true),
                // Someone else wrote it meanwhile: look again at what they wrote.
                Err(e) => current = e.current,
            }
        }
    }

    fn take_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
        let Some(bytes) = self
            .db
            .remove(Self::ephemeral_key(kind, key))
            .map_err(StorageError::from)?
        else {
            return Ok(None);
        };
        Ok(split_expiry(&bytes)
            .filter(|(exp, _)| *exp > now)
            .map(|(_, v)| v.to_vec()))
    }

    fn purge_expired(&self, now: i64) -> StoreResult<usize> {
        let mut n = 0;
        for item in self.db.scan_prefix(b"e/") {
            let (k, v) = item.map_err(StorageError::from)?;
            if split_expiry(&v).is_none_or(|(exp, _)| exp <= now) {
                self.db.remove(k).map_err(StorageError::from)?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn end_sessions_of(&self, register_id: &str, keep: Option<&str>) -> StoreResult<usize> {
        #[derive(serde::Deserialize)]
        struct Owner {
            register_id: String,
        }
        let keep = keep.map(|k| Self::ephemeral_key(Ephemeral::Session, k));
        let mut ended = 0;
        for item in self.db.scan_prefix(Ephemeral::Session.prefix()) {
            let (k, v) = item.map_err(StorageError::from)?;
            let owner = split_expiry(&v).and_then(|(_, v)| serde_json::from_slice::<Owner>(v).ok());
            let theirs = owner.is_some_and(|o| o.register_id == register_id);
            if theirs && keep.as_deref() != Some(k.as_ref()) {
                self.db.remove(k).map_err(StorageError::from)?;
                ended += 1;
            }
        }
        Ok(ended)
    }

    fn allocate_credentials(&self, batch: &NewBatch, now: i64) -> StoreResult<Allocation> {
        let resident_key = format!("r/{}", batch.register_id).into_bytes();
        let block_key = format!("rb/{}", batch.register_id).into_bytes();
        let nonce_key = batch
            .nonce
            .as_ref()
            .map(|(n, expires)| (Self::ephemeral_key(Ephemeral::Nonce, n), *expires));
        let list_size = batch.list_size.max(8);
        self.transaction(|tx| {
            match tx_get::<Resident>(tx, &resident_key)? {
                None => return Ok(Allocation::Denied(Blocker::NotOnRegister)),
                Some(r) if r.removed_at.is_some() => {
                    return Ok(Allocation::Denied(Blocker::LeftRegister))
                }
                Some(_) => {}
            }
            if tx.get(block_key.as_slice())?.is_some() {
                return Ok(Allocation::Denied(Blocker::RevokedOrSuspended));
            }
            // Nonces are stateless until spent; a spent one is kept until it expires.
            if let Some((nk, expires)) = &nonce_key {
                if *expires <= now || tx.get(nk.as_slice())?.is_some() {
                    return Ok(Allocation::NonceInvalid);
                }
                tx.insert(nk.as_slice(), expires.to_be_bytes().to_vec())?;
            }

            let mut list = match tx.get(CURRENT_LIST)? {
                Some(b) => u32::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 4])),
                None => 0,
            };
            let mut rng = rand::thread_rng();
            let mut out = Vec::with_capacity(batch.holder_thumbprints.len());
            let mut meta = tx_get::<ListMeta>(tx, &list_key(list))?
                .unwrap_or_else(|| ListMeta::new(list_size));
            for thumbprint in &batch.holder_thumbprints {
                if u64::from(meta.allocated) * 1000 >= u64::from(meta.size) * FILL_LIMIT_PER_MILLE {
                    tx.insert(list_key(list), tx_encode(&meta)?)?;
                    list += 1;
                    meta = ListMeta::new(list_size);
                }
                let idx = loop {
                    let idx = rng.gen_range(0..meta.size);
                    if tx.get(cred_key(list, idx))?.is_none() {
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
                tx.insert(cred_key(list, idx), tx_encode(&rec)?)?;
                tx.insert(resident_cred_key(&batch.register_id, list, idx), &[])?;
                meta.allocated += 1;
                out.push(rec);
            }
            tx.insert(list_key(list), tx_encode(&meta)?)?;
            tx.insert(CURRENT_LIST, &list.to_be_bytes())?;
            Ok(Allocation::Allocated(out))
        })
    }

    fn credentials_of(&self, register_id: &str) -> StoreResult<Vec<CredentialRecord>> {
        let mut out = Vec::new();
        for item in self
            .db
            .scan_prefix(format!("rc/{register_id}\0").as_bytes())
        {
            let (k, _) = item.map_err(StorageError::from)?;
            let tail = k.get(k.len().saturating_sub(8)..).unwrap_or_default();
            let mut key = b"cred/".to_vec();
            key.extend_from_slice(tail);
            if let Some(rec) = self.get::<CredentialRecord>(&key)? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    fn set_resident_status(
        &self,
        register_id: &str,
        status: Status,
        block: bool,
    ) -> StoreResult<usize> {
        let block_key = format!("rb/{register_id}").into_bytes();
        // First set (or lift) the block on new issuance, so no credential can slip in after
        // the scan below.
        self.transaction(|tx| {
            let current = tx.get(block_key.as_slice())?;
            match status {
                Status::Invalid if block => {
                    tx.insert(block_key.as_slice(), &[Status::Invalid.value()])?;
                }
                Status::Suspended if current.is_none() => {
                    tx.insert(block_key.as_slice(), &[Status::Suspended.value()])?;
                }
                Status::Valid if current.as_deref() == Some(&[Status::Suspended.value()]) => {
                    tx.remove(block_key.as_slice())?;
                }
                _ => {}
            }
            Ok(())
        })?;
        let creds = self.credentials_of(register_id)?;
        let mut changed = 0;
        for chunk in creds.chunks(64) {
            changed += self.transaction(|tx| {
                let mut n = 0;
                for c in chunk {
                    n += usize::from(apply_status(tx, c.list, c.idx, status)?);
                }
                Ok(n)
            })?;
        }
        Ok(changed)
    }

    fn resident_block(&self, register_id: &str) -> StoreResult<Option<Status>> {
        let v = self
            .db
            .get(format!("rb/{register_id}").as_bytes())
            .map_err(StorageError::from)?;
        Ok(v.and_then(|b| match b.first() {
            Some(1) => Some(Status::Invalid),
            Some(2) => Some(Status::Suspended),
            _ => None,
        }))
    }

    fn status_list(&self, list: u32) -> StoreResult<Option<StoredStatusList>> {
        let Some(meta) = self.get::<ListMeta>(&list_key(list))? else {
            return Ok(None);
        };
        let bytes = match self
            .db
            .get(list_bytes_key(list))
            .map_err(StorageError::from)?
        {
            Some(b) => b.to_vec(),
            None => vec![0; meta.byte_len()],
        };
        Ok(Some(StoredStatusList {
            bits: meta.bits,
            size: meta.size,
            allocated: meta.allocated,
            version: meta.version,
            bytes,
        }))
    }

    fn all_status_indexes(&self) -> StoreResult<Vec<(u32, u32)>> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix(b"cred/") {
            let (k, _) = item.map_err(StorageError::from)?;
            let tail = k.strip_prefix(b"cred/").unwrap_or_default();
            let Some((l, i)) = tail
                .split_first_chunk::<4>()
                .and_then(|(l, rest)| Some((*l, <[u8; 4]>::try_from(rest).ok()?)))
            else {
                return Err(StorageError::corrupt("credential key"));
            };
            out.push((u32::from_be_bytes(l), u32::from_be_bytes(i)));
        }
        Ok(out)
    }

    fn put_platform(&self, platform: &Platform) -> StoreResult<()> {
        self.put(format!("plat/{}", platform.id).as_bytes(), platform)
    }

    fn platforms(&self) -> StoreResult<Vec<Platform>> {
        Ok(self.scan(b"plat/")?.into_iter().map(|(_, p)| p).collect())
    }

    fn put_admin_token(&self, token: &AdminToken) -> StoreResult<()> {
        self.put(format!("adm/{}", token.hash_hex).as_bytes(), token)
    }

    fn admin_token(&self, hash_hex: &str) -> StoreResult<Option<AdminToken>> {
        self.get(format!("adm/{hash_hex}").as_bytes())
    }

    fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        // Our own counter, in the same transaction as the entry: sled's generate_id() can hand
        // out an id again after a restart, which would overwrite earlier entries.
        let value = encode(event)?;
        self.transaction(|tx| {
            let seq = match tx.get(AUDIT_SEQ)? {
                Some(b) => u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8])) + 1,
                None => 1,
            };
            tx.insert(AUDIT_SEQ, &seq.to_be_bytes())?;
            let mut key = b"aud/".to_vec();
            key.extend_from_slice(&seq.to_be_bytes());
            tx.insert(key, value.as_slice())?;
            Ok(())
        })
    }

    fn audit_log(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, AuditEvent)>> {
        let mut start = b"aud/".to_vec();
        start.extend_from_slice(&after.saturating_add(1).to_be_bytes());
        let mut out = Vec::new();
        for item in self.db.range(start..).take(limit) {
            let (k, v) = item.map_err(StorageError::from)?;
            let Some(seq) = k
                .strip_prefix(b"aud/")
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
            else {
                break;
            };
            out.push((u64::from_be_bytes(seq), decode(&k, &v)?));
        }
        Ok(out)
    }

    fn health(&self) -> StoreResult<()> {
        // Nothing is written: a health probe must not grow the database or wear the disk.
        self.db.health().map_err(StorageError::from)
    }

    fn sync(&self) -> StoreResult<()> {
        // Callers hold no iterator here, so this is where a failed database gets reopened.
        self.db.sync().map_err(StorageError::from)
    }

    fn generation(&self) -> u64 {
        self.db.generation()
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush() {
            tracing::error!(error = %e, "final flush failed");
        }
    }
}

#[cfg(test)]
#[path = "sled_store_tests.rs"]
mod tests;
