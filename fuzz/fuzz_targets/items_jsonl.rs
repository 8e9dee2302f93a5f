//! The JSON Lines items reader on arbitrary bytes: no panic, and every reference it returns
//! has a container and an identity, an item unless it is a permission, and permissions only
//! on a permission.
#![no_main]

use crosswalk_formats::read_items_jsonl;
use crosswalk_plan::Role;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(references) = read_items_jsonl("fuzz.jsonl", data) {
        for reference in references {
            assert!(!reference.container.is_empty() && !reference.identity.is_empty());
            assert!(reference.item.is_some() || reference.role == Role::Permission);
            assert!(reference.permissions == 0 || reference.role == Role::Permission);
        }
    }
});
