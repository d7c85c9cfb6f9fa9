#![no_main]
//! Fuzz target `sd_jwt_claims`: see `civic_fuzz_targets::sd_jwt_claims`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::sd_jwt_claims(data);
});
