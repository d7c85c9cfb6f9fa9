//! Property tests: issue → present any subset → verify reveals exactly that subset;
//! status list encode → decode is the identity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::BTreeSet;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::sd_jwt::{ClaimPath, PathElement};
use civic_credential::sd_jwt_vc::{
    self, CredentialSpec, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions,
};
use civic_credential::status_list::{Status, StatusList};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

const ISS: &str = "https://issuer.example";
const VCT: &str = "https://issuer.example/credentials/test";
const NOW: i64 = 1_800_000_000;

/// A claims object with nested objects and arrays, and every leaf path in it.
fn claims_strategy() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z0-9 äöü]{0,12}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 1..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z]{1,8}", value, 1..6).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| {
                !["iss", "vct", "iat", "nbf", "exp", "cnf", "status"].contains(&k.as_str())
            })
            .collect()
    })
}

/// Every path in `v` (objects by key, arrays by index), parents before children.
fn all_paths(v: &Value, prefix: &ClaimPath, out: &mut Vec<ClaimPath>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = prefix.child(PathElement::Key(k.clone()));
                out.push(p.clone());
                all_paths(c, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let p = prefix.child(PathElement::Index(i));
                out.push(p.clone());
                all_paths(c, &p, out);
            }
        }
        _ => {}
    }
}

/// The claims a verifier must see when `wanted` is presented and `disclosable` was concealed:
/// plain claims always, concealed ones only on the way to or beneath a wanted path.
fn expected_view(
    v: &Value,
    path: &ClaimPath,
    disclosable: &BTreeSet<ClaimPath>,
    wanted: &[ClaimPath],
) -> Option<Value> {
    let visible = !disclosable.contains(path)
        || wanted
            .iter()
            .any(|w| w.covers(path) || w.passes_through(path));
    if !visible {
        return None;
    }
    Some(match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, c)| {
                    expected_view(
                        c,
                        &path.child(PathElement::Key(k.clone())),
                        disclosable,
                        wanted,
                    )
                    .map(|c| (k.clone(), c))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    expected_view(c, &path.child(PathElement::Index(i)), disclosable, wanted)
                })
                .collect(),
        ),
        other => other.clone(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn present_any_subset_reveals_exactly_that_subset(
        claims in claims_strategy(),
        seed in any::<u64>(),
        conceal_mask in any::<u64>(),
        want_mask in any::<u64>(),
        decoys in 0usize..3,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let issuer = SigningKey::generate(Algorithm::Es256, &mut rng).unwrap().with_kid("k");
        let holder = SigningKey::generate(Algorithm::EdDsa, &mut rng).unwrap();
        let mut paths = Vec::new();
        all_paths(&Value::Object(claims.clone()), &ClaimPath::default(), &mut paths);
        let disclosable: Vec<ClaimPath> = paths.iter().enumerate()
            .filter(|(i, _)| conceal_mask >> (i % 64) & 1 == 1).map(|(_, p)| p.clone()).collect();
        let wanted: Vec<ClaimPath> = paths.iter().enumerate()
            .filter(|(i, _)| want_mask >> (i % 64) & 1 == 1).map(|(_, p)| p.clone()).collect();
        let holder_jwk = holder.public_jwk().clone();
        let issued = sd_jwt_vc::issue(&CredentialSpec {
            issuer: ISS, vct: VCT, iat: NOW, nbf: None, exp: NOW + 100, holder_key: &holder_jwk,
            status: None, claims: claims.clone(), disclosable: &disclosable, decoys,
        }, &issuer, &mut rng).unwrap();
        let vp = sd_jwt_vc::present(&issued, &wanted, Some((&holder, "aud", "nonce", NOW))).unwrap();
        let mut keys = StaticIssuerKeys::new();
        keys.insert(ISS, issuer.public_jwk()).unwrap();
        let v = sd_jwt_vc::verify(&vp, &keys, &VerifyOptions {
            now: NOW, clock_skew: 0, expected_vct: Some(VCT),
            key_binding: Some(KeyBindingRequirement { aud: "aud", nonce: "nonce", max_age: 10 }),
        }).unwrap();
        let mut seen = v.claims.clone();
        for k in ["iss", "vct", "iat", "exp", "cnf"] {
            seen.remove(k);
        }
        let concealed: BTreeSet<ClaimPath> = disclosable.into_iter().collect();
        let expected = expected_view(&Value::Object(claims), &ClaimPath::default(), &concealed, &wanted);
        prop_assert_eq!(Some(Value::Object(seen)), expected);
    }

    #[test]
    fn status_list_round_trip(bits in prop::sample::select(vec![1u8, 2, 4, 8]), values in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut list = StatusList::new(bits, values.len()).unwrap();
        let mask = ((1u16 << bits) - 1) as u8;
        for (i, v) in values.iter().enumerate() {
            list.set(i as u64, Status::from(v & mask)).unwrap();
        }
        let back = StatusList::from_lst(bits, &list.to_lst()).unwrap();
        prop_assert_eq!(&back, &list);
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(back.get(i as u64).unwrap().value(), v & mask);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "[ -~]{0,300}") {
        let keys = StaticIssuerKeys::new();
        let opts = VerifyOptions { now: NOW, clock_skew: 0, expected_vct: None, key_binding: None };
        let _ = sd_jwt_vc::verify(&s, &keys, &opts);
        let _ = civic_credential::sd_jwt::SdJwt::parse(&s);
        let _ = StatusList::from_lst(1, &s);
    }
}

#[test]
fn expected_view_helper_is_not_vacuous() {
    // Sanity check of the oracle itself: a concealed, unrequested claim is hidden.
    let v = json!({"a": 1, "b": {"c": 2}});
    let concealed: BTreeSet<ClaimPath> = [ClaimPath::keys(["b", "c"])].into();
    assert_eq!(
        expected_view(&v, &ClaimPath::default(), &concealed, &[]),
        Some(json!({"a": 1, "b": {}}))
    );
}
