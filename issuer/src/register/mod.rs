//! [`ResidentRegister`]: importing the agency's resident register from a CSV export:
//! validation with line numbers, idempotent upserts, and revocation for residents who left the
//! register or moved to another municipality.

mod reader;

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use civic_credential::residency::Date;
use civic_credential::status_list::Status;

use crate::context::Context;
use crate::store::{Reissue, StorageError, Upsert};

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
    /// The export looks broken (rows rejected, or more residents gone than a real export loses):
    /// nothing was changed. `report` says what the import would have done.
    #[error("the import was stopped and changed nothing: {why}; check the export, or run it again with --force")]
    Refused {
        /// Why.
        why: String,
        /// What the import would have done.
        report: Box<ImportReport>,
    },
    /// The export could not be read a second time.
    #[error("cannot read the export again: {0}")]
    Reread(String),
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
    /// Residents whose other credential claims changed (name, birthdate, address, district,
    /// resident since) or whose registration now ends earlier; their credentials are revoked,
    /// and they can fetch new ones.
    pub changed: Vec<String>,
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
    /// Import even when the export looks broken (rejected rows, or more removals than
    /// `register_max_removal_percent` of the register).
    pub force: bool,
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
    /// who moved or whose credential claims changed, have their credentials revoked.
    ///
    /// The file is read twice: first to see what the import would do, without writing anything;
    /// then, unless that looks like a broken export (a rejected row, or more removals than
    /// `register_max_removal_percent` of the residents on the register) and `force` is not set,
    /// to do it. A refused import changes nothing and says what it would have done.
    pub fn import<R: Read + Seek>(
        &self,
        mut input: R,
        size_hint: u64,
        opts: ImportOptions,
    ) -> Result<ImportReport, RegisterError> {
        let plan = self.pass(&mut input, size_hint, opts.progress, false)?;
        if opts.dry_run {
            return Ok(plan);
        }
        if !opts.force {
            if let Some(why) = self.looks_broken(&plan)? {
                return Err(RegisterError::Refused {
                    why,
                    report: Box::new(plan),
                });
            }
        }
        input
            .rewind()
            .map_err(|e| RegisterError::Reread(e.to_string()))?;
        self.pass(&mut input, size_hint, opts.progress, true)
    }

    /// Why the planned import looks like a broken export, if it does.
    fn looks_broken(&self, plan: &ImportReport) -> Result<Option<String>, RegisterError> {
        if !plan.rejected.is_empty() {
            return Ok(Some(format!("{} rows were rejected", plan.rejected.len())));
        }
        let on_register = self.context.store.active_register_ids()?.len() as u64;
        let limit = u64::from(self.context.config.register_max_removal_percent);
        let removed = plan.removed.len() as u64;
        if removed > 0 && removed * 100 > on_register * limit {
            return Ok(Some(format!(
                "it would remove {removed} of {on_register} residents, more than \
                 register_max_removal_percent ({limit} %)"
            )));
        }
        Ok(None)
    }

    /// One pass over the export: plans (writing nothing) or applies.
    fn pass(
        &self,
        input: impl Read,
        size_hint: u64,
        progress: bool,
        apply: bool,
    ) -> Result<ImportReport, RegisterError> {
        let store = &self.context.store;
        let now = self.context.now();
        let bar = if progress {
            indicatif::ProgressBar::new(size_hint)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let rows = RegisterReader::new(input, Date::from_unix(now))?;
        let mut report = ImportReport {
            dry_run: !apply,
            ..ImportReport::default()
        };
        // Every register id the file names, valid row or not: those residents are still there.
        let mut present = HashSet::new();
        let mut valid = 0u64;
        for row in rows {
            report.rows += 1;
            bar.set_position(row.byte);
            let first_time = row
                .register_id
                .as_ref()
                .is_none_or(|id| present.insert(id.clone()));
            let resident = match row.resident {
                Ok(r) if !first_time => {
                    report.rejected.push(Rejected {
                        line: row.line,
                        register_id: r.register_id,
                        reason: "register_id appears more than once in the file".into(),
                    });
                    continue;
                }
                Ok(r) => r,
                Err(reason) => {
                    report.rejected.push(Rejected {
                        line: row.line,
                        register_id: row.register_id.unwrap_or_default(),
                        reason,
                    });
                    continue;
                }
            };
            valid += 1;
            let outcome = if apply {
                store.upsert_resident(&resident)?
            } else {
                match store.resident(&resident.register_id)? {
                    None => Upsert::Created,
                    Some(o) if o.same_register_data(&resident) && o.removed_at.is_none() => {
                        Upsert::Unchanged
                    }
                    Some(o) => Upsert::Updated {
                        reissue: o.reissue_for(&resident),
                    },
                }
            };
            match outcome {
                Upsert::Created => report.created += 1,
                Upsert::Unchanged => report.unchanged += 1,
                Upsert::Updated { reissue } => {
                    report.updated += 1;
                    let id = resident.register_id.clone();
                    match reissue {
                        Reissue::Moved => report.moved.push(id),
                        Reissue::ClaimsChanged | Reissue::ValidityShortened => {
                            report.changed.push(id)
                        }
                        Reissue::NotNeeded => {}
                    }
                }
            }
        }
        bar.finish_and_clear();
        if valid == 0 {
            return Err(RegisterError::NoValidRows);
        }
        report.removed = store
            .active_register_ids()?
            .into_iter()
            .filter(|id| !present.contains(id))
            .collect();
        if apply {
            for id in &report.removed {
                store.mark_removed(id, now)?;
                report.revoked_credentials += self.revoke_all(id, "left the register")? as u64;
            }
            for id in &report.moved {
                report.revoked_credentials += self.revoke_all(id, "moved municipality")? as u64;
            }
            for id in &report.changed {
                report.revoked_credentials += self.revoke_all(id, "register data changed")? as u64;
            }
            self.context.audit(
                "cli",
                "register_imported",
                None,
                format!(
                    "rows={} created={} updated={} unchanged={} rejected={} removed={} moved={} changed={}",
                    report.rows,
                    report.created,
                    report.updated,
                    report.unchanged,
                    report.rejected.len(),
                    report.removed.len(),
                    report.moved.len(),
                    report.changed.len()
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

/// Writes the rejected rows as CSV (`line,register_id,reason`), readable by the owner only (it
/// names residents).
pub fn write_rejections(path: &Path, rejected: &[Rejected]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(crate::fsutil::PrivateFile::create(path)?);
    for r in rejected {
        w.serialize(r)?;
    }
    w.flush()
}
