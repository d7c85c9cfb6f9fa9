//! The residency credential's claims in words: one table, used by the issuer's pages and
//! metadata, the wallet's cards and consent screen, and the platforms' request pages.

use serde_json::Value;

use crate::sd_jwt::{ClaimPath, PathElement};

use super::AGE_THRESHOLDS;

/// One claim: where it is and what it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLabel {
    /// Its path: object keys from the top of the claims.
    pub path: &'static [&'static str],
    /// Its name, as a field label ("Street address").
    pub name: &'static str,
}

/// The claims with fixed names, in display order. `age_equal_or_over.<n>` and `pseudonyms.<id>`
/// are named by [`claim_name`].
pub const CLAIM_LABELS: &[ClaimLabel] = &[
    label(&["given_name"], "Given name"),
    label(&["family_name"], "Family name"),
    label(&["birthdate"], "Date of birth"),
    label(&["address", "street_address"], "Street address"),
    label(&["address", "postal_code"], "Postal code"),
    label(&["address", "locality"], "Town or city"),
    label(&["address", "country"], "Country"),
    label(&["residence", "municipality"], "Municipality"),
    label(&["residence", "municipality_code"], "Municipality code"),
    label(&["residence", "district"], "District"),
    label(&["resident_since"], "Resident since"),
];

const fn label(path: &'static [&'static str], name: &'static str) -> ClaimLabel {
    ClaimLabel { path, name }
}

/// The path's object keys, or `None` if it goes through an array.
fn keys(path: &ClaimPath) -> Option<Vec<&str>> {
    path.0
        .iter()
        .map(|e| match e {
            PathElement::Key(k) => Some(k.as_str()),
            PathElement::Index(_) | PathElement::AllElements => None,
        })
        .collect()
}

/// The host of a platform identifier (an https URL), for showing to people.
/// A platform as people read it: the host of an origin (`budget.example`), or where a did:web
/// lives (`verifier.example/platforms/budget`).
fn platform_host(platform: &str) -> String {
    if let Ok(url) = crate::did_web::document_url(platform) {
        let place = url.trim_start_matches("https://");
        let place = place.strip_suffix("/.well-known/did.json").unwrap_or(place);
        return place.strip_suffix("/did.json").unwrap_or(place).to_owned();
    }
    let rest = platform.split_once("://").map_or(platform, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

/// The name of the claim at `path` ("Street address", "16 or older", "Pseudonym for
/// budget.example"); the path itself for a claim this credential does not have.
pub fn claim_name(path: &ClaimPath) -> String {
    let Some(keys) = keys(path) else {
        return path.to_string();
    };
    if let Some(l) = CLAIM_LABELS.iter().find(|l| l.path == keys.as_slice()) {
        return l.name.to_owned();
    }
    match keys.as_slice() {
        ["age_equal_or_over", n] => format!("{n} or older"),
        ["pseudonyms", platform] => format!("Pseudonym for {}", platform_host(platform)),
        // The objects that hold the claims above, each disclosable as a whole too.
        ["address"] => "Address".into(),
        ["residence"] => "Municipality and district".into(),
        ["age_equal_or_over"] => "Age checks".into(),
        ["pseudonyms"] => "Pseudonyms for civic platforms".into(),
        _ => path.to_string(),
    }
}

/// Every claim of the credential with its name, for issuer metadata: the fixed ones, each age
/// threshold, and the pseudonyms (`["pseudonyms", null]`: one per platform).
pub fn described_claims() -> Vec<(ClaimPath, String)> {
    let mut out: Vec<(ClaimPath, String)> = CLAIM_LABELS
        .iter()
        .map(|l| (ClaimPath::keys(l.path.iter().copied()), l.name.to_owned()))
        .collect();
    for age in AGE_THRESHOLDS {
        let path = ClaimPath::keys(["age_equal_or_over".to_owned(), age.to_string()]);
        let name = claim_name(&path);
        out.push((path, name));
    }
    out.push((
        ClaimPath(vec![
            PathElement::Key("pseudonyms".into()),
            PathElement::AllElements,
        ]),
        "Pseudonym for a civic platform".into(),
    ));
    out
}

/// What sharing the claim at `path` with `value` tells the verifier, in a sentence for the
/// consent screen ("Resident of municipality 0363", "Not yet 16"); `value` is `None` when the
/// wallet does not hold the claim.
pub fn disclosure_sentence(path: &ClaimPath, value: Option<&Value>) -> String {
    let v = value.map_or_else(
        || "?".to_owned(),
        |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
    );
    let Some(keys) = keys(path) else {
        return format!("{path}: {v}");
    };
    match keys.as_slice() {
        ["residence", "municipality_code"] => format!("Resident of municipality {v}"),
        ["residence", "municipality"] => format!("Resident of {v}"),
        ["residence", "district"] => format!("Living in district {v}"),
        ["resident_since"] => format!("Resident since {v}"),
        ["age_equal_or_over", n] => match value.and_then(Value::as_bool) {
            Some(true) => format!("{n} or older"),
            Some(false) => format!("Not yet {n}"),
            None => format!("Whether you are {n} or older"),
        },
        ["pseudonyms", platform] => format!("Your pseudonym for {}", platform_host(platform)),
        _ => match CLAIM_LABELS.iter().find(|l| l.path == keys.as_slice()) {
            Some(l) => format!("Your {}: {v}", l.name.to_lowercase()),
            None => format!("{path}: {v}"),
        },
    }
}

/// What a platform asks for, before any value is known, for its request page ("your
/// municipality", "whether you are 16 or older (not your birthdate)").
pub fn request_phrase(path: &ClaimPath) -> String {
    let Some(keys) = keys(path) else {
        return path.to_string();
    };
    match keys.as_slice() {
        ["residence", "municipality_code"] | ["residence", "municipality"] => {
            "your municipality".into()
        }
        ["age_equal_or_over", n] => format!("whether you are {n} or older (not your birthdate)"),
        ["pseudonyms", _] => "a pseudonym known only to this platform".into(),
        _ => match CLAIM_LABELS.iter().find(|l| l.path == keys.as_slice()) {
            Some(l) => format!("your {}", l.name.to_lowercase()),
            None => path.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(keys: &[&str]) -> ClaimPath {
        ClaimPath::keys(keys.iter().copied())
    }

    #[test]
    fn every_disclosable_claim_has_a_name() {
        let claims = super::super::ResidencyClaims::new(
            &super::super::ResidentRecord::example(),
            super::super::Date::from_unix(1_700_000_000),
            [("https://budget.example/app".to_owned(), "p".to_owned())].into(),
        );
        for path in claims.disclosable_paths() {
            let name = claim_name(&path);
            assert_ne!(name, path.to_string(), "{path} has no name");
        }
        assert_eq!(
            described_claims().len(),
            CLAIM_LABELS.len() + AGE_THRESHOLDS.len() + 1
        );
    }

    #[test]
    fn names_sentences_and_phrases() {
        assert_eq!(
            claim_name(&p(&["address", "street_address"])),
            "Street address"
        );
        assert_eq!(claim_name(&p(&["age_equal_or_over", "16"])), "16 or older");
        assert_eq!(
            claim_name(&p(&["pseudonyms", "https://budget.example/x"])),
            "Pseudonym for budget.example"
        );
        assert_eq!(
            claim_name(&p(&[
                "pseudonyms",
                "did:web:v.example%3A8443:platforms:budget"
            ])),
            "Pseudonym for v.example:8443/platforms/budget"
        );
        assert_eq!(
            claim_name(&p(&["pseudonyms", "did:web:budget.example"])),
            "Pseudonym for budget.example"
        );
        assert_eq!(claim_name(&p(&["nickname"])), "nickname");
        let code = p(&["residence", "municipality_code"]);
        assert_eq!(
            disclosure_sentence(&code, Some(&json!("0363"))),
            "Resident of municipality 0363"
        );
        let age = p(&["age_equal_or_over", "16"]);
        assert_eq!(disclosure_sentence(&age, Some(&json!(false))), "Not yet 16");
        assert_eq!(
            disclosure_sentence(&age, None),
            "Whether you are 16 or older"
        );
        assert_eq!(
            disclosure_sentence(&p(&["address", "street_address"]), Some(&json!("Dam 1"))),
            "Your street address: Dam 1"
        );
        assert_eq!(request_phrase(&code), "your municipality");
        assert_eq!(
            request_phrase(&p(&["residence", "district"])),
            "your district"
        );
        assert_eq!(
            request_phrase(&age),
            "whether you are 16 or older (not your birthdate)"
        );
        assert_eq!(request_phrase(&p(&["a", "b"])), "a.b");
    }
}
