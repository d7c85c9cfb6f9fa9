//! Writes the seed inputs into `fuzz/corpus/<target>/seed-<name>`:
//! `cargo run -p civic-fuzz-targets --example make_seeds`.
//!
//! Run it to start a corpus (or add seeds after a format change); the fuzzer and
//! `cargo xtask fuzz --cmin` grow and minimize the corpus from there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::fs;

use civic_fuzz_targets::seeds::{repo_root, seeds};

fn main() -> std::io::Result<()> {
    let corpus = repo_root().join("fuzz").join("corpus");
    let seeds = seeds();
    for seed in &seeds {
        let dir = corpus.join(seed.target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(format!("seed-{}", seed.name)), &seed.data)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), corpus.display());
    Ok(())
}
