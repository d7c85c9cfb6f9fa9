#![no_main]
//! Fuzz target `dcql`: see `civic_fuzz_targets::dcql`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::dcql(data);
});
