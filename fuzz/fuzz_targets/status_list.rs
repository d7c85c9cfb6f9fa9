#![no_main]
//! Fuzz target `status_list`: see `civic_fuzz_targets::status_list`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::status_list(data);
});
