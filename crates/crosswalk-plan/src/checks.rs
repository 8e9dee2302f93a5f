//! Pre-flight checks: what must be cleared (blockers) or looked at (warnings) before a job
//! moves anything, each with its rows and a suggested fix.

use std::collections::BTreeMap;

use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::{Account, Directory, IdentityKind};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::fixes::MergeRule;
use crate::references::Reference;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocker,
    Warning,
}

/// Every kind of finding; `as_str` is the `ErrorType` column of the findings CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    InvalidEmail,
    DuplicateEmail,
    MissingEmail,
    ShadowedUsername,
    GroupExistsInDestination,
    ReservedGroupName,
    UnverifiedDestinationEmail,
    InactiveUser,
    LookAlike,
    ReferencedButAbsent,
}

impl CheckKind {
    pub const ALL: [CheckKind; 10] = [
        CheckKind::InvalidEmail,
        CheckKind::DuplicateEmail,
        CheckKind::MissingEmail,
        CheckKind::ShadowedUsername,
        CheckKind::GroupExistsInDestination,
        CheckKind::ReservedGroupName,
        CheckKind::UnverifiedDestinationEmail,
        CheckKind::InactiveUser,
        CheckKind::LookAlike,
        CheckKind::ReferencedButAbsent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::InvalidEmail => "INVALID_EMAIL",
            CheckKind::DuplicateEmail => "DUPLICATE_EMAIL",
            CheckKind::MissingEmail => "MISSING_EMAIL",
            CheckKind::ShadowedUsername => "SHADOWED_USERNAME",
            CheckKind::GroupExistsInDestination => "GROUP_EXISTS_IN_DESTINATION",
            CheckKind::ReservedGroupName => "RESERVED_GROUP_NAME",
            CheckKind::UnverifiedDestinationEmail => "UNVERIFIED_DESTINATION_EMAIL",
            CheckKind::InactiveUser => "INACTIVE_USER",
            CheckKind::LookAlike => "LOOK_ALIKE",
            CheckKind::ReferencedButAbsent => "REFERENCED_BUT_ABSENT",
        }
    }

    pub fn parse(text: &str) -> Option<CheckKind> {
        let text = text.trim();
        CheckKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text))
    }

    /// Blockers stop a job unless the admin overrides; warnings do not.
    pub fn severity(self) -> Severity {
        match self {
            CheckKind::InvalidEmail
            | CheckKind::DuplicateEmail
            | CheckKind::MissingEmail
            | CheckKind::ReservedGroupName => Severity::Blocker,
            _ => Severity::Warning,
        }
    }

    pub fn suggested_fix(self) -> &'static str {
        match self {
            CheckKind::InvalidEmail => {
                "assign a new email (from a template), migrate as a former user (tombstone), or exclude"
            }
            CheckKind::DuplicateEmail => {
                "merge into one account (the merge rule picks which; override with NewEmail or another row's UserKey), or assign a new email to all but one"
            }
            CheckKind::MissingEmail => {
                "assign a new email from a template, or migrate as a former user (tombstone)"
            }
            CheckKind::ShadowedUsername => {
                "nothing to do if the directory in effect is the right one; otherwise exclude the account in effect or reorder the directories"
            }
            CheckKind::GroupExistsInDestination => {
                "rename the source group or exclude it: its members would be added to the existing destination group and gain its permissions"
            }
            CheckKind::ReservedGroupName => {
                "rename the source group or exclude it: the destination reserves this name"
            }
            CheckKind::UnverifiedDestinationEmail => {
                "ask the destination user to verify the address before the run, or exclude the source account"
            }
            CheckKind::InactiveUser => "migrate as a former user (tombstone) or exclude",
            CheckKind::LookAlike => {
                "confirm these are different people; exclude or give a new email to the impostor"
            }
            CheckKind::ReferencedButAbsent => {
                "add the identity to the source export, or accept that its content will show a former user"
            }
        }
    }
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One identity concerned by a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingRow {
    pub kind: IdentityKind,
    /// The source id (account or group id), the `UserKey` column.
    pub user_key: String,
    /// Username (or group name), the `UserName` column.
    pub user_name: String,
    pub old_email: String,
    /// What exactly is wrong with this row, in words.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: CheckKind,
    pub severity: Severity,
    pub count: usize,
    pub suggested_fix: &'static str,
    pub rows: Vec<FindingRow>,
}

/// Settings of the checks.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Source directories in priority order: where one username is in several, the first
    /// listed is in effect. Directories not listed follow, in order of first appearance.
    pub directory_order: Vec<String>,
    /// Group names the destination keeps for itself (compared case-insensitively). Empty
    /// means [`RESERVED_GROUP_NAMES`].
    pub reserved_group_names: Vec<String>,
    pub domain_aliases: DomainAliases,
    /// Accounts the admin's fixes made former users (tombstones): they migrate without an
    /// email, so a missing one is no finding.
    pub former_users: std::collections::BTreeSet<String>,
}

/// Group names Atlassian cloud sites keep for their own administration.
pub const RESERVED_GROUP_NAMES: [&str; 6] = [
    "site-admins",
    "administrators",
    "system-administrators",
    "jira-administrators",
    "confluence-administrators",
    "atlassian-addons-admin",
];

/// Runs every check. Findings come in [`CheckKind::ALL`] order, only kinds with rows;
/// rows are sorted by key.
pub fn run_checks(
    source: &Directory,
    destination: Option<&Directory>,
    references: &[Reference],
    options: &CheckOptions,
) -> Vec<Finding> {
    let mut rows: BTreeMap<CheckKind, Vec<FindingRow>> = BTreeMap::new();
    let mut push = |kind: CheckKind, row: FindingRow| rows.entry(kind).or_default().push(row);

    // Emails: invalid, missing, duplicate (by matching key, across directories).
    let mut by_email: FxHashMap<String, Vec<&Account>> = FxHashMap::default();
    for account in &source.accounts {
        match account
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            // Migrating without an address is what the tombstone fix chose.
            None if options.former_users.contains(account.id.as_str()) => {}
            None => push(
                CheckKind::MissingEmail,
                account_row(account, "no email".into()),
            ),
            Some(email) => match normalize::email_key(email, &options.domain_aliases) {
                Err(why) => push(
                    CheckKind::InvalidEmail,
                    account_row(account, format!("email {}", why.describe())),
                ),
                Ok(key) => by_email.entry(key.key).or_default().push(account),
            },
        }
        if !account.active {
            push(
                CheckKind::InactiveUser,
                account_row(account, "inactive in the source".into()),
            );
        }
    }
    let order = directory_order(source, &options.directory_order);
    let rule = MergeRule {
        directory_order: order.clone(),
    };
    for (key, accounts) in &by_email {
        if accounts.len() < 2 {
            continue;
        }
        let survivor = rule.choose(accounts.iter().copied());
        for account in accounts {
            let detail = if account.id == survivor.id {
                format!(
                    "{} accounts share {key}; the merge rule keeps this one",
                    accounts.len()
                )
            } else {
                format!(
                    "{} accounts share {key}; the merge rule merges this one into {}",
                    accounts.len(),
                    survivor.id
                )
            };
            push(CheckKind::DuplicateEmail, account_row(account, detail));
        }
    }

    // One username in several directories: the first directory in order is in effect.
    let mut by_username: FxHashMap<String, Vec<&Account>> = FxHashMap::default();
    for account in &source.accounts {
        if let Some(username) = account.username.as_deref().filter(|u| !u.trim().is_empty()) {
            by_username
                .entry(username.trim().to_lowercase())
                .or_default()
                .push(account);
        }
    }
    for accounts in by_username.values() {
        let directories: FxHashSet<&str> = accounts
            .iter()
            .map(|a| a.source_directory.as_deref().unwrap_or(""))
            .collect();
        if directories.len() < 2 {
            continue;
        }
        let rank = |a: &Account| {
            order
                .iter()
                .position(|d| Some(d.as_str()) == a.source_directory.as_deref())
                .unwrap_or(usize::MAX)
        };
        let in_effect = accounts
            .iter()
            .min_by_key(|a| (rank(a), a.id.as_str()))
            .expect("two or more accounts");
        for account in accounts.iter().filter(|a| a.id != in_effect.id) {
            let detail = format!(
                "shadowed: directory {} comes after {}, where {} is in effect",
                account.source_directory.as_deref().unwrap_or("(none)"),
                in_effect.source_directory.as_deref().unwrap_or("(none)"),
                in_effect.id
            );
            push(CheckKind::ShadowedUsername, account_row(account, detail));
        }
    }

    // Groups: reserved names, names the destination already has.
    let reserved: Vec<String> = if options.reserved_group_names.is_empty() {
        RESERVED_GROUP_NAMES.iter().map(|n| n.to_string()).collect()
    } else {
        options
            .reserved_group_names
            .iter()
            .map(|n| n.trim().to_lowercase())
            .collect()
    };
    let destination_groups: FxHashSet<String> = destination
        .map(|d| {
            d.groups
                .iter()
                .map(|g| g.name.trim().to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    for group in &source.groups {
        let name = group.name.trim().to_lowercase();
        let row = |detail: String| FindingRow {
            kind: IdentityKind::Group,
            user_key: group.id.to_string(),
            user_name: group.name.to_string(),
            old_email: String::new(),
            detail,
        };
        if reserved.contains(&name) {
            push(
                CheckKind::ReservedGroupName,
                row(format!(
                    "the destination reserves the group name {}",
                    group.name
                )),
            );
        } else if destination_groups.contains(&name) {
            let detail = format!(
                "the destination has a group named {}; its {} members would join it",
                group.name,
                group.members.len()
            );
            push(CheckKind::GroupExistsInDestination, row(detail));
        }
    }

    // Destination accounts whose unverified email a match on email would rely on.
    if let Some(destination) = destination {
        for target in destination
            .accounts
            .iter()
            .filter(|a| a.email_verified == Some(false))
        {
            let Some(key) = target
                .email
                .as_deref()
                .and_then(|e| normalize::email_key(e, &options.domain_aliases).ok())
            else {
                continue;
            };
            for account in by_email.get(&key.key).into_iter().flatten() {
                let detail = format!(
                    "would match destination account {} by an unverified email",
                    target.id
                );
                push(
                    CheckKind::UnverifiedDestinationEmail,
                    account_row(account, detail),
                );
            }
        }
    }

    // Look-alikes: different email keys with the same skeleton.
    let mut by_skeleton: FxHashMap<String, Vec<(&String, &Account)>> = FxHashMap::default();
    for (key, accounts) in &by_email {
        by_skeleton
            .entry(normalize::skeleton(key))
            .or_default()
            .push((key, accounts[0]));
    }
    for group in by_skeleton.values().filter(|g| g.len() > 1) {
        let keys: Vec<&str> = group.iter().map(|(k, _)| k.as_str()).collect();
        for (key, _) in group {
            for account in &by_email[*key] {
                let others: Vec<&str> = keys.iter().copied().filter(|k| k != key).collect();
                push(
                    CheckKind::LookAlike,
                    account_row(account, format!("{key} looks like {}", others.join(", "))),
                );
            }
        }
    }

    // Identities the content refers to that the source does not have.
    let accounts: FxHashSet<&str> = source.accounts.iter().map(|a| a.id.as_str()).collect();
    let groups: FxHashSet<&str> = source.groups.iter().map(|g| g.id.as_str()).collect();
    let mut absent: BTreeMap<(IdentityKind, &str), (usize, &str)> = BTreeMap::new();
    for r in references {
        let known = match r.kind {
            IdentityKind::Account => accounts.contains(r.identity.as_str()),
            IdentityKind::Group => groups.contains(r.identity.as_str()),
        };
        if !known {
            let entry = absent
                .entry((r.kind, r.identity.as_str()))
                .or_insert((0, r.container.as_str()));
            entry.0 += 1;
        }
    }
    for ((kind, id), (count, container)) in absent {
        let detail = format!(
            "referenced {count} times (first in {container}) but absent from the source directory"
        );
        push(
            CheckKind::ReferencedButAbsent,
            FindingRow {
                kind,
                user_key: id.into(),
                user_name: String::new(),
                old_email: String::new(),
                detail,
            },
        );
    }

    rows.into_iter()
        .map(|(kind, mut rows)| {
            rows.sort();
            Finding {
                kind,
                severity: kind.severity(),
                count: rows.len(),
                suggested_fix: kind.suggested_fix(),
                rows,
            }
        })
        .collect()
}

/// Whether any finding blocks the run.
pub fn has_blockers(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Blocker)
}

fn account_row(account: &Account, detail: String) -> FindingRow {
    FindingRow {
        kind: IdentityKind::Account,
        user_key: account.id.to_string(),
        user_name: account.username.as_deref().unwrap_or_default().to_string(),
        old_email: account.email.as_deref().unwrap_or_default().to_string(),
        detail,
    }
}

/// The stated order, then directories not stated in order of first appearance.
pub fn directory_order(source: &Directory, stated: &[String]) -> Vec<String> {
    let mut order: Vec<String> = stated.to_vec();
    for account in &source.accounts {
        if let Some(directory) = account.source_directory.as_deref()
            && !order.iter().any(|d| d == directory)
        {
            order.push(directory.to_string());
        }
    }
    order
}
