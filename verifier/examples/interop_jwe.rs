//! Rust side of the encrypted-answer interop exchange (`cargo xtask interop`, exchange `jwe`):
//! the wallet's encryption (`civic_credential::jwe`) and the verifier's decryption
//! (`civic_verifier::encrypted_response`) against npm `jose` and Python `jwcrypto`.
//!
//! - `interop_jwe jwe-encrypt OUT.json`: a recipient key made as a verifier session makes it,
//!   and a response sealed to it in each encoding as the wallet seals it.
//! - `interop_jwe jwe-decrypt IN.json`: decrypts someone else's JWEs with the recipient key in
//!   the file; checks the header, the plaintext, and that a tampered copy fails.
//!
//! File format: `{"producer", "recipient_jwk", "cases": [{"enc", "jwe", "plaintext"}]}`.

use std::process::ExitCode;

use rand_core::OsRng;
use serde_json::{json, Map, Value};

use civic_credential::encoding::{b64_decode, b64_encode, b64_json_object};
use civic_credential::jwe::{Enc, ResponseEncryption};
use civic_credential::jwk::Jwk;
use civic_verifier::encrypted_response::decrypt;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("jwe-encrypt"), Some(f)) => encrypt(f),
        (Some("jwe-decrypt"), Some(f)) => decrypt_file(f),
        _ => Err("usage: interop_jwe <jwe-encrypt OUT.json | jwe-decrypt IN.json>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A response a wallet would encrypt: a vp_token and the request's state.
fn response(enc: Enc) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "vp_token".into(),
        json!({ "residency": [format!("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~WyJzYWx0IiwibmFtZSIsIsOpIl0~{}", enc.name())] }),
    );
    m.insert("state".into(), format!("state-{}", enc.name()).into());
    m
}

fn encrypt(out: &str) -> Result<(), String> {
    let key = ResponseEncryption::generate_key(&mut OsRng);
    let mut cases = Vec::new();
    for enc in Enc::ALL {
        let e = ResponseEncryption {
            jwk: key.to_public(),
            enc,
        };
        let plaintext = response(enc);
        let jwe = e.seal(&plaintext, &mut OsRng).map_err(|e| e.to_string())?;
        cases.push(json!({ "enc": enc.name(), "jwe": jwe, "plaintext": plaintext }));
    }
    let file = json!({
        "producer": "civic-credential jwe (the wallet's)",
        "recipient_jwk": key,
        "cases": cases,
    });
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("jwe-encrypt: {} JWEs", Enc::ALL.len());
    Ok(())
}

fn decrypt_file(input: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("{input}: {e}"))?;
    let file: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let key: Jwk = serde_json::from_value(file.get("recipient_jwk").cloned().unwrap_or_default())
        .map_err(|e| format!("recipient_jwk: {e}"))?;
    let cases = file
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("no cases")?;
    let mut seen = Vec::new();
    for case in cases {
        let enc = case
            .get("enc")
            .and_then(Value::as_str)
            .ok_or("a case without enc")?;
        let jwe = case
            .get("jwe")
            .and_then(Value::as_str)
            .ok_or("a case without jwe")?;
        let header = b64_json_object(jwe.split('.').next().unwrap_or_default(), "header")
            .map_err(|e| e.to_string())?;
        if header.get("enc").and_then(Value::as_str) != Some(enc) {
            return Err(format!("{enc}: the header says {:?}", header.get("enc")));
        }
        let plain = decrypt(&key, jwe).map_err(|e| format!("{enc}: {e}"))?;
        let got: Value = serde_json::from_slice(&plain).map_err(|e| format!("{enc}: {e}"))?;
        if Some(&got) != case.get("plaintext") {
            return Err(format!("{enc}: the plaintext differs: {got}"));
        }
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut ct = b64_decode(parts.get(3).ok_or("short JWE")?, "ciphertext")
            .map_err(|e| e.to_string())?;
        if let Some(b) = ct.first_mut() {
            *b ^= 1;
        }
        if let Some(p) = parts.get_mut(3) {
            *p = b64_encode(&ct);
        }
        if decrypt(&key, &parts.join(".")).is_ok() {
            return Err(format!("{enc}: a tampered JWE decrypted"));
        }
        seen.push(enc.to_owned());
    }
    for enc in Enc::ALL {
        if !seen.iter().any(|s| s == enc.name()) {
            return Err(format!("no {} case", enc.name()));
        }
    }
    eprintln!(
        "jwe-decrypt: {} JWEs from {} decrypted by civic_verifier::encrypted_response",
        seen.len(),
        file.get("producer").unwrap_or(&Value::Null)
    );
    println!("{}", json!({ "decrypted": seen }));
    Ok(())
}
