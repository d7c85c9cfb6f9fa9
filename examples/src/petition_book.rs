//! The petitions app's records: proposals, their co-signatures and the per-resident proposal
//! count, in sled, every change one multi-tree transaction.
//!
//! What is stored, and what it links:
//! - `proposals`: id → [`Proposal`] (title, text, time, signature count, forwarded time,
//!   hidden). No author: nothing in a proposal says who wrote it, so a moderator (or anyone
//!   reading the records) cannot learn it.
//! - `signatures`: `{proposal id}\0{pseudonym}` → empty. One key per resident and proposal is
//!   what makes a second signature (from another copy of the credential or another device, which
//!   carry the same pairwise pseudonym) impossible.
//! - `authors`: pseudonym → how many proposals that resident submitted, to cap it. It does not
//!   say which proposals.

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

/// A proposal as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The title, 5 to [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// The text, 20 to [`MAX_TEXT_CHARS`] characters.
    pub text: String,
    /// When it was submitted (Unix seconds).
    pub created_at: i64,
    /// Co-signatures from eligible residents now.
    pub signatures: u32,
    /// When it reached the threshold and was forwarded to the council.
    pub forwarded_at: Option<i64>,
    /// Hidden by a moderator: not listed and not open for signatures.
    pub hidden: bool,
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// No such proposal, or it is hidden.
    #[error("no such proposal")]
    NotFound,
    /// This resident already signed this proposal.
    #[error("already signed")]
    AlreadySigned,
    /// This resident has not signed this proposal.
    #[error("not signed")]
    NotSigned,
    /// This resident submitted as many proposals as allowed.
    #[error("proposal limit reached")]
    TooManyProposals,
    /// The title or text is empty or too long.
    #[error("invalid {0:?}")]
    Invalid(Invalid),
    /// The database failed.
    #[error("records database: {0}")]
    Storage(String),
}

impl From<sled::Error> for BookError {
    fn from(e: sled::Error) -> Self {
        BookError::Storage(e.to_string())
    }
}

impl From<TransactionError<BookError>> for BookError {
    fn from(e: TransactionError<BookError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<BookError>>;

fn abort<T>(e: BookError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Which part of a new proposal cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// The title: one line of 5 to [`MAX_TITLE_CHARS`] characters.
    Title,
    /// The text: 20 to [`MAX_TEXT_CHARS`] characters.
    Text,
}

/// The outcome of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// Signatures now.
    pub signatures: u32,
    /// This signature reached the threshold: the proposal is forwarded now.
    pub forwarded_now: bool,
}

/// The records: proposals, signatures, per-resident proposal counts.
pub struct Book {
    db: sled::Db,
    proposals: sled::Tree,
    signatures: sled::Tree,
    authors: sled::Tree,
}

fn signature_key(id: &str, pseudonym: &str) -> Vec<u8> {
    [id.as_bytes(), b"\0", pseudonym.as_bytes()].concat()
}

fn decode(bytes: &[u8]) -> Result<Proposal, BookError> {
    serde_json::from_slice(bytes).map_err(|e| BookError::Storage(format!("a proposal: {e}")))
}

fn encode(p: &Proposal) -> Result<Vec<u8>, BookError> {
    serde_json::to_vec(p).map_err(|e| BookError::Storage(e.to_string()))
}

fn count(bytes: Option<sled::IVec>) -> u32 {
    bytes
        .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
        .map_or(0, u32::from_be_bytes)
}

/// A title and text, trimmed, with line ends made `\n`, or why they cannot be used.
pub fn clean(title: &str, text: &str) -> Result<(String, String), BookError> {
    let title = title.trim().to_owned();
    let text = text.trim().replace("\r\n", "\n");
    let title_len = title.chars().count();
    let text_len = text.chars().count();
    if !(5..=MAX_TITLE_CHARS).contains(&title_len) || title.contains(['\n', '\r']) {
        return Err(BookError::Invalid(Invalid::Title));
    }
    if !(20..=MAX_TEXT_CHARS).contains(&text_len) {
        return Err(BookError::Invalid(Invalid::Text));
    }
    Ok((title, text))
}

impl Book {
    /// Opens the records in `db`.
    pub fn open(db: sled::Db) -> Result<Self, BookError> {
        Ok(Book {
            proposals: db.open_tree("proposals")?,
            signatures: db.open_tree("signatures")?,
            authors: db.open_tree("authors")?,
            db,
        })
    }

    /// Makes every change so far durable (before the app answers).
    pub async fn flush(&self) -> Result<(), BookError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Adds a proposal by the resident with `pseudonym`, who may have at most `max_per_resident`.
    /// Returns its new id. `title` and `text` must come from [`clean`].
    pub fn submit(
        &self,
        pseudonym: &str,
        title: String,
        text: String,
        now: i64,
        max_per_resident: u32,
    ) -> Result<String, BookError> {
        let mut raw = [0u8; 12];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
        let id = civic_credential::encoding::b64_encode(&raw);
        let record = encode(&Proposal {
            title,
            text,
            created_at: now,
            signatures: 0,
            forwarded_at: None,
            hidden: false,
        })?;
        (&self.proposals, &self.authors).transaction(|(proposals, authors)| {
            let submitted = count(authors.get(pseudonym.as_bytes())?);
            if submitted >= max_per_resident {
                return abort(BookError::TooManyProposals);
            }
            authors.insert(pseudonym.as_bytes(), &(submitted + 1).to_be_bytes())?;
            proposals.insert(id.as_bytes(), record.as_slice())?;
            Ok(())
        })?;
        Ok(id)
    }

    /// One proposal, hidden or not.
    pub fn get(&self, id: &str) -> Result<Option<Proposal>, BookError> {
        self.proposals
            .get(id.as_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    /// Every proposal (the hidden ones too when `hidden`), newest first.
    pub fn list(&self, hidden: bool) -> Result<Vec<(String, Proposal)>, BookError> {
        let mut all = Vec::new();
        for item in self.proposals.iter() {
            let (id, bytes) = item?;
            let p = decode(&bytes)?;
            if hidden || !p.hidden {
                all.push((String::from_utf8_lossy(&id).into_owned(), p));
            }
        }
        all.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(a.0.cmp(&b.0)));
        Ok(all)
    }

    /// Whether the resident with `pseudonym` signed proposal `id`.
    pub fn has_signed(&self, id: &str, pseudonym: &str) -> Result<bool, BookError> {
        Ok(self.signatures.contains_key(signature_key(id, pseudonym))?)
    }

    /// Co-signs proposal `id` for the resident with `pseudonym`: once per resident, only while
    /// it is visible; the signature that reaches `threshold` forwards it.
    pub fn sign(
        &self,
        id: &str,
        pseudonym: &str,
        now: i64,
        threshold: u32,
    ) -> Result<Signed, BookError> {
        let key = signature_key(id, pseudonym);
        let signed =
            (&self.proposals, &self.signatures).transaction(|(proposals, signatures)| {
                let Some(bytes) = proposals.get(id.as_bytes())? else {
                    return abort(BookError::NotFound);
                };
                let mut p = decode(&bytes).or_else(abort)?;
                if p.hidden {
                    return abort(BookError::NotFound);
                }
                if signatures.insert(key.as_slice(), &[] as &[u8])?.is_some() {
                    return abort(BookError::AlreadySigned);
                }
                p.signatures = p.signatures.saturating_add(1);
                let forwarded_now = p.forwarded_at.is_none() && p.signatures >= threshold;
                if forwarded_now {
                    p.forwarded_at = Some(now);
                }
                proposals.insert(id.as_bytes(), encode(&p).or_else(abort)?)?;
                Ok(Signed {
                    signatures: p.signatures,
                    forwarded_now,
                })
            })?;
        Ok(signed)
    }

    /// Withdraws the signature of the resident with `pseudonym` from proposal `id`; returns the
    /// signatures left. A forwarded proposal stays forwarded (the council has it).
    pub fn withdraw(&self, id: &str, pseudonym: &str) -> Result<u32, BookError> {
        let key = signature_key(id, pseudonym);
        let left = (&self.proposals, &self.signatures).transaction(|(proposals, signatures)| {
            let Some(bytes) = proposals.get(id.as_bytes())? else {
                return abort(BookError::NotFound);
            };
            let mut p = decode(&bytes).or_else(abort)?;
            if signatures.remove(key.as_slice())?.is_none() {
                return abort(BookError::NotSigned);
            }
            p.signatures = p.signatures.saturating_sub(1);
            proposals.insert(id.as_bytes(), encode(&p).or_else(abort)?)?;
            Ok(p.signatures)
        })?;
        Ok(left)
    }

    /// Hides or shows proposal `id` (moderation).
    pub fn set_hidden(&self, id: &str, hidden: bool) -> Result<(), BookError> {
        self.proposals.transaction(|proposals| {
            let Some(bytes) = proposals.get(id.as_bytes())? else {
                return abort(BookError::NotFound);
            };
            let mut p = decode(&bytes).or_else(abort)?;
            p.hidden = hidden;
            proposals.insert(id.as_bytes(), encode(&p).or_else(abort)?)?;
            Ok(())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn book() -> Book {
        Book::open(sled::Config::new().temporary(true).open().unwrap()).unwrap()
    }

    fn proposal(b: &Book, who: &str) -> Result<String, BookError> {
        let (t, x) = clean("More benches", "Benches along the canal, every 200 metres.")?;
        b.submit(who, t, x, 100, 2)
    }

    #[test]
    fn one_signature_per_resident_and_forwarding_at_the_threshold() {
        let b = book();
        let id = proposal(&b, "author").unwrap();
        let s1 = b.sign(&id, "p1", 200, 2).unwrap();
        assert_eq!((s1.signatures, s1.forwarded_now), (1, false));
        assert!(matches!(
            b.sign(&id, "p1", 201, 2),
            Err(BookError::AlreadySigned)
        ));
        let s2 = b.sign(&id, "p2", 300, 2).unwrap();
        assert_eq!((s2.signatures, s2.forwarded_now), (2, true));
        assert_eq!(b.get(&id).unwrap().unwrap().forwarded_at, Some(300));
        // A withdrawal lowers the count; forwarded stays; a later signature does not forward again.
        assert_eq!(b.withdraw(&id, "p2").unwrap(), 1);
        assert!(matches!(b.withdraw(&id, "p2"), Err(BookError::NotSigned)));
        let s3 = b.sign(&id, "p2", 400, 2).unwrap();
        assert_eq!((s3.signatures, s3.forwarded_now), (2, false));
        assert_eq!(b.get(&id).unwrap().unwrap().forwarded_at, Some(300));
    }

    #[test]
    fn hidden_proposals_are_not_listed_or_signed_and_authors_are_capped() {
        let b = book();
        let id = proposal(&b, "author").unwrap();
        proposal(&b, "author").unwrap();
        assert!(matches!(
            proposal(&b, "author"),
            Err(BookError::TooManyProposals)
        ));
        b.set_hidden(&id, true).unwrap();
        assert_eq!(b.list(false).unwrap().len(), 1);
        assert_eq!(b.list(true).unwrap().len(), 2);
        assert!(matches!(b.sign(&id, "p1", 1, 5), Err(BookError::NotFound)));
        assert!(matches!(
            b.sign("nope", "p1", 1, 5),
            Err(BookError::NotFound)
        ));
        b.set_hidden(&id, false).unwrap();
        assert_eq!(b.sign(&id, "p1", 1, 5).unwrap().signatures, 1);
        // Nothing stored with a proposal names its author.
        let stored = String::from_utf8(b.proposals.get(id.as_bytes()).unwrap().unwrap().to_vec());
        assert!(!stored.unwrap().contains("author"));
    }

    #[test]
    fn titles_and_texts_are_checked() {
        assert!(clean("abc", "a long enough text for a proposal").is_err());
        assert!(clean("Two\nlines", "a long enough text for a proposal").is_err());
        assert!(clean("Fine title", "short").is_err());
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(clean("Fine title", &long).is_err());
        let (t, x) = clean("  Fine title ", " text\r\nwith two lines, long enough ").unwrap();
        assert_eq!(
            (t.as_str(), x.as_str()),
            ("Fine title", "text\nwith two lines, long enough")
        );
    }
}
