//! Claim paths: where a claim sits in the JSON tree, as in DCQL (`["address", "locality"]`).

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One step of a [`ClaimPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
    /// Every element of an array (`null` in DCQL).
    AllElements,
}

/// A path from the top of the claims to one claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ClaimPath(pub Vec<PathElement>);

impl ClaimPath {
    /// A path of object keys, such as `ClaimPath::keys(["residence", "municipality_code"])`.
    pub fn keys<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClaimPath(
            keys.into_iter()
                .map(|k| PathElement::Key(k.into()))
                .collect(),
        )
    }

    /// Reads the dotted form of a path of object keys (`residence.municipality_code`), as
    /// policies and configuration files write it: the inverse of [`Display`](fmt::Display) for
    /// such paths. Empty keys are refused.
    pub fn parse_dotted(text: &str) -> crate::Result<Self> {
        if text.split('.').any(str::is_empty) {
            return Err(crate::Error::InvalidClaim(
                "a dotted claim path has an empty key",
            ));
        }
        Ok(ClaimPath::keys(text.split('.')))
    }

    /// This path extended by one element.
    pub fn child(&self, element: PathElement) -> Self {
        let mut v = self.0.clone();
        v.push(element);
        ClaimPath(v)
    }

    /// Whether `concrete` (a path without wildcards) is matched element by element by `self`,
    /// for as many elements as `self` has; wildcards match any index.
    fn matches_prefix_of(&self, concrete: &ClaimPath) -> bool {
        self.0.len() <= concrete.0.len()
            && self.0.iter().zip(&concrete.0).all(|(p, c)| match (p, c) {
                (PathElement::AllElements, PathElement::Index(_)) => true,
                (a, b) => a == b,
            })
    }

    /// Whether `concrete` is this (possibly wildcard) path itself or lies beneath it.
    pub fn covers(&self, concrete: &ClaimPath) -> bool {
        self.matches_prefix_of(concrete)
    }

    /// Whether `concrete` is exactly this (possibly wildcard) path.
    pub fn matches(&self, concrete: &ClaimPath) -> bool {
        self.0.len() == concrete.0.len() && self.matches_prefix_of(concrete)
    }

    /// Whether `concrete` lies on the way to this path (it is one of its ancestors, or itself).
    pub fn passes_through(&self, concrete: &ClaimPath) -> bool {
        concrete.0.len() <= self.0.len()
            && self.0.iter().zip(&concrete.0).all(|(p, c)| match (p, c) {
                (PathElement::AllElements, PathElement::Index(_)) => true,
                (a, b) => a == b,
            })
    }

    /// Looks up the value at this concrete path.
    pub fn lookup<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(root, |v, el| match el {
            PathElement::Key(k) => v.get(k.as_str()),
            PathElement::Index(i) => v.get(*i),
            PathElement::AllElements => None,
        })
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, el) in self.0.iter().enumerate() {
            match el {
                PathElement::Key(k) if i == 0 => write!(f, "{k}")?,
                PathElement::Key(k) => write!(f, ".{k}")?,
                PathElement::Index(n) => write!(f, "[{n}]")?,
                PathElement::AllElements => write!(f, "[*]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for ClaimPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<Value> = self
            .0
            .iter()
            .map(|el| match el {
                PathElement::Key(k) => Value::String(k.clone()),
                PathElement::Index(n) => Value::from(*n),
                PathElement::AllElements => Value::Null,
            })
            .collect();
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClaimPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Vec::<Value>::deserialize(d)?;
        if raw.is_empty() {
            return Err(serde::de::Error::custom("claim path must not be empty"));
        }
        raw.into_iter()
            .map(|v| match v {
                Value::String(k) => Ok(PathElement::Key(k)),
                Value::Null => Ok(PathElement::AllElements),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(PathElement::Index)
                    .ok_or_else(|| {
                        serde::de::Error::custom("array index must be a non-negative integer")
                    }),
                _ => Err(serde::de::Error::custom(
                    "claim path elements are strings, integers or null",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ClaimPath)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_form_and_display() {
        let p: ClaimPath = serde_json::from_value(json!(["a", 2, null])).unwrap();
        assert_eq!(p.to_string(), "a[2][*]");
        assert_eq!(serde_json::to_value(&p).unwrap(), json!(["a", 2, null]));
        assert!(serde_json::from_value::<ClaimPath>(json!([])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([-1])).is_err());
        assert!(serde_json::from_value::<ClaimPath>(json!([true])).is_err());
    }

    #[test]
    fn dotted_text_round_trips() {
        let p = ClaimPath::parse_dotted("residence.municipality_code").unwrap();
        assert_eq!(p, ClaimPath::keys(["residence", "municipality_code"]));
        assert_eq!(p.to_string(), "residence.municipality_code");
        for bad in ["", ".a", "a.", "a..b"] {
            assert!(ClaimPath::parse_dotted(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn wildcard_matching() {
        let wild = ClaimPath(vec![PathElement::Key("n".into()), PathElement::AllElements]);
        let c = ClaimPath(vec![PathElement::Key("n".into()), PathElement::Index(3)]);
        assert!(wild.matches(&c));
        assert!(wild.covers(&c.child(PathElement::Key("x".into()))));
        assert!(wild.passes_through(&ClaimPath::keys(["n"])));
        assert!(!wild.passes_through(&ClaimPath::keys(["m"])));
    }
}
