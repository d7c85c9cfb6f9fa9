#![no_main]
//! Fuzz target `register_csv`: see `civic_fuzz_targets::register_csv`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::register_csv(data);
});
