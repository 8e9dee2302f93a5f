//! Matching keys derived once per identity, and the hash indexes built over them.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::directory::{Account, Directory, Group};
use crate::normalize::{self, DomainAliases, InvalidEmail};

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

/// The keys of one account.
pub(crate) struct AccountKeys {
    pub(crate) emails: Vec<KeyedEmail>,
    pub(crate) invalid_emails: Vec<(EmailField, InvalidEmail)>,
    pub(crate) username: Option<String>,
    pub(crate) names: Vec<(NameField, String)>,
}

impl AccountKeys {
    pub(crate) fn of(account: &Account, aliases: &DomainAliases) -> AccountKeys {
        let mut emails = Vec::with_capacity(1 + account.alias_emails.len());
        let mut invalid_emails = Vec::new();
        for (field, raw) in account_emails(account) {
            match normalize::email_key(raw, aliases) {
                Ok(parsed) => {
                    if emails.iter().any(|e: &KeyedEmail| e.key == parsed.key) {
                        continue;
                    }
                    let skeleton = normalize::skeleton(&parsed.lookalike_form);
                    emails.push(KeyedEmail { field, key: parsed.key, skeleton, note: parsed.note });
                }
                Err(why) => invalid_emails.push((field, why)),
            }
        }
        let username = account
            .username
            .as_deref()
            .map(normalize::fold)
            .filter(|u| !u.is_empty())
            .map(|u| u.into_owned());
        let mut names = Vec::with_capacity(2);
        if let Some(key) = account.display_name.as_deref().and_then(normalize::name_key) {
            names.push((NameField::DisplayName, key));
        }
        let given_family = match (&account.given_name, &account.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            _ => None,
        };
        if let Some(key) = given_family.as_deref().and_then(normalize::name_key) {
            if names.iter().all(|(_, k)| *k != key) {
                names.push((NameField::GivenFamily, key));
            }
        }
        AccountKeys { emails, invalid_emails, username, names }
    }
}

/// Primary then aliases, with the field each came from; blank values are not addresses.
fn account_emails(account: &Account) -> impl Iterator<Item = (EmailField, &str)> {
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
            Hits::Many(all) => {
                if !all.contains(&value) {
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
}

impl<'a> AccountIndex<'a> {
    pub(crate) fn build(accounts: &'a [Account], keys: &'a [AccountKeys], with_skeletons: bool) -> AccountIndex<'a> {
        let n = accounts.len();
        let mut index = AccountIndex {
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
}

pub(crate) fn account_keys(directory: &Directory, aliases: &DomainAliases) -> Vec<AccountKeys> {
    directory.accounts.par_iter().with_min_len(1024).map(|a| AccountKeys::of(a, aliases)).collect()
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
