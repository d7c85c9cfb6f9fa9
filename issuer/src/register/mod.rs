//! [`ResidentRegister`]: importing the agency's resident register from a CSV export:
//! validation with line numbers, idempotent upserts, and revocation for residents who left the
//! register or moved to another municipality.

mod reader;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use civic_credential::residency::Date;
use civic_credential::status_list::Status;

use crate::context::Context;
use crate::store::{StorageError, Upsert};

pub use reader::{parse_register, ParsedRow, RegisterReader, COLUMNS};

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The header is unreadable or lacks a required column.
    #[error("{0}")]
    Header(String),
    /// Not one row was valid: treating every resident as removed would be a disaster.
    #[error("no valid rows: refusing to treat every resident as removed")]
    NoValidRows,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The register id, if it could be read.
    pub register_id: String,
    /// Why.
    pub reason: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// New residents.
    pub created: u64,
    /// Residents whose data changed.
    pub updated: u64,
    /// Residents whose data was the same.
    pub unchanged: u64,
    /// Rows not imported, with reasons.
    pub rejected: Vec<Rejected>,
    /// Residents no longer on the register; their credentials are revoked.
    pub removed: Vec<String>,
    /// Residents whose municipality changed; their credentials are revoked.
    pub moved: Vec<String>,
    /// Credentials revoked.
    pub revoked_credentials: u64,
    /// Nothing was written.
    pub dry_run: bool,
}

/// Import options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Only report what would change.
    pub dry_run: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// The resident register.
pub struct ResidentRegister {
    context: Arc<Context>,
}

impl ResidentRegister {
    /// The register over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        ResidentRegister { context }
    }

    /// Imports a full register export. Rows that fail validation are reported and skipped; the
    /// good rows are upserted. Residents missing from the file are marked removed and, like those
    /// who moved municipality, have their credentials revoked.
    pub fn import(
        &self,
        input: impl Read,
        size_hint: u64,
        opts: ImportOptions,
    ) -> Result<ImportReport, RegisterError> {
        let store = &self.context.store;
        let now = self.context.now();
        let bar = if opts.progress {
            indicatif::ProgressBar::new(size_hint)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let rows = RegisterReader::new(input, Date::from_unix(now))?;
        let mut report = ImportReport {
            dry_run: opts.dry_run,
            ..ImportReport::default()
        };
        let mut seen = HashSet::new();
        for ParsedRow {
            line,
            byte,
            resident,
        } in rows
        {
            report.rows += 1;
            bar.set_position(byte);
            let resident = match resident {
                Ok(r) if !seen.insert(r.register_id.clone()) => {
                    report.rejected.push(Rejected {
                        line,
                        register_id: r.register_id,
                        reason: "register_id appears more than once in the file".into(),
                    });
                    continue;
                }
                Ok(r) => r,
                Err(reason) => {
                    report.rejected.push(Rejected {
                        line,
                        register_id: String::new(),
                        reason,
                    });
                    continue;
                }
            };
            let outcome = if opts.dry_run {
                match store.resident(&resident.register_id)? {
                    None => Upsert::Created,
                    Some(o) if o.same_register_data(&resident) && o.removed_at.is_none() => {
                        Upsert::Unchanged
                    }
                    Some(o) => Upsert::Updated {
                        municipality_changed: o.residence.municipality_code
                            != resident.residence.municipality_code,
                    },
                }
            } else {
                store.upsert_resident(&resident)?
            };
            match outcome {
                Upsert::Created => report.created += 1,
                Upsert::Unchanged => report.unchanged += 1,
                Upsert::Updated {
                    municipality_changed,
                } => {
                    report.updated += 1;
                    if municipality_changed {
                        report.moved.push(resident.register_id.clone());
                    }
                }
            }
        }
        bar.finish_and_clear();
        if seen.is_empty() {
            return Err(RegisterError::NoValidRows);
        }
        report.removed = store
            .active_register_ids()?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        if !opts.dry_run {
            for id in &report.removed {
                store.mark_removed(id, now)?;
                report.revoked_credentials += self.revoke_all(id, "left the register")? as u64;
            }
            for id in &report.moved {
                report.revoked_credentials += self.revoke_all(id, "moved municipality")? as u64;
            }
            self.context.audit(
                "cli",
                "register_imported",
                None,
                format!(
                    "rows={} created={} updated={} unchanged={} rejected={} removed={} moved={}",
                    report.rows,
                    report.created,
                    report.updated,
                    report.unchanged,
                    report.rejected.len(),
                    report.removed.len(),
                    report.moved.len()
                ),
            )?;
        }
        Ok(report)
    }

    /// Revokes every current credential of a resident without blocking new issuance (the
    /// register changed, not the agency's judgement: a resident who moves back in can be issued
    /// anew).
    fn revoke_all(&self, register_id: &str, why: &str) -> Result<usize, StorageError> {
        let n = self
            .context
            .store
            .set_resident_status(register_id, Status::Invalid, false)?;
        self.context.audit(
            "cli",
            "revoked",
            Some(register_id),
            format!("credentials={n} reason={why}"),
        )?;
        Ok(n)
    }
}

/// Writes the rejected rows as CSV (`line,register_id,reason`).
pub fn write_rejections(path: &Path, rejected: &[Rejected]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    for r in rejected {
        w.serialize(r)?;
    }
    w.flush()
}
