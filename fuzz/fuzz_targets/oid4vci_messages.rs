#![no_main]
//! Fuzz target `oid4vci_messages`: see `civic_fuzz_targets::oid4vci_messages`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = civic_fuzz_targets::oid4vci_messages(data);
});
