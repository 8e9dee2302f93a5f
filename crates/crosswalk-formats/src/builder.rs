//! Assembles a [`Directory`] from identities read one at a time, for both directory readers.
//!
//! Both formats have the same rules once a record is parsed (ids unique per kind,
//! memberships pointing at identities of the same file, skip-or-fail on a bad record), so
//! they live here once. Records are remembered by a compact [`Spot`] rather than a full
//! [`Location`], because a million-row file must not carry a million copies of its name.

use rustc_hash::FxHashMap;

use crosswalk_core::{Account, CompactString, Directory, DirectoryError, Group, IdentityKind};

use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::limits;
use crate::{Imported, ReadOptions};

/// How record spots turn into locations.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout {
    /// Spots are CSV lines; fields are columns.
    Csv,
    /// Spots are JSON Lines lines and/or indexes into a resource array found at
    /// `list_prefix` (`/Resources` in a ListResponse, empty for a bare array).
    Scim { list_prefix: &'static str },
    /// Spots are LDIF lines (the entry's `dn:` line), or for entries read from a server
    /// (no line) an index into the DNs noted with [`Builder::dn_spot`]; fields are LDAP
    /// attribute names.
    Ldif,
    /// Spots are indexes into a JSON array of Okta API objects (`crate::exports::okta`);
    /// fields are pointers into the object (`/profile/login`).
    Okta,
}

/// Where a record is, compactly: a line, an index in a resource array, or both.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Spot {
    pub(crate) line: Option<u64>,
    pub(crate) item: Option<u64>,
}

impl Spot {
    pub(crate) fn line(line: u64) -> Spot {
        Spot {
            line: Some(line),
            item: None,
        }
    }
}

/// A membership waiting for the end of the file, where forward references resolve.
/// Ids are `CompactString`s so that a short id (nearly all are) takes no allocation of its
/// own: a million memberships would otherwise leave a million small blocks behind.
struct PendingMember {
    group: CompactString,
    member: CompactString,
    spot: Spot,
    /// Index in the SCIM `members` array (unused for CSV).
    entry: u32,
}

/// A field of an identity, named as each format names it ([`Builder::field_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Username,
    Email,
    Aliases,
    DisplayName,
    GivenName,
    FamilyName,
    SourceDirectory,
    GroupName,
    Member,
}

impl Field {
    /// Whether the field names the identity, so that no control or invisible character may
    /// be in it.
    fn names_the_identity(self) -> bool {
        matches!(
            self,
            Field::Id
                | Field::Username
                | Field::Email
                | Field::Aliases
                | Field::GroupName
                | Field::Member
        )
    }
}

pub(crate) struct Builder {
    file: String,
    layout: Layout,
    options: ReadOptions,
    accounts: Vec<Account>,
    account_spots: Vec<Spot>,
    account_ids: FxHashMap<CompactString, u32>,
    groups: Vec<Group>,
    group_spots: Vec<Spot>,
    group_ids: FxHashMap<CompactString, u32>,
    /// Ids of records that were skipped, so memberships naming them say why they go too.
    skipped_ids: FxHashMap<String, Spot>,
    pending: Vec<PendingMember>,
    skipped: Vec<Diagnostic>,
    /// Platform exports (`crate::exports`): the export's own spelling of a Crosswalk CSV
    /// column, so messages name the column the person sees in their file.
    renamed_columns: Vec<(&'static str, String)>,
    /// LDAP entries read from a server: their DNs, which is how a message names them.
    dns: Vec<CompactString>,
}

impl Builder {
    pub(crate) fn new(file: &str, layout: Layout, options: ReadOptions) -> Builder {
        Builder {
            file: file.to_string(),
            layout,
            options,
            accounts: Vec::new(),
            account_spots: Vec::new(),
            account_ids: FxHashMap::default(),
            groups: Vec::new(),
            group_spots: Vec::new(),
            group_ids: FxHashMap::default(),
            skipped_ids: FxHashMap::default(),
            pending: Vec::new(),
            skipped: Vec::new(),
            renamed_columns: Vec::new(),
            dns: Vec::new(),
        }
    }

    /// Messages about Crosswalk column `column` (`"email"`) name `header` instead.
    pub(crate) fn rename_column(&mut self, column: &'static str, header: &str) {
        self.renamed_columns.push((column, header.to_string()));
    }

    /// Later locations name `file` (an export spread over several files).
    pub(crate) fn set_file(&mut self, file: &str) {
        self.file = file.to_string();
    }

    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// Notes a problem that was already judged skippable.
    pub(crate) fn skip(&mut self, diagnostic: Diagnostic) {
        self.skipped.push(diagnostic);
    }

    /// The location of a record, or of `sub` (a JSON pointer inside the record) for SCIM.
    pub(crate) fn location(&self, spot: Spot, sub: &str) -> Location {
        match self.layout {
            Layout::Csv => Location {
                file: self.file.clone(),
                line: spot.line,
                pointer: None,
            },
            Layout::Ldif => {
                let file = match (spot.line, spot.item.and_then(|i| self.dns.get(i as usize))) {
                    (None, Some(dn)) => format!("{} (entry {dn:?})", self.file),
                    _ => self.file.clone(),
                };
                Location {
                    file,
                    line: spot.line,
                    pointer: None,
                }
            }
            Layout::Okta => Location {
                file: self.file.clone(),
                line: spot.line,
                pointer: Some(match spot.item {
                    Some(item) => format!("/{item}{sub}"),
                    None => sub.to_string(),
                }),
            },
            Layout::Scim { list_prefix } => {
                let pointer = match spot.item {
                    Some(item) => format!("{list_prefix}/{item}{sub}"),
                    None => sub.to_string(),
                };
                Location {
                    file: self.file.clone(),
                    line: spot.line,
                    pointer: Some(pointer),
                }
            }
        }
    }

    /// The spot of an entry that has no line (read from a server): messages name its DN.
    pub(crate) fn dn_spot(&mut self, dn: &str) -> Spot {
        self.dns.push(dn.into());
        Spot {
            line: None,
            item: Some(self.dns.len() as u64 - 1),
        }
    }

    /// How many accounts and groups were accepted so far (a record just offered was
    /// skipped if these did not grow).
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.accounts.len(), self.groups.len())
    }

    /// A spot as words, for messages that point at a second record ("already used on line 3").
    fn describe(&self, spot: Spot) -> String {
        let list_prefix = match self.layout {
            Layout::Csv => "",
            Layout::Ldif => {
                if let (None, Some(dn)) =
                    (spot.line, spot.item.and_then(|i| self.dns.get(i as usize)))
                {
                    return format!("entry {dn:?}");
                }
                ""
            }
            Layout::Scim { list_prefix } => list_prefix,
            Layout::Okta => "",
        };
        match (spot.line, spot.item) {
            (Some(line), Some(item)) => format!("line {line} at {list_prefix}/{item}"),
            (Some(line), None) => format!("line {line}"),
            (None, Some(item)) => format!("{list_prefix}/{item}"),
            (None, None) => "the same document".to_string(),
        }
    }

    /// Reports a bad record: fails the read, or (with `skip_invalid`) notes it and goes on.
    pub(crate) fn reject(
        &mut self,
        spot: Spot,
        sub: &str,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> Result<(), FormatError> {
        let renamed = field
            .and_then(|f| self.renamed_columns.iter().find(|(c, _)| *c == f))
            .map(|(_, h)| h.as_str());
        let diagnostic = Diagnostic::new(self.location(spot, sub), renamed.or(field), reason);
        if self.options.skip_invalid {
            self.skipped.push(diagnostic);
            Ok(())
        } else {
            Err(diagnostic.into())
        }
    }

    /// Remembers the id of a skipped record, so memberships naming it can say why they go.
    pub(crate) fn forget(&mut self, id: &str, spot: Spot) {
        if self.options.skip_invalid && !id.is_empty() {
            self.skipped_ids.entry(id.to_string()).or_insert(spot);
        }
    }

    fn id_sub(&self) -> &'static str {
        match self.layout {
            Layout::Csv | Layout::Ldif => "",
            Layout::Scim { .. } | Layout::Okta => "/id",
        }
    }

    /// Where a field of a record is: its CSV column, or its SCIM attribute (a JSON pointer
    /// inside the resource) and that attribute's name.
    fn field_at(&self, field: Field) -> (&'static str, &'static str) {
        let (column, pointer) = match field {
            Field::Id => ("id", "/id"),
            Field::Username => ("username", "/userName"),
            Field::Email => ("email", "/emails"),
            Field::Aliases => ("aliases", "/emails"),
            Field::DisplayName => ("display_name", "/displayName"),
            Field::GivenName => ("given_name", "/name/givenName"),
            Field::FamilyName => ("family_name", "/name/familyName"),
            Field::SourceDirectory => (
                "source_directory",
                "/urn:crosswalk:params:scim:schemas:extension:2.0:User/sourceDirectory",
            ),
            Field::GroupName => ("name", "/displayName"),
            Field::Member => ("member", "/members"),
        };
        match self.layout {
            Layout::Csv => ("", column),
            Layout::Ldif => ("", crate::ldif::attribute_of(column)),
            Layout::Scim { .. } => (
                pointer,
                pointer
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or(pointer),
            ),
            Layout::Okta => {
                let pointer = match field {
                    Field::Id => "/id",
                    Field::Username => "/profile/login",
                    Field::Email => "/profile/email",
                    Field::Aliases => "/profile/secondEmail",
                    Field::DisplayName => "/profile/displayName",
                    Field::GivenName => "/profile/firstName",
                    Field::FamilyName => "/profile/lastName",
                    Field::SourceDirectory => "/credentials/provider/type",
                    Field::GroupName => "/profile/name",
                    // Members come from the group's members file, checked there.
                    Field::Member => "",
                };
                (pointer, pointer.rsplit('/').next().unwrap_or(pointer))
            }
        }
    }

    /// Refuses a value over [`limits::MAX_FIELD_BYTES`], a NUL anywhere, and in what names an
    /// identity (`identifier`) any character [`crosswalk_core::directory::identifier_problem`]
    /// refuses.
    fn check_fields<'v>(
        &mut self,
        spot: Spot,
        fields: impl IntoIterator<Item = (Field, &'v str)>,
    ) -> Result<bool, FormatError> {
        for (field, value) in fields {
            let problem = if value.len() > limits::MAX_FIELD_BYTES {
                Some(limits::field_too_long())
            } else if field.names_the_identity() {
                crosswalk_core::directory::identifier_problem(value)
            } else {
                value
                    .contains('\0')
                    .then(|| "contains U+0000 (NUL), a control character; remove it".to_string())
            };
            if let Some(problem) = problem {
                let (sub, name) = self.field_at(field);
                self.reject(spot, sub, Some(name), problem)?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Adds an account whose fields are already valid; refuses an empty or repeated id.
    pub(crate) fn add_account(&mut self, account: Account, spot: Spot) -> Result<(), FormatError> {
        if account.id.trim().is_empty() {
            return self.reject(
                spot,
                self.id_sub(),
                Some("id"),
                "is required: every account needs an id",
            );
        }
        fn text(value: &Option<CompactString>) -> &str {
            value.as_deref().unwrap_or_default()
        }
        let fields = [
            (Field::Id, account.id.as_str()),
            (Field::Username, text(&account.username)),
            (Field::Email, text(&account.email)),
            (Field::DisplayName, text(&account.display_name)),
            (Field::GivenName, text(&account.given_name)),
            (Field::FamilyName, text(&account.family_name)),
            (Field::SourceDirectory, text(&account.source_directory)),
        ];
        let aliases = account
            .alias_emails
            .iter()
            .map(|alias| (Field::Aliases, alias.as_str()));
        if !self.check_fields(spot, fields.into_iter().chain(aliases))? {
            self.forget(&account.id, spot);
            return Ok(());
        }
        if let Some(&first) = self.account_ids.get(&account.id) {
            let reason = format!(
                "account id {} is already used on {}; ids must be unique",
                quoted(&account.id),
                self.describe(
                    self.account_spots
                        .get(first as usize)
                        .copied()
                        .unwrap_or_default()
                )
            );
            return self.reject(spot, self.id_sub(), Some("id"), reason);
        }
        let Ok(index) = u32::try_from(self.accounts.len()) else {
            return self.reject(
                spot,
                "",
                None,
                "more than 4 294 967 295 accounts in one file",
            );
        };
        self.account_ids.insert(account.id.clone(), index);
        self.accounts.push(account);
        self.account_spots.push(spot);
        Ok(())
    }

    /// Adds a group (members come through [`Builder::add_member`]). `Ok(false)` when it was
    /// skipped, in which case the caller must not add its members.
    pub(crate) fn add_group(&mut self, group: Group, spot: Spot) -> Result<bool, FormatError> {
        if group.id.trim().is_empty() {
            self.reject(
                spot,
                self.id_sub(),
                Some("id"),
                "is required: every group needs an id",
            )?;
            return Ok(false);
        }
        let fields = [
            (Field::Id, group.id.as_str()),
            (Field::GroupName, group.name.as_str()),
            (
                Field::DisplayName,
                group.display_name.as_deref().unwrap_or_default(),
            ),
        ];
        let members = group
            .members
            .iter()
            .map(|member| (Field::Member, member.as_str()));
        if !self.check_fields(spot, fields.into_iter().chain(members))? {
            self.forget(&group.id, spot);
            return Ok(false);
        }
        if let Some(&first) = self.group_ids.get(&group.id) {
            let reason = format!(
                "group id {} is already used on {}; ids must be unique",
                quoted(&group.id),
                self.describe(
                    self.group_spots
                        .get(first as usize)
                        .copied()
                        .unwrap_or_default()
                )
            );
            self.reject(spot, self.id_sub(), Some("id"), reason)?;
            return Ok(false);
        }
        let Ok(index) = u32::try_from(self.groups.len()) else {
            self.reject(spot, "", None, "more than 4 294 967 295 groups in one file")?;
            return Ok(false);
        };
        self.group_ids.insert(group.id.clone(), index);
        self.groups.push(group);
        self.group_spots.push(spot);
        Ok(true)
    }

    /// Notes that `member` (an account or group id) belongs to group `group`; checked in
    /// [`Builder::finish`], since either may be defined further down the file.
    ///
    /// A membership whose group and member are both already read is added at once, unless
    /// one before it is still waiting: members then keep the file's order, and a file that
    /// lists identities before memberships (as exports do) keeps no list of them at all.
    pub(crate) fn add_member(
        &mut self,
        group: CompactString,
        member: CompactString,
        spot: Spot,
        entry: u32,
    ) {
        if self.pending.is_empty()
            && self.is_known(&member)
            && let Some(&group_index) = self.group_ids.get(group.as_str())
            && let Some(group) = self.groups.get_mut(group_index as usize)
        {
            group.members.push(member);
            return;
        }
        self.pending.push(PendingMember {
            group,
            member,
            spot,
            entry,
        });
    }

    fn is_known(&self, id: &str) -> bool {
        self.account_ids.contains_key(id) || self.group_ids.contains_key(id)
    }

    /// Resolves memberships and returns the directory, checked by the core's own rules.
    pub(crate) fn finish(mut self) -> Result<Imported, FormatError> {
        let pending = std::mem::take(&mut self.pending);
        for membership in pending {
            let (group_sub, member_sub) = match self.layout {
                Layout::Csv | Layout::Ldif | Layout::Okta => (String::new(), String::new()),
                Layout::Scim { .. } => (
                    String::new(),
                    format!("/members/{}/value", membership.entry),
                ),
            };
            let (group_field, member_field) = match self.layout {
                Layout::Csv => ("group", "member"),
                Layout::Ldif => ("dn", "member"),
                Layout::Scim { .. } => ("id", "members"),
                Layout::Okta => ("id", "members"),
            };
            let Some(&group_index) = self.group_ids.get(membership.group.as_str()) else {
                let reason = match self.skipped_ids.get(membership.group.as_str()) {
                    Some(&spot) => format!(
                        "group {} was skipped ({}), so this membership is skipped too",
                        quoted(&membership.group),
                        self.describe(spot)
                    ),
                    None => format!(
                        "no group with id {} in this file; add a group row for it or remove this membership",
                        quoted(&membership.group)
                    ),
                };
                self.reject(membership.spot, &group_sub, Some(group_field), reason)?;
                continue;
            };
            if !self.is_known(&membership.member) {
                let reason = match self.skipped_ids.get(membership.member.as_str()) {
                    Some(&spot) => format!(
                        "member {} was skipped ({}), so this membership is skipped too",
                        quoted(&membership.member),
                        self.describe(spot)
                    ),
                    None => format!(
                        "no account or group with id {} in this file; add it or remove this membership",
                        quoted(&membership.member)
                    ),
                };
                self.reject(membership.spot, &member_sub, Some(member_field), reason)?;
                continue;
            }
            if let Some(group) = self.groups.get_mut(group_index as usize) {
                group.members.push(membership.member);
            }
        }
        let directory = Directory {
            name: crate::directory_name(&self.file),
            accounts: std::mem::take(&mut self.accounts),
            groups: std::mem::take(&mut self.groups),
        };
        // The rules above are the core's rules, so this only fails if they drift apart; it
        // keeps the promise that an `Imported` directory always passes the core's check.
        if let Err(error) = directory.check() {
            let spot = match &error {
                DirectoryError::DuplicateId {
                    kind: IdentityKind::Account,
                    id,
                } => directory
                    .accounts
                    .iter()
                    .rposition(|a| a.id == id)
                    .and_then(|i| self.account_spots.get(i).copied()),
                DirectoryError::DuplicateId {
                    kind: IdentityKind::Group,
                    id,
                } => directory
                    .groups
                    .iter()
                    .rposition(|g| g.id == id)
                    .and_then(|i| self.group_spots.get(i).copied()),
                DirectoryError::EmptyId {
                    kind: IdentityKind::Account,
                } => directory
                    .accounts
                    .iter()
                    .position(|a| a.id.is_empty())
                    .and_then(|i| self.account_spots.get(i).copied()),
                DirectoryError::EmptyId {
                    kind: IdentityKind::Group,
                } => directory
                    .groups
                    .iter()
                    .position(|g| g.id.is_empty())
                    .and_then(|i| self.group_spots.get(i).copied()),
                DirectoryError::UnknownMember { group, .. } => directory
                    .groups
                    .iter()
                    .position(|g| g.id == group)
                    .and_then(|i| self.group_spots.get(i).copied()),
            };
            let location = match spot {
                Some(spot) => self.location(spot, ""),
                None => Location::file(self.file.clone()),
            };
            return Err(FormatError::invalid(location, None, error.to_string()));
        }
        Ok(Imported {
            directory,
            skipped: std::mem::take(&mut self.skipped),
            warnings: Vec::new(),
        })
    }
}
