//! Ground truth: for each source identity, which destination identity (if any) is the
//! same person or group.
//!
//! This mirrors `crosswalk_synth::TruthRow` field for field, and rows from the synthetic
//! generator convert with `From`. It is this crate's own type so that labelled data from
//! elsewhere (FEBRL4) needs nothing from the generator.

use std::collections::HashMap;

use crosswalk_core::normalize::DomainAliases;
use crosswalk_core::{Account, Directory, IdentityKind};
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
    /// Whether anything in the data links the two records: they share an id, an address
    /// key, the folded username or a name key (for groups: the id or the folded name).
    /// Independent of any resolver's rules, so that no resolver can define its own failures
    /// away: a person it declines to link under its conditions (unique names, verified
    /// addresses...) is still linkable. The same meaning as `crosswalk_synth::TruthRow`'s
    /// (see `crosswalk_synth`'s `truth` module). A missed or duplicated row that is not
    /// linkable is reported as `unlinkable` rather than blamed on the resolver. Meaningless
    /// (false) when `destination_id` is `None`.
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

/// Whether anything in the data links the two accounts: the same id, an address key in
/// common (primary or alias), the same folded username, or a name key in common. No domain
/// equivalence is applied (use [`crosswalk_synth::accounts_share_evidence`] to pass the data
/// set's own), and no rule of the engine's (uniqueness, activity, verified addresses,
/// organisation domains) is: see [`Truth::linkable`].
pub fn shares_a_key(source: &Account, destination: &Account) -> bool {
    crosswalk_synth::accounts_share_evidence(source, destination, &DomainAliases::default())
}

fn ids(directory: &Directory) -> HashMap<(IdentityKind, &str), u32> {
    let accounts = directory
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| ((IdentityKind::Account, a.id.as_str()), i as u32));
    let groups = directory
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| ((IdentityKind::Group, g.id.as_str()), i as u32));
    accounts.chain(groups).collect()
}

/// Sets `linkable` on every row whose two records share evidence in the data
/// ([`crosswalk_synth::accounts_share_evidence`] under `aliases`, the data set's own domain
/// equivalences; [`crosswalk_synth::groups_share_evidence`] for groups). A label can say
/// more than the data shows (a domain rename the data set knows of), never less: a truth
/// file cannot excuse a resolver by calling a person unlinkable whose records plainly share
/// an id, an address, a username or a name. Rows naming identities that are not in the
/// directories are left as they are, for [`crate::evaluate`] to refuse.
pub fn confirm_linkable(
    source: &Directory,
    destination: &Directory,
    truth: &mut [Truth],
    aliases: &DomainAliases,
) {
    let (ours, theirs) = (ids(source), ids(destination));
    for row in truth.iter_mut().filter(|row| !row.linkable) {
        let Some(destination_id) = row.destination_id.as_deref() else {
            continue;
        };
        let (Some(&s), Some(&d)) = (
            ours.get(&(row.kind, row.source_id.as_str())),
            theirs.get(&(row.kind, destination_id)),
        ) else {
            continue;
        };
        row.linkable = match row.kind {
            IdentityKind::Account => crosswalk_synth::accounts_share_evidence(
                source.account(s),
                destination.account(d),
                aliases,
            ),
            IdentityKind::Group => {
                crosswalk_synth::groups_share_evidence(source.group(s), destination.group(d))
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, email: Option<&str>, given: &str, family: &str) -> Account {
        Account {
            id: id.into(),
            email: email.map(Into::into),
            display_name: Some(format!("{given} {family}").into()),
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
    fn labels_can_add_linkability_but_not_remove_it() {
        let source = Directory::new(
            "src",
            vec![
                account("s1", Some("jo@acme-corp.com"), "Jo", "Ray"),
                account("s2", Some("may@acme-corp.com"), "May", "Li"),
                account("s3", None, "Kim", "Park"),
            ],
            vec![],
        )
        .unwrap();
        let destination = Directory::new(
            "dst",
            vec![
                account("d1", Some("jo@acme.com"), "J", "R"),
                account("d2", Some("may@acme.com"), "May", "Li"),
                account("d3", None, "Kim", "Parker"),
            ],
            vec![],
        )
        .unwrap();
        let row = |s: &str, d: &str, linkable: bool| Truth {
            kind: IdentityKind::Account,
            source_id: s.into(),
            destination_id: Some(d.into()),
            category: "c".into(),
            linkable,
        };
        let mut truth = vec![
            row("s1", "d1", true),
            row("s2", "d2", false),
            row("s3", "d3", false),
        ];
        confirm_linkable(&source, &destination, &mut truth, &DomainAliases::default());
        let linkable: Vec<bool> = truth.iter().map(|t| t.linkable).collect();
        // s1: the label knows the rename; s2: the name is in common whatever the label; s3: nothing.
        assert_eq!(linkable, [true, true, false]);
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
