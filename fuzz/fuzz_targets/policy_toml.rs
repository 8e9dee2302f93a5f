//! The policy reader on arbitrary text: no panic, and whatever it accepts validates.
#![no_main]

use crosswalk_formats::read_policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(policy) = read_policy("fuzz.toml", text) {
            assert!(policy.validate().is_ok());
        }
    }
});
