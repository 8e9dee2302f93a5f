//! Identities as they come from one platform: accounts and groups.

pub use compact_str::CompactString;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::normalize::{self, FoldNote};

/// Whether an identity is a person's account or a group. Serialised as the report's
/// `Type` column: `account` or `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    Account,
    Group,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Account => "account",
            IdentityKind::Group => "group",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "account" | "user" | "users" | "accounts" => Some(IdentityKind::Account),
            "group" | "groups" => Some(IdentityKind::Group),
            _ => None,
        }
    }
}

impl std::fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's account on one platform. Text fields keep exactly what the platform said;
/// the engine derives folded keys from them and never writes them back.
///
/// Text is held in [`CompactString`]s: up to 24 bytes inline (most ids, names and addresses),
/// longer values on the heap. They deref to `&str`; build them with `.into()`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Account {
    /// The platform's own identifier (Jira user key, Box user id, Entra object id...).
    pub id: CompactString,
    pub username: Option<CompactString>,
    /// Primary email, unvalidated: an invalid address is reported by the engine, not dropped.
    pub email: Option<CompactString>,
    /// Further addresses the person receives mail at (AD `proxyAddresses`, SCIM `emails[]`).
    #[serde(default)]
    pub alias_emails: Vec<CompactString>,
    pub display_name: Option<CompactString>,
    pub given_name: Option<CompactString>,
    pub family_name: Option<CompactString>,
    pub active: bool,
    /// Which directory on the platform it came from: `internal`, `ldap`, `crowd`...
    pub source_directory: Option<CompactString>,
    /// Destination side: whether the platform has verified that the person owns the email.
    /// `None` when the platform does not say.
    pub email_verified: Option<bool>,
}

/// A group on one platform. `members` holds account ids (or ids of nested groups).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Group {
    pub id: CompactString,
    pub name: CompactString,
    pub display_name: Option<CompactString>,
    #[serde(default)]
    pub members: Vec<CompactString>,
}

/// One platform's set of identities. Ids are unique per kind; [`Directory::new`] enforces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub name: String,
    pub accounts: Vec<Account>,
    pub groups: Vec<Group>,
}

/// Why a character cannot be part of an identifier (an id, username, address or group
/// name), or `None` when it can. Control characters (NUL, line breaks, tabs, C1 controls)
/// are never part of one; invisible formatting characters (zero-width spaces and joiners,
/// bidirectional controls, the byte order mark, the soft hyphen, variation selectors,
/// Unicode's other default-ignorable characters) would make two identifiers that read the
/// same compare different: a look-alike no skeleton shows.
pub fn forbidden_in_identifier(c: char) -> Option<&'static str> {
    if c.is_control() {
        return Some("a control character");
    }
    let invisible = matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{61C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    );
    invisible.then_some("an invisible formatting character")
}

/// What is wrong with `text` as an identifier, in words (`contains U+0000, a control
/// character, at character 3, ...`), or `None` when nothing is. ASCII text is checked a byte
/// at a time. The directory readers refuse such values (`crosswalk-formats`); a directory
/// built in code is not checked for them, as the store keeps whatever text it is given.
pub fn identifier_problem(text: &str) -> Option<String> {
    if text.bytes().all(|b| (b' '..0x7f).contains(&b)) {
        return None;
    }
    let (position, c, what) = text
        .chars()
        .enumerate()
        .find_map(|(i, c)| forbidden_in_identifier(c).map(|what| (i + 1, c, what)))?;
    let name = if c == '\0' { " (NUL)" } else { "" };
    Some(format!(
        "contains U+{:04X}{name}, {what}, at character {position}, which cannot be part of an identifier; remove it",
        c as u32
    ))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("{kind} id {id:?} appears more than once")]
    DuplicateId { kind: IdentityKind, id: String },
    #[error("{kind} has an empty id")]
    EmptyId { kind: IdentityKind },
    #[error(
        "group {group:?} lists member {member:?}, which is neither an account nor a group in this directory"
    )]
    UnknownMember { group: String, member: String },
}

impl Group {
    /// The first field that names the group (id, name) with a character no identifier may
    /// hold ([`identifier_problem`]), and what is wrong.
    pub fn identifier_problem(&self) -> Option<(&'static str, String)> {
        [("id", &self.id), ("name", &self.name)]
            .into_iter()
            .find_map(|(field, value)| Some((field, identifier_problem(value)?)))
    }
}

impl Directory {
    /// Builds a directory, refusing duplicate or empty ids and memberships that point nowhere.
    pub fn new(
        name: impl Into<String>,
        accounts: Vec<Account>,
        groups: Vec<Group>,
    ) -> Result<Self, DirectoryError> {
        let directory = Directory {
            name: name.into(),
            accounts,
            groups,
        };
        directory.check()?;
        Ok(directory)
    }

    /// The same checks as [`Directory::new`], for a directory built field by field.
    pub fn check(&self) -> Result<(), DirectoryError> {
        let mut account_ids: FxHashMap<&str, ()> = FxHashMap::default();
        account_ids.reserve(self.accounts.len());
        for account in &self.accounts {
            if account.id.is_empty() {
                return Err(DirectoryError::EmptyId {
                    kind: IdentityKind::Account,
                });
            }
            if account_ids.insert(&account.id, ()).is_some() {
                return Err(DirectoryError::DuplicateId {
                    kind: IdentityKind::Account,
                    id: account.id.to_string(),
                });
            }
        }
        let mut group_ids: FxHashMap<&str, ()> = FxHashMap::default();
        for group in &self.groups {
            if group.id.is_empty() {
                return Err(DirectoryError::EmptyId {
                    kind: IdentityKind::Group,
                });
            }
            if group_ids.insert(&group.id, ()).is_some() {
                return Err(DirectoryError::DuplicateId {
                    kind: IdentityKind::Group,
                    id: group.id.to_string(),
                });
            }
        }
        for group in &self.groups {
            for member in &group.members {
                if !account_ids.contains_key(member.as_str())
                    && !group_ids.contains_key(member.as_str())
                {
                    return Err(DirectoryError::UnknownMember {
                        group: group.id.to_string(),
                        member: member.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn account(&self, index: u32) -> &Account {
        &self.accounts[index as usize]
    }

    pub fn group(&self, index: u32) -> &Group {
        &self.groups[index as usize]
    }
}

impl Account {
    /// The first field that names the account (id, username, email, an alias) with a
    /// character no identifier may hold ([`identifier_problem`]), and what is wrong.
    pub fn identifier_problem(&self) -> Option<(&'static str, String)> {
        let fields = [
            ("id", Some(&self.id)),
            ("username", self.username.as_ref()),
            ("email", self.email.as_ref()),
        ];
        fields
            .into_iter()
            .chain(
                self.alias_emails
                    .iter()
                    .map(|alias| ("aliases", Some(alias))),
            )
            .find_map(|(field, value)| Some((field, identifier_problem(value?)?)))
    }

    /// Every address the account receives mail at, primary first.
    pub fn all_emails(&self) -> impl Iterator<Item = &str> {
        self.email
            .iter()
            .map(CompactString::as_str)
            .chain(self.alias_emails.iter().map(CompactString::as_str))
    }

    /// The account's name keys ([`normalize::name_key`]): the display name's, then that of
    /// the given and family names when both are present and give another key. The engine's
    /// name tier blocks on these; the generator's truth calls two accounts linkable by name
    /// when they share one.
    pub fn name_keys(&self) -> Vec<String> {
        let (slots, _) = self.name_key_slots();
        slots
            .into_iter()
            .filter(|key| !key.is_empty())
            .map(CompactString::into_string)
            .collect()
    }

    /// [`Account::name_keys`] in two fixed slots (display name, then given+family when it
    /// differs; empty when absent), with what the fold did to each.
    pub(crate) fn name_key_slots(&self) -> ([CompactString; 2], [FoldNote; 2]) {
        let mut name_slots: [CompactString; 2] = Default::default();
        let mut name_notes = [FoldNote::default(); 2];
        if let Some((key, note)) = self
            .display_name
            .as_deref()
            .and_then(normalize::name_key_compact)
        {
            name_slots[0] = key;
            name_notes[0] = note;
        }
        if let Some(given_family) = self.given_family_apart()
            && let Some((key, note)) = normalize::name_key_compact(&given_family)
            && name_slots[0] != key
        {
            name_slots[1] = key;
            name_notes[1] = note;
        }
        (name_slots, name_notes)
    }

    /// [`normalize::name_key_hash`] of the keys in [`Account::name_key_slots`], without
    /// writing the keys. (Where the two keys differ but their hashes are equal, the second
    /// is left out: this account holds that hash either way.)
    pub(crate) fn name_hashes(&self) -> [Option<u64>; 2] {
        let display = self.display_name.as_deref().and_then(normalize::name_hash);
        let given_family = self
            .given_family_apart()
            .and_then(|name| normalize::name_hash(&name))
            .filter(|h| Some(*h) != display);
        [display, given_family]
    }

    /// The given and family names with a space between, when both are set and the display
    /// name is not just that. (Most display names are: their key is the display name's.)
    fn given_family_apart(&self) -> Option<CompactString> {
        let (Some(g), Some(f)) = (&self.given_name, &self.family_name) else {
            return None;
        };
        let display = self.display_name.as_deref().unwrap_or_default();
        let display_is_given_family = display.len() == g.len() + 1 + f.len()
            && display.starts_with(g.as_str())
            && display.ends_with(f.as_str())
            && display.as_bytes()[g.len()] == b' ';
        if display_is_given_family {
            return None;
        }
        let mut given_family = CompactString::with_capacity(g.len() + 1 + f.len());
        given_family.push_str(g);
        given_family.push(' ');
        given_family.push_str(f);
        Some(given_family)
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    fn name() -> impl proptest::strategy::Strategy<Value = Option<CompactString>> {
        proptest::option::of("([a-zA-Z ,.'-]|é|Ö){0,12}".prop_map(CompactString::from))
    }

    proptest::proptest! {
        /// An account's name hashes are the hashes of its name keys, written out or not.
        #[test]
        fn an_accounts_name_hashes_are_its_name_keys_hashes(display_name in name(), given_name in name(), family_name in name()) {
            let account = Account { display_name, given_name, family_name, ..Account::default() };
            let (slots, _) = account.name_key_slots();
            let from_keys: Vec<u64> = slots.iter().filter(|k| !k.is_empty()).map(|k| normalize::name_key_hash(k)).collect();
            let hashed: Vec<u64> = account.name_hashes().into_iter().flatten().collect();
            proptest::prop_assert_eq!(hashed, from_keys);
        }
    }
}
