//! The fixes an admin chooses for findings, per identity or in bulk, applied as pure
//! functions: all of them or none.

use std::collections::{BTreeMap, BTreeSet};

use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::{Account, CompactString, Directory};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::checks::{CheckKind, Finding};

/// What to do with one source identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fix")]
pub enum Fix {
    /// Merge this account into `into` (another source account): its memberships go to that
    /// one, and it is not migrated itself.
    Merge { into: String },
    /// Migrate as a former user: no email, inactive; content keeps pointing at it.
    Tombstone,
    /// Migrate with this email instead.
    NewEmail { email: String },
    /// Leave out of the migration (account or group).
    Exclude,
}

/// Which of several accounts sharing an email survives a merge. Deterministic and stated
/// ([`MergeRule::describe`]), so the admin can read it and override it row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeRule {
    /// Directory priority (as for shadowed usernames): earlier wins.
    pub directory_order: Vec<String>,
}

impl MergeRule {
    pub fn describe(&self) -> String {
        let order = if self.directory_order.is_empty() {
            "(as listed)".to_string()
        } else {
            self.directory_order.join(" > ")
        };
        format!(
            "keep the active account over inactive ones; then the one from the earliest directory ({order}); then the smallest UserKey"
        )
    }

    /// The survivor among `accounts` (at least one). The same set gives the same survivor
    /// whatever its order.
    pub fn choose<'a>(&self, accounts: impl IntoIterator<Item = &'a Account>) -> &'a Account {
        let rank = |a: &Account| {
            let directory = self
                .directory_order
                .iter()
                .position(|d| Some(d.as_str()) == a.source_directory.as_deref());
            (!a.active, directory.unwrap_or(usize::MAX), a.id.clone())
        };
        accounts
            .into_iter()
            .min_by_key(|a| rank(a))
            .expect("choose needs at least one account")
    }
}

/// Why a set of fixes cannot be applied. Any one stops them all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FixError {
    pub user_key: String,
    pub message: String,
}

impl std::fmt::Display for FixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.user_key, self.message)
    }
}

/// The source after the fixes, and what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixOutcome {
    pub directory: Directory,
    /// (merged account, survivor), sorted.
    pub merged: Vec<(String, String)>,
    pub tombstoned: Vec<String>,
    pub reemailed: Vec<String>,
    pub excluded: Vec<String>,
}

/// Expands `template` for an account: `{id}`, `{username}` (the id when there is none) and
/// `{local}` (the old address's local part, else the username).
pub fn email_from_template(template: &str, account: &Account) -> String {
    let username = account.username.as_deref().unwrap_or(&account.id);
    let local = account
        .email
        .as_deref()
        .and_then(|e| e.split_once('@'))
        .map(|(l, _)| l)
        .filter(|l| !l.is_empty())
        .unwrap_or(username);
    template
        .replace("{id}", &account.id)
        .replace("{username}", username)
        .replace("{local}", local)
}

/// The fixes the findings suggest: duplicates merged by `rule`; accounts with an invalid or
/// missing email given one from `template`, or tombstoned when there is no template.
pub fn suggested_fixes(
    source: &Directory,
    findings: &[Finding],
    template: Option<&str>,
    rule: &MergeRule,
    aliases: &DomainAliases,
) -> BTreeMap<String, Fix> {
    let accounts: FxHashMap<&str, &Account> =
        source.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut fixes = BTreeMap::new();
    for finding in findings {
        match finding.kind {
            CheckKind::DuplicateEmail => {
                let mut by_email: BTreeMap<String, Vec<&Account>> = BTreeMap::new();
                for row in &finding.rows {
                    let Some(&account) = accounts.get(row.user_key.as_str()) else {
                        continue;
                    };
                    let Some(key) = account
                        .email
                        .as_deref()
                        .and_then(|e| normalize::email_key(e, aliases).ok())
                    else {
                        continue;
                    };
                    by_email.entry(key.key).or_default().push(account);
                }
                for group in by_email.values() {
                    let survivor = rule.choose(group.iter().copied());
                    for account in group.iter().filter(|a| a.id != survivor.id) {
                        fixes.insert(
                            account.id.to_string(),
                            Fix::Merge {
                                into: survivor.id.to_string(),
                            },
                        );
                    }
                }
            }
            CheckKind::InvalidEmail | CheckKind::MissingEmail => {
                for row in &finding.rows {
                    let Some(&account) = accounts.get(row.user_key.as_str()) else {
                        continue;
                    };
                    let fix = match template {
                        Some(template) => Fix::NewEmail {
                            email: email_from_template(template, account),
                        },
                        None => Fix::Tombstone,
                    };
                    fixes.insert(account.id.to_string(), fix);
                }
            }
            _ => {}
        }
    }
    fixes
}

/// Applies `fixes` (keyed by source id) to `source`. Every fix is checked first; when any is
/// wrong, or the result would hold two accounts with one email, nothing is applied and every
/// problem is returned (sorted).
pub fn apply_fixes(
    source: &Directory,
    fixes: &BTreeMap<String, Fix>,
    aliases: &DomainAliases,
) -> Result<FixOutcome, Vec<FixError>> {
    let accounts: FxHashSet<&str> = source.accounts.iter().map(|a| a.id.as_str()).collect();
    let groups: FxHashSet<&str> = source.groups.iter().map(|g| g.id.as_str()).collect();
    let mut errors = BTreeSet::new();
    let mut error = |key: &str, message: String| {
        errors.insert(FixError {
            user_key: key.to_string(),
            message,
        });
    };
    for (key, fix) in fixes {
        let is_account = accounts.contains(key.as_str());
        if !is_account && !groups.contains(key.as_str()) {
            error(
                key,
                "no account or group with this key in the source".into(),
            );
            continue;
        }
        match fix {
            Fix::Exclude => {}
            _ if !is_account => error(key, "a group can only be excluded".into()),
            Fix::Tombstone => {}
            Fix::NewEmail { email } => {
                if let Err(why) = normalize::email_key(email, aliases) {
                    error(key, format!("new email {email:?} {}", why.describe()));
                }
            }
            Fix::Merge { into } => {
                if into == key {
                    error(key, "cannot be merged into itself".into());
                } else if !accounts.contains(into.as_str()) {
                    error(
                        key,
                        format!("merge target {into:?} is not an account in the source"),
                    );
                } else if let Some(
                    target_fix @ (Fix::Merge { .. } | Fix::Exclude | Fix::Tombstone),
                ) = fixes.get(into)
                {
                    let what = match target_fix {
                        Fix::Merge { .. } => "merged itself",
                        Fix::Exclude => "excluded",
                        _ => "tombstoned",
                    };
                    error(
                        key,
                        format!("merge target {into} is {what}; merge into the account that stays"),
                    );
                }
            }
        }
    }

    let mut outcome = FixOutcome {
        directory: Directory::default(),
        merged: vec![],
        tombstoned: vec![],
        reemailed: vec![],
        excluded: vec![],
    };
    // Where memberships of a removed identity go: to the survivor, or nowhere.
    let mut redirect: FxHashMap<&str, Option<&str>> = FxHashMap::default();
    let mut kept_accounts = Vec::with_capacity(source.accounts.len());
    for account in &source.accounts {
        match fixes.get(account.id.as_str()) {
            None => kept_accounts.push(account.clone()),
            Some(Fix::Exclude) => {
                redirect.insert(&account.id, None);
                outcome.excluded.push(account.id.to_string());
            }
            Some(Fix::Merge { into }) => {
                redirect.insert(&account.id, Some(into));
                outcome.merged.push((account.id.to_string(), into.clone()));
            }
            Some(Fix::Tombstone) => {
                let mut former = account.clone();
                former.email = None;
                former.alias_emails.clear();
                former.active = false;
                kept_accounts.push(former);
                outcome.tombstoned.push(account.id.to_string());
            }
            Some(Fix::NewEmail { email }) => {
                let mut changed = account.clone();
                changed.email = Some(email.trim().into());
                kept_accounts.push(changed);
                outcome.reemailed.push(account.id.to_string());
            }
        }
    }
    let mut kept_groups = Vec::with_capacity(source.groups.len());
    for group in &source.groups {
        if let Some(Fix::Exclude) = fixes.get(group.id.as_str()) {
            redirect.insert(&group.id, None);
            outcome.excluded.push(group.id.to_string());
            continue;
        }
        kept_groups.push(group.clone());
    }
    for group in &mut kept_groups {
        let mut seen = FxHashSet::default();
        let members: Vec<CompactString> = group
            .members
            .iter()
            .filter_map(|m| match redirect.get(m.as_str()) {
                None => Some(m.clone()),
                Some(target) => target.map(CompactString::from),
            })
            .filter(|m| seen.insert(m.clone()))
            .collect();
        group.members = members;
    }

    // No two remaining accounts may share an email key.
    let mut owners: FxHashMap<String, &str> = FxHashMap::default();
    for account in &kept_accounts {
        let Some(key) = account
            .email
            .as_deref()
            .and_then(|e| normalize::email_key(e, aliases).ok())
        else {
            continue;
        };
        if let Some(other) = owners.insert(key.key.clone(), &account.id) {
            let (first, second) = if *other < *account.id {
                (other, account.id.as_str())
            } else {
                (account.id.as_str(), other)
            };
            error(
                second,
                format!(
                    "would share the email {} with {first} after the fixes; merge, re-email or exclude one",
                    key.key
                ),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_iter().collect());
    }
    outcome.merged.sort();
    outcome.excluded.sort();
    outcome.directory = Directory {
        name: source.name.clone(),
        accounts: kept_accounts,
        groups: kept_groups,
    };
    Ok(outcome)
}
