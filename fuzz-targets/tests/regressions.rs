//! Replays every committed fuzz input through the same bodies the fuzzer runs, under plain
//! `cargo test`: `fuzz/corpus/<target>/` (the minimized corpus) and
//! `fuzz/artifacts-regressions/<target>/` (reproducers of crashes that were fixed). Nothing may
//! panic. Also checks that the seeds reach the paths they were made for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use civic_fuzz_targets::seeds::{repo_root, seeds};
use civic_fuzz_targets::{body, TARGETS};

/// The files directly in `dir` (none when it does not exist), sorted.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn corpus_and_reproducers_do_not_panic() {
    let fuzz = repo_root().join("fuzz");
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, run) in TARGETS {
        let corpus = files(&fuzz.join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty");
        let reproducers = files(&fuzz.join("artifacts-regressions").join(name));
        for file in corpus.iter().chain(&reproducers) {
            let data = std::fs::read(file).expect("read input");
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "inputs that panic: {failures:#?}");
    println!("{total} committed fuzz inputs replayed");
}

#[test]
fn seeds_reach_their_paths() {
    let mut wrong = Vec::new();
    for seed in seeds() {
        let run = body(seed.target).expect("seed for a known target");
        let got = run(&seed.data);
        if seed.accepted.is_some_and(|want| want != got) {
            wrong.push(format!("{}/{}: accepted {got}", seed.target, seed.name));
        }
    }
    assert!(wrong.is_empty(), "seeds with the wrong outcome: {wrong:#?}");
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let fuzz = repo_root().join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        let file = fuzz.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).expect("fuzz target file");
        assert!(
            text.contains(&format!("civic_fuzz_targets::{name}(")),
            "{} does not call its body",
            file.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
