//! Small builders so each test states only the fields it is about.

use crosswalk_core::{
    Account, Directory, ExceptionRule, Group, IdentityKind, IdentityRef, Mapping, Policy, Resolved,
};

pub(crate) fn person(id: &str, email: &str, name: &str) -> Account {
    let mut parts = name.split_whitespace();
    Account {
        id: id.into(),
        username: None,
        email: (!email.is_empty()).then(|| email.into()),
        alias_emails: vec![],
        display_name: (!name.is_empty()).then(|| name.into()),
        given_name: parts.next().map(Into::into),
        family_name: parts.next().map(Into::into),
        active: true,
        source_directory: None,
        email_verified: None,
    }
}

pub(crate) fn group(id: &str, name: &str) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        display_name: None,
        members: vec![],
    }
}

pub(crate) fn dir(accounts: Vec<Account>, groups: Vec<Group>) -> Directory {
    Directory::new("test", accounts, groups).expect("valid test directory")
}

pub(crate) fn rule(kind: IdentityKind, source: &str, destination: &str) -> ExceptionRule {
    ExceptionRule {
        kind,
        source: IdentityRef::parse(source),
        destination: IdentityRef::parse(destination),
        origin: "exceptions.csv:2".into(),
    }
}

pub(crate) fn org_policy() -> Policy {
    let mut policy = Policy::default();
    policy.name.organisation_domains = vec!["acme.com".into()];
    policy
}

/// The mapping of the source account with this id.
pub(crate) fn account_mapping<'a>(
    resolved: &'a Resolved,
    source: &Directory,
    id: &str,
) -> &'a Mapping {
    resolved
        .mappings
        .iter()
        .find(|m| m.kind == IdentityKind::Account && source.account(m.source).id == id)
        .unwrap_or_else(|| panic!("no mapping for account {id}"))
}

pub(crate) fn group_mapping<'a>(
    resolved: &'a Resolved,
    source: &Directory,
    id: &str,
) -> &'a Mapping {
    resolved
        .mappings
        .iter()
        .find(|m| m.kind == IdentityKind::Group && source.group(m.source).id == id)
        .unwrap_or_else(|| panic!("no mapping for group {id}"))
}

/// Destination account id of a mapping, if it links an existing one.
pub(crate) fn linked_to(mapping: &Mapping, destination: &Directory) -> Option<String> {
    mapping.destination_index().map(|i| match mapping.kind {
        IdentityKind::Account => destination.account(i).id.to_string(),
        IdentityKind::Group => destination.group(i).id.to_string(),
    })
}

/// The account with one more alias address.
pub(crate) fn with_alias(mut account: Account, alias: &str) -> Account {
    account.alias_emails.push(alias.into());
    account
}
