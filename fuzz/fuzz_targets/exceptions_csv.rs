//! The exceptions reader on arbitrary bytes: no panic, and every rule it returns has a
//! source and a destination.
#![no_main]

use crosswalk_formats::read_exceptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rules) = read_exceptions("fuzz.csv", data) {
        for rule in rules {
            assert!(!rule.source.value().is_empty() && !rule.destination.value().is_empty());
        }
    }
});
