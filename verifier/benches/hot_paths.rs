//! Criterion micro-benchmarks of the verification and issuance hot paths.
//!
//! `cargo bench -p civic-verifier --bench hot_paths` (add `-- --quick` for a short run). The
//! figures to compare are in pairs: each step beside the raw ES256 operation it is built on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support {
    pub(crate) mod fixture;
}

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

use civic_credential::crypto::{Algorithm, JwsSigner};
use civic_credential::key_binding::{self, KeyBindingExpectation};
use civic_credential::oid4vp::parse_vp_token;
use civic_credential::sd_jwt::SdJwt;
use civic_credential::sd_jwt_vc::{self, KeyBindingRequirement, VerifyOptions};
use civic_credential::sd_jwt_vc::{IssuerKeys, StaticIssuerKeys};
use civic_credential::status_list::{Status, StatusList, StatusListToken};

use support::fixture::{self, fixture, ISSUER, STATUS, STATUS_ENTRIES};

fn hot_paths(c: &mut Criterion) {
    let f = fixture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    // Baselines: the raw signature operations every path below pays for.
    let vk = f.issuer.verifying_key().expect("vk");
    let msg = vec![0x5a_u8; 1200];
    let sig = f.issuer.sign(&msg).expect("sign");
    c.bench_function("es256_verify_raw", |b| {
        b.iter(|| vk.verify(Algorithm::Es256, black_box(&msg), black_box(&sig)))
    });
    c.bench_function("es256_sign_raw", |b| {
        b.iter(|| f.issuer.sign(black_box(&msg)))
    });

    // Verification, step by step.
    c.bench_function("vp_token_parse", |b| {
        b.iter(|| parse_vp_token(black_box(&f.vp_token)))
    });
    c.bench_function("sd_jwt_parse", |b| {
        b.iter(|| SdJwt::parse(black_box(&f.presentation)))
    });
    let mut keys = StaticIssuerKeys::new();
    keys.insert(ISSUER, &f.issuer.public_jwk().clone().with_kid("k1"))
        .expect("key");
    let opts = VerifyOptions {
        now: f.now,
        clock_skew: 60,
        expected_vct: Some(&f.vct),
        key_binding: Some(KeyBindingRequirement {
            aud: &f.session.client_id,
            nonce: &f.session.nonce,
            max_age: 300,
        }),
    };
    let sd = SdJwt::parse(&f.presentation).expect("parse");
    assert!(sd_jwt_vc::verify_parsed(&sd, &keys as &dyn IssuerKeys, &opts).is_ok());
    c.bench_function("sd_jwt_vc_verify_parsed", |b| {
        b.iter(|| sd_jwt_vc::verify_parsed(black_box(&sd), &keys, &opts))
    });
    let holder = f.holder.verifying_key().expect("holder");
    let kb = sd.kb_jwt.expect("kb");
    let expect = KeyBindingExpectation {
        aud: &f.session.client_id,
        nonce: &f.session.nonce,
        now: f.now,
        max_age: 300,
        clock_skew: 60,
    };
    c.bench_function("kb_jwt_verify", |b| {
        b.iter(|| key_binding::verify(black_box(kb), sd.hashed_part, &holder, &expect))
    });
    c.bench_function("verifier_pipeline", |b| {
        b.iter(|| {
            rt.block_on(f.verifier.verify(black_box(&f.vp_token), &f.session, f.now))
                .is_ok_and(|e| e.eligible)
        })
    });

    // Status lists: 1M entries at 2 bits.
    let list = StatusList::new(2, STATUS_ENTRIES).expect("list");
    let lst = list.to_lst();
    c.bench_function("status_list_decode_1m", |b| {
        b.iter(|| StatusList::from_lst(2, black_box(&lst)))
    });
    let issuer_vk = f.issuer.verifying_key().expect("vk");
    c.bench_function("status_list_token_verify_1m", |b| {
        b.iter(|| {
            StatusListToken::verify(black_box(&f.status_token), &issuer_vk, STATUS, f.now, 60)
        })
    });
    let mut i = 0u64;
    c.bench_function("status_list_lookup", |b| {
        b.iter(|| {
            i = (i + 7919) % STATUS_ENTRIES as u64;
            list.get(black_box(i)).unwrap_or(Status::Invalid)
        })
    });

    // The holder and issuer sides.
    let requested = fixture::requested();
    c.bench_function("present_with_kb", |b| {
        b.iter(|| {
            sd_jwt_vc::present(
                black_box(&f.credential),
                &requested,
                Some((&f.holder, &f.session.client_id, &f.session.nonce, f.now)),
            )
        })
    });
    c.bench_function("sd_jwt_vc_issue", |b| {
        b.iter(|| fixture::issue(&f.issuer, &f.holder, &f.vct, f.now))
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
