//! Webhook URL and allow-range checks on arbitrary text: no panic; an accepted URL is plain
//! http(s) with a host and no user info; an accepted range reads back as itself.
#![no_main]

use crosswalk_events::{TargetPolicy, parse_range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(url) = TargetPolicy::new().check_url(text) {
        let url = url.as_url();
        assert!(matches!(url.scheme(), "http" | "https"));
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.host().is_some());
    }
    if let Ok(range) = parse_range(text) {
        assert_eq!(parse_range(&range.to_string()), Ok(range));
    }
});
