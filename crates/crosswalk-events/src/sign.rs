//! Webhook signatures, as Standard Webhooks defines them (`docs/webhooks.md`).
//!
//! Each delivery attempt carries three headers: `webhook-id` (the event's `messageId`),
//! `webhook-timestamp` (the attempt's time, Unix seconds) and `webhook-signature`, a
//! space-separated list of `v1,<base64 HMAC-SHA256>` signatures over
//! `{webhook-id}.{webhook-timestamp}.{body}`. The key is the secret's bytes (the base64
//! after `whsec_`). More than one signature is sent while a subscription's secret is being
//! rotated: one per secret in use, so a receiver holding either secret accepts it.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::Sha256;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How a secret is written for people: `whsec_` and the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a generated secret: 256 bits, as much as HMAC-SHA256 can use.
pub const GENERATED_SECRET_BYTES: usize = 32;
/// Standard Webhooks' bounds on a secret's key: 24 to 64 bytes.
pub const MIN_SECRET_BYTES: usize = 24;
pub const MAX_SECRET_BYTES: usize = 64;
/// How far a receiver lets `webhook-timestamp` be from its own clock, either way, by
/// default: the Standard Webhooks libraries' five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

/// A subscription's signing key. Its `Debug` output hides the key; the only way to see it
/// is [`WebhookSecret::to_whsec`], which the application layer calls once, to show it to
/// the admin who created the subscription (and to store it: signing needs the key itself,
/// so unlike an API token it cannot be kept as a hash).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a text is not a webhook secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with `{SECRET_PREFIX}`")]
    MissingPrefix,
    #[error("the part of a webhook secret after `{SECRET_PREFIX}` must be base64")]
    NotBase64,
    #[error(
        "a webhook secret's key must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes; this one has {0}"
    )]
    Length(usize),
}

impl WebhookSecret {
    /// A new random secret from the operating system's generator.
    pub fn generate() -> Result<WebhookSecret, rand::rand_core::OsError> {
        let mut key = vec![0; GENERATED_SECRET_BYTES];
        OsRng.try_fill_bytes(&mut key)?;
        Ok(WebhookSecret { key })
    }

    pub fn from_bytes(key: &[u8]) -> Result<WebhookSecret, SecretError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(WebhookSecret { key: key.to_vec() })
    }

    /// Reads `whsec_<base64>` (padding optional).
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| SecretError::NotBase64)?;
        WebhookSecret::from_bytes(&key)
    }

    /// The secret as it is shown once and stored: `whsec_` and standard base64.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The MAC over `{message_id}.{timestamp}.{body}`, with the timestamp as written in
    /// the header.
    fn mac(&self, message_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length; the constructor's error cannot happen.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// One `v1,<base64>` signature.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self
            .mac(message_id, &timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(hidden)")
    }
}

/// The three headers of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`: the event's `messageId`.
    pub id: String,
    /// `webhook-timestamp`: the attempt's time, Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`: one `v1,…` per secret, space-separated.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs, in the order they are sent.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_ID, self.id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }
}

/// Signs one attempt with every secret given (the current one first, then any being
/// retired). `message_id` must contain no `.` (a UUID never does): the signed text
/// separates its parts with dots.
pub fn sign(
    secrets: &[&WebhookSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> SignedHeaders {
    let signature = secrets
        .iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    SignedHeaders {
        id: message_id.to_owned(),
        timestamp,
        signature,
    }
}

/// Why a delivery does not verify. The messages are for a receiver's logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the `{0}` header is missing or empty")]
    MissingHeader(&'static str),
    #[error("`webhook-id` must not contain `.`")]
    InvalidId,
    #[error("`webhook-timestamp` must be whole Unix seconds")]
    InvalidTimestamp,
    #[error(
        "`webhook-timestamp` is {0} s in the past, beyond the tolerance: a replay or a slow clock"
    )]
    TooOld(u64),
    #[error("`webhook-timestamp` is {0} s in the future, beyond the tolerance: check the clocks")]
    TooNew(u64),
    #[error("no `v1` signature in `webhook-signature` matches this secret")]
    NoMatchingSignature,
}

/// Checks one received delivery against the receiver's secret: the timestamp within
/// `tolerance` of `now` (Unix seconds) either way, then any `v1` signature in the header
/// matching, compared in constant time. Entries of other versions (`v1a,…`) and malformed
/// entries are skipped, as the specification asks, so a header can carry signatures for
/// several schemes and secrets.
pub fn verify(
    secret: &WebhookSecret,
    message_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if message_id.is_empty() {
        return Err(VerifyError::MissingHeader(HEADER_ID));
    }
    if message_id.contains('.') {
        return Err(VerifyError::InvalidId);
    }
    if timestamp.is_empty() {
        return Err(VerifyError::MissingHeader(HEADER_TIMESTAMP));
    }
    if signature_header.trim().is_empty() {
        return Err(VerifyError::MissingHeader(HEADER_SIGNATURE));
    }
    let sent_at = parse_timestamp(timestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let age = now.saturating_sub(sent_at);
    if age > tolerance {
        return Err(VerifyError::TooOld(age.unsigned_abs()));
    }
    if age < tolerance.saturating_neg() {
        return Err(VerifyError::TooNew(age.unsigned_abs()));
    }
    let mac = secret.mac(message_id, timestamp, body);
    let matched = signature_header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
        // `verify_slice` compares in constant time (and fails on a wrong length).
        .any(|candidate| mac.clone().verify_slice(&candidate).is_ok());
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

/// Whole seconds only, digits only (no sign, no fraction): what [`sign`] writes.
fn parse_timestamp(text: &str) -> Result<i64, VerifyError> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    text.parse().map_err(|_| VerifyError::InvalidTimestamp)
}
