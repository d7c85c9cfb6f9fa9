//! Reading a register export: the header, then each row validated with its line number.
//! Pure: no store and no clock (the caller passes `today`), so it is tested and fuzzed alone.

use std::io::Read;

use serde::Deserialize;

use civic_credential::residency::{Address, Date, Residence};

use super::RegisterError;
use crate::store::Resident;

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

/// Whether `id` is a register id this issuer accepts: 1 to 64 letters, digits, `-`, `_`, `.`.
fn well_formed_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn validate(row: Row, today: Date) -> Result<Resident, String> {
    let register_id = field(&row.register_id, "register_id", 64)?;
    if !well_formed_id(&register_id) {
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
    /// The register id, when the row names one that is well formed, even if the row is
    /// rejected: such a resident is still on the register, and must not be taken for gone.
    pub register_id: Option<String>,
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
    pub fn new(input: R, today: Date) -> Result<Self, RegisterError> {
        let mut reader = csv::ReaderBuilder::new()
            // Rows of the wrong length are reported (with their register id when readable), not
            // dropped as unreadable.
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| RegisterError::Header(format!("cannot read the header: {e}")))?
            .clone();
        let missing: Vec<_> = COLUMNS
            .iter()
            .filter(|c| **c != "district" && !headers.iter().any(|h| h == **c))
            .collect();
        if !missing.is_empty() {
            return Err(RegisterError::Header(format!(
                "the header lacks columns: {missing:?}"
            )));
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
        let (line, byte, register_id, row) = match self.records.next()? {
            Err(e) => (
                e.position().map_or(0, |p| p.line()),
                e.position().map_or(0, |p| p.byte()),
                None,
                Err(format!("unreadable row: {e}")),
            ),
            Ok(rec) => {
                let register_id = self
                    .headers
                    .iter()
                    .position(|h| h == "register_id")
                    .and_then(|i| rec.get(i))
                    .map(str::trim)
                    .filter(|id| well_formed_id(id))
                    .map(str::to_owned);
                let row = if rec.len() == self.headers.len() {
                    rec.deserialize::<Row>(Some(&self.headers))
                        .map_err(|e| format!("bad row: {e}"))
                } else {
                    Err(format!(
                        "the row has {} fields, the header {}",
                        rec.len(),
                        self.headers.len()
                    ))
                };
                (
                    rec.position().map_or(0, |p| p.line()),
                    rec.position().map_or(0, |p| p.byte()),
                    register_id,
                    row,
                )
            }
        };
        let resident = row.and_then(|row| {
            let id = row.register_id.trim().to_owned();
            validate(row, self.today).map_err(|reason| format!("{reason} (register_id {id:?})"))
        });
        Some(ParsedRow {
            line,
            byte,
            register_id,
            resident,
        })
    }
}

/// Reads and validates a whole register file held in memory: every data row, in order.
pub fn parse_register(input: &[u8], today: Date) -> Result<Vec<ParsedRow>, RegisterError> {
    Ok(RegisterReader::new(input, today)?.collect())
}
