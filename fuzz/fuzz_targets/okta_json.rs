//! The Okta Users/Groups API reader (`crosswalk_formats::exports::okta`) on arbitrary bytes:
//! no panic, every refusal names the file, and whatever it accepts passes the core's own
//! directory check.
#![no_main]

use crosswalk_formats::ReadOptions;
use crosswalk_formats::exports::okta::read_okta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
        match read_okta("fuzz.json", data, options) {
            Ok(imported) => assert!(imported.directory.check().is_ok()),
            Err(error) => assert!(error.to_string().starts_with("fuzz.json")),
        }
    }
});
