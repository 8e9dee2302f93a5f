//! LDIF (RFC 2849) directory exports: OpenLDAP (`slapcat`, `ldapsearch`) and Active
//! Directory (`ldifde`, `ldapsearch`), and the one conversion from LDAP entries to accounts
//! and groups that the live LDAP reader (`crosswalk-ldap`) uses too.
//!
//! Two layers:
//! - [`EntryReader`] turns the file into [`Entry`]s: line folding, comments, `version: 1`,
//!   base64 (`::`) values and DNs, `changetype: add` (ldifde writes it on every entry);
//!   `:<` URLs and change records (modify, delete, moddn) are refused, as is `ldapsearch`'s
//!   trailer (`search: 2`, `result: 0 Success`) quietly skipped.
//! - [`EntryAssembler`] turns entries into a checked [`Directory`](crosswalk_core::Directory):
//!   which entries are accounts and groups (by `objectClass`), their ids (`objectGUID` as
//!   its usual mixed-endian text, `entryUUID`, `objectSid` as `S-1-5-21-...`, else the DN),
//!   `proxyAddresses` (`SMTP:` primary, `smtp:` aliases), the `userAccountControl` disabled
//!   bit, and memberships (`member`, `uniqueMember`, `memberOf` DNs compared caselessly
//!   after normalising; `memberUid` by username), nested groups included.
//!
//! `docs/formats.md` ("LDIF") documents the mapping and where each shape comes from.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use base64::Engine as _;
use rustc_hash::{FxHashMap, FxHashSet};

use crosswalk_core::{Account, CompactString, Directory, Group, IdentityKind};

use crate::builder::{Builder, Layout, Spot};
use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::limits;
use crate::{Imported, ReadOptions};

/// One physical line, and one logical (unfolded) line: a large group's `member` values are
/// each a line, so this bounds a single value (a `jpegPhoto` in base64 fits), not an entry.
pub const MAX_LDIF_LINE_BYTES: u64 = 16 << 20;

/// One LDAP entry as a file or a server gives it: the DN and each attribute value, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    /// Attribute descriptions lowercased (`objectclass`, `member;range=0-1499`), with their
    /// raw values (binary attributes such as `objectGUID` stay bytes).
    pub attributes: Vec<(String, Vec<u8>)>,
}

impl Entry {
    pub fn new(dn: impl Into<String>) -> Entry {
        Entry {
            dn: dn.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds a value; the attribute description is lowercased.
    pub fn push(&mut self, attribute: &str, value: impl Into<Vec<u8>>) {
        self.attributes
            .push((attribute.to_ascii_lowercase(), value.into()));
    }

    /// The values of one attribute (by its lowercase name, options such as `;binary` ignored).
    fn values<'e>(&'e self, name: &'e str) -> impl Iterator<Item = &'e [u8]> + 'e {
        self.attributes
            .iter()
            .filter(move |(attribute, _)| base_name(attribute) == name)
            .map(|(_, v)| v.as_slice())
    }

    fn first(&self, name: &str) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(attribute, _)| base_name(attribute) == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// `member;range=0-1499` → `member`.
fn base_name(attribute: &str) -> &str {
    attribute.split(';').next().unwrap_or(attribute)
}

/// The LDAP attribute a field of the builder comes from, for messages.
pub(crate) fn attribute_of(column: &'static str) -> &'static str {
    match column {
        "id" => "id",
        "username" => "uid",
        "email" => "mail",
        "aliases" => "proxyAddresses",
        "display_name" => "displayName",
        "given_name" => "givenName",
        "family_name" => "sn",
        "source_directory" => "source_directory",
        "name" => "cn",
        "member" => "member",
        other => other,
    }
}

/// Whether a file's first bytes look like LDIF: after comment lines, `dn:` or `version:`.
pub(crate) fn looks_like_ldif(start: &[u8]) -> bool {
    for line in start.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") || line.starts_with(b" ") {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        return lower.starts_with(b"dn:") || lower.starts_with(b"version:");
    }
    false
}

/// Reads an LDIF export into a directory; see the module documentation.
pub fn read_ldif(
    source_name: &str,
    input: impl Read,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let mut reader = EntryReader::new(
        source_name,
        std::io::BufReader::with_capacity(1 << 16, input),
    );
    let mut assembler = EntryAssembler::new(source_name, options);
    while let Some(item) = reader.next_entry()? {
        match item {
            Ok((line, entry)) => assembler.add_at_line(entry, line)?,
            Err(diagnostic) => {
                if options.skip_invalid {
                    if let Some(dn) = reader.current_dn.take() {
                        assembler.skipped_dns.insert(normalize_dn(&dn));
                    }
                    assembler.builder.skip(diagnostic);
                } else {
                    return Err(diagnostic.into());
                }
            }
        }
    }
    assembler.finish()
}

/// [`read_ldif`] on a file, named by its path.
pub fn read_ldif_file(
    path: impl AsRef<Path>,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_ldif(&name, reader, options)
}

/// Reads the entries of an LDIF file one at a time.
pub struct EntryReader<R> {
    file: String,
    input: R,
    /// The number of the last physical line read.
    line: u64,
    /// A physical line read ahead (the one after a logical line ends), with its number.
    ahead: Option<(u64, Vec<u8>)>,
    at_end: bool,
    seen_entry: bool,
    /// The DN of the entry being read, so that a bad entry's DN is known when it is skipped.
    current_dn: Option<String>,
}

/// A logical line: its first physical line's number and its unfolded bytes.
type Logical = (u64, Vec<u8>);

impl<R: BufRead> EntryReader<R> {
    pub fn new(file: &str, input: R) -> EntryReader<R> {
        EntryReader {
            file: file.to_string(),
            input,
            line: 0,
            ahead: None,
            at_end: false,
            seen_entry: false,
            current_dn: None,
        }
    }

    fn physical(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatError> {
        if let Some(ahead) = self.ahead.take() {
            return Ok(Some(ahead));
        }
        if self.at_end {
            return Ok(None);
        }
        let mut buffer = Vec::new();
        let read = (&mut self.input)
            .take(MAX_LDIF_LINE_BYTES + 2)
            .read_until(b'\n', &mut buffer)
            .map_err(|e| FormatError::io(&self.file, e))?;
        if read == 0 {
            self.at_end = true;
            return Ok(None);
        }
        self.line += 1;
        if buffer.len() as u64 > MAX_LDIF_LINE_BYTES + 1 {
            return Err(self.too_long(self.line));
        }
        if buffer.last() == Some(&b'\n') {
            buffer.pop();
            if buffer.last() == Some(&b'\r') {
                buffer.pop();
            }
        } else {
            self.at_end = true;
        }
        if self.line == 1 {
            if buffer.starts_with(b"\xEF\xBB\xBF") {
                buffer.drain(..3);
            } else if buffer.starts_with(b"\xFF\xFE") || buffer.starts_with(b"\xFE\xFF") {
                return Err(FormatError::invalid(
                    Location::line(&self.file, 1),
                    None,
                    "the file is UTF-16 (ldifde -u writes it so); export without -u, or save it as UTF-8, and try again",
                ));
            }
        }
        Ok(Some((self.line, buffer)))
    }

    fn too_long(&self, line: u64) -> FormatError {
        FormatError::invalid(
            Location::line(&self.file, line),
            None,
            format!(
                "a line longer than {}, the most Crosswalk reads as one LDIF value; is this an LDIF file?",
                limits::size(MAX_LDIF_LINE_BYTES)
            ),
        )
    }

    /// The next logical line (folded lines joined, comments dropped), or `Ok(None)` at a
    /// blank line or the end.
    fn logical(&mut self) -> Result<Option<Logical>, FormatError> {
        loop {
            let Some((number, line)) = self.physical()? else {
                return Ok(None);
            };
            if matches!(line.first(), Some(b' ' | b'\t')) {
                // A continuation after a blank line (or at the start) continues nothing.
                return Err(FormatError::invalid(
                    Location::line(&self.file, number),
                    None,
                    "a continuation line (starting with a space) with no line before it to continue; \
                     remove the leading space, or join it to the line above",
                ));
            }
            if line.is_empty() {
                self.ahead = Some((number, line));
                return Ok(None);
            }
            let comment = line.first() == Some(&b'#');
            let mut joined = line;
            while let Some((next_number, next)) = self.physical()? {
                if matches!(next.first(), Some(b' ' | b'\t')) {
                    if !comment {
                        joined.extend_from_slice(&next[1..]);
                        if joined.len() as u64 > MAX_LDIF_LINE_BYTES {
                            return Err(self.too_long(number));
                        }
                    }
                } else {
                    self.ahead = Some((next_number, next));
                    break;
                }
            }
            if !comment {
                return Ok(Some((number, joined)));
            }
        }
    }

    /// Skips blank lines; false at the end of the input.
    fn skip_blank(&mut self) -> Result<bool, FormatError> {
        loop {
            match self.physical()? {
                None => return Ok(false),
                Some((_, line)) if line.is_empty() => continue,
                Some(other) => {
                    self.ahead = Some(other);
                    return Ok(true);
                }
            }
        }
    }

    /// Drops the rest of a record after a problem was found in it.
    fn skip_record(&mut self) -> Result<(), FormatError> {
        while self.logical()?.is_some() {}
        Ok(())
    }

    /// The next entry, with the line of its `dn:`. `Ok(Some(Err(_)))` is a bad entry (the
    /// caller fails or skips it); `Err(_)` is a problem with the file as a whole.
    #[allow(clippy::type_complexity)]
    pub fn next_entry(&mut self) -> Result<Option<Result<(u64, Entry), Diagnostic>>, FormatError> {
        self.current_dn = None;
        loop {
            if !self.skip_blank()? {
                return Ok(None);
            }
            let Some((number, line)) = self.logical()? else {
                continue;
            };
            let (attribute, value) = match self.split(number, &line) {
                Ok(parts) => parts,
                Err(diagnostic) => {
                    self.skip_record()?;
                    return Ok(Some(Err(diagnostic)));
                }
            };
            if attribute == "version" && !self.seen_entry {
                if value.as_deref() != Ok(b"1".as_slice()) {
                    return Err(FormatError::invalid(
                        Location::line(&self.file, number),
                        Some("version"),
                        "only LDIF version 1 (RFC 2849) is known; is this an LDIF file?",
                    ));
                }
                continue;
            }
            self.seen_entry = true;
            if attribute == "search" || attribute == "result" {
                // ldapsearch's trailer ("search: 2", "result: 0 Success"): no entry.
                self.skip_record()?;
                continue;
            }
            if attribute != "dn" {
                return Err(FormatError::invalid(
                    Location::line(&self.file, number),
                    Some(&attribute),
                    "an LDIF entry starts with a \"dn:\" line; is this an LDIF file (or is a blank line missing above)?",
                ));
            }
            let dn = match value.map(String::from_utf8) {
                Ok(Ok(dn)) => dn,
                Ok(Err(_)) => {
                    self.skip_record()?;
                    return Ok(Some(Err(self.diagnostic(
                        number,
                        "dn",
                        "is not UTF-8 text".into(),
                    ))));
                }
                Err(diagnostic) => {
                    self.skip_record()?;
                    return Ok(Some(Err(diagnostic)));
                }
            };
            self.current_dn = Some(dn.trim().to_string());
            let mut entry = Entry::new(dn.trim());
            while let Some((number, line)) = self.logical()? {
                let (attribute, value) = match self.split(number, &line) {
                    Ok(parts) => parts,
                    Err(diagnostic) => {
                        self.skip_record()?;
                        return Ok(Some(Err(diagnostic)));
                    }
                };
                let value = match value {
                    Ok(value) => value,
                    Err(diagnostic) => {
                        self.skip_record()?;
                        return Ok(Some(Err(diagnostic)));
                    }
                };
                match attribute.as_str() {
                    "changetype" if value.eq_ignore_ascii_case(b"add") => {}
                    "changetype" | "control" | "-" => {
                        return Err(FormatError::invalid(
                            Location::line(&self.file, number),
                            Some(&attribute),
                            "this is an LDIF change file (changetype: modify, delete or moddn), not an export of \
                             entries; export the directory with slapcat, ldapsearch or ldifde and read that",
                        ));
                    }
                    _ => entry.attributes.push((attribute, value)),
                }
            }
            return Ok(Some(Ok((number, entry))));
        }
    }

    fn diagnostic(&self, line: u64, field: &str, reason: String) -> Diagnostic {
        Diagnostic::new(Location::line(&self.file, line), Some(field), reason)
    }

    /// `attr: value`, `attr:: base64` or `attr:< url` → (lowercased attribute, value). The
    /// outer error is a line that is no attribute at all; the inner one a bad value.
    #[allow(clippy::type_complexity)]
    fn split(
        &self,
        number: u64,
        line: &[u8],
    ) -> Result<(String, Result<Vec<u8>, Diagnostic>), Diagnostic> {
        if line == b"-" {
            return Ok(("-".to_string(), Ok(Vec::new())));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(Diagnostic::new(
                Location::line(&self.file, number),
                None,
                format!(
                    "expected \"attribute: value\", found {}; values that go on over several lines continue \
                     on lines starting with one space",
                    quoted(&String::from_utf8_lossy(line))
                ),
            ));
        };
        let description = &line[..colon];
        let valid = !description.is_empty()
            && description[0].is_ascii_alphanumeric()
            && description.iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b';' | b'.' | b'=' | b'_')
            });
        if !valid {
            return Err(Diagnostic::new(
                Location::line(&self.file, number),
                None,
                format!(
                    "{} is not an attribute name (letters, digits, hyphens; options after \";\")",
                    quoted(&String::from_utf8_lossy(description))
                ),
            ));
        }
        let attribute = String::from_utf8_lossy(description).to_ascii_lowercase();
        let rest = &line[colon + 1..];
        let value = match rest.first() {
            Some(b':') => {
                let text: Vec<u8> = rest[1..].iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD.decode(&text).map_err(|_| {
                    self.diagnostic(
                        number,
                        &attribute,
                        "a \"::\" value is base64 (RFC 2849), and this one is not valid base64".to_string(),
                    )
                })
            }
            Some(b'<') => Err(self.diagnostic(
                number,
                &attribute,
                format!(
                    "the value is a URL ({}), which Crosswalk does not fetch; export the entry with the value \
                     itself (ldapsearch and ldifde write values inline)",
                    quoted(String::from_utf8_lossy(&rest[1..]).trim())
                ),
            )),
            _ => {
                let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
                Ok(rest[start..].to_vec())
            }
        };
        Ok((attribute, value))
    }
}

/// Which entries are accounts and which are groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Account,
    Group,
    Other,
}

fn kind_of(entry: &Entry) -> Kind {
    let mut person = false;
    let mut group = false;
    let mut excluded = false;
    for class in entry.values("objectclass") {
        let class = String::from_utf8_lossy(class).trim().to_ascii_lowercase();
        match class.as_str() {
            "person" | "organizationalperson" | "inetorgperson" | "user" | "posixaccount" => {
                person = true
            }
            "group" | "groupofnames" | "groupofuniquenames" | "posixgroup" => group = true,
            // AD computers are users; contacts are persons without an account.
            "computer" | "contact" => excluded = true,
            _ => {}
        }
    }
    match (group, person, excluded) {
        (true, _, _) => Kind::Group,
        (false, true, false) => Kind::Account,
        _ => Kind::Other,
    }
}

/// A reference to a member, kept until every entry is read.
enum MemberRef {
    /// A normalised DN (`member`, `uniqueMember`).
    Dn(String, &'static str),
    /// A username (`memberUid` of a posixGroup).
    Uid(String),
}

struct PendingGroup {
    id: CompactString,
    spot: Spot,
    members: Vec<MemberRef>,
}

/// Turns LDAP entries (from a file or a server) into a checked directory. Entries may come
/// in any order: memberships are resolved in [`EntryAssembler::finish`].
pub struct EntryAssembler {
    builder: Builder,
    /// Normalised DN → (kind, id) of every identity accepted.
    by_dn: FxHashMap<String, (Kind, CompactString)>,
    /// Normalised DNs of entries that are in the input but are no identity (organizational
    /// units, roles such as `cn=admin`), so a `member` naming one is dropped quietly.
    other_dns: FxHashSet<String>,
    /// Normalised DNs of entries that were skipped as invalid.
    skipped_dns: FxHashSet<String>,
    /// Username → account id, for `memberUid`.
    by_uid: FxHashMap<String, CompactString>,
    groups: Vec<PendingGroup>,
    /// (account id, its spot, normalised group DN) from `memberOf`.
    member_of: Vec<(CompactString, Spot, String)>,
}

impl EntryAssembler {
    /// `source_name` names the input in messages: the file, or the server's URL (without
    /// credentials).
    pub fn new(source_name: &str, options: ReadOptions) -> EntryAssembler {
        EntryAssembler {
            builder: Builder::new(source_name, Layout::Ldif, options),
            by_dn: FxHashMap::default(),
            other_dns: FxHashSet::default(),
            skipped_dns: FxHashSet::default(),
            by_uid: FxHashMap::default(),
            groups: Vec::new(),
            member_of: Vec::new(),
        }
    }

    /// Adds an entry read from a server: messages name it by its DN.
    pub fn add(&mut self, entry: Entry) -> Result<(), FormatError> {
        let spot = self.builder.dn_spot(&entry.dn);
        self.add_at(entry, spot)
    }

    /// Adds an entry of a file whose `dn:` is on `line`.
    pub fn add_at_line(&mut self, entry: Entry, line: u64) -> Result<(), FormatError> {
        self.add_at(entry, Spot::line(line))
    }

    fn reject(
        &mut self,
        spot: Spot,
        dn: &str,
        attribute: &str,
        reason: String,
    ) -> Result<(), FormatError> {
        self.skipped_dns.insert(normalize_dn(dn));
        self.builder.reject(spot, "", Some(attribute), reason)
    }

    fn add_at(&mut self, entry: Entry, spot: Spot) -> Result<(), FormatError> {
        let kind = kind_of(&entry);
        if kind == Kind::Other {
            self.other_dns.insert(normalize_dn(&entry.dn));
            return Ok(());
        }
        let id = match identity_id(&entry) {
            Ok(id) => id,
            Err((attribute, reason)) => return self.reject(spot, &entry.dn, attribute, reason),
        };
        let before = self.builder.counts();
        match kind {
            Kind::Account => {
                let account = match account_of(&entry, id) {
                    Ok(account) => account,
                    Err((attribute, reason)) => {
                        return self.reject(spot, &entry.dn, attribute, reason);
                    }
                };
                let (id, username) = (account.id.clone(), account.username.clone());
                let member_of: Vec<String> = entry
                    .values("memberof")
                    .map(|dn| normalize_dn(&String::from_utf8_lossy(dn)))
                    .collect();
                self.builder.add_account(account, spot)?;
                if self.builder.counts().0 == before.0 {
                    self.skipped_dns.insert(normalize_dn(&entry.dn));
                    return Ok(());
                }
                self.by_dn
                    .insert(normalize_dn(&entry.dn), (Kind::Account, id.clone()));
                if let Some(username) = username {
                    self.by_uid
                        .entry(username.to_lowercase().to_string())
                        .or_insert_with(|| id.clone());
                }
                for group_dn in member_of {
                    self.member_of.push((id.clone(), spot, group_dn));
                }
            }
            Kind::Group => {
                let (group, members) = match group_of(&entry, id) {
                    Ok(parts) => parts,
                    Err((attribute, reason)) => {
                        return self.reject(spot, &entry.dn, attribute, reason);
                    }
                };
                let id = group.id.clone();
                if !self.builder.add_group(group, spot)? {
                    self.skipped_dns.insert(normalize_dn(&entry.dn));
                    return Ok(());
                }
                self.by_dn
                    .insert(normalize_dn(&entry.dn), (Kind::Group, id.clone()));
                self.groups.push(PendingGroup { id, spot, members });
            }
            Kind::Other => {}
        }
        Ok(())
    }

    /// Resolves memberships and returns the directory. A `member` DN that is no entry of the
    /// input fails the read (or, skipping invalid records, is left out and listed); one that
    /// names an entry that is no identity (an `organizationalRole` such as `cn=admin`) is
    /// dropped; `memberOf` naming a group outside the input is dropped (the export chose
    /// which groups to include).
    pub fn finish(mut self) -> Result<Imported, FormatError> {
        let groups = std::mem::take(&mut self.groups);
        let mut seen: FxHashMap<CompactString, FxHashSet<CompactString>> = FxHashMap::default();
        for group in groups {
            let members = seen.entry(group.id.clone()).or_default();
            for member in group.members {
                let id = match &member {
                    MemberRef::Dn(dn, attribute) => match self.by_dn.get(dn) {
                        Some((_, id)) => id.clone(),
                        None if self.other_dns.contains(dn) || dn.is_empty() => continue,
                        None => {
                            let reason = if self.skipped_dns.contains(dn) {
                                format!(
                                    "member {} was skipped as invalid, so this membership is skipped too",
                                    quoted(dn)
                                )
                            } else {
                                format!(
                                    "member {} is no entry of this export; export the whole tree (or the members' \
                                     base too), or use --skip-invalid to leave such memberships out",
                                    quoted(dn)
                                )
                            };
                            self.builder
                                .reject(group.spot, "", Some(attribute), reason)?;
                            continue;
                        }
                    },
                    MemberRef::Uid(uid) => match self.by_uid.get(&uid.to_lowercase()) {
                        Some(id) => id.clone(),
                        None => {
                            let reason = format!(
                                "memberUid {} is the uid of no account of this export; export the people too, or \
                                 use --skip-invalid to leave such memberships out",
                                quoted(uid)
                            );
                            self.builder
                                .reject(group.spot, "", Some("memberUid"), reason)?;
                            continue;
                        }
                    },
                };
                if members.insert(id.clone()) {
                    self.builder.add_member(group.id.clone(), id, group.spot, 0);
                }
            }
        }
        for (account, spot, group_dn) in std::mem::take(&mut self.member_of) {
            let Some((Kind::Group, group)) = self.by_dn.get(&group_dn) else {
                continue;
            };
            if seen
                .entry(group.clone())
                .or_default()
                .insert(account.clone())
            {
                self.builder.add_member(group.clone(), account, spot, 0);
            }
        }
        self.builder.finish()
    }
}

/// A value as text, or why it is not.
fn text<'v>(attribute: &'static str, value: &'v [u8]) -> Result<&'v str, (&'static str, String)> {
    std::str::from_utf8(value).map_err(|_| (attribute, "is not UTF-8 text".to_string()))
}

fn first_text(
    entry: &Entry,
    name: &'static str,
    label: &'static str,
) -> Result<Option<CompactString>, (&'static str, String)> {
    match entry.first(name) {
        Some(value) => {
            let value = text(label, value)?.trim();
            Ok((!value.is_empty()).then(|| value.into()))
        }
        None => Ok(None),
    }
}

/// The id of an account or group: `objectGUID` (AD), `entryUUID` (OpenLDAP), `objectSid`,
/// else the DN as written. Each is stable across renames but the DN.
fn identity_id(entry: &Entry) -> Result<CompactString, (&'static str, String)> {
    if let Some(value) = entry.first("objectguid") {
        return guid_value(value).map(Into::into).ok_or((
            "objectGUID",
            format!("expected 16 bytes (base64 after \"objectGUID::\") or a GUID's text, found {} bytes", value.len()),
        ));
    }
    if let Some(uuid) = first_text(entry, "entryuuid", "entryUUID")? {
        return Ok(uuid);
    }
    if let Some(value) = entry.first("objectsid") {
        return sid_value(value).map(Into::into).ok_or((
            "objectSid",
            "expected a binary SID (base64 after \"objectSid::\") or its text (S-1-5-21-...)"
                .to_string(),
        ));
    }
    if entry.dn.trim().is_empty() {
        return Err((
            "dn",
            "is empty; every account and group needs a DN".to_string(),
        ));
    }
    Ok(entry.dn.trim().into())
}

/// An `objectGUID` value: 16 bytes, or a GUID already in text (some tools write it so).
fn guid_value(value: &[u8]) -> Option<String> {
    if let Ok(bytes) = <[u8; 16]>::try_from(value) {
        return Some(guid_text(&bytes));
    }
    let text = std::str::from_utf8(value)
        .ok()?
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}');
    let valid = text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    valid.then(|| text.to_ascii_lowercase())
}

/// A GUID's usual text: the first three fields little-endian (as Windows stores them), the
/// last two as bytes: `01020304-0506-0708-...` is stored as `04 03 02 01 06 05 08 07 ...`.
pub fn guid_text(bytes: &[u8; 16]) -> String {
    let first = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let second = u16::from_le_bytes([bytes[4], bytes[5]]);
    let third = u16::from_le_bytes([bytes[6], bytes[7]]);
    let mut text = format!(
        "{first:08x}-{second:04x}-{third:04x}-{:02x}{:02x}-",
        bytes[8], bytes[9]
    );
    for byte in &bytes[10..] {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

fn sid_value(value: &[u8]) -> Option<String> {
    if let Some(text) = sid_text(value) {
        return Some(text);
    }
    let text = std::str::from_utf8(value).ok()?.trim();
    let valid = text.len() > 2
        && text
            .get(..2)
            .is_some_and(|start| start.eq_ignore_ascii_case("s-"))
        && text[2..]
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    valid.then(|| format!("S-{}", &text[2..]))
}

/// A binary SID (MS-DTYP 2.4.2: revision, sub-authority count, 48-bit big-endian
/// authority, 32-bit little-endian sub-authorities) as `S-1-5-21-...`; `None` if the bytes
/// are no SID.
pub fn sid_text(bytes: &[u8]) -> Option<String> {
    let (&revision, rest) = bytes.split_first()?;
    let (&count, rest) = rest.split_first()?;
    if revision != 1 || count > 15 || rest.len() != 6 + 4 * count as usize {
        return None;
    }
    let authority = rest[..6]
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut text = if authority < 1 << 32 {
        format!("S-1-{authority}")
    } else {
        format!("S-1-0x{authority:012X}")
    };
    for chunk in rest[6..].chunks_exact(4) {
        text.push_str(&format!(
            "-{}",
            u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])
        ));
    }
    Some(text)
}

fn account_of(entry: &Entry, id: CompactString) -> Result<Account, (&'static str, String)> {
    let username = match first_text(entry, "samaccountname", "sAMAccountName")? {
        Some(name) => Some(name),
        None => first_text(entry, "uid", "uid")?,
    };
    let mut mails = Vec::new();
    for value in entry.values("mail") {
        let value = text("mail", value)?.trim();
        if !value.is_empty() {
            mails.push(CompactString::from(value));
        }
    }
    let (mut primary, mut aliases) = (None, Vec::new());
    for value in entry.values("proxyaddresses") {
        let value = text("proxyAddresses", value)?.trim();
        let Some((prefix, address)) = value.split_once(':') else {
            return Err((
                "proxyAddresses",
                format!(
                    "expected TYPE:address (SMTP:, smtp:, X500:...), found {}",
                    quoted(value)
                ),
            ));
        };
        // `SMTP:` in capitals is the primary address, `smtp:` an alias; other types
        // (X500:, SIP:, x400:, EUM:) are no mail addresses.
        match prefix {
            "SMTP" if primary.is_none() => primary = Some(CompactString::from(address.trim())),
            "SMTP" => {
                return Err((
                    "proxyAddresses",
                    format!(
                        "a second primary address (SMTP:) {}; only one may be primary",
                        quoted(address)
                    ),
                ));
            }
            _ if prefix.eq_ignore_ascii_case("smtp") => {
                aliases.push(CompactString::from(address.trim()))
            }
            _ => {}
        }
    }
    let mut mails = mails.into_iter();
    let email = mails.next().or_else(|| primary.clone());
    let mut alias_emails: Vec<CompactString> = Vec::new();
    let candidates = mails.chain(primary).chain(aliases);
    for alias in candidates {
        let same = |other: &CompactString| other.eq_ignore_ascii_case(&alias);
        if !alias.is_empty() && !email.as_ref().is_some_and(same) && !alias_emails.iter().any(same)
        {
            alias_emails.push(alias);
        }
    }
    let active = match entry.first("useraccountcontrol") {
        Some(value) => {
            let value = text("userAccountControl", value)?.trim();
            let flags: i64 = value.parse().map_err(|_| {
                (
                    "userAccountControl",
                    format!(
                        "expected a number (512 is a normal account, 514 a disabled one), found {}",
                        quoted(value)
                    ),
                )
            })?;
            flags & 0x2 == 0
        }
        // OpenLDAP's ppolicy locks an account with pwdAccountLockedTime; 389 DS uses nsAccountLock.
        None => {
            entry.first("pwdaccountlockedtime").is_none()
                && !entry
                    .first("nsaccountlock")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"true"))
        }
    };
    Ok(Account {
        id,
        username,
        email,
        alias_emails,
        display_name: match first_text(entry, "displayname", "displayName")? {
            Some(name) => Some(name),
            None => first_text(entry, "cn", "cn")?,
        },
        given_name: first_text(entry, "givenname", "givenName")?,
        family_name: first_text(entry, "sn", "sn")?,
        active,
        source_directory: None,
        email_verified: None,
    })
}

fn group_of(
    entry: &Entry,
    id: CompactString,
) -> Result<(Group, Vec<MemberRef>), (&'static str, String)> {
    let name = match first_text(entry, "cn", "cn")? {
        Some(name) => name,
        None => match first_text(entry, "samaccountname", "sAMAccountName")? {
            Some(name) => name,
            None => first_rdn_value(&entry.dn).into(),
        },
    };
    let mut members = Vec::new();
    for (attribute, value) in &entry.attributes {
        let (label, base) = match base_name(attribute) {
            "member" => ("member", true),
            "uniquemember" => ("uniqueMember", true),
            "memberuid" => ("memberUid", false),
            _ => continue,
        };
        if let Some(range) = attribute
            .split(';')
            .find_map(|option| option.strip_prefix("range="))
            && !range.ends_with('*')
        {
            return Err((
                label,
                format!(
                    "holds only part of the members ({attribute}: Active Directory sends large groups in ranges); \
                     export with ldifde, which fetches every range, or read the directory live \
                     (crosswalk run --source ldap://...), which does too"
                ),
            ));
        }
        let value = text(label, value)?.trim();
        if base {
            // groupOfUniqueNames may carry an optional unique identifier: `dn#'0101'B`.
            let dn = match value.rsplit_once("#'") {
                Some((dn, suffix)) if suffix.ends_with("'B") => dn,
                _ => value,
            };
            members.push(MemberRef::Dn(normalize_dn(dn), label));
        } else if !value.is_empty() {
            members.push(MemberRef::Uid(value.to_string()));
        }
    }
    let group = Group {
        id,
        name,
        display_name: first_text(entry, "displayname", "displayName")?,
        members: Vec::new(),
    };
    Ok((group, members))
}

fn first_rdn_value(dn: &str) -> String {
    let first = split_unescaped(dn, b',')
        .into_iter()
        .next()
        .unwrap_or_default();
    match first.split_once('=') {
        Some((_, value)) => unescape(value.trim()),
        None => first.trim().to_string(),
    }
}

/// Splits at `separator` bytes that are not escaped with a backslash.
fn split_unescaped(text: &str, separator: u8) -> Vec<&str> {
    let bytes = text.as_bytes();
    let (mut parts, mut start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == separator {
            parts.push(&text[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    parts.push(&text[start.min(text.len())..]);
    parts
}

/// RFC 4514 escapes (`\,` and `\2C`) undone.
fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(bytes[i + 1]);
                    i += 2;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A DN in one canonical form, so that two spellings of one DN compare equal: attribute
/// types and values lowercased, spaces around separators dropped, escapes undone (and the
/// separators escaped again), the parts of a multi-valued RDN sorted.
/// `CN=Doe\, Jane , OU=People,DC=Example,DC=com` and `cn=doe\2C jane,ou=people,dc=example,dc=com`
/// give the same.
pub fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for (i, rdn) in split_unescaped(dn.trim(), b',').into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut parts: Vec<String> = split_unescaped(rdn, b'+')
            .into_iter()
            .map(|ava| {
                let (kind, value) = ava.split_once('=').unwrap_or(("", ava));
                let value = unescape(value.trim()).to_lowercase();
                let mut part = kind.trim().to_ascii_lowercase();
                part.push('=');
                for c in value.chars() {
                    if matches!(c, ',' | '+' | '\\' | '=') {
                        part.push('\\');
                    }
                    part.push(c);
                }
                part
            })
            .collect();
        parts.sort_unstable();
        out.push_str(&parts.join("+"));
    }
    out
}

/// The `entryUUID` [`write_ldif`] gives an identity: a name-based UUID (version 8, from a
/// 128-bit FNV-1a of the kind and the id), so the same id gets the same UUID in both
/// directories of a pair, and reading the file back keys the identity by it.
pub fn entry_uuid_of(kind: IdentityKind, id: &str) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let mut hash = OFFSET;
    for &byte in kind
        .as_str()
        .as_bytes()
        .iter()
        .chain(b":")
        .chain(id.as_bytes())
    {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    // FNV alone leaves ids that differ in their last character with UUIDs that differ in a
    // few digits; xor-shifts and an odd multiplier (each one-to-one, so no two ids that
    // differed come to share a UUID) spread the difference over every digit.
    hash ^= hash >> 64;
    hash = hash.wrapping_mul(0x9e3779b97f4a7c15f39cc0605cedc835);
    hash ^= hash >> 61;
    // RFC 9562: version 8 (custom) in bits 48-51, variant 10 in bits 64-65.
    let hash = (hash & !(0xf << 76) & !(0x3 << 62)) | (0x8 << 76) | (0x2 << 62);
    let hex = format!("{hash:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Writes a directory as OpenLDAP's `slapcat` writes an export (lines folded at 76
/// columns, operational attributes after each entry's own), under `suffix`
/// (`dc=example,dc=com`): the suffix entry, `ou=people` and `ou=groups`; accounts as
/// `inetOrgPerson` (`uid` the username, `cn` and `displayName`, `givenName`, `sn`, `mail`
/// the email then the aliases, `pwdAccountLockedTime: 000001010000Z` when inactive, as
/// OpenLDAP's ppolicy locks an account), groups as `groupOfNames` with their members' DNs,
/// each keyed by `entryUUID` ([`entry_uuid_of`]). Read back with [`read_ldif`], a directory
/// comes out the same but for its ids (the UUIDs) and the fields LDAP has no place for
/// (`source_directory`, `email_verified`); an account with no display name or no family
/// name gets its `cn` (the display name, else the given and family name, else the username,
/// else the id) as one, since `inetOrgPerson` must have a `cn` and an `sn`. `slapadd -s` loads
/// the file into a server (with the `ppolicy` module loaded if any account is inactive).
/// Made for generated benchmark data (`crosswalk generate --format ldif`).
pub fn write_ldif(directory: &Directory, suffix: &str, output: impl Write) -> std::io::Result<()> {
    let mut out = LdifWriter {
        output: std::io::BufWriter::with_capacity(1 << 16, output),
        line: Vec::with_capacity(256),
        admin: format!("cn=admin,{suffix}"),
    };
    // No `version: 1` line: slapcat writes none, and slapadd takes it for an entry without a DN.
    out.entry(
        suffix,
        &[("objectClass", "dcObject"), ("objectClass", "organization")],
    )?;
    out.attribute("o", &directory.name)?;
    out.attribute("dc", &first_rdn_value(suffix))?;
    out.operational(
        "organization",
        &entry_uuid_of(IdentityKind::Group, suffix),
        false,
    )?;
    for ou in ["people", "groups"] {
        let dn = format!("ou={ou},{suffix}");
        out.entry(&dn, &[("objectClass", "organizationalUnit"), ("ou", ou)])?;
        out.operational(
            "organizationalUnit",
            &entry_uuid_of(IdentityKind::Group, &dn),
            false,
        )?;
    }

    // DNs first, so that a group names members (and nested groups) written after it. A
    // username (groups: a name) already taken gives way to the id, with `cn` the id.
    let mut used: FxHashSet<String> = FxHashSet::default();
    let mut account_dns: FxHashMap<&str, (String, bool)> = FxHashMap::default();
    for account in &directory.accounts {
        let entry = match &account.username {
            Some(username) if used.insert(format!("p:{}", username.to_lowercase())) => (
                format!("uid={},ou=people,{suffix}", escape_rdn_value(username)),
                false,
            ),
            _ => {
                used.insert(format!("p:{}", account.id.to_lowercase()));
                let dn = format!("cn={},ou=people,{suffix}", escape_rdn_value(&account.id));
                (dn, true)
            }
        };
        account_dns.insert(account.id.as_str(), entry);
    }
    let mut group_dns: FxHashMap<&str, (String, bool)> = FxHashMap::default();
    for group in &directory.groups {
        let by_name = used.insert(format!("g:{}", group.name.to_lowercase()));
        let rdn = if by_name {
            &group.name
        } else {
            used.insert(format!("g:{}", group.id.to_lowercase()));
            &group.id
        };
        let dn = format!("cn={},ou=groups,{suffix}", escape_rdn_value(rdn));
        group_dns.insert(group.id.as_str(), (dn, !by_name));
    }
    let dn_of = |id: &str| {
        account_dns
            .get(id)
            .or_else(|| group_dns.get(id))
            .map(|(dn, _)| dn)
    };

    for account in &directory.accounts {
        let (dn, cn_is_id) = &account_dns[account.id.as_str()];
        out.entry(dn, &[("objectClass", "inetOrgPerson")])?;
        if let Some(username) = &account.username {
            out.attribute("uid", username)?;
        }
        let cn = match (
            &account.display_name,
            &account.given_name,
            &account.family_name,
        ) {
            (Some(name), _, _) => name.to_string(),
            (None, Some(given), Some(family)) => format!("{given} {family}"),
            _ => account
                .username
                .as_deref()
                .unwrap_or(&account.id)
                .to_string(),
        };
        out.attribute("cn", &cn)?;
        if *cn_is_id && cn != account.id.as_str() {
            // The RDN's value must be one of the entry's values.
            out.attribute("cn", &account.id)?;
        }
        // person requires sn.
        out.attribute("sn", account.family_name.as_deref().unwrap_or(&cn))?;
        if let Some(given) = &account.given_name {
            out.attribute("givenName", given)?;
        }
        out.attribute("displayName", &cn)?;
        for mail in account.email.iter().chain(&account.alias_emails) {
            out.attribute("mail", mail)?;
        }
        out.operational(
            "inetOrgPerson",
            &entry_uuid_of(IdentityKind::Account, &account.id),
            !account.active,
        )?;
    }
    for group in &directory.groups {
        let (dn, cn_is_id) = &group_dns[group.id.as_str()];
        out.entry(dn, &[("objectClass", "groupOfNames")])?;
        out.attribute("cn", &group.name)?;
        if *cn_is_id && group.name != group.id {
            out.attribute("cn", &group.id)?;
        }
        if let Some(name) = &group.display_name {
            out.attribute("displayName", name)?;
        }
        for member in &group.members {
            if let Some(dn) = dn_of(member) {
                out.attribute("member", dn)?;
            }
        }
        out.operational(
            "groupOfNames",
            &entry_uuid_of(IdentityKind::Group, &group.id),
            false,
        )?;
    }
    out.output.flush()
}

struct LdifWriter<W: Write> {
    output: std::io::BufWriter<W>,
    line: Vec<u8>,
    admin: String,
}

impl<W: Write> LdifWriter<W> {
    /// Starts an entry (after the previous one's blank line) with its DN and first values.
    fn entry(&mut self, dn: &str, values: &[(&str, &str)]) -> std::io::Result<()> {
        self.attribute("dn", dn)?;
        for (attribute, value) in values {
            self.attribute(attribute, value)?;
        }
        Ok(())
    }

    /// slapcat's operational attributes, and the blank line that ends the entry.
    fn operational(&mut self, structural: &str, uuid: &str, locked: bool) -> std::io::Result<()> {
        const WHEN: &str = "20260101000000Z";
        if locked {
            // ppolicy's "locked until an administrator unlocks it".
            self.attribute("pwdAccountLockedTime", "000001010000Z")?;
        }
        self.attribute("structuralObjectClass", structural)?;
        self.attribute("entryUUID", uuid)?;
        let admin = std::mem::take(&mut self.admin);
        self.attribute("creatorsName", &admin)?;
        self.attribute("createTimestamp", WHEN)?;
        self.attribute("entryCSN", "20260101000000.000000Z#000000#000#000000")?;
        self.attribute("modifiersName", &admin)?;
        self.attribute("modifyTimestamp", WHEN)?;
        self.admin = admin;
        self.output.write_all(b"\n")
    }

    /// `attribute: value`, or `attribute:: base64` for a value that is no SAFE-STRING
    /// (RFC 2849: non-ASCII, a leading space, colon or `<`, a trailing space), folded.
    fn attribute(&mut self, attribute: &str, value: &str) -> std::io::Result<()> {
        let bytes = value.as_bytes();
        let safe = bytes
            .iter()
            .all(|&b| b.is_ascii() && !matches!(b, 0 | b'\n' | b'\r'))
            && !matches!(bytes.first(), Some(b' ' | b':' | b'<'))
            && bytes.last() != Some(&b' ');
        self.line.clear();
        self.line.extend_from_slice(attribute.as_bytes());
        if safe {
            self.line.extend_from_slice(b": ");
            self.line.extend_from_slice(bytes);
        } else {
            self.line.extend_from_slice(b":: ");
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            self.line.extend_from_slice(encoded.as_bytes());
        }
        // Folded at 76 columns; every byte is ASCII here, so no character is split.
        const WIDTH: usize = 76;
        let (first, mut rest) = self.line.split_at(self.line.len().min(WIDTH));
        self.output.write_all(first)?;
        while !rest.is_empty() {
            let (part, tail) = rest.split_at(rest.len().min(WIDTH - 1));
            self.output.write_all(b"\n ")?;
            self.output.write_all(part)?;
            rest = tail;
        }
        self.output.write_all(b"\n")
    }
}

/// An attribute value as an RDN value (RFC 4514): `"+,;<>\` escaped, and a leading space or
/// `#` and a trailing space.
fn escape_rdn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge = (i == 0 && matches!(c, ' ' | '#')) || (i == last && c == ' ');
        if edge || matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_and_sid_read_as_windows_writes_them() {
        // The GUID 01020304-0506-0708-090a-0b0c0d0e0f10 as AD stores it.
        let bytes = [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16];
        assert_eq!(guid_text(&bytes), "01020304-0506-0708-090a-0b0c0d0e0f10");
        // S-1-5-21-1004336348-1177238915-682003330-512 (Domain Admins of a domain).
        let mut sid = vec![1, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1004336348, 1177238915, 682003330, 512] {
            sid.extend_from_slice(&sub.to_le_bytes());
        }
        assert_eq!(
            sid_text(&sid).as_deref(),
            Some("S-1-5-21-1004336348-1177238915-682003330-512")
        );
        assert_eq!(sid_text(&sid[..sid.len() - 1]), None);
        assert_eq!(sid_text(&[]), None);
    }

    /// An `objectSid` in text whose second byte is inside a character (`Sé-1`) was sliced
    /// there; it is now refused as no SID, with a message.
    #[test]
    fn a_text_sid_with_a_character_across_its_prefix_is_refused_not_a_panic() {
        assert_eq!(sid_value("Sé-1-5".as_bytes()), None);
        assert_eq!(sid_value(b"s-1-5-21").as_deref(), Some("S-1-5-21"));
        let text = "dn: uid=a,dc=x\nobjectClass: person\nobjectSid: Sé-1-5\n";
        let error = read_ldif("a.ldif", text.as_bytes(), ReadOptions::default()).unwrap_err();
        assert!(error.to_string().contains("objectSid"), "{error}");
    }

    #[test]
    fn dns_compare_caselessly_after_normalising() {
        assert_eq!(
            normalize_dn("CN=Doe\\, Jane , OU=People,DC=Example,DC=com"),
            normalize_dn("cn=doe\\2C jane,ou=people,dc=example,dc=com")
        );
        assert_eq!(
            normalize_dn("cn=A+uid=b,dc=x"),
            normalize_dn("UID=B + CN=a, dc=X")
        );
        assert_ne!(normalize_dn("cn=a,dc=x"), normalize_dn("cn=a\\,dc=x"));
        assert_eq!(first_rdn_value("cn=Doe\\, Jane,dc=x"), "Doe, Jane");
    }
}
