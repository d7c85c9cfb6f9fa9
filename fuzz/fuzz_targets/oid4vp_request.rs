#![no_main]
//! Fuzz target `oid4vp_request`: see `civic_fuzz_targets::oid4vp_request`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::oid4vp_request(data);
});
