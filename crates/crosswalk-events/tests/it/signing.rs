//! Signatures: the Standard Webhooks scheme, replays, rotation, secrets, and the
//! verification examples of docs/webhooks.md run against the signer.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crosswalk_events::sign::{DEFAULT_TOLERANCE, GENERATED_SECRET_BYTES};
use crosswalk_events::{SecretError, VerifyError, WebhookSecret, sign, verify};
use proptest::prelude::*;
use serde_json::json;

use crate::docs_webhooks;
use crate::events::code_blocks;

const ID: &str = "0b9e2f8c-6d1e-4c55-9d8e-2f4b7a1c3e90";
const BODY: &[u8] = br#"{"messageId":"0b9e2f8c-6d1e-4c55-9d8e-2f4b7a1c3e90","type":"job.started"}"#;
const NOW: i64 = 1_777_889_700;

fn secret(byte: u8) -> WebhookSecret {
    WebhookSecret::from_bytes(&[byte; 32]).unwrap()
}

fn check(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    header: &str,
    body: &[u8],
) -> Result<(), VerifyError> {
    verify(secret, id, timestamp, header, body, NOW, DEFAULT_TOLERANCE)
}

#[test]
fn the_standard_webhooks_test_vector() {
    // The signing test of the Standard Webhooks Python library (libraries/python/tests):
    // the same key, id, timestamp and payload give the same signature, so any of its
    // libraries verifies Crosswalk's events.
    let key = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let signed = key.sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[test]
fn a_signed_delivery_verifies_and_any_change_breaks_it() {
    let key = secret(7);
    let headers = sign(&[&key], ID, NOW, BODY);
    assert_eq!(headers.id, ID);
    assert_eq!(headers.timestamp, NOW);
    assert!(headers.signature.starts_with("v1,"));
    let ts = NOW.to_string();
    assert_eq!(check(&key, ID, &ts, &headers.signature, BODY), Ok(()));

    let mut tampered = BODY.to_vec();
    tampered[20] ^= 1;
    assert_eq!(
        check(&key, ID, &ts, &headers.signature, &tampered),
        Err(VerifyError::NoMatchingSignature)
    );
    let other_id = "1b9e2f8c-6d1e-4c55-9d8e-2f4b7a1c3e90";
    assert_eq!(
        check(&key, other_id, &ts, &headers.signature, BODY),
        Err(VerifyError::NoMatchingSignature)
    );
    // A replay with a fresh timestamp but the old signature.
    let later = (NOW + 1).to_string();
    assert_eq!(
        check(&key, ID, &later, &headers.signature, BODY),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        check(&secret(8), ID, &ts, &headers.signature, BODY),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn a_replay_outside_the_tolerance_is_refused_even_with_a_valid_signature() {
    let key = secret(7);
    let tolerance = DEFAULT_TOLERANCE.as_secs() as i64;
    for (sent, expected) in [
        (NOW - tolerance, Ok(())),
        (NOW + tolerance, Ok(())),
        (NOW - tolerance - 1, Err(VerifyError::TooOld(301))),
        (NOW + tolerance + 1, Err(VerifyError::TooNew(301))),
        (NOW - 86_400, Err(VerifyError::TooOld(86_400))),
    ] {
        let headers = sign(&[&key], ID, sent, BODY);
        assert_eq!(
            check(&key, ID, &sent.to_string(), &headers.signature, BODY),
            expected,
            "sent at {sent}"
        );
    }
    let narrow = verify(
        &key,
        ID,
        &(NOW - 11).to_string(),
        &sign(&[&key], ID, NOW - 11, BODY).signature,
        BODY,
        NOW,
        Duration::from_secs(10),
    );
    assert_eq!(narrow, Err(VerifyError::TooOld(11)));
}

#[test]
fn during_a_rotation_either_secret_verifies() {
    let (new, old) = (secret(1), secret(2));
    let headers = sign(&[&new, &old], ID, NOW, BODY);
    let entries: Vec<&str> = headers.signature.split(' ').collect();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|entry| entry.starts_with("v1,")));
    let ts = NOW.to_string();
    assert_eq!(check(&new, ID, &ts, &headers.signature, BODY), Ok(()));
    assert_eq!(check(&old, ID, &ts, &headers.signature, BODY), Ok(()));
    assert_eq!(
        check(&secret(3), ID, &ts, &headers.signature, BODY),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn other_versions_and_malformed_entries_are_skipped() {
    let key = secret(7);
    let good = key.sign(ID, NOW, BODY);
    let ts = NOW.to_string();
    let base64_of_good = good.trim_start_matches("v1,");
    let header = format!(
        "v1a,{base64_of_good} garbage v1,@@@ v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {good}"
    );
    assert_eq!(check(&key, ID, &ts, &header, BODY), Ok(()));
    // The right bytes under another version do not count.
    assert_eq!(
        check(&key, ID, &ts, &format!("v2,{base64_of_good}"), BODY),
        Err(VerifyError::NoMatchingSignature)
    );
    // A truncated signature is no match (and no panic).
    assert_eq!(
        check(&key, ID, &ts, &good[..good.len() - 4], BODY),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn missing_and_malformed_headers_are_named() {
    let key = secret(7);
    let good = key.sign(ID, NOW, BODY);
    let ts = NOW.to_string();
    assert_eq!(
        check(&key, "", &ts, &good, BODY),
        Err(VerifyError::MissingHeader("webhook-id"))
    );
    assert_eq!(
        check(&key, ID, "", &good, BODY),
        Err(VerifyError::MissingHeader("webhook-timestamp"))
    );
    assert_eq!(
        check(&key, ID, &ts, " ", BODY),
        Err(VerifyError::MissingHeader("webhook-signature"))
    );
    assert_eq!(
        check(&key, "a.b", &ts, &good, BODY),
        Err(VerifyError::InvalidId)
    );
    for bad in ["-1", "1.5", "+17", "1e9", "abc", "99999999999999999999"] {
        assert_eq!(
            check(&key, ID, bad, &good, BODY),
            Err(VerifyError::InvalidTimestamp),
            "{bad}"
        );
    }
    let message = VerifyError::TooOld(400).to_string();
    assert!(message.contains("400 s in the past"), "{message}");
}

#[test]
fn generated_secrets_are_random_32_byte_whsec_keys_that_debug_hides() {
    let a = WebhookSecret::generate().unwrap();
    let b = WebhookSecret::generate().unwrap();
    assert_ne!(a, b);
    let text = a.to_whsec();
    assert!(text.starts_with("whsec_"));
    let decoded = base64_decode(&text["whsec_".len()..]);
    assert_eq!(decoded.len(), GENERATED_SECRET_BYTES);
    assert_eq!(WebhookSecret::parse(&text).unwrap(), a, "round trip");
    assert_eq!(
        WebhookSecret::parse(text.trim_end_matches('=')).unwrap(),
        a,
        "padding optional"
    );
    let debug = format!("{a:?}");
    assert_eq!(debug, "WebhookSecret(hidden)");
    assert!(!debug.contains(&text[6..]));
}

#[test]
fn a_secret_that_is_not_one_is_refused_with_the_reason() {
    assert_eq!(
        WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        Err(SecretError::MissingPrefix)
    );
    assert_eq!(
        WebhookSecret::parse("whsec_not base64!"),
        Err(SecretError::NotBase64)
    );
    assert_eq!(
        WebhookSecret::parse("whsec_c2hvcnQ="),
        Err(SecretError::Length(5))
    );
    assert_eq!(
        WebhookSecret::from_bytes(&[0; 65]),
        Err(SecretError::Length(65))
    );
    assert!(WebhookSecret::from_bytes(&[0; 24]).is_ok());
    assert!(WebhookSecret::from_bytes(&[0; 64]).is_ok());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

proptest! {
    #[test]
    fn signatures_verify_for_any_body_and_fail_for_any_other(
        key in proptest::collection::vec(any::<u8>(), 24..=64),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        flip in any::<proptest::sample::Index>(),
        sent in (NOW - 300)..=(NOW + 300),
    ) {
        let key = WebhookSecret::from_bytes(&key).unwrap();
        let headers = sign(&[&key], ID, sent, &body);
        prop_assert_eq!(check(&key, ID, &sent.to_string(), &headers.signature, &body), Ok(()));
        if !body.is_empty() {
            let mut other = body.clone();
            other[flip.index(body.len())] ^= 0x20;
            prop_assert_eq!(check(&key, ID, &sent.to_string(), &headers.signature, &other), Err(VerifyError::NoMatchingSignature));
        }
    }

    /// No panic on anything a sender can put in the headers and body.
    #[test]
    fn verify_never_panics(id in ".{0,40}", timestamp in ".{0,24}", header in ".{0,200}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = check(&secret(7), &id, &timestamp, &header, &body);
    }

    #[test]
    fn secret_parsing_never_panics(text in ".{0,120}") {
        let _ = WebhookSecret::parse(&text);
        let _ = WebhookSecret::parse(&format!("whsec_{text}"));
    }
}

/// Whether `program` runs here. Under CI a missing tool fails the test; elsewhere the test
/// says SKIP loudly and passes.
fn tool_available(program: &str, probe: &[&str]) -> bool {
    let found = Command::new(program)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is needed for this test under CI"
        );
        eprintln!("SKIP: {program} is not installed; the docs/webhooks.md example is not tested");
    }
    found
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_documented_python_example_verifies_what_crosswalk_signs() {
    if !tool_available("python3", &["--version"]) {
        return;
    }
    let example = code_blocks(&docs_webhooks(), "python")
        .into_iter()
        .next()
        .expect("a Python example in docs/webhooks.md");
    assert!(example.contains("def verify_crosswalk_webhook("));
    let harness = r#"
import json, sys
results = []
for case in json.load(sys.stdin):
    try:
        verify_crosswalk_webhook(case["secret"], case["headers"], case["body"].encode())
        results.append("ok")
    except ValueError as error:
        results.append("rejected")
print(json.dumps(results))
"#;
    let (current, old) = (
        WebhookSecret::generate().unwrap(),
        WebhookSecret::generate().unwrap(),
    );
    let now = unix_now();
    let body = std::str::from_utf8(BODY).unwrap();
    let case = |secret: &WebhookSecret, id: &str, timestamp: i64, signature: &str, body: &str| {
        json!({
            "secret": secret.to_whsec(),
            // Header names as a framework may pass them: capitalised.
            "headers": {"Webhook-Id": id, "Webhook-Timestamp": timestamp.to_string(), "Webhook-Signature": signature},
            "body": body,
        })
    };
    let fresh = sign(&[&current], ID, now, BODY).signature;
    let rotating = sign(&[&current, &old], ID, now, BODY).signature;
    let stale = sign(&[&current], ID, now - 600, BODY).signature;
    let cases = json!([
        case(&current, ID, now, &fresh, body),    // genuine
        case(&old, ID, now, &rotating, body),     // rotation: the old secret
        case(&current, ID, now, &rotating, body), // rotation: the new secret
        case(
            &current,
            ID,
            now,
            &fresh,
            &body.replace("started", "failed")
        ), // forged body
        case(&old, ID, now, &fresh, body),        // another secret
        case(&current, ID, now - 600, &stale, body), // replayed 10 min later
        case(&current, ID, now, &format!("v1a,xyz v1,!!! {fresh}"), body), // other entries skipped
        case(&current, ID, now, "v1,!!!", body),  // malformed only
    ]);
    let program = format!("{example}\n{harness}");
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(&program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        results,
        [
            "ok", "ok", "ok", "rejected", "rejected", "rejected", "ok", "rejected"
        ]
    );
}

#[test]
fn the_documented_shell_example_verifies_what_crosswalk_signs() {
    if !tool_available("openssl", &["version"]) || !tool_available("bash", &["--version"]) {
        return;
    }
    let example = code_blocks(&docs_webhooks(), "sh")
        .into_iter()
        .next()
        .expect("a shell example in docs/webhooks.md");
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body.json");
    std::fs::write(&body_path, BODY).unwrap();
    let key = WebhookSecret::generate().unwrap();
    let other = WebhookSecret::generate().unwrap();
    let run = |signature: &str, timestamp: i64| -> String {
        // The example's three placeholder lines get this request's values.
        let mut replaced = 0;
        let script: Vec<String> = example
            .lines()
            .map(|line| {
                let value = if line.starts_with("secret=") {
                    format!("secret='{}'", key.to_whsec())
                } else if line.starts_with("id=") {
                    format!("id='{ID}' ts='{timestamp}' sig='{signature}'")
                } else if line.starts_with("body=") {
                    format!("body='{}'", body_path.display())
                } else {
                    return line.to_owned();
                };
                replaced += 1;
                value
            })
            .collect();
        assert_eq!(replaced, 3, "the shell example's placeholder lines changed");
        let output = Command::new("bash")
            .arg("-c")
            .arg(script.join("\n"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let now = unix_now();
    assert_eq!(run(&sign(&[&key], ID, now, BODY).signature, now), "valid");
    assert_eq!(
        run(&sign(&[&other, &key], ID, now, BODY).signature, now),
        "valid"
    );
    assert_eq!(
        run(&sign(&[&other], ID, now, BODY).signature, now),
        "invalid signature"
    );
    assert_eq!(
        run(&sign(&[&key], ID, now - 600, BODY).signature, now - 600),
        "stale timestamp"
    );
}
