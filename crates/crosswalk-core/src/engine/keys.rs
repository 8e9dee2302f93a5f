//! Matching keys derived once per identity, and the hash indexes built over them.
//!
//! [`KeyRules`] is the one place a value becomes a key: the policy's transforms for the
//! side first, then the email rules and the fold. Indexing, exception look-ups and the
//! transform preview all go through it, so they cannot disagree.

use std::borrow::Cow;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::directory::{Account, Directory, Group};
use crate::normalize::{self, DomainAliases, EmailKey, FoldNote, InvalidEmail};
use crate::transform::{Rewrite, Side, TransformSet};

/// Which field of an account a key came from: 0 is `email`, n is `alias_emails[n-1]`.
pub(crate) type EmailField = u16;

pub(crate) fn email_field_name(field: EmailField) -> String {
    if field == 0 { "email".to_string() } else { format!("alias_emails[{}]", field - 1) }
}

pub(crate) struct KeyedEmail {
    pub(crate) field: EmailField,
    pub(crate) key: String,
    pub(crate) skeleton: String,
    pub(crate) note: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NameField {
    DisplayName,
    GivenFamily,
}

impl NameField {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NameField::DisplayName => "display_name",
            NameField::GivenFamily => "given_name+family_name",
        }
    }
}

/// How one side's values become keys: the policy's email rules, its compiled transforms,
/// and which side they are for.
#[derive(Clone, Copy)]
pub(crate) struct KeyRules<'a> {
    pub(crate) aliases: &'a DomainAliases,
    pub(crate) side: Side,
    pub(crate) transforms: &'a TransformSet,
}

impl<'a> KeyRules<'a> {
    pub(crate) fn new(aliases: &'a DomainAliases, side: Side, transforms: &'a TransformSet) -> KeyRules<'a> {
        KeyRules { aliases, side, transforms }
    }

    /// The key of an address after this side's transforms, and the rewrite if one applied.
    /// The note names the transforms first, then what normalisation did.
    pub(crate) fn email_key(&self, raw: &str) -> Result<(EmailKey, Option<Rewrite>), InvalidEmail> {
        let rewrite = self.transforms.rewrite_email(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let mut parsed = normalize::email_key(value, self.aliases)?;
        if let Some(rewrite) = &rewrite {
            parsed.note = join_notes(&self.transforms.note(&rewrite.applied), &parsed.note);
        }
        Ok((parsed, rewrite))
    }

    /// The username key after this side's transforms, with its evidence note; `None` for a
    /// blank username.
    pub(crate) fn username_key(&self, raw: &str) -> Option<(String, Cow<'static, str>)> {
        let rewrite = self.transforms.rewrite_username(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let (folded, fold_note) = normalize::fold_with_note(value);
        if folded.is_empty() {
            return None;
        }
        let note = match &rewrite {
            None => Cow::Borrowed(fold_note.as_str()),
            Some(rewrite) => Cow::Owned(join_notes(&self.transforms.note(&rewrite.applied), fold_note.as_str())),
        };
        Some((folded.into_owned(), note))
    }
}

fn join_notes(first: &str, second: &str) -> String {
    match (first.is_empty(), second.is_empty()) {
        (_, true) => first.to_string(),
        (true, false) => second.to_string(),
        (false, false) => format!("{first}, {second}"),
    }
}

/// The note of evidence that matched a source key to a destination key: what was done on
/// the source side, and on the destination side when that differs.
pub(crate) fn evidence_note(source: &str, destination: &str) -> String {
    if destination.is_empty() || destination == source {
        source.to_string()
    } else if source.is_empty() {
        format!("destination: {destination}")
    } else {
        format!("{source}; destination: {destination}")
    }
}

/// The note of a Name link: why a name was enough, and what the fold did on either side.
pub(crate) fn name_evidence_note(fold: FoldNote) -> String {
    let why = "unique name on both sides; destination in an organisation domain";
    if fold.is_empty() { why.to_string() } else { format!("{why}; {fold}") }
}

/// The keys of one account.
pub(crate) struct AccountKeys {
    pub(crate) emails: Vec<KeyedEmail>,
    pub(crate) invalid_emails: Vec<(EmailField, InvalidEmail)>,
    pub(crate) username: Option<String>,
    /// What the transforms and the fold did to the username, for the evidence.
    pub(crate) username_note: Cow<'static, str>,
    pub(crate) names: Vec<(NameField, String)>,
    /// What the fold did to each of `names`, in the same order.
    pub(crate) name_notes: Vec<FoldNote>,
}

impl AccountKeys {
    /// The keys of an account as `rules` derive them. The account itself is not changed.
    pub(crate) fn of(account: &Account, rules: &KeyRules<'_>) -> AccountKeys {
        let mut emails = Vec::with_capacity(1 + account.alias_emails.len());
        let mut invalid_emails = Vec::new();
        for (field, raw) in account_emails(account) {
            match rules.email_key(raw) {
                Ok((parsed, _)) => {
                    if emails.iter().any(|e: &KeyedEmail| e.key == parsed.key) {
                        continue;
                    }
                    let skeleton = normalize::skeleton(&parsed.lookalike_form);
                    emails.push(KeyedEmail { field, key: parsed.key, skeleton, note: parsed.note });
                }
                Err(why) => invalid_emails.push((field, why)),
            }
        }
        let (username, username_note) = match account.username.as_deref().and_then(|u| rules.username_key(u)) {
            Some((key, note)) => (Some(key), note),
            None => (None, Cow::Borrowed("")),
        };
        let mut names = Vec::with_capacity(2);
        let mut name_notes = Vec::with_capacity(2);
        if let Some((key, note)) = account.display_name.as_deref().and_then(normalize::name_key_with_note) {
            names.push((NameField::DisplayName, key));
            name_notes.push(note);
        }
        let given_family = match (&account.given_name, &account.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            _ => None,
        };
        if let Some((key, note)) = given_family.as_deref().and_then(normalize::name_key_with_note)
            && names.iter().all(|(_, k)| *k != key)
        {
            names.push((NameField::GivenFamily, key));
            name_notes.push(note);
        }
        AccountKeys { emails, invalid_emails, username, username_note, names, name_notes }
    }

    /// The note of the address that came from `field`; empty when there is none.
    pub(crate) fn email_note(&self, field: EmailField) -> &str {
        self.emails.iter().find(|e| e.field == field).map_or("", |e| e.note.as_str())
    }

    /// What the fold did to the name key `key`.
    pub(crate) fn name_note(&self, key: &str) -> FoldNote {
        self.names.iter().zip(&self.name_notes).find(|((_, k), _)| k == key).map_or(FoldNote::default(), |(_, n)| *n)
    }
}

/// Primary then aliases, with the field each came from; blank values are not addresses.
pub(crate) fn account_emails(account: &Account) -> impl Iterator<Item = (EmailField, &str)> {
    account
        .email
        .iter()
        .map(|e| (0u16, e.as_str()))
        .chain(
            account
                .alias_emails
                .iter()
                .enumerate()
                .map(|(i, e)| ((i + 1).min(u16::MAX as usize) as u16, e.as_str())),
        )
        .filter(|(_, e)| !e.trim().is_empty())
}

/// Identities sharing a key. Most keys have exactly one, so the common case allocates nothing.
#[derive(Debug, Clone)]
pub(crate) enum Hits<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Copy + PartialEq> Hits<T> {
    fn push(&mut self, value: T) {
        match self {
            Hits::One(first) => {
                if *first != value {
                    *self = Hits::Many(vec![*first, value]);
                }
            }
            // Each identity inserts a key once (keys are deduplicated per identity), so only
            // the last entry can repeat: checking it keeps skewed keys linear to build.
            Hits::Many(all) => {
                if all.last() != Some(&value) {
                    all.push(value);
                }
            }
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Hits::One(v) => std::slice::from_ref(v),
            Hits::Many(all) => all,
        }
    }
}

pub(crate) type KeyIndex<'a, T> = FxHashMap<&'a str, Hits<T>>;

fn insert<'a, T: Copy + PartialEq>(index: &mut KeyIndex<'a, T>, key: &'a str, value: T) {
    index.entry(key).and_modify(|h| h.push(value)).or_insert(Hits::One(value));
}

/// Indexes over one side's accounts. Skeletons are only indexed for the destination.
pub(crate) struct AccountIndex<'a> {
    pub(crate) by_id: FxHashMap<&'a str, u32>,
    pub(crate) by_email: KeyIndex<'a, (u32, EmailField)>,
    pub(crate) by_username: KeyIndex<'a, u32>,
    pub(crate) by_name: KeyIndex<'a, u32>,
    pub(crate) by_skeleton: KeyIndex<'a, (u32, EmailField)>,
    /// The rules the keys were derived with, so look-ups derive theirs the same way.
    pub(crate) rules: KeyRules<'a>,
}

impl<'a> AccountIndex<'a> {
    pub(crate) fn build(
        accounts: &'a [Account],
        keys: &'a [AccountKeys],
        with_skeletons: bool,
        rules: KeyRules<'a>,
    ) -> AccountIndex<'a> {
        let n = accounts.len();
        let mut index = AccountIndex {
            rules,
            by_id: FxHashMap::default(),
            by_email: FxHashMap::default(),
            by_username: FxHashMap::default(),
            by_name: FxHashMap::default(),
            by_skeleton: FxHashMap::default(),
        };
        index.by_id.reserve(n);
        index.by_email.reserve(n + n / 4);
        index.by_username.reserve(n);
        index.by_name.reserve(n);
        if with_skeletons {
            index.by_skeleton.reserve(n + n / 4);
        }
        for (i, (account, keys)) in accounts.iter().zip(keys).enumerate() {
            let i = i as u32;
            index.by_id.insert(account.id.as_str(), i);
            for email in &keys.emails {
                insert(&mut index.by_email, &email.key, (i, email.field));
                if with_skeletons {
                    insert(&mut index.by_skeleton, &email.skeleton, (i, email.field));
                }
            }
            if let Some(username) = &keys.username {
                insert(&mut index.by_username, username, i);
            }
            for (_, name) in &keys.names {
                insert(&mut index.by_name, name, i);
            }
        }
        index
    }

    /// Accounts whose username has the key `value` gets under this side's rules.
    pub(crate) fn accounts_with_username(&self, value: &str) -> Vec<u32> {
        self.rules
            .username_key(value)
            .and_then(|(key, _)| self.by_username.get(key.as_str()).map(|h| h.as_slice().to_vec()))
            .unwrap_or_default()
    }

    /// Accounts with an address whose key `value` shares under this side's rules.
    pub(crate) fn accounts_with_email(&self, value: &str) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .rules
            .email_key(value)
            .ok()
            .and_then(|(k, _)| self.by_email.get(k.key.as_str()).map(|h| h.as_slice().iter().map(|(i, _)| *i).collect()))
            .unwrap_or_default();
        found.sort_unstable();
        found.dedup();
        found
    }
}

pub(crate) fn account_keys(directory: &Directory, rules: &KeyRules<'_>) -> Vec<AccountKeys> {
    directory.accounts.par_iter().with_min_len(1024).map(|a| AccountKeys::of(a, rules)).collect()
}

/// Indexes over one side's groups: by id and by folded name.
pub(crate) struct GroupIndex<'a> {
    pub(crate) by_id: FxHashMap<&'a str, u32>,
    pub(crate) by_name: KeyIndex<'a, u32>,
}

impl<'a> GroupIndex<'a> {
    pub(crate) fn build(groups: &'a [Group], names: &'a [String]) -> GroupIndex<'a> {
        let mut index = GroupIndex { by_id: FxHashMap::default(), by_name: FxHashMap::default() };
        for (i, (group, name)) in groups.iter().zip(names).enumerate() {
            index.by_id.insert(group.id.as_str(), i as u32);
            if !name.is_empty() {
                insert(&mut index.by_name, name, i as u32);
            }
        }
        index
    }
}

pub(crate) fn group_name_keys(groups: &[Group]) -> Vec<String> {
    groups.iter().map(|g| normalize::fold(&g.name).into_owned()).collect()
}
