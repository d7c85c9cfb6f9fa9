//! Presentation: choosing which disclosures to send for the claims a verifier asked for.

use super::path::ClaimPath;
use super::process::process;
use super::SdJwt;
use crate::error::{Error, Result};

/// The indexes (into `sd_jwt.disclosures`) of the disclosures that reveal `paths`.
///
/// A path reveals the claim it names with everything beneath it, and brings in the disclosures
/// of the parents on the way to it. Each requested path must exist in the credential.
pub fn select_disclosures(sd_jwt: &SdJwt<'_>, paths: &[ClaimPath]) -> Result<Vec<usize>> {
    let full = process(&sd_jwt.jwt.payload, &sd_jwt.disclosures)?;
    let root = serde_json::Value::Object(full.claims);
    let mut chosen = vec![false; sd_jwt.disclosures.len()];
    for wanted in paths {
        if !exists(wanted, &root) {
            return Err(Error::ClaimPathNotFound(wanted.to_string()));
        }
        for d in &full.disclosed {
            if wanted.covers(&d.path) || wanted.passes_through(&d.path) {
                if let Some(c) = chosen.get_mut(d.disclosure) {
                    *c = true;
                }
            }
        }
    }
    Ok(chosen
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.then_some(i))
        .collect())
}

/// Whether some concrete claim matches `path` (wildcards need at least one element).
fn exists(path: &ClaimPath, root: &serde_json::Value) -> bool {
    use super::path::PathElement;
    fn go(els: &[PathElement], v: &serde_json::Value) -> bool {
        let Some((first, rest)) = els.split_first() else {
            return true;
        };
        match first {
            PathElement::Key(k) => v.get(k.as_str()).is_some_and(|c| go(rest, c)),
            PathElement::Index(i) => v.get(*i).is_some_and(|c| go(rest, c)),
            PathElement::AllElements => v.as_array().is_some_and(|a| a.iter().any(|c| go(rest, c))),
        }
    }
    go(&path.0, root)
}
