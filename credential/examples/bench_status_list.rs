//! Token Status List figures for a 1M-entry list at 2 bits, as an issuer serves it after a year of
//! use (1% of entries revoked, 0.1% suspended, at random places).
//!
//! `cargo run --release -p civic-credential --example bench_status_list`
//!
//! Prints `name: value` lines: the encoded size (`lst`, zlib then base64url), the decode time
//! (base64url + inflate, the median of 21 runs) and the time of one lookup (mean of 10M).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::hint::black_box;
use std::time::Instant;

use civic_credential::status_list::{Status, StatusList};
use rand::{Rng, SeedableRng};

const ENTRIES: usize = 1 << 20;

fn main() -> Result<(), civic_credential::Error> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut list = StatusList::new(2, ENTRIES)?;
    for _ in 0..ENTRIES / 100 {
        list.set(rng.gen_range(0..ENTRIES as u64), Status::Invalid)?;
    }
    for _ in 0..ENTRIES / 1000 {
        list.set(rng.gen_range(0..ENTRIES as u64), Status::Suspended)?;
    }
    let lst = list.to_lst();

    let mut decode_ms: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let decoded = StatusList::from_lst(2, black_box(&lst));
            let ms = start.elapsed().as_secs_f64() * 1e3;
            assert!(decoded.is_ok_and(|d| d.as_bytes() == list.as_bytes()));
            ms
        })
        .collect();
    decode_ms.sort_by(f64::total_cmp);

    let lookups = 10_000_000u64;
    let mut idx = 0u64;
    let mut revoked = 0u64;
    let start = Instant::now();
    for _ in 0..lookups {
        // A stride that visits entries all over the list, as random credentials would.
        idx = (idx + 104_729) % ENTRIES as u64;
        if black_box(&list).get(black_box(idx))? == Status::Invalid {
            revoked += 1;
        }
    }
    let lookup_ns = start.elapsed().as_secs_f64() * 1e9 / lookups as f64;

    println!("status_list_entries: {ENTRIES}");
    println!("status_list_bits: 2");
    println!("status_list_raw_bytes: {}", list.as_bytes().len());
    println!("status_list_encoded_bytes: {}", lst.len());
    println!(
        "status_list_decode_ms: {:.3}",
        decode_ms[decode_ms.len() / 2]
    );
    println!("status_list_lookup_ns: {lookup_ns:.2}");
    println!(
        "status_list_revoked_seen_per_mille: {}",
        revoked * 1000 / lookups
    );
    Ok(())
}
