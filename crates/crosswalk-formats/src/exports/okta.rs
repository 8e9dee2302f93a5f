//! Okta's Management API as saved to files: the Users list (`GET /api/v1/users`), the
//! Groups list (`GET /api/v1/groups`) and each group's members
//! (`GET /api/v1/groups/{id}/users`), each a JSON array of the API's objects.
//!
//! A folder holds a whole directory:
//!
//! ```text
//! okta/users.json                 GET /api/v1/users            (required)
//! okta/groups.json                GET /api/v1/groups           (optional)
//! okta/groups/<group id>/users.json  GET /api/v1/groups/<id>/users (one per group, optional)
//! ```
//!
//! A single file is a Users list (accounts only) or a Groups list (groups without members).
//! The shapes, from developer.okta.com's Users and Groups API reference, are in
//! `docs/formats.md`. Arrays are streamed element by element; every problem names the file
//! and the JSON pointer of the value (`users.json: /3/profile/login`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;

use crosswalk_core::{Account, CompactString, Group};

use crate::builder::{Builder, Layout, Spot};
use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::{Imported, ReadOptions};

/// The statuses of Okta's user lifecycle; the last two are not active.
const STATUSES: [&str; 8] = [
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "LOCKED_OUT",
    "PASSWORD_EXPIRED",
    "SUSPENDED",
    "DEPROVISIONED",
];

/// Whether the first bytes of a JSON file look like an Okta Users or Groups list: an array
/// whose first object has a `profile` with a `login` or a `name`, and no SCIM `schemas`.
pub(crate) fn looks_like_okta(start: &[u8]) -> bool {
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let mut rest = start.iter().skip_while(|b| b.is_ascii_whitespace());
    if rest.next() != Some(&b'[') {
        return false;
    }
    if rest.find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return false;
    }
    let text = String::from_utf8_lossy(start);
    text.contains("\"profile\"")
        && (text.contains("\"login\"") || text.contains("\"name\""))
        && !text.contains("\"schemas\"")
}

/// Reads an Okta export: a folder (see the module documentation), or one Users or Groups
/// list file.
pub fn read_okta_path(path: &Path, options: ReadOptions) -> Result<Imported, FormatError> {
    if path.is_dir() {
        return read_okta_folder(path, options);
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(&name, e))?;
    read_okta(&name, file, options)
}

/// Reads one Okta Users or Groups list (which one, from its first element).
pub fn read_okta(
    name: &str,
    input: impl Read,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let mut reader = Reader::new(name, options);
    reader.list(name, input, None)?;
    reader.finish(crate::directory_name(name))
}

/// Whether a folder is an Okta export (it has `users.json`).
pub(crate) fn is_okta_folder(path: &Path) -> bool {
    path.join("users.json").is_file()
}

fn read_okta_folder(folder: &Path, options: ReadOptions) -> Result<Imported, FormatError> {
    let users = folder.join("users.json");
    let users_name = users.display().to_string();
    if !users.is_file() {
        return Err(FormatError::invalid(
            Location::file(folder.display().to_string()),
            None,
            "an Okta export folder needs users.json (GET /api/v1/users), and may have groups.json \
             (GET /api/v1/groups) and groups/<group id>/users.json (GET /api/v1/groups/<id>/users)",
        ));
    }
    let mut reader = Reader::new(&users_name, options);
    let file = std::fs::File::open(&users).map_err(|e| FormatError::io(&users_name, e))?;
    reader.list(&users_name, file, Some(Kind::User))?;

    // Members first (they are looked up when each group is added), by the group id their
    // folder names.
    let members_root = folder.join("groups");
    let mut member_files: BTreeMap<String, PathBuf> = BTreeMap::new();
    if members_root.is_dir() {
        let entries = std::fs::read_dir(&members_root)
            .map_err(|e| FormatError::io(&members_root.display().to_string(), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| FormatError::io(&members_root.display().to_string(), e))?;
            let file = entry.path().join("users.json");
            if file.is_file() {
                member_files.insert(entry.file_name().to_string_lossy().into_owned(), file);
            }
        }
    }
    for (group, file) in &member_files {
        let name = file.display().to_string();
        let input = std::fs::File::open(file).map_err(|e| FormatError::io(&name, e))?;
        reader.members(group, &name, input)?;
    }

    let groups = folder.join("groups.json");
    if groups.is_file() {
        let name = groups.display().to_string();
        let file = std::fs::File::open(&groups).map_err(|e| FormatError::io(&name, e))?;
        reader.list(&name, file, Some(Kind::Group))?;
    }
    // A members file of a group the Groups list does not have.
    for (group, file) in &member_files {
        if !reader.groups_seen.contains(group.as_str()) {
            let diagnostic = Diagnostic::new(
                Location::file(file.display().to_string()),
                None,
                format!(
                    "no group with id {} in {}; these members belong to no group read",
                    quoted(group),
                    if groups.is_file() {
                        "groups.json"
                    } else {
                        "this folder (groups.json is missing)"
                    }
                ),
            );
            reader.problem(diagnostic)?;
        }
    }
    let name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("okta")
        .to_string();
    reader.finish(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

struct Reader {
    builder: Builder,
    options: ReadOptions,
    /// Ids of the accounts accepted so far.
    users: HashSet<CompactString>,
    /// Each group's member ids, from its members file.
    members: BTreeMap<String, Vec<CompactString>>,
    groups_seen: HashSet<String>,
}

impl Reader {
    fn new(file: &str, options: ReadOptions) -> Reader {
        Reader {
            builder: Builder::new(file, Layout::Okta, options),
            options,
            users: HashSet::new(),
            members: BTreeMap::new(),
            groups_seen: HashSet::new(),
        }
    }

    /// Fails the read, or with `skip_invalid` notes the problem and goes on.
    fn problem(&mut self, diagnostic: Diagnostic) -> Result<(), FormatError> {
        if self.options.skip_invalid {
            self.builder.skip(diagnostic);
            Ok(())
        } else {
            Err(diagnostic.into())
        }
    }

    /// A Users or Groups list; `kind` is what the file must hold (`None`: whatever its first
    /// element is).
    fn list(
        &mut self,
        name: &str,
        input: impl Read,
        kind: Option<Kind>,
    ) -> Result<(), FormatError> {
        self.builder.set_file(name);
        let mut kind = kind;
        for_each_element(name, input, &mut |index, value| {
            let spot = Spot {
                line: None,
                item: Some(index),
            };
            let this = kind_of(&value);
            let expected = *kind.get_or_insert(this.unwrap_or(Kind::User));
            if this.is_some_and(|k| k != expected) || this.is_none() && !value.is_object() {
                let what = match expected {
                    Kind::User => "an Okta user (an object with \"id\" and \"profile\".\"login\")",
                    Kind::Group => "an Okta group (an object with \"id\" and \"profile\".\"name\")",
                };
                return self.builder.reject(
                    spot,
                    "",
                    None,
                    format!("expected {what}, found {}", describe(&value)),
                );
            }
            match expected {
                Kind::User => self.user(&value, spot),
                Kind::Group => self.group(&value, spot),
            }
        })
    }

    fn user(&mut self, value: &Value, spot: Spot) -> Result<(), FormatError> {
        let id = match field(value, &["id"]) {
            Ok(Some(id)) => id,
            Ok(None) => {
                return self.builder.reject(
                    spot,
                    "/id",
                    Some("id"),
                    "is required: every Okta user has an id",
                );
            }
            Err((sub, reason)) => return self.builder.reject(spot, &sub, Some("id"), reason),
        };
        match self.parse_user(value, &id) {
            Ok(account) => {
                let before = self.builder.counts().0;
                self.builder.add_account(account, spot)?;
                if self.builder.counts().0 > before {
                    self.users.insert(id.as_str().into());
                }
                Ok(())
            }
            Err((sub, reason)) => {
                self.builder.forget(&id, spot);
                let field = sub.rsplit('/').next().map(str::to_string);
                self.builder.reject(spot, &sub, field.as_deref(), reason)
            }
        }
    }

    fn parse_user(&self, value: &Value, id: &str) -> Result<Account, (String, String)> {
        let status = field(value, &["status"])?;
        let active = match status.as_deref() {
            None => true,
            Some(status) if STATUSES.contains(&status) => {
                !matches!(status, "SUSPENDED" | "DEPROVISIONED")
            }
            Some(other) => {
                return Err((
                    "/status".to_string(),
                    format!(
                        "unknown status {}; Okta's are {}",
                        quoted(other),
                        STATUSES.join(", ")
                    ),
                ));
            }
        };
        profile_object(value)?;
        let login = field(value, &["profile", "login"])?.ok_or_else(|| {
            (
                "/profile/login".to_string(),
                "is required: every Okta user has a login".to_string(),
            )
        })?;
        let email = field(value, &["profile", "email"])?;
        let second = field(value, &["profile", "secondEmail"])?;
        let first = field(value, &["profile", "firstName"])?;
        let last = field(value, &["profile", "lastName"])?;
        let display =
            field(value, &["profile", "displayName"])?.or_else(|| match (&first, &last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (Some(one), None) | (None, Some(one)) => Some(one.clone()),
                (None, None) => None,
            });
        // Where the user is mastered: OKTA, ACTIVE_DIRECTORY, LDAP, FEDERATION, SOCIAL, IMPORT.
        let provider = field(value, &["credentials", "provider", "type"])?;
        let alias = second.filter(|s| {
            email
                .as_deref()
                .is_none_or(|email| !email.eq_ignore_ascii_case(s))
        });
        Ok(Account {
            id: id.into(),
            username: Some(login.into()),
            email: email.map(Into::into),
            alias_emails: alias.into_iter().map(Into::into).collect(),
            display_name: display.map(Into::into),
            given_name: first.map(Into::into),
            family_name: last.map(Into::into),
            active,
            source_directory: provider.map(|p| p.to_ascii_lowercase().into()),
            email_verified: None,
        })
    }

    fn group(&mut self, value: &Value, spot: Spot) -> Result<(), FormatError> {
        let parsed = (|| {
            let id = field(value, &["id"])?.ok_or_else(|| {
                (
                    "/id".to_string(),
                    "is required: every Okta group has an id".to_string(),
                )
            })?;
            profile_object(value)?;
            let name = field(value, &["profile", "name"])?.ok_or_else(|| {
                (
                    "/profile/name".to_string(),
                    "is required: every Okta group has a name".to_string(),
                )
            })?;
            // OKTA_GROUP, APP_GROUP (imported from AD or an app) or BUILT_IN (Everyone).
            field(value, &["type"])?;
            Ok::<_, (String, String)>((id, name))
        })();
        let (id, name) = match parsed {
            Ok(parsed) => parsed,
            Err((sub, reason)) => {
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    self.builder.forget(id, spot);
                }
                let field = sub.rsplit('/').next().map(str::to_string);
                return self.builder.reject(spot, &sub, field.as_deref(), reason);
            }
        };
        self.groups_seen.insert(id.clone());
        let members = self.members.remove(&id).unwrap_or_default();
        let group = Group {
            id: id.as_str().into(),
            name: name.into(),
            display_name: None,
            members,
        };
        self.builder.add_group(group, spot)?;
        Ok(())
    }

    /// A group's members file: an array of Okta users, of which only the ids are read; each
    /// must be in the Users list.
    fn members(&mut self, group: &str, name: &str, input: impl Read) -> Result<(), FormatError> {
        let mut ids: Vec<CompactString> = Vec::new();
        let mut problems: Vec<Diagnostic> = Vec::new();
        for_each_element(name, input, &mut |index, value| {
            let at = |sub: &str| Location::pointer(name, format!("/{index}{sub}"));
            match field(&value, &["id"]) {
                Ok(Some(id)) if self.users.contains(id.as_str()) => ids.push(id.as_str().into()),
                Ok(Some(id)) => problems.push(Diagnostic::new(
                    at("/id"),
                    Some("id"),
                    format!(
                        "member {} is not a user of users.json{}; export the users and the members at the same time",
                        quoted(&id),
                        if self.options.skip_invalid { " (or was skipped)" } else { "" }
                    ),
                )),
                Ok(None) => problems.push(Diagnostic::new(
                    at("/id"),
                    Some("id"),
                    "is required: a member is an Okta user with an id",
                )),
                Err((sub, reason)) => problems.push(Diagnostic::new(at(&sub), Some("id"), reason)),
            }
            match problems.first() {
                Some(_) if !self.options.skip_invalid => Err(problems.remove(0).into()),
                _ => Ok(()),
            }
        })?;
        for problem in problems {
            self.problem(problem)?;
        }
        self.members.insert(group.to_string(), ids);
        Ok(())
    }

    fn finish(self, name: String) -> Result<Imported, FormatError> {
        let mut imported = self.builder.finish()?;
        imported.directory.name = name;
        Ok(imported)
    }
}

/// What an element is, by its profile: a user has a `login`, a group a `name`.
fn kind_of(value: &Value) -> Option<Kind> {
    let profile = value.get("profile")?.as_object()?;
    if profile.contains_key("login") {
        Some(Kind::User)
    } else if profile.contains_key("name") {
        Some(Kind::Group)
    } else {
        None
    }
}

fn profile_object(value: &Value) -> Result<(), (String, String)> {
    match value.get("profile") {
        Some(Value::Object(_)) => Ok(()),
        None => Err((
            "/profile".to_string(),
            "is required: Okta users and groups keep their attributes in \"profile\"".to_string(),
        )),
        Some(other) => Err((
            "/profile".to_string(),
            format!("expected an object, found {}", describe(other)),
        )),
    }
}

/// The string at `path` (keys) inside `value`: `None` when absent or null; an error naming
/// the pointer when it is another type.
fn field(value: &Value, path: &[&str]) -> Result<Option<String>, (String, String)> {
    let mut current = value;
    let mut pointer = String::new();
    for key in path {
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        match current {
            Value::Object(object) => match object.get(*key) {
                Some(next) => current = next,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            other => {
                let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p).to_string();
                return Err((
                    parent,
                    format!("expected an object, found {}", describe(other)),
                ));
            }
        }
    }
    match current {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.trim().to_string())),
        other => Err((
            pointer,
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({})", quoted(s)),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

type ElementFn<'f> = dyn FnMut(u64, Value) -> Result<(), FormatError> + 'f;

/// Streams the top-level array of `input`, handing each element to `each` before the next
/// is read. Anything else (an Okta error body, a single object) is refused with what it is.
fn for_each_element(
    name: &str,
    input: impl Read,
    each: &mut ElementFn<'_>,
) -> Result<(), FormatError> {
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    {
        let start = std::io::BufRead::fill_buf(&mut input).map_err(|e| FormatError::io(name, e))?;
        if start.starts_with(b"\xEF\xBB\xBF") {
            std::io::BufRead::consume(&mut input, 3);
        }
    }
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut stopped: Option<FormatError> = None;
    let result = ArraySeed {
        each,
        stopped: &mut stopped,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    if let Some(error) = stopped {
        return Err(error);
    }
    result.map_err(|error| {
        let location = if error.line() > 0 {
            Location::line(name, error.line() as u64)
        } else {
            Location::file(name)
        };
        let reason = if error.is_io() {
            format!("cannot read: {error}")
        } else if error.classify() == serde_json::error::Category::Data {
            format!(
                "{error}; an Okta export is the JSON array GET /api/v1/users (or /api/v1/groups) returns"
            )
        } else {
            format!("not valid JSON: {error}")
        };
        FormatError::invalid(location, None, reason)
    })
}

struct ArraySeed<'a, 'f> {
    each: &'a mut ElementFn<'f>,
    stopped: &'a mut Option<FormatError>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of Okta users or groups")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        while let Some(value) = seq.next_element::<Value>()? {
            if let Err(error) = (self.each)(index, value) {
                *self.stopped = Some(error);
                return Err(serde::de::Error::custom("stopped"));
            }
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Okta's error body: {"errorCode": "E0000011", "errorSummary": "Invalid token provided", ...}
        let mut code = None;
        let mut summary = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: Value = map.next_value()?;
            match key.as_str() {
                "errorCode" => code = value.as_str().map(str::to_string),
                "errorSummary" => summary = value.as_str().map(str::to_string),
                _ => {}
            }
        }
        let reason = match (code, summary) {
            (Some(code), summary) => format!(
                "this is an Okta error response ({code}: {}), not a list; the request that saved it failed",
                summary.unwrap_or_default()
            ),
            _ => "expected a JSON array of Okta users or groups, found an object".to_string(),
        };
        Err(serde::de::Error::custom(reason))
    }
}
