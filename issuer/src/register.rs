//! Importing the resident register from CSV: validation with line numbers, idempotent upserts,
//! and revocation for residents who left the register or moved to another municipality.

use std::collections::HashSet;
use std::io::Read;

use serde::{Deserialize, Serialize};

use civic_credential::residency::{Address, Date, Residence};
use civic_credential::status_list::Status;

use crate::error::ApiError;
use crate::service::{now, Issuer};
use crate::store::{Resident, Upsert};

/// The CSV header the import expects (in any column order).
pub const COLUMNS: [&str; 13] = [
    "register_id",
    "given_name",
    "family_name",
    "birthdate",
    "street_address",
    "postal_code",
    "locality",
    "country",
    "municipality",
    "municipality_code",
    "district",
    "resident_since",
    "valid_until",
];

#[derive(Debug, Deserialize)]
struct Row {
    register_id: String,
    given_name: String,
    family_name: String,
    birthdate: String,
    street_address: String,
    postal_code: String,
    locality: String,
    country: String,
    municipality: String,
    municipality_code: String,
    #[serde(default)]
    district: String,
    resident_since: String,
    valid_until: String,
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

fn field(value: &str, name: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{name} contains control characters"));
    }
    Ok(v.to_owned())
}

fn date(value: &str, name: &str) -> Result<Date, String> {
    Date::parse(value.trim())
        .map_err(|_| format!("{name} {:?} is not a YYYY-MM-DD date", value.trim()))
}

fn validate(row: Row, today: Date) -> Result<Resident, String> {
    let register_id = field(&row.register_id, "register_id", 64)?;
    if !register_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err("register_id may hold only letters, digits, '-', '_' and '.'".into());
    }
    let birthdate = date(&row.birthdate, "birthdate")?;
    if birthdate > today {
        return Err("birthdate is in the future".into());
    }
    let since = date(&row.resident_since, "resident_since")?;
    if since < birthdate {
        return Err("resident_since is before the birthdate".into());
    }
    let until = date(&row.valid_until, "valid_until")?;
    if until < since {
        return Err("valid_until is before resident_since".into());
    }
    let country = field(&row.country, "country", 2)?;
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        return Err("country must be an ISO 3166-1 alpha-2 code such as NL".into());
    }
    let municipality_code = field(&row.municipality_code, "municipality_code", 16)?;
    if !municipality_code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("municipality_code may hold only letters and digits".into());
    }
    let district = row.district.trim();
    Ok(Resident {
        register_id,
        given_name: field(&row.given_name, "given_name", 200)?,
        family_name: field(&row.family_name, "family_name", 200)?,
        birthdate: birthdate.to_string(),
        address: Address {
            street_address: field(&row.street_address, "street_address", 200)?,
            locality: field(&row.locality, "locality", 100)?,
            postal_code: field(&row.postal_code, "postal_code", 16)?,
            country,
        },
        residence: Residence {
            municipality: field(&row.municipality, "municipality", 100)?,
            municipality_code,
            district: (!district.is_empty())
                .then(|| field(district, "district", 64))
                .transpose()?,
        },
        resident_since: since.to_string(),
        valid_until: until.to_string(),
        removed_at: None,
    })
}

/// One data row of a register file, read and validated without touching the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// 1-based line number in the file (the header is line 1); 0 when unknown.
    pub line: u64,
    /// Byte offset of the row in the file (for progress reporting).
    pub byte: u64,
    /// The valid resident, or why the row is rejected (naming the register id when readable).
    pub resident: Result<Resident, String>,
}

/// Reads a register export: checks the header, then yields one [`ParsedRow`] per data row.
/// Pure: no store, no clock (the caller passes `today`), so it can be tested and fuzzed alone.
pub struct RegisterReader<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    headers: csv::StringRecord,
    today: Date,
}

impl<R: Read> RegisterReader<R> {
    /// Reads the header; fails when it is unreadable or lacks a required column.
    pub fn new(input: R, today: Date) -> Result<Self, ApiError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| {
                ApiError::bad_request("invalid_register", format!("cannot read the header: {e}"))
            })?
            .clone();
        let missing: Vec<_> = COLUMNS
            .iter()
            .filter(|c| **c != "district" && !headers.iter().any(|h| h == **c))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::bad_request(
                "invalid_register",
                format!("the header lacks columns: {missing:?}"),
            ));
        }
        Ok(Self {
            records: reader.into_records(),
            headers,
            today,
        })
    }
}

impl<R: Read> Iterator for RegisterReader<R> {
    type Item = ParsedRow;

    fn next(&mut self) -> Option<ParsedRow> {
        let (line, byte, row) = match self.records.next()? {
            Err(e) => (
                e.position().map_or(0, |p| p.line()),
                e.position().map_or(0, |p| p.byte()),
                Err(format!("unreadable row: {e}")),
            ),
            Ok(rec) => (
                rec.position().map_or(0, |p| p.line()),
                rec.position().map_or(0, |p| p.byte()),
                rec.deserialize::<Row>(Some(&self.headers))
                    .map_err(|e| format!("bad row: {e}")),
            ),
        };
        let resident = row.and_then(|row| {
            let id = row.register_id.trim().to_owned();
            validate(row, self.today).map_err(|reason| format!("{reason} (register_id {id:?})"))
        });
        Some(ParsedRow {
            line,
            byte,
            resident,
        })
    }
}

/// Reads and validates a whole register file held in memory: every data row, in order.
pub fn parse_register(input: &[u8], today: Date) -> Result<Vec<ParsedRow>, ApiError> {
    Ok(RegisterReader::new(input, today)?.collect())
}

impl Issuer {
    /// Imports a full register export. Rows that fail validation are reported and skipped; the
    /// good rows are upserted. Residents missing from the file are marked removed and, like those
    /// who moved municipality, have their credentials revoked.
    pub fn import_register(
        &self,
        input: impl Read,
        size_hint: u64,
        opts: ImportOptions,
    ) -> Result<ImportReport, ApiError> {
        let t = now();
        let today = Date::from_unix(t);
        let bar = if opts.progress {
            indicatif::ProgressBar::new(size_hint)
        } else {
            indicatif::ProgressBar::hidden()
        };
        let rows = RegisterReader::new(input, today)?;
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
                match self.store.resident(&resident.register_id)? {
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
                self.store.upsert_resident(&resident)?
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
            return Err(ApiError::bad_request(
                "invalid_register",
                "no valid rows: refusing to treat every resident as removed",
            ));
        }
        report.removed = self
            .store
            .active_register_ids()?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        if !opts.dry_run {
            for id in &report.removed {
                self.store.mark_removed(id, t)?;
                report.revoked_credentials += self.revoke_all(id, "left the register")? as u64;
            }
            for id in &report.moved {
                report.revoked_credentials += self.revoke_all(id, "moved municipality")? as u64;
            }
            self.audit(
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

    /// Revokes every current credential of a resident without blocking new issuance (used when
    /// the register changes; a resident who moves back in can be issued anew).
    fn revoke_all(&self, register_id: &str, why: &str) -> Result<usize, ApiError> {
        let n = self
            .store
            .set_resident_status(register_id, Status::Invalid, false)?;
        self.audit(
            "cli",
            "revoked",
            Some(register_id),
            format!("credentials={n} reason={why}"),
        )?;
        Ok(n)
    }
}

/// Writes the rejected rows as CSV (`line,register_id,reason`).
pub fn write_rejections(path: &std::path::Path, rejected: &[Rejected]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    for r in rejected {
        w.serialize(r)?;
    }
    w.flush()
}
