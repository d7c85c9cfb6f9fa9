//! Eligibility policies: a few typed rules over disclosed claims, written in Rust or loaded from
//! TOML/JSON.
//!
//! ```toml
//! name = "budget-2027"
//! pseudonym = true
//! [[rules]]
//! claim = "residence.municipality_code"
//! in = ["0363"]
//! [[rules]]
//! claim = "age_equal_or_over.16"
//! equals = true
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use civic_credential::sd_jwt::ClaimPath;

/// One condition on a disclosed claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleSpec", into = "RuleSpec")]
pub enum Rule {
    /// The claim's value is one of `values`.
    In {
        /// Where the claim is.
        claim: ClaimPath,
        /// Accepted values.
        values: Vec<Value>,
    },
    /// The claim's value equals `value`.
    Equals {
        /// Where the claim is.
        claim: ClaimPath,
        /// The required value.
        value: Value,
    },
}

/// The file form of a rule: `claim` (dotted, or a path array) and `in` or `equals`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    claim: ClaimSpec,
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    one_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum ClaimSpec {
    Dotted(String),
    Path(ClaimPath),
}

impl TryFrom<RuleSpec> for Rule {
    type Error = String;

    fn try_from(spec: RuleSpec) -> Result<Self, String> {
        let claim = match spec.claim {
            ClaimSpec::Path(p) => p,
            ClaimSpec::Dotted(d) => {
                ClaimPath::parse_dotted(&d).map_err(|e| format!("{d:?}: {e}"))?
            }
        };
        if claim.0.is_empty() {
            return Err("a rule needs a claim".into());
        }
        match (spec.one_of, spec.equals) {
            (Some(values), None) if !values.is_empty() => Ok(Rule::In { claim, values }),
            (None, Some(value)) => Ok(Rule::Equals { claim, value }),
            _ => Err(format!(
                "rule on {claim}: give exactly one of `in` (non-empty) or `equals`"
            )),
        }
    }
}

impl From<Rule> for RuleSpec {
    fn from(rule: Rule) -> Self {
        match rule {
            Rule::In { claim, values } => RuleSpec {
                claim: ClaimSpec::Path(claim),
                one_of: Some(values),
                equals: None,
            },
            Rule::Equals { claim, value } => RuleSpec {
                claim: ClaimSpec::Path(claim),
                one_of: None,
                equals: Some(value),
            },
        }
    }
}

impl Rule {
    /// `claim in [values]`.
    pub fn one_of(claim: ClaimPath, values: &[&str]) -> Self {
        Rule::In {
            claim,
            values: values.iter().map(|v| Value::from(*v)).collect(),
        }
    }

    /// `claim == true`.
    pub fn is_true(claim: ClaimPath) -> Self {
        Rule::Equals {
            claim,
            value: Value::Bool(true),
        }
    }

    /// The claim the rule reads.
    pub fn claim(&self) -> &ClaimPath {
        match self {
            Rule::In { claim, .. } | Rule::Equals { claim, .. } => claim,
        }
    }

    /// The rule as text, e.g. `residence.municipality_code in ["0363"]`.
    pub fn describe(&self) -> String {
        match self {
            Rule::In { claim, values } => {
                format!("{claim} in {}", Value::Array(values.clone()))
            }
            Rule::Equals { claim, value } => format!("{claim} == {value}"),
        }
    }

    fn holds(&self, claims: &Map<String, Value>) -> bool {
        let root = Value::Object(claims.clone());
        match (self, self.claim().lookup(&root)) {
            (Rule::In { values, .. }, Some(v)) => values.contains(v),
            (Rule::Equals { value, .. }, Some(v)) => v == value,
            (_, None) => false,
        }
    }
}

/// An eligibility policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy's name, as platforms refer to it.
    pub name: String,
    /// Every rule must hold.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Whether the platform needs the resident's pairwise pseudonym (one vote per resident).
    #[serde(default)]
    pub pseudonym: bool,
    /// Accepted credential types; empty means those the trust list allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vct: Vec<String>,
}

/// One evaluated rule, as reported to the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicate {
    /// The rule, as text.
    pub rule: String,
    /// Whether it held.
    pub satisfied: bool,
}

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct PolicyError(pub String);

impl Policy {
    /// Parses a policy from TOML.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError(e.to_string()))
    }

    /// Parses a policy from JSON.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))
    }

    /// The claim paths to ask for: every rule's claim, and the platform's pseudonym if required.
    pub fn requested_paths(&self, platform_id: &str) -> Vec<ClaimPath> {
        let mut paths: Vec<ClaimPath> = self.rule_claims().into_iter().cloned().collect();
        if self.pseudonym {
            paths.push(pseudonym_path(platform_id));
        }
        paths
    }

    /// The claims the rules read, each once, in rule order (without the pseudonym).
    pub fn rule_claims(&self) -> Vec<&ClaimPath> {
        let mut paths: Vec<&ClaimPath> = Vec::with_capacity(self.rules.len() + 1);
        for r in &self.rules {
            if !paths.contains(&r.claim()) {
                paths.push(r.claim());
            }
        }
        paths
    }

    /// Evaluates every rule on the disclosed claims.
    pub fn evaluate(&self, claims: &Map<String, Value>) -> Vec<Predicate> {
        self.rules
            .iter()
            .map(|r| Predicate {
                rule: r.describe(),
                satisfied: r.holds(claims),
            })
            .collect()
    }
}

/// Where a platform's pseudonym sits: `pseudonyms.<platform id>` (the core's rule).
pub fn pseudonym_path(platform_id: &str) -> ClaimPath {
    civic_credential::pseudonym::path(platform_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOML: &str = r#"
name = "budget-2027"
pseudonym = true
[[rules]]
claim = "residence.municipality_code"
in = ["0363"]
[[rules]]
claim = ["age_equal_or_over", "16"]
equals = true
"#;

    #[test]
    fn policies_load_from_toml_and_json_and_evaluate() {
        let p = Policy::from_toml(TOML).expect("toml");
        assert_eq!(
            p.rules[0],
            Rule::one_of(
                ClaimPath::keys(["residence", "municipality_code"]),
                &["0363"]
            )
        );
        assert_eq!(
            p.rules[1],
            Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"]))
        );
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(Policy::from_json(&json).expect("json"), p);
        let paths = p.requested_paths("https://budget.example");
        assert_eq!(paths.len(), 3);
        assert_eq!(
            paths[2],
            ClaimPath::keys(["pseudonyms", "https://budget.example"])
        );

        let ok =
            json!({"residence": {"municipality_code": "0363"}, "age_equal_or_over": {"16": true}});
        let preds = p.evaluate(ok.as_object().expect("obj"));
        assert!(preds.iter().all(|p| p.satisfied), "{preds:?}");
        assert_eq!(preds[0].rule, r#"residence.municipality_code in ["0363"]"#);
        let young =
            json!({"residence": {"municipality_code": "0363"}, "age_equal_or_over": {"16": false}});
        assert!(!p.evaluate(young.as_object().expect("obj"))[1].satisfied);
        let missing = json!({});
        assert!(p
            .evaluate(missing.as_object().expect("obj"))
            .iter()
            .all(|p| !p.satisfied));
    }

    #[test]
    fn bad_policies_are_refused_with_a_reason() {
        for bad in [
            "name = \"x\"\n[[rules]]\nclaim = \"a\"\n",
            "name = \"x\"\n[[rules]]\nclaim = \"a\"\nin = []\n",
            "name = \"x\"\n[[rules]]\nclaim = \"a\"\nin = [\"1\"]\nequals = 1\n",
            "name = \"x\"\nunknown = 1\n",
        ] {
            assert!(Policy::from_toml(bad).is_err(), "{bad}");
        }
    }
}
