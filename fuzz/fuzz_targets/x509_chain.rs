#![no_main]
//! Fuzz target `x509_chain`: see `civic_fuzz_targets::x509_chain`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::x509_chain(data);
});
