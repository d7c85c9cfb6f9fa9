//! Issuance: replacing chosen claims by digests and producing their disclosures.

use std::collections::HashSet;

use rand_core::CryptoRngCore;
use serde_json::{Map, Value};

use super::disclosure::{decoy_digest, is_reserved_name, Disclosure};
use super::path::{ClaimPath, PathElement};
use crate::error::{Error, Result};

/// The payload with digests in place of the selectively disclosable claims, plus their disclosures.
#[derive(Debug, Clone)]
pub struct Concealed {
    /// The payload to sign, including `_sd_alg`.
    pub payload: Map<String, Value>,
    /// All disclosures, to be handed to the holder.
    pub disclosures: Vec<Disclosure>,
}

/// Makes the claims at `disclosable` selectively disclosable (nested ones first, so a disclosed
/// object can itself hold digests). Every `_sd` array gets `decoys` decoy digests and is sorted.
/// Each path must name an existing claim; a wildcard element makes every array element disclosable.
pub fn conceal(
    claims: Map<String, Value>,
    disclosable: &[ClaimPath],
    decoys: usize,
    rng: &mut impl CryptoRngCore,
) -> Result<Concealed> {
    if claims.contains_key("_sd_alg") {
        return Err(Error::ReservedClaimName("_sd_alg".into()));
    }
    let mut state = State {
        disclosable,
        hit: HashSet::new(),
        disclosures: Vec::new(),
        decoys,
    };
    let mut payload = state.object(claims, &ClaimPath::default(), rng)?;
    if let Some(missing) = disclosable.iter().find(|p| !state.hit.contains(*p)) {
        return Err(Error::ClaimPathNotFound(missing.to_string()));
    }
    payload.insert("_sd_alg".into(), "sha-256".into());
    Ok(Concealed {
        payload,
        disclosures: state.disclosures,
    })
}

struct State<'p> {
    disclosable: &'p [ClaimPath],
    hit: HashSet<&'p ClaimPath>,
    disclosures: Vec<Disclosure>,
    decoys: usize,
}

impl State<'_> {
    fn is_disclosable(&mut self, path: &ClaimPath) -> bool {
        let mut found = false;
        for p in self.disclosable {
            if p.matches(path) {
                self.hit.insert(p);
                found = true;
            }
        }
        found
    }

    fn value(&mut self, v: Value, path: &ClaimPath, rng: &mut impl CryptoRngCore) -> Result<Value> {
        if path.0.len() > super::MAX_DEPTH {
            return Err(Error::TooLarge("nesting depth"));
        }
        Ok(match v {
            Value::Object(o) => Value::Object(self.object(o, path, rng)?),
            Value::Array(a) => Value::Array(self.array(a, path, rng)?),
            other => other,
        })
    }

    fn object(
        &mut self,
        obj: Map<String, Value>,
        path: &ClaimPath,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        let mut digests = Vec::new();
        for (k, v) in obj {
            if is_reserved_name(&k) {
                return Err(Error::ReservedClaimName(k));
            }
            let child = path.child(PathElement::Key(k.clone()));
            let v = self.value(v, &child, rng)?;
            if self.is_disclosable(&child) {
                let d = Disclosure::new(Some(&k), v, rng)?;
                digests.push(Value::String(d.digest.clone()));
                self.disclosures.push(d);
            } else {
                out.insert(k, v);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoys {
                digests.push(Value::String(decoy_digest(rng)?));
            }
            digests.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            out.insert("_sd".into(), Value::Array(digests));
        }
        Ok(out)
    }

    fn array(
        &mut self,
        arr: Vec<Value>,
        path: &ClaimPath,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(arr.len());
        for (i, v) in arr.into_iter().enumerate() {
            let child = path.child(PathElement::Index(i));
            let v = self.value(v, &child, rng)?;
            if self.is_disclosable(&child) {
                let d = Disclosure::new(None, v, rng)?;
                let mut placeholder = Map::new();
                placeholder.insert("...".into(), Value::String(d.digest.clone()));
                out.push(Value::Object(placeholder));
                self.disclosures.push(d);
            } else {
                out.push(v);
            }
        }
        Ok(out)
    }
}
