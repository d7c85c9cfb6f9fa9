//! Interoperability driver: exchanges credential and status list files with the Python and npm
//! SD-JWT implementations (see `tests/interop/README.md` for the file format).
//!
//! ```text
//! interop issue OUT.json | verify IN.json | status-encode OUT.json | status-decode IN.json
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use civic_credential::crypto::{Algorithm, SigningKey, VerifyingKey};
use civic_credential::jwk::Jwk;
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt::{ClaimPath, PathElement};
use civic_credential::sd_jwt_vc::{
    self, CredentialSpec, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions,
};
use civic_credential::status_list::{
    Status, StatusList, StatusListRef, StatusListToken, StatusReference,
};
use civic_credential::Error;
use rand::rngs::OsRng;
use serde_json::{json, Value};

const ISSUER: &str = "https://issuer.example";
const VCT: &str = "https://issuer.example/credentials/residency";
const STATUS_URI: &str = "https://issuer.example/status/1";
const AUD: &str = "https://verifier.example";
const PLATFORM: &str = "https://budget.example";

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("issue"), Some(f)) => issue(f),
        (Some("verify"), Some(f)) => verify(f),
        (Some("status-encode"), Some(f)) => status_encode(f),
        (Some("status-decode"), Some(f)) => status_decode(f),
        _ => {
            eprintln!("usage: interop issue|verify|status-encode|status-decode FILE");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn e<E: std::fmt::Display>(ctx: &'static str) -> impl Fn(E) -> String {
    move |err| format!("{ctx}: {err}")
}

fn read(path: &str) -> Res<Value> {
    let text = std::fs::read_to_string(path).map_err(e("read"))?;
    serde_json::from_str(&text).map_err(e("parse"))
}

fn write(path: &str, v: &Value) -> Res<()> {
    std::fs::write(path, serde_json::to_string_pretty(v).map_err(e("json"))?).map_err(e("write"))
}

fn path_of(v: &Value) -> Res<ClaimPath> {
    serde_json::from_value(v.clone()).map_err(e("claim path"))
}

fn lookup<'v>(p: &ClaimPath, claims: &'v Value) -> Option<&'v Value> {
    p.lookup(claims)
}

/// Issues a residency credential (with an extra `nationalities` array of disclosable elements),
/// a key-bound presentation and a status list token.
fn issue(out: &str) -> Res<()> {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .map_err(e("key"))?
        .with_kid("key-1");
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).map_err(e("key"))?;
    let t = now();
    let record = ResidentRecord {
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        birthdate: Date::parse("1990-12-10").map_err(e("date"))?,
        address: Address {
            street_address: "Dam 1".into(),
            locality: "Amsterdam".into(),
            postal_code: "1012 JS".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Amsterdam".into(),
            municipality_code: "0363".into(),
            district: Some("3".into()),
        },
        resident_since: Date::parse("2015-01-01").map_err(e("date"))?,
    };
    let pseudonym =
        civic_credential::pseudonym::pairwise_pseudonym(b"interop-secret", PLATFORM, "R-0001");
    let claims = ResidencyClaims::new(
        &record,
        Date::from_unix(t),
        [(PLATFORM.to_owned(), pseudonym.clone())].into(),
    );
    let mut paths = claims.disclosable_paths();
    paths.push(ClaimPath(vec![
        PathElement::Key("nationalities".into()),
        PathElement::AllElements,
    ]));
    let mut subject = claims.to_claims().map_err(e("claims"))?;
    subject.insert("nationalities".into(), json!(["NL", "DE"]));
    let holder_jwk = holder.public_jwk().clone();
    let spec = CredentialSpec {
        issuer: ISSUER,
        vct: VCT,
        iat: t - 5,
        nbf: Some(t - 5),
        exp: t + 365 * 86_400,
        holder_key: &holder_jwk,
        status: Some(StatusReference {
            status_list: StatusListRef {
                idx: 7,
                uri: STATUS_URI.into(),
            },
        }),
        claims: subject,
        disclosable: &paths,
        decoys: 2,
    };
    let sd_jwt = sd_jwt_vc::issue(&spec, &issuer, &mut OsRng).map_err(e("issue"))?;
    let present = [
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
        ClaimPath(vec![
            PathElement::Key("nationalities".into()),
            PathElement::Index(0),
        ]),
    ];
    let nonce = format!(
        "nonce-{}",
        civic_credential::encoding::b64_encode(&rand::random::<[u8; 12]>())
    );
    let presentation = sd_jwt_vc::present(&sd_jwt, &present, Some((&holder, AUD, &nonce, t)))
        .map_err(e("present"))?;
    let mut list = StatusList::new(2, 32).map_err(e("list"))?;
    list.set(3, Status::Invalid).map_err(e("list"))?;
    list.set(9, Status::Suspended).map_err(e("list"))?;
    let token = StatusListToken {
        sub: STATUS_URI.into(),
        iat: t - 5,
        exp: Some(t + 3600),
        ttl: Some(300),
        list,
    }
    .sign(&issuer)
    .map_err(e("status token"))?;
    write(
        out,
        &json!({
            "producer": concat!("civic-credential ", env!("CARGO_PKG_VERSION")),
            "issuer": ISSUER,
            "issuer_jwk": issuer.public_jwk(),
            "holder_jwk": holder.public_jwk(),
            // Not read by the peers: lets the wallet's smoke test present this credential.
            "holder_private_jwk": holder.to_private_jwk(),
            "vct": VCT,
            "sd_jwt": sd_jwt,
            "presentation": presentation,
            "aud": AUD,
            "nonce": nonce,
            "expected_present": [
                [["residence", "municipality_code"], "0363"],
                [["age_equal_or_over", "16"], true],
                [["pseudonyms", PLATFORM], pseudonym],
                [["nationalities", 0], "NL"],
            ],
            "expected_absent": [["given_name"], ["family_name"], ["birthdate"], ["address", "street_address"],
                                ["residence", "municipality"], ["age_equal_or_over", "18"], ["nationalities", 1]],
            "status_list_token": token,
        }),
    )
}

/// Verifies a peer's credential and presentation, including negative self-checks.
fn verify(input: &str) -> Res<()> {
    let f = read(input)?;
    let s = |k: &str| {
        f[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("missing {k}"))
    };
    let (issuer, vct, aud, nonce) = (
        s("issuer").unwrap_or(ISSUER.into()),
        s("vct").unwrap_or(VCT.into()),
        s("aud")?,
        s("nonce")?,
    );
    let mut jwk: Jwk = serde_json::from_value(f["issuer_jwk"].clone()).map_err(e("issuer_jwk"))?;
    if jwk.kid.is_none() {
        jwk.kid = Some("key-1".into());
    }
    let mut keys = StaticIssuerKeys::new();
    keys.insert(&issuer, &jwk).map_err(e("issuer key"))?;
    let t = now();
    let base = VerifyOptions {
        now: t,
        clock_skew: 300,
        expected_vct: Some(&vct),
        key_binding: None,
    };

    let issued = sd_jwt_vc::verify(&s("sd_jwt")?, &keys, &base).map_err(e("issuance form"))?;
    let kb = KeyBindingRequirement {
        aud: &aud,
        nonce: &nonce,
        max_age: 600,
    };
    let presentation = s("presentation")?;
    let v = sd_jwt_vc::verify(
        &presentation,
        &keys,
        &VerifyOptions {
            key_binding: Some(kb),
            ..base
        },
    )
    .map_err(e("presentation"))?;
    let holder: Jwk = serde_json::from_value(f["holder_jwk"].clone()).map_err(e("holder_jwk"))?;
    if v.holder_key.as_ref().map(|k| (&k.x, &k.y)) != Some((&holder.x, &holder.y)) {
        return Err("cnf.jwk is not holder_jwk".into());
    }
    let claims = Value::Object(v.claims.clone());
    let all = Value::Object(issued.claims.clone());
    for pair in f["expected_present"].as_array().ok_or("expected_present")? {
        let p = path_of(&pair[0])?;
        if lookup(&p, &claims) != Some(&pair[1]) {
            return Err(format!(
                "presentation: {p} is {:?}, expected {}",
                lookup(&p, &claims),
                pair[1]
            ));
        }
        if lookup(&p, &all).is_none() {
            return Err(format!("issuance form lacks {p}"));
        }
    }
    for p in f["expected_absent"].as_array().ok_or("expected_absent")? {
        let p = path_of(p)?;
        if lookup(&p, &claims).is_some() {
            return Err(format!("presentation discloses {p}"));
        }
    }
    if let Some(token) = f["status_list_token"].as_str() {
        let status = v.status.as_ref().ok_or("credential has no status")?;
        let key = VerifyingKey::from_jwk(&jwk).map_err(e("key"))?;
        let list = StatusListToken::verify(token, &key, &status.status_list.uri, t, 300)
            .map_err(e("status token"))?;
        let st = list.list.get(status.status_list.idx).map_err(e("status"))?;
        if st != Status::Valid {
            return Err(format!("status is {st:?}"));
        }
    }
    // Negative self-checks: each must be rejected with its precise error.
    let wrong = |nonce: &str, aud: &str, text: &str| {
        let kb = KeyBindingRequirement {
            aud,
            nonce,
            max_age: 600,
        };
        sd_jwt_vc::verify(
            text,
            &keys,
            &VerifyOptions {
                key_binding: Some(kb),
                ..base
            },
        )
        .map(|_| ())
    };
    expect(
        wrong("wrong", &aud, &presentation),
        Error::KeyBindingNonceMismatch,
    )?;
    expect(
        wrong(&nonce, "https://evil.example", &presentation),
        Error::KeyBindingAudienceMismatch,
    )?;
    let mut tampered = presentation.clone().into_bytes();
    let at = tampered.len() - 20;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).map_err(e("utf8"))?;
    expect(wrong(&nonce, &aud, &tampered), Error::InvalidSignature)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&claims).map_err(e("json"))?
    );
    Ok(())
}

fn expect(got: Result<(), Error>, want: Error) -> Res<()> {
    match got {
        Err(err) if err == want => Ok(()),
        other => Err(format!("negative check: expected {want:?}, got {other:?}")),
    }
}

fn pattern(bits: u8) -> Vec<u8> {
    let m: u32 = match bits {
        1 => 2,
        2 => 3,
        4 => 16,
        _ => 256,
    };
    (0..1001u32).map(|i| ((i * 7 + 3) % m) as u8).collect()
}

fn status_encode(out: &str) -> Res<()> {
    let mut cases = Vec::new();
    for bits in [1u8, 2, 4, 8] {
        let statuses = pattern(bits);
        let mut list = StatusList::new(bits, statuses.len()).map_err(e("list"))?;
        for (i, s) in statuses.iter().enumerate() {
            list.set(i as u64, Status::from(*s)).map_err(e("set"))?;
        }
        cases.push(json!({"bits": bits, "statuses": statuses, "lst": list.to_lst()}));
    }
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .map_err(e("key"))?
        .with_kid("key-1");
    let list =
        StatusList::from_lst(2, cases[1]["lst"].as_str().unwrap_or_default()).map_err(e("list"))?;
    let t = now();
    let token = StatusListToken {
        sub: STATUS_URI.into(),
        iat: t,
        exp: Some(t + 3600),
        ttl: Some(300),
        list,
    }
    .sign(&issuer)
    .map_err(e("token"))?;
    write(
        out,
        &json!({"producer": "civic-credential", "cases": cases, "token": token, "issuer_jwk": issuer.public_jwk()}),
    )
}

fn status_decode(input: &str) -> Res<()> {
    let f = read(input)?;
    let cases = match f["cases"].as_array() {
        Some(c) => c.clone(),
        None => vec![f.clone()],
    };
    for case in &cases {
        let bits = case["bits"].as_u64().ok_or("bits")? as u8;
        let list =
            StatusList::from_lst(bits, case["lst"].as_str().ok_or("lst")?).map_err(e("decode"))?;
        let statuses: Vec<u8> =
            serde_json::from_value(case["statuses"].clone()).map_err(e("statuses"))?;
        for i in 0..list.len() {
            let want = statuses.get(i as usize).copied().unwrap_or(0);
            let got = list.get(i).map_err(e("get"))?.value();
            if got != want {
                return Err(format!("bits {bits} idx {i}: {got} != {want}"));
            }
        }
        if (list.len() as usize) < statuses.len() {
            return Err(format!(
                "bits {bits}: list holds {} < {}",
                list.len(),
                statuses.len()
            ));
        }
        eprintln!("bits {bits}: {} statuses match", statuses.len());
    }
    if let Some(token) = f["token"].as_str() {
        let jwk: Jwk = serde_json::from_value(f["issuer_jwk"].clone()).map_err(e("issuer_jwk"))?;
        let key = VerifyingKey::from_jwk(&jwk).map_err(e("key"))?;
        let t = StatusListToken::verify(token, &key, STATUS_URI, now(), 300).map_err(e("token"))?;
        eprintln!(
            "token: {} statuses at {} bits, ttl {:?}",
            t.list.len(),
            t.list.bits(),
            t.ttl
        );
    }
    Ok(())
}
