#![no_main]
//! Fuzz target `oid4vci_token`: see `civic_fuzz_targets::oid4vci_token`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::oid4vci_token(data);
});
