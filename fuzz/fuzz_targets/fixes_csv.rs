//! The edited-findings reader on arbitrary bytes: no panic; fixes come back only when no row
//! was bad, at most one per identity, each with a key.
#![no_main]

use std::collections::BTreeSet;

use crosswalk_formats::read_fixes_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_fixes_csv("fuzz.csv", data) {
        Ok(rows) => {
            let keys: BTreeSet<&str> = rows.iter().map(|row| row.user_key.as_str()).collect();
            assert_eq!(keys.len(), rows.len());
            assert!(!keys.contains(""));
        }
        Err(problems) => assert!(!problems.is_empty()),
    }
});
