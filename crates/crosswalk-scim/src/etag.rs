//! Resource versions (RFC 7644 §3.14): a weak ETag computed from what a resource says, so
//! that equal content always has the same version and any change gives a new one, across
//! restarts and machines (no process-seeded hashing).
//!
//! The hash is SHA-256 over a canonical form of the resource's JSON: object members sorted
//! by name, `meta` left out (it holds the version itself, and times that change without
//! the content changing), every value tagged with its type.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The version of a resource, e.g. `W/"a1b2c3d4e5f6a7b8a1b2c3d4e5f6a7b8"`.
pub fn etag<T: Serialize>(resource: &T) -> String {
    etag_of_json(&serde_json::to_value(resource).unwrap_or(Value::Null))
}

/// [`etag`] of a resource already in JSON form.
pub fn etag_of_json(resource: &Value) -> String {
    let mut hasher = Sha256::new();
    match resource {
        Value::Object(members) => {
            let mut keys: Vec<&String> = members
                .keys()
                .filter(|k| !k.eq_ignore_ascii_case("meta"))
                .collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                feed_string(&mut hasher, key);
                feed(&mut hasher, &members[key]);
            }
            hasher.update(b"}");
        }
        other => feed(&mut hasher, other),
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn feed_string(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

fn feed(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Null => hasher.update(b"n"),
        Value::Bool(b) => hasher.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            hasher.update(b"#");
            feed_string(hasher, &n.to_string());
        }
        Value::String(s) => {
            hasher.update(b"s");
            feed_string(hasher, s);
        }
        Value::Array(items) => {
            hasher.update(b"[");
            hasher.update((items.len() as u64).to_le_bytes());
            items.iter().for_each(|item| feed(hasher, item));
        }
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort();
            hasher.update(b"{");
            hasher.update((keys.len() as u64).to_le_bytes());
            for key in keys {
                feed_string(hasher, key);
                feed(hasher, &members[key]);
            }
        }
    }
}

/// The ETags listed in an `If-Match` or `If-None-Match` header (`*`, or quoted tags, weak
/// or not, separated by commas).
fn listed(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// The opaque part of an ETag, for weak comparison (RFC 9110 §8.8.3.2): `W/"x"` and `"x"`
/// compare equal.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Whether an `If-Match` header lets a write to a resource at version `current` go ahead
/// (otherwise: 412 Precondition Failed). `*` matches any existing resource.
pub fn if_match(header: &str, current: &str) -> bool {
    listed(header).any(|tag| tag == "*" || opaque(tag) == opaque(current))
}

/// Whether an `If-None-Match` header is satisfied by the version the client has, so that a
/// GET can answer 304 Not Modified.
pub fn if_none_match(header: &str, current: &str) -> bool {
    if_match(header, current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_content_equal_version_whatever_the_order_or_meta() {
        let a = json!({"id": "u1", "userName": "a", "emails": [{"value": "x", "primary": true}], "meta": {"lastModified": "2024-01-01T00:00:00Z"}});
        let b = json!({"emails": [{"primary": true, "value": "x"}], "userName": "a", "id": "u1", "meta": {"version": "W/\"old\""}});
        assert_eq!(etag_of_json(&a), etag_of_json(&b));
        let c = json!({"id": "u1", "userName": "b", "emails": [{"value": "x", "primary": true}]});
        assert_ne!(etag_of_json(&a), etag_of_json(&c));
        // Types are part of the content: "1" is not 1, ["ab"] is not ["a","b"].
        assert_ne!(
            etag_of_json(&json!({"x": "1"})),
            etag_of_json(&json!({"x": 1}))
        );
        assert_ne!(
            etag_of_json(&json!({"x": ["ab"]})),
            etag_of_json(&json!({"x": ["a", "b"]}))
        );
        let tag = etag_of_json(&a);
        assert!(
            tag.starts_with("W/\"") && tag.ends_with('"') && tag.len() == 36,
            "{tag}"
        );
    }

    #[test]
    fn preconditions_compare_weakly() {
        let current = "W/\"abc\"";
        assert!(if_match("*", current));
        assert!(if_match("\"abc\"", current));
        assert!(if_match("W/\"zzz\", W/\"abc\"", current));
        assert!(!if_match("W/\"abd\"", current));
        assert!(!if_none_match("W/\"abd\"", current));
    }
}
