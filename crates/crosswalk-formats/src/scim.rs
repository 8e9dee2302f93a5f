//! Directories as SCIM 2.0 JSON (RFC 7643/7644): what identity providers such as Entra ID,
//! Okta or a SCIM server's `/Users` and `/Groups` endpoints give out.
//!
//! Three shapes are read, told apart by the content rather than the file name:
//!
//! * a `ListResponse` (`{"schemas":[".../ListResponse"],"Resources":[...]}`), possibly
//!   pretty-printed over many lines, or minified on one;
//! * a plain JSON array of resources;
//! * JSON Lines: one User or Group resource per line (a line may also hold a whole
//!   `ListResponse` page, so a dump of paged API responses reads as it is).
//!
//! A document that does not end on its first line is one document (the first two shapes);
//! one that does is the first line of JSON Lines. Documents are streamed: the resources of
//! a million-user `ListResponse` are parsed and converted one at a time, never held as one
//! JSON tree.
//!
//! Mapping (attribute names are case-insensitive, as SCIM says; unknown attributes are
//! ignored, as SCIM says; `null` is the same as absent; a known attribute of the wrong JSON
//! type is an error):
//!
//! | SCIM | Crosswalk |
//! |---|---|
//! | `schemas` (core User/Group URN), else `meta.resourceType` | account or group |
//! | `id` (required) | `id` |
//! | `userName` | `username` |
//! | `name.givenName`, `name.familyName` | `given_name`, `family_name` |
//! | `displayName`, else `name.formatted` | `display_name` |
//! | `emails[]`: the one with `primary: true`, else the first | `email` |
//! | `emails[]`: the others, in order | `alias_emails` |
//! | `active` (`true`/`false`, or Entra's `"True"`/`"False"`; default `true`) | `active` |
//! | extension [`CROSSWALK_USER_EXTENSION`]: `sourceDirectory`, `emailVerified` | `source_directory`, `email_verified` |
//! | Group `displayName` (required) | `name`, and `display_name` |
//! | extension [`CROSSWALK_GROUP_EXTENSION`]: `displayName` (string or `null`) | `display_name` when it differs from the name |
//! | Group `members[].value` | `members` |
//!
//! `externalId`, `meta` (apart from `resourceType`), the enterprise extension and anything
//! else are not read.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::rc::Rc;

use serde::Serialize;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crosswalk_core::{Account, CompactString, Directory, Group};

use crate::builder::{Builder, Layout, Spot};
use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::limits::{Budget, MAX_SCIM_RESOURCE_BYTES, TooLong, located};
use crate::{Imported, ReadOptions};

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Crosswalk's own User extension, for the account fields SCIM has no attribute for:
/// `sourceDirectory` (string) and `emailVerified` (boolean).
pub const CROSSWALK_USER_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:User";
/// Crosswalk's own Group extension: `displayName` (string or `null`), written only when a
/// group's display name is not simply its name, so that writing and reading give the same
/// group.
pub const CROSSWALK_GROUP_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:Group";

// ---------------------------------------------------------------------------------------
// Reading one resource
// ---------------------------------------------------------------------------------------

/// A problem inside one resource: a JSON pointer relative to the resource, and why.
struct Bad {
    pointer: String,
    reason: String,
}

impl Bad {
    fn new(pointer: String, reason: impl Into<String>) -> Bad {
        Bad { pointer, reason: reason.into() }
    }

    /// The top-level attribute the problem is in, for [`Diagnostic::field`].
    fn field(&self) -> Option<&str> {
        self.pointer.split('/').nth(1).filter(|f| !f.is_empty())
    }
}

/// `parent` + `/` + `key`, with the key escaped as RFC 6901 requires.
fn pointer(parent: &str, key: &str) -> String {
    let mut out = String::with_capacity(parent.len() + key.len() + 1);
    out.push_str(parent);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", quoted(s)),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

/// An attribute as found: its key as spelt in the file, and its value.
type Attr<'v> = Option<(&'v str, &'v Value)>;

/// Finds an attribute by name, ignoring case as SCIM requires; two spellings of one name in
/// the same object are an error rather than a coin toss.
fn find<'v>(object: &'v Map<String, Value>, name: &str, parent: &str) -> Result<Attr<'v>, Bad> {
    let mut found: Attr<'v> = None;
    for (key, value) in object {
        if key.eq_ignore_ascii_case(name) {
            if let Some((first, _)) = found {
                return Err(Bad::new(
                    pointer(parent, key),
                    format!("attribute given twice, as {first:?} and {key:?} (SCIM names ignore case)"),
                ));
            }
            found = Some((key.as_str(), value));
        }
    }
    Ok(found)
}

fn opt_str<'v>(attr: Attr<'v>, parent: &str) -> Result<Option<&'v str>, Bad> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((key, other)) => Err(Bad::new(pointer(parent, key), expected("a string", other))),
    }
}

fn opt_string(attr: Attr<'_>, parent: &str) -> Result<Option<String>, Bad> {
    Ok(opt_str(attr, parent)?.map(str::to_string))
}

/// A required, non-blank string; `name` is used when the attribute is missing altogether.
fn required_str<'v>(attr: Attr<'v>, parent: &str, name: &str) -> Result<&'v str, Bad> {
    match opt_str(attr, parent)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(Bad::new(pointer(parent, attr.map_or(name, |(k, _)| k)), "must not be empty")),
        None => Err(Bad::new(pointer(parent, name), "is required")),
    }
}

/// A boolean; also the strings `"true"`/`"false"` in any case, which Entra ID sends.
fn opt_bool(attr: Attr<'_>, parent: &str) -> Result<Option<bool>, Bad> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, Value::Bool(b))) => Ok(Some(*b)),
        Some((_, Value::String(s))) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some((_, Value::String(s))) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some((key, other)) => Err(Bad::new(pointer(parent, key), expected("true or false", other))),
    }
}

/// A JSON object or array found at a pointer (kept, to point inside it).
type Located<'v, T> = Option<(String, &'v T)>;

fn opt_object<'v>(attr: Attr<'v>, parent: &str) -> Result<Located<'v, Map<String, Value>>, Bad> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((key, Value::Object(m))) => Ok(Some((pointer(parent, key), m))),
        Some((key, other)) => Err(Bad::new(pointer(parent, key), expected("an object", other))),
    }
}

fn opt_array<'v>(attr: Attr<'v>, parent: &str) -> Result<Located<'v, Vec<Value>>, Bad> {
    match attr {
        None | Some((_, Value::Null)) => Ok(None),
        Some((key, Value::Array(a))) => Ok(Some((pointer(parent, key), a))),
        Some((key, other)) => Err(Bad::new(pointer(parent, key), expected("an array", other))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

/// A resource converted, groups with their member ids still to be checked.
enum Resource {
    User(Account),
    Group(Group, Vec<CompactString>),
}

fn parse_resource(value: &Value) -> Result<Resource, Bad> {
    let Value::Object(object) = value else {
        return Err(Bad::new(String::new(), expected("a SCIM User or Group (a JSON object)", value)));
    };
    let kind = resource_kind(object)?;
    let id = required_str(find(object, "id", "")?, "", "id")?.to_string();
    match kind {
        Kind::User => parse_user(object, id).map(Resource::User),
        Kind::Group => parse_group(object, id),
    }
}

/// User or Group, from the core schema URN in `schemas`, else `meta.resourceType`.
fn resource_kind(object: &Map<String, Value>) -> Result<Kind, Bad> {
    let mut from_schemas = None;
    if let Some((at, schemas)) = opt_array(find(object, "schemas", "")?, "")? {
        for (i, schema) in schemas.iter().enumerate() {
            let Value::String(schema) = schema else {
                return Err(Bad::new(format!("{at}/{i}"), expected("a schema URN (a string)", schema)));
            };
            let this = if schema.eq_ignore_ascii_case(USER_SCHEMA) {
                Kind::User
            } else if schema.eq_ignore_ascii_case(GROUP_SCHEMA) {
                Kind::Group
            } else {
                continue;
            };
            if from_schemas.is_some_and(|kind| kind != this) {
                return Err(Bad::new(at, "lists both the User and the Group schema; a resource is one or the other"));
            }
            from_schemas = Some(this);
        }
    }
    let mut from_meta = None;
    if let Some((at, meta)) = opt_object(find(object, "meta", "")?, "")? {
        let attr = find(meta, "resourceType", &at)?;
        if let Some(resource_type) = opt_str(attr, &at)? {
            from_meta = match resource_type {
                t if t.eq_ignore_ascii_case("User") => Some(Kind::User),
                t if t.eq_ignore_ascii_case("Group") => Some(Kind::Group),
                // Other resource types exist (e.g. extensions); they only matter if the
                // schemas do not say what this is.
                _ if from_schemas.is_some() => None,
                other => {
                    let key = attr.map_or("resourceType", |(k, _)| k);
                    return Err(Bad::new(
                        pointer(&at, key),
                        format!("expected \"User\" or \"Group\", found {}", quoted(other)),
                    ));
                }
            };
        }
    }
    from_schemas.or(from_meta).ok_or_else(|| {
        Bad::new(
            "/schemas".to_string(),
            format!(
                "cannot tell a User from a Group: add \"schemas\": [\"{USER_SCHEMA}\"] (or the Group \
                 schema), or \"meta\": {{\"resourceType\": \"User\"}}"
            ),
        )
    })
}

fn parse_user(object: &Map<String, Value>, id: String) -> Result<Account, Bad> {
    let username = opt_string(find(object, "userName", "")?, "")?;
    let (mut given_name, mut family_name, mut formatted) = (None, None, None);
    if let Some((at, name)) = opt_object(find(object, "name", "")?, "")? {
        given_name = opt_string(find(name, "givenName", &at)?, &at)?;
        family_name = opt_string(find(name, "familyName", &at)?, &at)?;
        formatted = opt_string(find(name, "formatted", &at)?, &at)?;
    }
    let display_name = opt_string(find(object, "displayName", "")?, "")?.or(formatted);

    let mut primary = None;
    let mut others = Vec::new();
    if let Some((at, emails)) = opt_array(find(object, "emails", "")?, "")? {
        for (i, entry) in emails.iter().enumerate() {
            let entry_at = format!("{at}/{i}");
            let Value::Object(entry) = entry else {
                return Err(Bad::new(entry_at, expected("an object with a \"value\"", entry)));
            };
            let value = required_str(find(entry, "value", &entry_at)?, &entry_at, "value")?.to_string();
            let is_primary = opt_bool(find(entry, "primary", &entry_at)?, &entry_at)?.unwrap_or(false);
            // Not used, but a known attribute: a wrong type means the export is not what we think.
            opt_str(find(entry, "type", &entry_at)?, &entry_at)?;
            if is_primary && primary.is_none() {
                primary = Some(value);
            } else {
                others.push(value);
            }
        }
    }
    let email = match primary {
        Some(primary) => Some(primary),
        None if others.is_empty() => None,
        None => Some(others.remove(0)),
    };

    let active = opt_bool(find(object, "active", "")?, "")?.unwrap_or(true);
    let (mut source_directory, mut email_verified) = (None, None);
    if let Some((at, extension)) = opt_object(find(object, CROSSWALK_USER_EXTENSION, "")?, "")? {
        source_directory = opt_string(find(extension, "sourceDirectory", &at)?, &at)?;
        email_verified = opt_bool(find(extension, "emailVerified", &at)?, &at)?;
    }
    Ok(Account {
        id: id.into(),
        username: username.map(Into::into),
        email: email.map(Into::into),
        alias_emails: others.into_iter().map(Into::into).collect(),
        display_name: display_name.map(Into::into),
        given_name: given_name.map(Into::into),
        family_name: family_name.map(Into::into),
        active,
        source_directory: source_directory.map(Into::into),
        email_verified,
    })
}

fn parse_group(object: &Map<String, Value>, id: String) -> Result<Resource, Bad> {
    let name = required_str(find(object, "displayName", "")?, "", "displayName")?.to_string();
    let mut display_name = Some(name.clone());
    if let Some((at, extension)) = opt_object(find(object, CROSSWALK_GROUP_EXTENSION, "")?, "")? {
        // Present-and-null means "no display name", unlike everywhere else where null is absent.
        match find(extension, "displayName", &at)? {
            None => {}
            Some((_, Value::Null)) => display_name = None,
            Some((_, Value::String(s))) => display_name = Some(s.clone()),
            Some((key, other)) => {
                return Err(Bad::new(pointer(&at, key), expected("a string or null", other)));
            }
        }
    }
    let mut members = Vec::new();
    if let Some((at, entries)) = opt_array(find(object, "members", "")?, "")? {
        members.reserve(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let entry_at = format!("{at}/{i}");
            let Value::Object(entry) = entry else {
                return Err(Bad::new(entry_at, expected("an object with a \"value\"", entry)));
            };
            members.push(required_str(find(entry, "value", &entry_at)?, &entry_at, "value")?.into());
            opt_str(find(entry, "type", &entry_at)?, &entry_at)?;
        }
    }
    Ok(Resource::Group(Group { id: id.into(), name: name.into(), display_name: display_name.map(Into::into), members: Vec::new() }, members))
}

/// The `id` of a resource too broken to read, so memberships naming it can say why they go.
fn loose_id(value: &Value) -> Option<&str> {
    let Value::Object(object) = value else { return None };
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")).and_then(|(_, v)| v.as_str())
}

fn is_list_response(object: &Map<String, Value>) -> bool {
    object.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("schemas")
            && value.as_array().is_some_and(|schemas| {
                schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(LIST_RESPONSE_SCHEMA)))
            })
    })
}

// ---------------------------------------------------------------------------------------
// Reading a file
// ---------------------------------------------------------------------------------------

/// Where parsed resources go, and what the streaming parser was doing when it stopped.
struct Sink {
    builder: Builder,
    /// An error raised inside a serde visitor, which serde can only carry as a string.
    fatal: Option<FormatError>,
    /// The line the reader is on, shared with [`CountingReader`].
    line: Rc<Cell<u64>>,
    /// The line the document starts on: resources read before the reader leaves it are on it.
    first_line: u64,
    /// Whether the parser is inside the resource array, and at which item.
    in_resources: bool,
    current_item: Option<u64>,
    /// The reader's count of the current resource's bytes, marked where each starts.
    budget: Budget,
}

impl Sink {
    /// One resource into the directory (or into `skipped`).
    fn resource(&mut self, value: &Value, spot: Spot) -> Result<(), FormatError> {
        match parse_resource(value) {
            Ok(Resource::User(account)) => self.builder.add_account(account, spot),
            Ok(Resource::Group(group, members)) => {
                let id = group.id.clone();
                if self.builder.add_group(group, spot)? {
                    for (entry, member) in members.into_iter().enumerate() {
                        let entry = u32::try_from(entry).unwrap_or(u32::MAX);
                        self.builder.add_member(id.clone(), member, spot, entry);
                    }
                }
                Ok(())
            }
            Err(bad) => {
                if let Some(id) = loose_id(value) {
                    self.builder.forget(id, spot);
                }
                let field = bad.field().map(str::to_string);
                self.builder.reject(spot, &bad.pointer, field.as_deref(), bad.reason)
            }
        }
    }

    /// A whole parsed document or line: a ListResponse page, or one resource.
    fn value(&mut self, value: &Value, line: Option<u64>) -> Result<(), FormatError> {
        if let Value::Object(object) = value {
            if let Some((key, resources)) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("Resources")) {
                let Value::Array(items) = resources else {
                    let at = pointer("", key);
                    return self.builder.reject(
                        Spot { line, item: None },
                        &at,
                        Some(key),
                        expected("an array of resources", resources),
                    );
                };
                for (i, item) in items.iter().enumerate() {
                    self.resource(item, Spot { line, item: Some(i as u64) })?;
                }
                return Ok(());
            }
            if is_list_response(object) {
                // A page with no results may leave `Resources` out (RFC 7644 §3.4.2).
                return Ok(());
            }
        }
        self.resource(value, Spot { line, item: None })
    }

    /// The line of a resource being streamed, while the reader is still on the first line.
    fn streamed_line(&self) -> Option<u64> {
        (self.line.get() == self.first_line).then_some(self.first_line)
    }

    /// Where the streaming parser was, for a syntax error.
    fn context(&self) -> String {
        if !self.in_resources {
            return String::new();
        }
        let Layout::Scim { list_prefix } = self.builder.layout() else { return String::new() };
        match self.current_item {
            Some(item) => format!("{list_prefix}/{item}"),
            None => list_prefix.to_string(),
        }
    }

    fn stop<E: serde::de::Error>(&mut self, error: FormatError) -> E {
        self.fatal = Some(error);
        E::custom("stopped by an invalid resource")
    }
}

/// The top-level document, streamed: a ListResponse (or a lone resource), or an array.
struct DocumentSeed<'s> {
    sink: &'s mut Sink,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SCIM ListResponse, an array of SCIM resources, or one resource per line")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        let mut saw_resources = false;
        while let Some(key) = map.next_key::<String>()? {
            if !saw_resources && key.eq_ignore_ascii_case("Resources") {
                saw_resources = true;
                map.next_value_seed(ResourcesSeed { sink: &mut *self.sink })?;
            } else {
                let value: Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
        if saw_resources || is_list_response(&rest) {
            return Ok(());
        }
        // Not a ListResponse: the document is one resource.
        let line = self.sink.streamed_line();
        let resource = Value::Object(rest);
        match self.sink.resource(&resource, Spot { line, item: None }) {
            Ok(()) => Ok(()),
            Err(error) => Err(self.sink.stop(error)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ResourcesSeed { sink: self.sink }.visit_seq(seq)
    }
}

/// An array of resources, each parsed and handed over before the next is read.
struct ResourcesSeed<'s> {
    sink: &'s mut Sink,
}

impl<'de> DeserializeSeed<'de> for ResourcesSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.sink.in_resources = true;
        self.sink.current_item = None;
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of SCIM resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.sink.in_resources = true;
        let mut index = 0u64;
        loop {
            self.sink.current_item = Some(index);
            self.sink.budget.mark();
            let Some(resource) = seq.next_element::<Value>()? else { break };
            let spot = Spot { line: self.sink.streamed_line(), item: Some(index) };
            if let Err(error) = self.sink.resource(&resource, spot) {
                return Err(self.sink.stop(error));
            }
            index += 1;
        }
        self.sink.in_resources = false;
        self.sink.current_item = None;
        Ok(())
    }
}

/// A buffered reader that knows which line it is on, so messages can say, and refuses a
/// resource or line longer than [`MAX_SCIM_RESOURCE_BYTES`].
struct CountingReader<R> {
    inner: BufReader<R>,
    /// 1-based line of the next unread byte; shared with the [`Sink`].
    line: Rc<Cell<u64>>,
    /// Bytes of the current resource (or line), marked by the [`Sink`].
    budget: Budget,
}

impl<R: Read> CountingReader<R> {
    fn count(&self, bytes: &[u8]) {
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        self.line.set(self.line.get() + newlines);
    }

    /// Skips a UTF-8 byte order mark, which editors on Windows like to add.
    fn skip_bom(&mut self) -> std::io::Result<()> {
        if self.inner.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
            self.inner.consume(3);
        }
        Ok(())
    }

    /// Skips JSON whitespace; returns the line, column and value of the next byte, if any.
    fn skip_whitespace(&mut self) -> std::io::Result<Option<(u64, u64, u8)>> {
        let mut column = 1u64;
        loop {
            let buffer = self.inner.fill_buf()?;
            if buffer.is_empty() {
                return Ok(None);
            }
            let end = buffer.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
            let skipped = end.unwrap_or(buffer.len());
            for &b in &buffer[..skipped] {
                column = if b == b'\n' { 1 } else { column + 1 };
            }
            let next = end.map(|i| buffer[i]);
            let newlines = buffer[..skipped].iter().filter(|&&b| b == b'\n').count() as u64;
            self.inner.consume(skipped);
            self.line.set(self.line.get() + newlines);
            if let Some(byte) = next {
                return Ok(Some((self.line.get(), column, byte)));
            }
        }
    }

    /// Reads to the end of the line; `true` if anything but whitespace was there.
    fn discard_line(&mut self) -> std::io::Result<bool> {
        let mut content = false;
        loop {
            let buffer = self.inner.fill_buf()?;
            if buffer.is_empty() {
                return Ok(content);
            }
            let (taken, done) = match buffer.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buffer.len(), false),
            };
            content |= buffer[..taken].iter().any(|b| !b.is_ascii_whitespace());
            self.inner.consume(taken);
            if done {
                self.line.set(self.line.get() + 1);
                return Ok(content);
            }
        }
    }

    /// Appends the next line (with its `\n`) to `buffer`; 0 at the end of the input. A line
    /// longer than [`MAX_SCIM_RESOURCE_BYTES`] is an error, read no further.
    fn read_line(&mut self, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
        let limit = self.budget.limit();
        let n = (&mut self.inner).take(limit + 1).read_until(b'\n', buffer)?;
        if buffer.ends_with(b"\n") {
            self.line.set(self.line.get() + 1);
        } else if n as u64 > limit {
            return Err(TooLong::error("a line of JSON Lines", limit));
        }
        Ok(n)
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buffer = self.inner.fill_buf()?;
        let n = buffer.len().min(out.len());
        out[..n].copy_from_slice(&buffer[..n]);
        self.count(&out[..n]);
        self.inner.consume(n);
        self.budget.spend(n)?;
        Ok(n)
    }
}

/// serde_json's message without its " at line L column C", which the location says better.
fn json_message(error: &serde_json::Error) -> String {
    let mut message = error.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    message
}

/// Reads a directory from SCIM 2.0 JSON in any of the shapes in the [module docs](self).
///
/// `source_name` is only used in messages and to name the directory.
pub fn read_scim(source_name: &str, input: impl Read, options: ReadOptions) -> Result<Imported, FormatError> {
    read_scim_within(source_name, input, options, MAX_SCIM_RESOURCE_BYTES)
}

/// [`read_scim`] refusing a resource or line longer than `limit` bytes.
pub(crate) fn read_scim_within(source_name: &str, input: impl Read, options: ReadOptions, limit: u64) -> Result<Imported, FormatError> {
    let line = Rc::new(Cell::new(1u64));
    let budget = Budget::new("a SCIM resource", limit);
    let mut input =
        CountingReader { inner: BufReader::with_capacity(1 << 16, input), line: Rc::clone(&line), budget: budget.clone() };
    let io = |e| FormatError::io(source_name, e);
    input.skip_bom().map_err(io)?;
    let Some((first_line, first_column, first_byte)) = input.skip_whitespace().map_err(io)? else {
        // Nothing at all: no identities, which is a valid (if dull) export.
        return Builder::new(source_name, Layout::Scim { list_prefix: "/Resources" }, options).finish();
    };
    let list_prefix = if first_byte == b'[' { "" } else { "/Resources" };
    let mut sink = Sink {
        builder: Builder::new(source_name, Layout::Scim { list_prefix }, options),
        fatal: None,
        line: Rc::clone(&line),
        first_line,
        in_resources: false,
        current_item: None,
        budget,
    };

    // The first value is streamed, since it may be a whole minified export on one line.
    let outcome = {
        let mut deserializer = serde_json::Deserializer::from_reader(&mut input);
        DocumentSeed { sink: &mut sink }.deserialize(&mut deserializer)
    };
    let mut broken_first_line = false;
    if let Err(error) = outcome {
        if let Some(fatal) = sink.fatal.take() {
            return Err(fatal);
        }
        if error.is_io() {
            let at = Location { file: source_name.to_string(), line: Some(line.get()), pointer: Some(sink.context()) };
            return Err(located(source_name, || at, error.into()));
        }
        let error_line = first_line + error.line() as u64 - 1;
        let column = if error.line() == 1 { first_column + error.column() as u64 - 1 } else { error.column() as u64 };
        let context = sink.context();
        let diagnostic = Diagnostic::new(
            Location { file: source_name.to_string(), line: Some(error_line), pointer: Some(context) },
            None,
            format!("invalid JSON at column {column}: {}", json_message(&error)),
        );
        // A broken first line of JSON Lines can be skipped like any other line; a broken
        // document spanning lines cannot be resynchronised, so it fails either way.
        let skippable = options.skip_invalid && first_byte == b'{' && line.get() == first_line && !error.is_eof();
        if !skippable {
            return Err(diagnostic.into());
        }
        sink.builder.skip(diagnostic);
        input.discard_line().map_err(io)?;
        broken_first_line = true;
    }

    let json_lines = first_byte == b'{' && (broken_first_line || line.get() == first_line);
    if !json_lines {
        if let Some((line, column, _)) = input.skip_whitespace().map_err(io)? {
            return Err(FormatError::invalid(
                Location::line(source_name, line),
                None,
                format!(
                    "unexpected content at column {column} after the end of the JSON document; \
                     a file holds one document, or one resource per line (JSON Lines)"
                ),
            ));
        }
        return sink.builder.finish();
    }

    if !broken_first_line && input.discard_line().map_err(io)? {
        sink.builder.reject(
            Spot::line(first_line),
            "",
            None,
            "unexpected content after the JSON object; JSON Lines has one resource per line",
        )?;
    }
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let line_number = line.get();
        let read = input.read_line(&mut buffer);
        if read.map_err(|e| located(source_name, || Location::line(source_name, line_number), e))? == 0 {
            break;
        }
        let leading = buffer.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let content = buffer[leading..].trim_ascii_end();
        if content.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(content) {
            Ok(value) => sink.value(&value, Some(line_number))?,
            Err(error) => {
                let column = leading as u64 + error.column() as u64;
                sink.builder.reject(
                    Spot::line(line_number),
                    "",
                    None,
                    format!("invalid JSON at column {column}: {}", json_message(&error)),
                )?;
            }
        }
    }
    sink.builder.finish()
}

/// [`read_scim`] on a file, named by its path.
pub fn read_scim_file(path: impl AsRef<Path>, options: ReadOptions) -> Result<Imported, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_scim(&name, reader, options)
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct UserOut<'a> {
    schemas: &'static [&'static str],
    id: &'a str,
    #[serde(rename = "userName", skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "NameOut::is_empty")]
    name: NameOut<'a>,
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    emails: Vec<EmailOut<'a>>,
    active: bool,
    #[serde(rename = "urn:crosswalk:params:scim:schemas:extension:2.0:User", skip_serializing_if = "Option::is_none")]
    extension: Option<UserExtensionOut<'a>>,
    meta: MetaOut,
}

#[derive(Serialize)]
struct NameOut<'a> {
    #[serde(rename = "givenName", skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(rename = "familyName", skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
}

impl NameOut<'_> {
    fn is_empty(&self) -> bool {
        self.given_name.is_none() && self.family_name.is_none()
    }
}

#[derive(Serialize)]
struct EmailOut<'a> {
    value: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct UserExtensionOut<'a> {
    #[serde(rename = "sourceDirectory", skip_serializing_if = "Option::is_none")]
    source_directory: Option<&'a str>,
    #[serde(rename = "emailVerified", skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

#[derive(Serialize)]
struct MetaOut {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    schemas: &'static [&'static str],
    id: &'a str,
    #[serde(rename = "displayName")]
    display_name: &'a str,
    members: Vec<MemberOut<'a>>,
    #[serde(rename = "urn:crosswalk:params:scim:schemas:extension:2.0:Group", skip_serializing_if = "Option::is_none")]
    extension: Option<GroupExtensionOut<'a>>,
    meta: MetaOut,
}

#[derive(Serialize)]
struct MemberOut<'a> {
    value: &'a str,
}

#[derive(Serialize)]
struct GroupExtensionOut<'a> {
    #[serde(rename = "displayName")]
    display_name: Option<&'a str>,
}

fn user_out(account: &Account) -> UserOut<'_> {
    let has_extension = account.source_directory.is_some() || account.email_verified.is_some();
    let mut emails = Vec::with_capacity(account.alias_emails.len() + 1);
    if let Some(email) = &account.email {
        emails.push(EmailOut { value: email, primary: true });
    }
    emails.extend(account.alias_emails.iter().map(|alias| EmailOut { value: alias, primary: false }));
    UserOut {
        schemas: if has_extension { &[USER_SCHEMA, CROSSWALK_USER_EXTENSION] } else { &[USER_SCHEMA] },
        id: &account.id,
        user_name: account.username.as_deref(),
        name: NameOut { given_name: account.given_name.as_deref(), family_name: account.family_name.as_deref() },
        display_name: account.display_name.as_deref(),
        emails,
        active: account.active,
        extension: has_extension.then_some(UserExtensionOut {
            source_directory: account.source_directory.as_deref(),
            email_verified: account.email_verified,
        }),
        meta: MetaOut { resource_type: "User" },
    }
}

fn group_out(group: &Group) -> GroupOut<'_> {
    // Readers take displayName as both name and display name; say otherwise only if needed.
    let plain = group.display_name.as_deref() == Some(group.name.as_str());
    GroupOut {
        schemas: if plain { &[GROUP_SCHEMA] } else { &[GROUP_SCHEMA, CROSSWALK_GROUP_EXTENSION] },
        id: &group.id,
        display_name: &group.name,
        members: group.members.iter().map(|m| MemberOut { value: m }).collect(),
        extension: (!plain).then_some(GroupExtensionOut { display_name: group.display_name.as_deref() }),
        meta: MetaOut { resource_type: "Group" },
    }
}

/// Writes every account then every group as JSON Lines, one resource per line.
///
/// [`read_scim`] reads it back to the same directory (named after the file), except that
/// an account with aliases but no primary email reads back with its first alias as the
/// primary, because SCIM takes the first address when none is marked primary.
pub fn write_scim_jsonl(directory: &Directory, output: impl Write) -> std::io::Result<()> {
    let mut output = BufWriter::with_capacity(1 << 16, output);
    for account in &directory.accounts {
        serde_json::to_writer(&mut output, &user_out(account))?;
        output.write_all(b"\n")?;
    }
    for group in &directory.groups {
        serde_json::to_writer(&mut output, &group_out(group))?;
        output.write_all(b"\n")?;
    }
    output.flush()
}

/// Writes the directory as one SCIM `ListResponse`, one resource per line inside it; the
/// same round trip as [`write_scim_jsonl`].
pub fn write_scim_list_response(directory: &Directory, output: impl Write) -> std::io::Result<()> {
    let mut output = BufWriter::with_capacity(1 << 16, output);
    let total = directory.accounts.len() + directory.groups.len();
    write!(
        output,
        "{{\"schemas\":[\"{LIST_RESPONSE_SCHEMA}\"],\"totalResults\":{total},\"startIndex\":1,\
         \"itemsPerPage\":{total},\"Resources\":["
    )?;
    // A newline before each resource keeps the output greppable and diffable.
    let mut separator = &b"\n"[..];
    for account in &directory.accounts {
        output.write_all(separator)?;
        separator = b",\n";
        serde_json::to_writer(&mut output, &user_out(account))?;
    }
    for group in &directory.groups {
        output.write_all(separator)?;
        separator = b",\n";
        serde_json::to_writer(&mut output, &group_out(group))?;
    }
    output.write_all(b"\n]}\n")?;
    output.flush()
}
