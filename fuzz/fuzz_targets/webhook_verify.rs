//! Webhook verification on arbitrary headers and bodies: no panic, and nothing verifies
//! that the secret did not sign.
#![no_main]

use crosswalk_events::sign::DEFAULT_TOLERANCE;
use crosswalk_events::{WebhookSecret, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // id, timestamp, signature header and body, separated by 0xff bytes.
    let mut parts = data.splitn(4, |b| *b == 0xff);
    let text = |part: Option<&[u8]>| String::from_utf8_lossy(part.unwrap_or_default()).into_owned();
    let (id, timestamp, header) = (text(parts.next()), text(parts.next()), text(parts.next()));
    let body = parts.next().unwrap_or_default();
    let Ok(secret) = WebhookSecret::from_bytes(&[7; 32]) else { return };
    let now = timestamp.parse::<i64>().unwrap_or(0);
    let verified = verify(&secret, &id, &timestamp, &header, body, now, DEFAULT_TOLERANCE).is_ok();
    if verified && timestamp == now.to_string() {
        // Only a header holding the secret's own signature can verify.
        assert!(header.split(' ').any(|entry| entry == secret.sign(&id, now, body)));
    }
    let _ = WebhookSecret::parse(&header);
});
