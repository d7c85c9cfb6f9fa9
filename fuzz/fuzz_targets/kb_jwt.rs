#![no_main]
//! Fuzz target `kb_jwt`: see `civic_fuzz_targets::kb_jwt`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::kb_jwt(data);
});
