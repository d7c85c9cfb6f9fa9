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
    /// Each disclosure's digest, name and (until it is put in place) value.
    digests: &'d [String],
    names: Vec<Option<String>>,
    values: Vec<Option<Value>>,
    by_digest: HashMap<&'d str, usize>,
    /// Every digest met so far, in the payload or in disclosed values.
    seen: HashSet<String>,
    used: Vec<bool>,
    disclosed: Vec<DisclosedClaim>,
    /// Where the walk is; copied into a [`ClaimPath`] only for a disclosed claim.
    path: Vec<PathElement>,
}

/// Processes `payload` with `disclosures`. Every disclosure must be referenced exactly once;
/// digests may not repeat; disclosed names may not be reserved or collide with existing ones.
pub fn process(payload: &Map<String, Value>, disclosures: &[Disclosure]) -> Result<Processed> {
    process_owned(payload.clone(), disclosures.to_vec())
}

/// [`process`], taking the payload and the disclosures: their values move into the claims
/// instead of being copied (the verifier's path: it has no further use for them).
pub fn process_owned(
    payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
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
    let n = disclosures.len();
    let (mut digests, mut names, mut values) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for d in disclosures {
        digests.push(d.digest);
        names.push(d.name);
        values.push(Some(d.value));
    }
    let mut by_digest = HashMap::with_capacity(n);
    for (i, d) in digests.iter().enumerate() {
        if by_digest.insert(d.as_str(), i).is_some() {
            return Err(Error::DuplicateDigest(d.clone()));
        }
    }
    let mut walk = Walk {
        digests: &digests,
        names,
        values,
        by_digest,
        seen: HashSet::with_capacity(64),
        used: vec![false; n],
        disclosed: Vec::with_capacity(n),
        path: Vec::with_capacity(8),
    };
    let mut claims = walk.object(payload, None, 0)?;
    claims.remove("_sd_alg");
    if let Some(i) = walk.used.iter().position(|u| !u) {
        let digest = digests.get(i).cloned().unwrap_or_default();
        return Err(Error::UnreferencedDisclosure(digest));
    }
    Ok(Processed {
        claims,
        disclosed: walk.disclosed,
    })
}

impl Walk<'_> {
    fn value(&mut self, v: Value, parent: Option<usize>, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Error::TooLarge("nesting depth"));
        }
        Ok(match v {
            Value::Object(o) => Value::Object(self.object(o, parent, depth + 1)?),
            Value::Array(a) => Value::Array(self.array(a, parent, depth + 1)?),
            other => other,
        })
    }

    /// Registers a digest as seen and returns the disclosure it points to, if any.
    fn lookup(&mut self, digest: String) -> Result<Option<usize>> {
        let found = self.by_digest.get(digest.as_str()).copied();
        if let Some(again) = self.seen.replace(digest) {
            return Err(Error::DuplicateDigest(again));
        }
        if let Some(used) = found.and_then(|i| self.used.get_mut(i)) {
            *used = true;
        }
        Ok(found)
    }

    /// The value of `v` one `step` below the current path (a scalar is kept as is); gives the
    /// step back.
    fn child(
        &mut self,
        v: Value,
        step: PathElement,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(PathElement, Value)> {
        match v {
            Value::Object(_) | Value::Array(_) => {
                self.path.push(step);
                let value = self.value(v, parent, depth)?;
                Ok((self.pop(), value))
            }
            scalar => Ok((step, scalar)),
        }
    }

    /// Takes the last step off the current path (pushed by the caller, so always there).
    fn pop(&mut self) -> PathElement {
        self.path.pop().unwrap_or(PathElement::AllElements)
    }

    /// Records that disclosure `i` sits one `step` below the current path, and puts its value in
    /// place; gives the step back.
    /// The error for disclosure `i` used where the other kind (object member or array
    /// element) belongs.
    fn kind_mismatch(&self, i: usize) -> Error {
        Error::DisclosureKindMismatch(self.digests.get(i).cloned().unwrap_or_default())
    }

    fn disclose(
        &mut self,
        i: usize,
        step: PathElement,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(PathElement, Value)> {
        self.path.push(step);
        self.disclosed.push(DisclosedClaim {
            path: ClaimPath(self.path.clone()),
            disclosure: i,
            parent,
        });
        let value = self.values.get_mut(i).and_then(Option::take);
        let value = self.value(value.unwrap_or(Value::Null), Some(i), depth)?;
        Ok((self.pop(), value))
    }

    fn object(
        &mut self,
        obj: Map<String, Value>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        let mut sd = None;
        for (k, v) in obj {
            if k == "_sd" {
                sd = Some(v);
                continue;
            }
            if let (PathElement::Key(k), value) =
                self.child(v, PathElement::Key(k), parent, depth)?
            {
                out.insert(k, value);
            }
        }
        let digests = match sd {
            None => return Ok(out),
            Some(Value::Array(d)) => d,
            Some(_) => return Err(Error::MalformedSdJwt("_sd must be an array")),
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(Error::MalformedSdJwt("_sd entries must be strings"));
            };
            let Some(i) = self.lookup(digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let Some(name) = self.names.get_mut(i).and_then(Option::take) else {
                return Err(self.kind_mismatch(i));
            };
            if is_reserved_name(&name) {
                return Err(Error::ReservedClaimName(name));
            }
            if out.contains_key(&name) {
                return Err(Error::ClaimNameCollision(name));
            }
            if let (PathElement::Key(name), value) =
                self.disclose(i, PathElement::Key(name), parent, depth)?
            {
                out.insert(name, value);
            }
        }
        Ok(out)
    }

    fn array(
        &mut self,
        arr: Vec<Value>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(arr.len());
        for el in arr {
            let step = PathElement::Index(out.len());
            let (_, value) = match placeholder_digest(el)? {
                Placeholder::Digest(digest) => {
                    let Some(i) = self.lookup(digest)? else {
                        continue;
                    };
                    if self.names.get(i).is_some_and(Option::is_some) {
                        return Err(self.kind_mismatch(i));
                    }
                    self.disclose(i, step, parent, depth)?
                }
                Placeholder::Not(el) => self.child(el, step, parent, depth)?,
            };
            out.push(value);
        }
        Ok(out)
    }
}

/// An array element: a placeholder `{"...": "<digest>"}`, or not.
enum Placeholder {
    Digest(String),
    Not(Value),
}

/// Whether `el` is an array-element placeholder, and its digest if so.
fn placeholder_digest(el: Value) -> Result<Placeholder> {
    match el {
        Value::Object(mut o) if o.contains_key("...") => {
            if o.len() != 1 {
                return Err(Error::MalformedSdJwt(
                    "array placeholder with extra members",
                ));
            }
            match o.remove("...") {
                Some(Value::String(digest)) => Ok(Placeholder::Digest(digest)),
                _ => Err(Error::MalformedSdJwt(
                    "array placeholder digest must be a string",
                )),
            }
        }
        other => Ok(Placeholder::Not(other)),
    }
}
