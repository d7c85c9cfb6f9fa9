#![no_main]
//! Fuzz target `vp_token`: see `civic_fuzz_targets::vp_token`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::vp_token(data);
});
