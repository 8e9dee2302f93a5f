//! The LDIF reader on arbitrary bytes: no panic, and whatever it accepts passes the core's
//! own directory check.
#![no_main]

use crosswalk_formats::{ReadOptions, read_ldif};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
        if let Ok(imported) = read_ldif("fuzz.ldif", data, options) {
            assert!(imported.directory.check().is_ok());
        }
    }
});
