#![no_main]
//! Fuzz target `verifier_presentation`: see `civic_fuzz_targets::verifier_presentation`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::verifier_presentation(data);
});
