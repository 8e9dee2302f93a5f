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
//! Each resource is read with `crosswalk_scim`'s typed [`User`](crosswalk_scim::User) and
//! [`Group`](crosswalk_scim::Group), the types the SCIM service uses, and converted to the
//! directory model. Mapping (attribute names are case-insensitive, as SCIM says, and a name
//! given twice in one object, in the same case or not, is an error; unknown attributes are
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
//! else are not kept.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::rc::Rc;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crosswalk_core::{Account, CompactString, Directory, Group};
use crosswalk_scim::json::{AttributeError, StrictValueSeed, expected, json_message, pointer};
use crosswalk_scim::{GroupExtras, ResourceKind, UserExtras};

use crate::builder::{Builder, Layout, Spot};
use crate::error::{Diagnostic, FormatError, Location};
use crate::limits::{Budget, MAX_SCIM_RESOURCE_BYTES, TooLong, located};
use crate::{Imported, ReadOptions};

pub use crosswalk_scim::message::LIST_RESPONSE_SCHEMA;
pub use crosswalk_scim::schema::{
    CROSSWALK_GROUP_EXTENSION, CROSSWALK_USER_EXTENSION,
    ENTERPRISE_USER_SCHEMA_ID as ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA_ID as GROUP_SCHEMA,
    USER_SCHEMA_ID as USER_SCHEMA,
};

// ---------------------------------------------------------------------------------------
// Reading one resource
// ---------------------------------------------------------------------------------------

/// A resource converted, groups with their member ids still to be checked.
enum Resource {
    User(Account),
    Group(Group, Vec<CompactString>),
}

/// Reads one resource with `crosswalk_scim`'s typed User and Group. `duplicate` is the
/// pointer of a name the resource's JSON gave twice (the JSON reader keeps the last), which
/// is refused like a case-variant pair: either way the file says two things at once.
fn parse_resource(value: &Value, duplicate: Option<&str>) -> Result<Resource, AttributeError> {
    if let Some(at) = duplicate {
        return Err(AttributeError::new(
            at,
            "attribute given twice; a JSON object names each attribute once",
        ));
    }
    let Value::Object(object) = value else {
        return Err(AttributeError::new(
            "",
            expected("a SCIM User or Group (a JSON object)", value),
        ));
    };
    match ResourceKind::detect(object)? {
        ResourceKind::User => {
            let (mut account, UserExtras { name_formatted, .. }) =
                crosswalk_scim::User::from_json(value)?.into_account()?;
            // An export without a displayName still names the person.
            if account.display_name.is_none() {
                account.display_name = name_formatted;
            }
            Ok(Resource::User(account))
        }
        ResourceKind::Group => {
            let (mut group, GroupExtras { .. }) =
                crosswalk_scim::Group::from_json(value)?.into_group()?;
            let members = std::mem::take(&mut group.members);
            Ok(Resource::Group(group, members))
        }
    }
}

/// The `id` of a resource too broken to read, so memberships naming it can say why they go.
fn loose_id(value: &Value) -> Option<&str> {
    let Value::Object(object) = value else {
        return None;
    };
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("id"))
        .and_then(|(_, v)| v.as_str())
}

fn is_list_response(object: &Map<String, Value>) -> bool {
    object.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("schemas")
            && value.as_array().is_some_and(|schemas| {
                schemas.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(LIST_RESPONSE_SCHEMA))
                })
            })
    })
}

const TWICE_IN_A_PAGE: &str = "attribute given twice; a ListResponse has one \"Resources\" array and a JSON object names each attribute once";

/// Reads one JSON value strictly: the value, and where a name was first given twice.
fn strict_value(bytes: &[u8]) -> Result<(Value, Option<String>), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut path = String::new();
    let mut duplicate = None;
    let value = StrictValueSeed {
        path: &mut path,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok((value, duplicate))
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
    /// One resource into the directory (or into `skipped`); `duplicate` is where its JSON
    /// gave a name twice, if it did.
    fn resource(
        &mut self,
        value: &Value,
        duplicate: Option<&str>,
        spot: Spot,
    ) -> Result<(), FormatError> {
        match parse_resource(value, duplicate) {
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
                self.builder
                    .reject(spot, &bad.pointer, field.as_deref(), bad.reason)
            }
        }
    }

    /// A whole parsed document or line: a ListResponse page, or one resource. `duplicate`
    /// is where the line gave a name twice, if it did.
    fn value(
        &mut self,
        value: &Value,
        duplicate: Option<&str>,
        line: Option<u64>,
    ) -> Result<(), FormatError> {
        if let Value::Object(object) = value {
            let mut lists = object
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("Resources"));
            if let Some((key, resources)) = lists.next() {
                let at = pointer("", key);
                let spot = Spot { line, item: None };
                if let Some((second, _)) = lists.next() {
                    return self.builder.reject(
                        spot,
                        &pointer("", second),
                        Some(second),
                        TWICE_IN_A_PAGE,
                    );
                }
                let Value::Array(items) = resources else {
                    return self.builder.reject(
                        spot,
                        &at,
                        Some(key),
                        expected("an array of resources", resources),
                    );
                };
                // A name given twice inside a resource is that resource's fault; anywhere
                // else in the page (`"Resources"` twice included), the page's.
                let item_prefix = format!("{at}/");
                let in_item = duplicate.and_then(|d| {
                    let rest = d.strip_prefix(&item_prefix)?;
                    let (index, inner) = rest
                        .split_once('/')
                        .map_or((rest, ""), |(i, inner)| (i, inner));
                    let index: usize = index.parse().ok().filter(|&i| i < items.len())?;
                    Some((index, inner))
                });
                if let (Some(d), None) = (duplicate, in_item) {
                    let field = d.split('/').nth(1).map(str::to_string);
                    return self
                        .builder
                        .reject(spot, d, field.as_deref(), TWICE_IN_A_PAGE);
                }
                for (i, item) in items.iter().enumerate() {
                    let inner = in_item
                        .filter(|(index, _)| *index == i)
                        .map(|(_, inner)| format!("/{inner}"));
                    self.resource(
                        item,
                        inner.as_deref(),
                        Spot {
                            line,
                            item: Some(i as u64),
                        },
                    )?;
                }
                return Ok(());
            }
            if is_list_response(object) {
                // A page with no results may leave `Resources` out (RFC 7644 §3.4.2).
                return Ok(());
            }
        }
        self.resource(value, duplicate, Spot { line, item: None })
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
        let Layout::Scim { list_prefix } = self.builder.layout() else {
            return String::new();
        };
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
        let mut duplicate = None;
        let mut path = String::new();
        while let Some(key) = map.next_key::<String>()? {
            if key.eq_ignore_ascii_case("Resources") {
                if saw_resources {
                    // A second array would be read over the first's resources: refuse it.
                    let spot = Spot {
                        line: self.sink.streamed_line(),
                        item: None,
                    };
                    let location = self.sink.builder.location(spot, &pointer("", &key));
                    let error =
                        FormatError::from(Diagnostic::new(location, Some(&key), TWICE_IN_A_PAGE));
                    return Err(self.sink.stop(error));
                }
                saw_resources = true;
                map.next_value_seed(ResourcesSeed {
                    sink: &mut *self.sink,
                })?;
            } else {
                if duplicate.is_none() && rest.contains_key(&key) {
                    duplicate = Some(pointer("", &key));
                }
                path.clear();
                path.push_str(&pointer("", &key));
                let value = map.next_value_seed(StrictValueSeed {
                    path: &mut path,
                    duplicate: &mut duplicate,
                })?;
                rest.insert(key, value);
            }
        }
        if saw_resources || is_list_response(&rest) {
            return Ok(());
        }
        // Not a ListResponse: the document is one resource.
        let line = self.sink.streamed_line();
        let resource = Value::Object(rest);
        match self
            .sink
            .resource(&resource, duplicate.as_deref(), Spot { line, item: None })
        {
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
            let mut path = String::new();
            let mut duplicate = None;
            let Some(resource) = seq.next_element_seed(StrictValueSeed {
                path: &mut path,
                duplicate: &mut duplicate,
            })?
            else {
                break;
            };
            let spot = Spot {
                line: self.sink.streamed_line(),
                item: Some(index),
            };
            if let Err(error) = self.sink.resource(&resource, duplicate.as_deref(), spot) {
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
            let end = buffer
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
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
        let n = (&mut self.inner)
            .take(limit + 1)
            .read_until(b'\n', buffer)?;
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

/// Reads a directory from SCIM 2.0 JSON in any of the shapes in the [module docs](self).
///
/// `source_name` is only used in messages and to name the directory.
pub fn read_scim(
    source_name: &str,
    input: impl Read,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    read_scim_within(source_name, input, options, MAX_SCIM_RESOURCE_BYTES)
}

/// [`read_scim`] refusing a resource or line longer than `limit` bytes.
pub(crate) fn read_scim_within(
    source_name: &str,
    input: impl Read,
    options: ReadOptions,
    limit: u64,
) -> Result<Imported, FormatError> {
    let line = Rc::new(Cell::new(1u64));
    let budget = Budget::new("a SCIM resource", limit);
    let mut input = CountingReader {
        inner: BufReader::with_capacity(1 << 16, input),
        line: Rc::clone(&line),
        budget: budget.clone(),
    };
    let io = |e| FormatError::io(source_name, e);
    input.skip_bom().map_err(io)?;
    let Some((first_line, first_column, first_byte)) = input.skip_whitespace().map_err(io)? else {
        // Nothing at all: no identities, which is a valid (if dull) export.
        return Builder::new(
            source_name,
            Layout::Scim {
                list_prefix: "/Resources",
            },
            options,
        )
        .finish();
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
            let at = Location {
                file: source_name.to_string(),
                line: Some(line.get()),
                pointer: Some(sink.context()),
            };
            return Err(located(source_name, || at, error.into()));
        }
        let error_line = first_line + error.line() as u64 - 1;
        let column = if error.line() == 1 {
            first_column + error.column() as u64 - 1
        } else {
            error.column() as u64
        };
        let context = sink.context();
        let diagnostic = Diagnostic::new(
            Location {
                file: source_name.to_string(),
                line: Some(error_line),
                pointer: Some(context),
            },
            None,
            format!("invalid JSON at column {column}: {}", json_message(&error)),
        );
        // A broken first line of JSON Lines can be skipped like any other line; a broken
        // document spanning lines cannot be resynchronised, so it fails either way.
        let skippable = options.skip_invalid
            && first_byte == b'{'
            && line.get() == first_line
            && !error.is_eof();
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
        if read.map_err(|e| located(source_name, || Location::line(source_name, line_number), e))?
            == 0
        {
            break;
        }
        let leading = buffer
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        let content = buffer[leading..].trim_ascii_end();
        if content.is_empty() {
            continue;
        }
        match strict_value(content) {
            Ok((value, duplicate)) => {
                sink.value(&value, duplicate.as_deref(), Some(line_number))?
            }
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
pub fn read_scim_file(
    path: impl AsRef<Path>,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_scim(&name, reader, options)
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

fn user_out(account: &Account) -> crosswalk_scim::User {
    crosswalk_scim::User::from_account(account, &UserExtras::default())
}

fn group_out(group: &Group) -> crosswalk_scim::Group {
    crosswalk_scim::Group::from_group(group, &GroupExtras::default())
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
