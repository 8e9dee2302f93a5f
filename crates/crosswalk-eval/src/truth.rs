//! Ground truth: for each source identity, which destination identity (if any) is the
//! same person or group.
//!
//! This mirrors `crosswalk_synth::TruthRow` field for field, and rows from the synthetic
//! generator convert with `From`. It is this crate's own type so that labelled data from
//! elsewhere (FEBRL4) needs nothing from the generator.

use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::{Account, IdentityKind};
use serde::{Deserialize, Serialize};

/// One labelled source identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    pub kind: IdentityKind,
    /// Id of the identity in the source directory.
    pub source_id: String,
    /// Id of the same identity in the destination directory, or `None` when it has none
    /// there (the right outcome is then to create it, or to keep it external).
    pub destination_id: Option<String>,
    /// What kind of noise separates the two records (free text, used to group the report).
    pub category: String,
    /// Whether anything in the data (id, an address, the username or the name, once
    /// normalised) is shared by the two records. A missed row that is not linkable is
    /// reported as `unlinkable` rather than blamed on the resolver.
    pub linkable: bool,
}

impl From<crosswalk_synth::TruthRow> for Truth {
    fn from(row: crosswalk_synth::TruthRow) -> Truth {
        let crosswalk_synth::TruthRow {
            kind,
            source_id,
            destination_id,
            category,
            linkable,
        } = row;
        Truth {
            kind,
            source_id,
            destination_id,
            category,
            linkable,
        }
    }
}

/// Whether the two accounts share any key the engine matches on: the same id, an address
/// (primary or alias) with the same key, the same folded username, or the same name key
/// (display name, or given + family name). Domain aliases are not applied: they are a
/// policy choice, not something in the data.
pub fn shares_a_key(source: &Account, destination: &Account) -> bool {
    if source.id == destination.id {
        return true;
    }
    let none = DomainAliases::default();
    let email_keys = |a: &Account| -> Vec<String> {
        a.all_emails()
            .filter_map(|e| normalize::email_key(e, &none).ok())
            .map(|k| k.key)
            .collect()
    };
    let ours = email_keys(source);
    if !ours.is_empty() && email_keys(destination).iter().any(|k| ours.contains(k)) {
        return true;
    }
    let username = |a: &Account| {
        a.username
            .as_deref()
            .map(|u| normalize::fold(u).into_owned())
            .filter(|u| !u.is_empty())
    };
    if let (Some(a), Some(b)) = (username(source), username(destination))
        && a == b
    {
        return true;
    }
    let ours = name_keys(source);
    name_keys(destination).iter().any(|k| ours.contains(k))
}

/// The name keys the engine derives for an account: from the display name, and from
/// given + family name when both are present.
pub(crate) fn name_keys(account: &Account) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(key) = account
        .display_name
        .as_deref()
        .and_then(normalize::name_key)
    {
        keys.push(key);
    }
    if let (Some(given), Some(family)) = (&account.given_name, &account.family_name)
        && let Some(key) = normalize::name_key(&format!("{given} {family}"))
        && !keys.contains(&key)
    {
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, email: Option<&str>, given: &str, family: &str) -> Account {
        Account {
            id: id.into(),
            email: email.map(Into::into),
            display_name: Some(format!("{given} {family}")),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            active: true,
            ..Account::default()
        }
    }

    #[test]
    fn synthetic_truth_converts_field_for_field() {
        let row = crosswalk_synth::TruthRow {
            kind: IdentityKind::Group,
            source_id: "g1".into(),
            destination_id: Some("h1".into()),
            category: "group_case".into(),
            linkable: true,
        };
        let truth = Truth::from(row);
        assert_eq!(
            (
                truth.kind,
                truth.source_id.as_str(),
                truth.destination_id.as_deref(),
                truth.category.as_str(),
                truth.linkable
            ),
            (IdentityKind::Group, "g1", Some("h1"), "group_case", true)
        );
    }

    #[test]
    fn keys_are_compared_after_normalisation() {
        let a = account("1", None, "John", "Smith");
        assert!(shares_a_key(&a, &account("2", None, "SMITH", "john")));
        assert!(!shares_a_key(&a, &account("2", None, "Jon", "Smith")));
        let b = account("1", Some("J@Acme.com"), "x", "y");
        assert!(shares_a_key(
            &b,
            &account("9", Some("j@acme.com"), "p", "q")
        ));
        assert!(shares_a_key(&b, &account("1", None, "p", "q")));
    }
}
