#![no_main]
//! Fuzz target `dpop_proof`: see `civic_fuzz_targets::dpop_proof`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::dpop_proof(data);
});
