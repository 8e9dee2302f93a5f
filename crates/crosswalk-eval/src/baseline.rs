//! The naive rule migration tools start from, to compare the engine against.

use std::collections::HashMap;

use crosswalk_core::{
    Confidence, Directory, Evidence, IdentityKind, Mapping, Resolution, Resolved, Summary, Target,
};

/// "Same email, or create": a source account links to the first destination account
/// (in directory order) whose primary email, ASCII-lowercased, equals its own; an account
/// without a match, or without an email, is provisioned. Groups link to the first
/// destination group with the same name, ASCII-lowercased, or are provisioned. No
/// ambiguity check, no look-alike check, no review: built without the engine, so that
/// [`crate::evaluate`] can score it the same way.
pub fn email_only_baseline(source: &Directory, destination: &Directory) -> Resolved {
    let mut by_email: HashMap<String, u32> = HashMap::with_capacity(destination.accounts.len());
    for (i, account) in destination.accounts.iter().enumerate() {
        if let Some(key) = account
            .email
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(str::to_ascii_lowercase)
        {
            by_email.entry(key).or_insert(i as u32);
        }
    }
    let mut by_name: HashMap<String, u32> = HashMap::with_capacity(destination.groups.len());
    for (i, group) in destination.groups.iter().enumerate() {
        by_name
            .entry(group.name.as_str().to_ascii_lowercase())
            .or_insert(i as u32);
    }

    let link = |kind: IdentityKind,
                source: u32,
                index: u32,
                method: Resolution,
                field: &str,
                key: String| Mapping {
        kind,
        source,
        resolution: method,
        target: Some(Target::Existing { index }),
        message: String::new(),
        evidence: vec![Evidence {
            method,
            source_field: field.into(),
            destination_field: field.into(),
            key: key.into(),
            note: "email-only baseline".into(),
        }],
        candidates: vec![],
        flags: vec![].into(),
        confidence: Confidence::CERTAIN,
    };
    let create = |kind: IdentityKind, source: u32| Mapping {
        kind,
        source,
        resolution: Resolution::Provision,
        target: Some(Target::Provision),
        message: String::new(),
        evidence: vec![],
        candidates: vec![],
        flags: vec![].into(),
        confidence: Confidence::CERTAIN,
    };

    let mut accounts: Vec<Mapping> = source
        .accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let key = account
                .email
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(str::to_ascii_lowercase);
            match key.and_then(|k| by_email.get(&k).map(|&index| (index, k))) {
                Some((index, key)) => link(
                    IdentityKind::Account,
                    i as u32,
                    index,
                    Resolution::Email,
                    "email",
                    key,
                ),
                None => create(IdentityKind::Account, i as u32),
            }
        })
        .collect();
    let mut groups: Vec<Mapping> = source
        .groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let key = group.name.as_str().to_ascii_lowercase();
            match by_name.get(&key) {
                Some(&index) => link(
                    IdentityKind::Group,
                    i as u32,
                    index,
                    Resolution::Name,
                    "name",
                    key,
                ),
                None => create(IdentityKind::Group, i as u32),
            }
        })
        .collect();
    // The engine's order: accounts then groups, each by source id.
    accounts.sort_by(|a, b| {
        source
            .account(a.source)
            .id
            .cmp(&source.account(b.source).id)
    });
    groups.sort_by(|a, b| source.group(a.source).id.cmp(&source.group(b.source).id));
    accounts.append(&mut groups);
    let summary = Summary::of(&accounts);
    Resolved {
        mappings: accounts,
        summary,
        warnings: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Truth, evaluate};
    use crosswalk_core::{Account, Group};

    fn account(id: &str, email: Option<&str>) -> Account {
        Account {
            id: id.into(),
            email: email.map(Into::into),
            active: true,
            ..Account::default()
        }
    }

    #[test]
    fn links_by_lowercased_email_or_creates() {
        let source = Directory::new(
            "src",
            vec![
                account("s2", Some("Jo@Acme.com")),
                account("s1", Some("shared@acme.com")),
                account("s3", None),
                account("s4", Some(" jo@acme.com")),
            ],
            vec![Group {
                id: "g".into(),
                name: "Devs".into(),
                ..Group::default()
            }],
        )
        .unwrap();
        let destination = Directory::new(
            "dst",
            vec![
                account("d0", Some("JO@acme.COM")),
                account("d1", Some("shared@acme.com")),
                account("d2", Some("shared@ACME.com")),
            ],
            vec![Group {
                id: "h".into(),
                name: "devs".into(),
                ..Group::default()
            }],
        )
        .unwrap();
        let resolved = email_only_baseline(&source, &destination);
        let decided: Vec<(&str, Resolution, Option<u32>)> = resolved
            .mappings
            .iter()
            .map(|m| {
                let id = match m.kind {
                    IdentityKind::Account => source.account(m.source).id.as_str(),
                    IdentityKind::Group => source.group(m.source).id.as_str(),
                };
                (id, m.resolution, m.destination_index())
            })
            .collect();
        assert_eq!(
            decided,
            [
                ("s1", Resolution::Email, Some(1)), // first of two sharing the address
                ("s2", Resolution::Email, Some(0)),
                ("s3", Resolution::Provision, None),
                ("s4", Resolution::Provision, None), // not even trimmed: it is naive
                ("g", Resolution::Name, Some(0)),
            ]
        );
        assert_eq!(resolved.summary.count(Resolution::Email), 2);

        // Scored like the engine: s1 was really d2's.
        let truth = vec![Truth {
            kind: IdentityKind::Account,
            source_id: "s1".into(),
            destination_id: Some("d2".into()),
            category: "shared address".into(),
            linkable: true,
        }];
        let report = evaluate(&source, &destination, &truth, &resolved).unwrap();
        assert_eq!(report.total.false_merge, 1);
        assert_eq!(report.unscored, 4);
    }
}
