//! What a platform reads: a [`Report`] over a range of days, as JSON or as CSV. Everything in it
//! comes from the published days (a range's totals add up published figures only), so no
//! figure of a report can be worked back to a suppressed count.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::noise::NoiseSpec;
use super::publish::{Figure, PublishedDay, View};

/// One day of a report: open (today, figures come once it closes) or closed (its published
/// figures; none when fewer than k residents took part, or none at all: the two look alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayReport {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Whether the day is over and its figures published.
    pub closed: bool,
    /// The figures.
    #[serde(flatten)]
    pub figures: PublishedDay,
}

/// The whole range: every category's published figures added up over the days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The published day totals added up (a day under k adds nothing).
    pub total: i64,
    /// By outcome.
    pub outcome: View,
    /// By district.
    pub district: View,
    /// By age band.
    pub age_band: View,
}

/// A platform's engagement report over a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The platform.
    pub platform: String,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day (`YYYY-MM-DD`), inclusive.
    pub to: String,
    /// The threshold: no figure under k is published.
    pub k: u64,
    /// The privacy budget per resident and day (`None`: exact figures).
    pub epsilon: Option<f64>,
    /// The noise, when ε is set.
    pub noise: Option<NoiseSpec>,
    /// How small figures are handled, in words.
    pub suppression: String,
    /// Each day of the range, in order.
    pub days: Vec<DayReport>,
    /// The range's totals.
    pub totals: Totals,
}

/// The rule every report states.
pub const SUPPRESSION: &str = "A category under k (judged on its noised figure when epsilon is \
    set) is not shown: it goes into `other`. When `other` would hold less than k, the smallest \
    shown categories join it; a view with less than k in all shows nothing. Each figure shown, \
    `other` included, is at least k. Totals add up published figures only.";

fn add(into: &mut BTreeMap<String, i64>, other: &mut Option<i64>, view: &View) {
    for f in &view.cells {
        *into.entry(f.category.clone()).or_default() += f.count;
    }
    if let Some(o) = view.other {
        *other = Some(other.unwrap_or(0) + o);
    }
}

fn view_of(sums: BTreeMap<String, i64>, other: Option<i64>) -> View {
    let mut cells: Vec<Figure> = sums
        .into_iter()
        .map(|(category, count)| Figure { category, count })
        .collect();
    cells.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
    View { cells, other }
}

impl Totals {
    /// The totals of `days`.
    pub fn of(days: &[DayReport]) -> Totals {
        let mut sums: [(BTreeMap<String, i64>, Option<i64>); 3] = Default::default();
        let mut total = 0;
        for d in days {
            total += d.figures.total.unwrap_or(0);
            let [o, di, a] = &mut sums;
            add(&mut o.0, &mut o.1, &d.figures.outcome);
            add(&mut di.0, &mut di.1, &d.figures.district);
            add(&mut a.0, &mut a.1, &d.figures.age_band);
        }
        let [o, di, a] = sums;
        Totals {
            total,
            outcome: view_of(o.0, o.1),
            district: view_of(di.0, di.1),
            age_band: view_of(a.0, a.1),
        }
    }
}

/// One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (RFC 4180),
/// and a text starting like a spreadsheet formula (`= + - @`, tab, CR) prefixed with `'`.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    let quote = text.contains([',', '"', '\n', '\r']) || text.trim() != text;
    if quote {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The category `other` goes under in CSV rows.
pub const OTHER: &str = "(other)";

impl Report {
    /// The report as CSV (`date,dimension,category,count,k,epsilon`, CRLF line ends): a `total`
    /// row per day (an empty count: fewer than k, or none), a row per shown category and one
    /// for `other`; the range's totals under the date `total`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("date,dimension,category,count,k,epsilon\r\n");
        let eps = self.epsilon.map(|e| e.to_string()).unwrap_or_default();
        let mut row = |date: &str, dim: &str, cat: &str, count: Option<i64>, k: u64, eps: &str| {
            let count = count.map(|c| c.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{count},{k},{}\r\n",
                csv_field(date),
                csv_field(dim),
                csv_field(cat),
                csv_field(eps)
            ));
        };
        let views = |f: &PublishedDay| {
            [
                ("outcome", f.outcome.clone()),
                ("district", f.district.clone()),
                ("age_band", f.age_band.clone()),
            ]
        };
        for d in &self.days {
            let f = &d.figures;
            let deps = f.epsilon.map(|e| e.to_string()).unwrap_or_default();
            if !d.closed {
                continue;
            }
            row(&d.date, "total", "", f.total, f.k, &deps);
            for (dim, v) in views(f) {
                for c in &v.cells {
                    row(&d.date, dim, &c.category, Some(c.count), f.k, &deps);
                }
                if let Some(o) = v.other {
                    row(&d.date, dim, OTHER, Some(o), f.k, &deps);
                }
            }
        }
        let t = &self.totals;
        row("total", "total", "", Some(t.total), self.k, &eps);
        for (dim, v) in [
            ("outcome", &t.outcome),
            ("district", &t.district),
            ("age_band", &t.age_band),
        ] {
            for c in &v.cells {
                row("total", dim, &c.category, Some(c.count), self.k, &eps);
            }
            if let Some(o) = v.other {
                row("total", dim, OTHER, Some(o), self.k, &eps);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("eligible"), "eligible");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@cmd"), "'@cmd");
        assert_eq!(csv_field(" padded"), "\" padded\"");
    }
}
