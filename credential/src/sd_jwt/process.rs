//! Rebuilding the claims from the issuer-signed payload and the disclosures (RFC 9901 §7.1).
//!
//! The same walk serves the verifier (which must reject anything irregular) and the holder
//! (which needs to know where each disclosure sits to choose what to present).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::disclosure::{is_reserved_name, Disclosure};
use super::path::{ClaimPath, PathElement};
use crate::error::{Error, Result};

/// How deeply disclosures may nest inside each other and inside JSON, to bound recursion.
pub const MAX_DEPTH: usize = 64;
/// The most disclosures one SD-JWT may carry.
pub const MAX_DISCLOSURES: usize = 4096;

/// The claims after every presented disclosure has been put in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The claims, without `_sd`, `_sd_alg` and array-element placeholders.
    pub claims: Map<String, Value>,
    /// Where each disclosure went, in the order met.
    pub disclosed: Vec<DisclosedClaim>,
}

/// The place of one disclosure in the processed claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosedClaim {
    /// Path of the disclosed claim in the processed claims.
    pub path: ClaimPath,
    /// Index of the disclosure in the presented list.
    pub disclosure: usize,
    /// The disclosure whose value contains this one, if any.
    pub parent: Option<usize>,
}

struct Walk<'d> {
    disclosures: &'d [Disclosure],
    by_digest: HashMap<&'d str, usize>,
    /// Every digest met so far, in the payload or in disclosed values (borrowed, not copied).
    seen: HashSet<&'d str>,
    used: Vec<bool>,
    disclosed: Vec<DisclosedClaim>,
}

/// Processes `payload` with `disclosures`. Every disclosure must be referenced exactly once;
/// digests may not repeat; disclosed names may not be reserved or collide with existing ones.
pub fn process<'d>(
    payload: &'d Map<String, Value>,
    disclosures: &'d [Disclosure],
) -> Result<Processed> {
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(Error::TooLarge("too many disclosures"));
    }
    match payload.get("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == "sha-256" => {}
        Some(Value::String(alg)) => return Err(Error::UnsupportedSdAlg(alg.clone())),
        Some(_) => return Err(Error::InvalidClaim("_sd_alg")),
    }
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for (i, d) in disclosures.iter().enumerate() {
        if by_digest.insert(d.digest.as_str(), i).is_some() {
            return Err(Error::DuplicateDigest(d.digest.clone()));
        }
    }
    let mut walk = Walk {
        disclosures,
        by_digest,
        seen: HashSet::with_capacity(64),
        used: vec![false; disclosures.len()],
        disclosed: Vec::new(),
    };
    let mut claims = walk.object(payload, &ClaimPath::default(), None, 0)?;
    claims.remove("_sd_alg");
    if let Some(i) = walk.used.iter().position(|u| !u) {
        return Err(Error::UnreferencedDisclosure(disclosures[i].digest.clone()));
    }
    Ok(Processed {
        claims,
        disclosed: walk.disclosed,
    })
}

impl<'d> Walk<'d> {
    fn value(
        &mut self,
        v: &'d Value,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Error::TooLarge("nesting depth"));
        }
        Ok(match v {
            Value::Object(o) => Value::Object(self.object(o, path, parent, depth + 1)?),
            Value::Array(a) => Value::Array(self.array(a, path, parent, depth + 1)?),
            other => other.clone(),
        })
    }

    /// Registers a digest as seen and returns the disclosure it points to, if any.
    fn lookup(&mut self, digest: &'d str) -> Result<Option<usize>> {
        if !self.seen.insert(digest) {
            return Err(Error::DuplicateDigest(digest.to_owned()));
        }
        let found = self.by_digest.get(digest).copied();
        if let Some(i) = found {
            self.used[i] = true;
        }
        Ok(found)
    }

    /// A scalar is copied as is; only objects and arrays, which may hold digests, get a path.
    fn child_value(
        &mut self,
        v: &'d Value,
        path: &ClaimPath,
        element: impl FnOnce() -> PathElement,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value> {
        match v {
            Value::Object(_) | Value::Array(_) => {
                self.value(v, &path.child(element()), parent, depth)
            }
            scalar => Ok(scalar.clone()),
        }
    }

    fn object(
        &mut self,
        obj: &'d Map<String, Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in obj {
            if k == "_sd" {
                continue;
            }
            let value = self.child_value(v, path, || PathElement::Key(k.clone()), parent, depth)?;
            out.insert(k.clone(), value);
        }
        let digests = match obj.get("_sd") {
            None => return Ok(out),
            Some(Value::Array(d)) => d,
            Some(_) => return Err(Error::MalformedSdJwt("_sd must be an array")),
        };
        for digest in digests {
            let digest = digest
                .as_str()
                .ok_or(Error::MalformedSdJwt("_sd entries must be strings"))?;
            let Some(i) = self.lookup(digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let disclosures = self.disclosures;
            let d = &disclosures[i];
            let name = d
                .name
                .as_deref()
                .ok_or_else(|| Error::DisclosureKindMismatch(d.digest.clone()))?;
            if is_reserved_name(name) {
                return Err(Error::ReservedClaimName(name.to_owned()));
            }
            if out.contains_key(name) {
                return Err(Error::ClaimNameCollision(name.to_owned()));
            }
            let child = path.child(PathElement::Key(name.to_owned()));
            self.disclosed.push(DisclosedClaim {
                path: child.clone(),
                disclosure: i,
                parent,
            });
            let value = self.value(&d.value, &child, Some(i), depth)?;
            out.insert(name.to_owned(), value);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        arr: &'d [Value],
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(arr.len());
        for el in arr {
            match placeholder_digest(el)? {
                Some(digest) => {
                    let Some(i) = self.lookup(digest)? else {
                        continue;
                    };
                    let disclosures = self.disclosures;
                    let d = &disclosures[i];
                    if d.name.is_some() {
                        return Err(Error::DisclosureKindMismatch(d.digest.clone()));
                    }
                    let child = path.child(PathElement::Index(out.len()));
                    self.disclosed.push(DisclosedClaim {
                        path: child.clone(),
                        disclosure: i,
                        parent,
                    });
                    let value = self.value(&d.value, &child, Some(i), depth)?;
                    out.push(value);
                }
                None => {
                    let index = out.len();
                    let value =
                        self.child_value(el, path, || PathElement::Index(index), parent, depth)?;
                    out.push(value);
                }
            }
        }
        Ok(out)
    }
}

/// The digest of an array-element placeholder `{"...": "<digest>"}`, if `el` is one.
fn placeholder_digest(el: &Value) -> Result<Option<&str>> {
    match el {
        Value::Object(o) if o.contains_key("...") => {
            if o.len() != 1 {
                return Err(Error::MalformedSdJwt(
                    "array placeholder with extra members",
                ));
            }
            o.get("...")
                .and_then(Value::as_str)
                .map(Some)
                .ok_or(Error::MalformedSdJwt(
                    "array placeholder digest must be a string",
                ))
        }
        _ => Ok(None),
    }
}
