//! Publishing a closed day: its true counts become figures no one can be singled out from.
//!
//! For each view (by outcome, by district, by age band), every category gets its noise once
//! (none when no ε is configured). A category whose (noised) figure is under k is not shown: its
//! figure goes into the view's `other`. If `other` then holds less than k, the smallest shown
//! categories join it until it holds k or more; if even the whole view holds less than k, the
//! view shows nothing. So every figure shown, `other` included, is at least k, and a view's
//! total (the shown figures plus `other`) gives nothing that subtraction could split further: a
//! suppressed category is never alone in `other` with less than k. The day's total is the
//! outcome view's total, taken from its published figures only.
//!
//! Every decision reads the noised figures only (the threshold is on the noised count), so the
//! release is post-processing of the noised counts and keeps their differential privacy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cohort::Cell;

/// One shown category and its figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// The category (`eligible`, a district, an age band, …).
    pub category: String,
    /// Its figure (residents, noised when ε is set): at least k.
    pub count: i64,
}

/// One view of a day: the shown categories, largest first, and the rest together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The categories shown.
    pub cells: Vec<Figure>,
    /// The categories not shown, together (at least k), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<i64>,
}

impl View {
    /// The view's total: every published figure of it (`None` when it shows nothing).
    pub fn total(&self) -> Option<i64> {
        if self.cells.is_empty() && self.other.is_none() {
            return None;
        }
        Some(self.cells.iter().map(|f| f.count).sum::<i64>() + self.other.unwrap_or(0))
    }
}

/// A closed day as published: all that is kept of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedDay {
    /// The threshold the day was published under.
    pub k: u64,
    /// The ε the day was published under (`None`: exact figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Participants that day (the outcome view's total), `None` when under k.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// By outcome.
    pub outcome: View,
    /// By district.
    pub district: View,
    /// By age band.
    pub age_band: View,
}

/// Publishes one view of true `counts` under threshold `k`, each category's noise drawn by
/// `noise` (once per category).
pub fn view(counts: &BTreeMap<String, u64>, k: u64, noise: &mut dyn FnMut() -> i64) -> View {
    let k = i64::try_from(k).unwrap_or(i64::MAX);
    let mut shown: Vec<Figure> = Vec::new();
    let mut hidden: i64 = 0;
    let mut any_hidden = false;
    for (category, n) in counts {
        let count = i64::try_from(*n)
            .unwrap_or(i64::MAX)
            .saturating_add(noise());
        if count >= k {
            shown.push(Figure {
                category: category.clone(),
                count,
            });
        } else {
            hidden = hidden.saturating_add(count);
            any_hidden = true;
        }
    }
    // Largest first; among equals, by name (so the smallest is last).
    shown.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
    while any_hidden && hidden < k {
        let Some(smallest) = shown.pop() else { break };
        hidden = hidden.saturating_add(smallest.count);
    }
    if any_hidden && hidden < k {
        return View::default();
    }
    View {
        cells: shown,
        other: any_hidden.then_some(hidden),
    }
}

/// Publishes a day of true `cells` under threshold `k` and (when `noise` draws) ε `epsilon`.
pub fn day(
    cells: &BTreeMap<Cell, u64>,
    k: u64,
    epsilon: Option<f64>,
    noise: &mut dyn FnMut() -> i64,
) -> PublishedDay {
    let mut by = |pick: fn(&Cell) -> &String| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for (c, n) in cells {
            let e = m.entry(pick(c).clone()).or_default();
            *e = e.saturating_add(*n);
        }
        view(&m, k, &mut *noise)
    };
    let outcome = by(|c| &c.outcome);
    let district = by(|c| &c.district);
    let age_band = by(|c| &c.age_band);
    PublishedDay {
        k,
        epsilon,
        total: outcome.total(),
        outcome,
        district,
        age_band,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
    }

    fn exact(pairs: &[(&str, u64)], k: u64) -> View {
        view(&counts(pairs), k, &mut || 0)
    }

    #[test]
    fn every_published_figure_is_at_least_k_and_other_never_hides_one_small_cell() {
        // One small cell: it cannot be alone in `other` (total minus the rest would give it),
        // so the smallest shown one joins it.
        let v = exact(&[("1", 25), ("2", 12), ("3", 4)], 10);
        assert_eq!(
            v.cells,
            vec![Figure {
                category: "1".into(),
                count: 25
            }]
        );
        assert_eq!(v.other, Some(16));
        assert_eq!(v.total(), Some(41));
        // Small cells that together reach k make `other` alone.
        let v = exact(&[("1", 25), ("2", 6), ("3", 4)], 10);
        assert_eq!(v.cells.len(), 1);
        assert_eq!(v.other, Some(10));
        // Nothing small: no `other`.
        assert_eq!(exact(&[("1", 10), ("2", 11)], 10).other, None);
        // The whole view under k: nothing.
        assert_eq!(exact(&[("1", 5), ("2", 4)], 10), View::default());
        assert_eq!(exact(&[("1", 5), ("2", 4)], 10).total(), None);
        // Noise decides: a cell is judged by its noised figure only.
        let mut n = [3i64, -5].into_iter();
        let v = view(&counts(&[("a", 8), ("b", 30)]), 10, &mut || {
            n.next().unwrap_or(0)
        });
        assert_eq!(
            v.cells,
            vec![
                Figure {
                    category: "b".into(),
                    count: 25
                },
                Figure {
                    category: "a".into(),
                    count: 11
                },
            ]
        );
    }
}
