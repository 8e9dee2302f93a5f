//! The SCIM filter parser on arbitrary text: no panic; what parses prints back to the same
//! tree; what compiles against a resource type evaluates and plans without panicking.
#![no_main]

use crosswalk_scim::filter::pushdown::plan;
use crosswalk_scim::{Filter, GROUP, USER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(filter) = Filter::parse(&text) else { return };
    assert_eq!(Filter::parse(&filter.to_string()).ok(), Some(filter.clone()));
    let user = serde_json::json!({
        "id": "u1", "userName": "bjensen", "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
        "active": true, "meta": {"lastModified": "2011-05-13T04:42:34Z"}
    });
    for rt in [&USER, &GROUP] {
        if let Ok(compiled) = filter.compile(rt) {
            let _ = compiled.matches(&user);
            let _ = plan(&compiled);
        }
    }
});
