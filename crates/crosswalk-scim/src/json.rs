//! JSON as SCIM reads it: duplicate names refused, attribute names matched without regard
//! to case, and every problem located by a JSON pointer (RFC 6901).
//!
//! `serde_json::Value` keeps the last of two equal keys and says nothing, so a resource
//! with `"id"` twice would silently become whichever came second. [`StrictValueSeed`]
//! reads a value the way `Value` does but notes where the first duplicate name was, and
//! [`find`] refuses two spellings of one name (`"userName"` and `"username"`), which SCIM
//! treats as the same attribute.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::ScimError;

/// A problem inside one JSON document: a pointer relative to the document, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if pointer.is_empty() { String::new() } else { format!("{pointer}: ") })]
pub struct AttributeError {
    /// JSON pointer to the value at fault (`/emails/0/value`); empty for the whole document.
    pub pointer: String,
    pub reason: String,
}

impl AttributeError {
    pub fn new(pointer: impl Into<String>, reason: impl Into<String>) -> AttributeError {
        AttributeError {
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }

    /// The top-level attribute the problem is in (`emails` for `/emails/0/value`).
    pub fn field(&self) -> Option<&str> {
        self.pointer.split('/').nth(1).filter(|f| !f.is_empty())
    }

    /// With `prefix` (a pointer) put in front, for a document nested in another.
    pub fn within(mut self, prefix: &str) -> AttributeError {
        self.pointer.insert_str(0, prefix);
        self
    }
}

impl From<AttributeError> for ScimError {
    /// A resource or message with a value of the wrong type or form: 400 `invalidValue`.
    fn from(error: AttributeError) -> ScimError {
        ScimError::invalid_value(error.to_string())
    }
}

/// `parent` + `/` + `key`, with the key escaped as RFC 6901 requires.
pub fn pointer(parent: &str, key: &str) -> String {
    let mut out = String::with_capacity(parent.len() + key.len() + 1);
    push_pointer(&mut out, key);
    out.insert_str(0, parent);
    out
}

fn push_pointer(out: &mut String, key: &str) {
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Quotes a value for a message, shortened so a 2 MB field does not become a 2 MB error.
pub fn quoted(value: &str) -> String {
    const MAX: usize = 80;
    if value.len() <= MAX {
        return format!("{value:?}");
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}...", &value[..end])
}

/// `the string "x"`, `the number 4`, `an array`...: what was found, for a message.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", quoted(s)),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

pub fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

// ---------------------------------------------------------------------------------------
// Reading with duplicate names refused
// ---------------------------------------------------------------------------------------

/// Reads one JSON value like `Value`'s own `Deserialize`, and records in `duplicate` the
/// pointer of the first name that appears twice in one object (the later value is kept, as
/// `Value` would, so that the caller can still say what the document was about).
pub struct StrictValueSeed<'a> {
    /// The pointer of the value being read; restored to its length on return.
    pub path: &'a mut String,
    pub duplicate: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for StrictValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        let base = self.path.len();
        loop {
            {
                use fmt::Write;
                let _ = write!(self.path, "/{}", items.len());
            }
            let item = seq.next_element_seed(StrictValueSeed {
                path: &mut *self.path,
                duplicate: &mut *self.duplicate,
            });
            self.path.truncate(base);
            match item? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let base = self.path.len();
        while let Some(key) = map.next_key::<String>()? {
            push_pointer(self.path, &key);
            if self.duplicate.is_none() && object.contains_key(&key) {
                *self.duplicate = Some(self.path.clone());
            }
            let value = map.next_value_seed(StrictValueSeed {
                path: &mut *self.path,
                duplicate: &mut *self.duplicate,
            });
            self.path.truncate(base);
            object.insert(key, value?);
        }
        Ok(Value::Object(object))
    }
}

/// Why a request body is not a JSON document SCIM can read.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{pointer}: attribute given twice; a JSON object names each attribute once")]
    Duplicate { pointer: String },
}

impl From<JsonError> for ScimError {
    /// 400 `invalidSyntax`: the body is not JSON, or names an attribute twice.
    fn from(error: JsonError) -> ScimError {
        ScimError::invalid_syntax(error.to_string())
    }
}

/// Parses a whole document, refusing a name given twice in one object.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut path = String::new();
    let mut duplicate = None;
    let value = StrictValueSeed {
        path: &mut path,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value))
    .map_err(|e| JsonError::Syntax {
        line: e.line(),
        column: e.column(),
        message: json_message(&e),
    })?;
    match duplicate {
        Some(pointer) => Err(JsonError::Duplicate { pointer }),
        None => Ok(value),
    }
}

/// serde_json's message without its " at line L column C", which callers say better.
pub fn json_message(error: &serde_json::Error) -> String {
    let mut message = error.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    message
}

// ---------------------------------------------------------------------------------------
// Attributes by name, case ignored
// ---------------------------------------------------------------------------------------

/// An attribute as found: its name as spelt in the document, and its value.
pub type Attr<'v> = Option<(&'v str, &'v Value)>;

/// Finds an attribute by name, ignoring case as SCIM requires; two spellings of one name
/// in the same object are an error rather than a coin toss.
pub fn find<'v>(
    object: &'v Map<String, Value>,
    name: &str,
    parent: &str,
) -> Result<Attr<'v>, AttributeError> {
    let mut found: Attr<'v> = None;
    for (key, value) in object {
        if key.eq_ignore_ascii_case(name) {
            if let Some((first, _)) = found {
                return Err(AttributeError::new(
                    pointer(parent, key),
                    format!(
                        "attribute given twice, as {first:?} and {key:?} (SCIM names ignore case)"
                    ),
                ));
            }
            found = Some((key.as_str(), value));
        }
    }
    Ok(found)
}

/// A string, or nothing for absent and `null`.
pub fn opt_str<'v>(attr: Attr<'v>, parent: &str) -> Result<Option<&'v str>, AttributeError> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((key, other)) => Err(AttributeError::new(
            pointer(parent, key),
            expected("a string", other),
        )),
    }
}

/// A string that, when given, is not blank.
pub fn opt_nonblank_str<'v>(
    attr: Attr<'v>,
    parent: &str,
) -> Result<Option<&'v str>, AttributeError> {
    match opt_str(attr, parent)? {
        Some(s) if s.trim().is_empty() => Err(AttributeError::new(
            pointer(parent, attr.map_or("", |(k, _)| k)),
            "must not be empty",
        )),
        other => Ok(other),
    }
}

/// A required, non-blank string; `name` is used when the attribute is missing altogether.
pub fn required_str<'v>(
    attr: Attr<'v>,
    parent: &str,
    name: &str,
) -> Result<&'v str, AttributeError> {
    match opt_nonblank_str(attr, parent)? {
        Some(s) => Ok(s),
        None => Err(AttributeError::new(pointer(parent, name), "is required")),
    }
}

/// A boolean; also the strings `"true"`/`"false"` in any case, which Entra ID sends.
pub fn opt_bool(attr: Attr<'_>, parent: &str) -> Result<Option<bool>, AttributeError> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, value)) if bool_of(value).is_some() => Ok(bool_of(value)),
        Some((key, other)) => Err(AttributeError::new(
            pointer(parent, key),
            expected("true or false", other),
        )),
    }
}

/// `true`/`false`, or a string that says one of them in any case (Entra's `"False"`).
pub fn bool_of(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A JSON object or array found at a pointer (kept, to point inside it).
pub type Located<'v, T> = Option<(String, &'v T)>;

pub fn opt_object<'v>(
    attr: Attr<'v>,
    parent: &str,
) -> Result<Located<'v, Map<String, Value>>, AttributeError> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((key, Value::Object(m))) => Ok(Some((pointer(parent, key), m))),
        Some((key, other)) => Err(AttributeError::new(
            pointer(parent, key),
            expected("an object", other),
        )),
    }
}

pub fn opt_array<'v>(
    attr: Attr<'v>,
    parent: &str,
) -> Result<Located<'v, Vec<Value>>, AttributeError> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((key, Value::Array(a))) => Ok(Some((pointer(parent, key), a))),
        Some((key, other)) => Err(AttributeError::new(
            pointer(parent, key),
            expected("an array", other),
        )),
    }
}

/// The members of an array attribute, each an object, with their pointers.
pub fn objects_in<'v>(
    at: &str,
    items: &'v [Value],
    what: &str,
) -> impl Iterator<Item = Result<(String, &'v Map<String, Value>), AttributeError>> {
    items.iter().enumerate().map(move |(i, item)| {
        let item_at = format!("{at}/{i}");
        match item {
            Value::Object(object) => Ok((item_at, object)),
            other => Err(AttributeError::new(item_at, expected(what, other))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_any_depth_with_their_pointer() {
        let error =
            parse_strict(br#"{"id":"a","emails":[{"value":"x"},{"value":"y","value":"z"}]}"#)
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "/emails/1/value: attribute given twice; a JSON object names each attribute once"
        );
        let error = parse_strict(br#"{"id":"a","id":"b"}"#).unwrap_err();
        assert!(matches!(error, JsonError::Duplicate { pointer } if pointer == "/id"));
        let error = parse_strict(br#"{"a/b":{"~":1,"~":2}}"#).unwrap_err();
        assert!(matches!(error, JsonError::Duplicate { pointer } if pointer == "/a~1b/~0"));
        assert_eq!(
            parse_strict(br#"{"a":[1,{"b":null}],"c":1.5}"#).unwrap(),
            serde_json::json!({"a":[1,{"b":null}],"c":1.5})
        );
        assert!(matches!(
            parse_strict(b"{\"a\":1} x"),
            Err(JsonError::Syntax { .. })
        ));
    }

    #[test]
    fn case_variants_are_refused_by_find() {
        let object = serde_json::json!({"userName": "a", "USERNAME": "b"});
        let error = find(object.as_object().unwrap(), "username", "").unwrap_err();
        assert!(error.reason.contains("attribute given twice"), "{error}");
    }
}
