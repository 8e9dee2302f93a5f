//! Reading an event body (what a receiver parses) on arbitrary bytes: no panic, and an
//! event that reads writes back to a body that reads as the same event.
#![no_main]

use crosswalk_events::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = Event::from_body(data) {
        if let Ok(body) = event.to_body() {
            assert_eq!(Event::from_body(body.as_bytes()).ok(), Some(event));
        }
    }
});
