//! How exception rules and the policy's default account name identities: a reference
//! (`id:`, `username:`, `email:` or a bare value) found in a side's indexes, resolved before
//! any matching starts.

use rustc_hash::FxHashMap;

use super::keys::{AccountIndex, GroupIndex};
use crate::directory::IdentityKind;
use crate::exceptions::{ExceptionDecision, ExceptionRule, FORMER_USER_DESTINATION, IdentityRef};
use crate::mapping::Target;
use crate::normalize;
use crate::policy::Policy;

pub(super) enum DefaultAccount {
    None,
    Existing(u32),
    Named(String),
}

pub(super) fn default_account(policy: &Policy, dst: &AccountIndex<'_>) -> DefaultAccount {
    match &policy.fallback.default_account {
        None => DefaultAccount::None,
        Some(name) => match find_account(dst, &IdentityRef::parse(name)) {
            Ok(index) => DefaultAccount::Existing(index),
            Err(_) => DefaultAccount::Named(name.trim().to_string()),
        },
    }
}

/// Finds the one account a reference names, or says why there is not exactly one. Usernames
/// and addresses are keyed as the index's own were (transforms included), as identity: a
/// value never finds an account that only looks like it.
pub(super) fn find_account(
    index: &AccountIndex<'_>,
    reference: &IdentityRef,
) -> Result<u32, String> {
    let by_id = |v: &str| {
        index
            .by_id
            .get(v.trim())
            .map(|&i| vec![i])
            .unwrap_or_default()
    };
    let by_username = |v: &str| index.accounts_with_username(v);
    let by_email = |v: &str| index.accounts_with_email(v);
    let found = match reference {
        IdentityRef::Id(v) => by_id(v),
        IdentityRef::Username(v) => by_username(v),
        IdentityRef::Email(v) => by_email(v),
        IdentityRef::Any(v) => {
            let by_kind = [
                ("id", by_id(v)),
                ("username", by_username(v)),
                ("email", by_email(v)),
            ];
            unambiguous(v, &by_kind, "account", |i| index.account_id(i))?
        }
    };
    one_of(found, reference, "account")
}

fn find_group(index: &GroupIndex<'_>, reference: &IdentityRef) -> Result<u32, String> {
    let by_id = |v: &str| {
        index
            .by_id
            .get(v.trim())
            .map(|&i| vec![i])
            .unwrap_or_default()
    };
    let by_name = |v: &str| {
        index
            .by_name
            .get(&normalize::fold(v))
            .map(|h| h.as_slice().to_vec())
            .unwrap_or_default()
    };
    let found = match reference {
        IdentityRef::Id(v) => by_id(v),
        IdentityRef::Username(v) | IdentityRef::Email(v) => by_name(v),
        IdentityRef::Any(v) => {
            let by_kind = [("id", by_id(v)), ("name", by_name(v))];
            unambiguous(v, &by_kind, "group", |i| index.group_id(i))?
        }
    };
    one_of(found, reference, "group")
}

/// The identities a bare value names, by each kind of name it can be (`by_kind`): an error
/// when it names one identity as one kind and another as another (`jdoe` the id of one
/// account and the username of another), because choosing between them would be a guess.
fn unambiguous<'i>(
    value: &str,
    by_kind: &[(&str, Vec<u32>)],
    what: &str,
    id_of: impl Fn(u32) -> &'i str,
) -> Result<Vec<u32>, String> {
    let mut all: Vec<u32> = by_kind
        .iter()
        .flat_map(|(_, found)| found.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    let kinds: Vec<&(&str, Vec<u32>)> = by_kind
        .iter()
        .filter(|(_, found)| !found.is_empty())
        .collect();
    if all.len() > 1 && kinds.len() > 1 {
        let named: Vec<String> = kinds
            .iter()
            .map(|(kind, found)| {
                let ids: Vec<&str> = found.iter().map(|&i| id_of(i)).collect();
                format!("{what} {} by {kind}", ids.join(", "))
            })
            .collect();
        let prefixes: Vec<String> = kinds
            .iter()
            .map(|(kind, _)| format!("{kind}:{value}"))
            .collect();
        return Err(format!(
            "{value:?} is ambiguous: it names {}; write {} to say which",
            named.join(" and "),
            prefixes.join(" or ")
        ));
    }
    Ok(all)
}

fn one_of(found: Vec<u32>, reference: &IdentityRef, what: &str) -> Result<u32, String> {
    match found.as_slice() {
        [] => Err(format!("no {what} is {reference}")),
        [one] => Ok(*one),
        many => Err(format!(
            "{} {what}s match {reference}; name one by `id:`",
            many.len()
        )),
    }
}

/// Exception rules, resolved to indices on both sides before any matching starts.
pub(super) struct ExceptionTable {
    pub(super) accounts: FxHashMap<u32, ExceptionOutcome>,
    pub(super) groups: FxHashMap<u32, ExceptionOutcome>,
}

pub(super) enum ExceptionOutcome {
    To {
        index: u32,
        rule: String,
    },
    /// Not linked to an existing identity: created, or migrated as a former user.
    Make {
        target: Target,
        rule: String,
    },
    Bad(String),
}

impl ExceptionTable {
    pub(super) fn build(
        rules: &[ExceptionRule],
        accounts: (&AccountIndex<'_>, &AccountIndex<'_>),
        groups: (&GroupIndex<'_>, &GroupIndex<'_>),
        warnings: &mut Vec<String>,
    ) -> ExceptionTable {
        let mut table = ExceptionTable {
            accounts: FxHashMap::default(),
            groups: FxHashMap::default(),
        };
        for rule in rules {
            let source = match rule.kind {
                IdentityKind::Account => find_account(accounts.0, &rule.source),
                IdentityKind::Group => find_group(groups.0, &rule.source),
            };
            let source = match source {
                Ok(index) => index,
                Err(why) => {
                    warnings.push(format!(
                        "exception {}: source {why}; the rule was not used",
                        rule.origin
                    ));
                    continue;
                }
            };
            let destination = match (rule.decision(), rule.kind) {
                (ExceptionDecision::To(destination), IdentityKind::Account) => {
                    find_account(accounts.1, destination).map(Some)
                }
                (ExceptionDecision::To(destination), IdentityKind::Group) => {
                    find_group(groups.1, destination).map(Some)
                }
                (ExceptionDecision::Provision, _) => Ok(None),
                (ExceptionDecision::FormerUser, IdentityKind::Account) => Ok(None),
                (ExceptionDecision::FormerUser, IdentityKind::Group) => Err(format!(
                    "{FORMER_USER_DESTINATION} is for accounts; a group is mapped, created or left"
                )),
            };
            let outcome = match destination {
                Ok(Some(index)) => ExceptionOutcome::To {
                    index,
                    rule: rule.origin.clone(),
                },
                Ok(None) => ExceptionOutcome::Make {
                    target: if rule.decision() == ExceptionDecision::Provision {
                        Target::Provision
                    } else {
                        Target::FormerUser
                    },
                    rule: rule.origin.clone(),
                },
                Err(why) => ExceptionOutcome::Bad(format!(
                    "exception {} was not applied: destination {why}; fix the rule or the destination directory",
                    rule.origin
                )),
            };
            let slot = match rule.kind {
                IdentityKind::Account => &mut table.accounts,
                IdentityKind::Group => &mut table.groups,
            };
            if let Some(previous) = slot.get(&source) {
                let earlier = match previous {
                    ExceptionOutcome::To { rule, .. } | ExceptionOutcome::Make { rule, .. } => {
                        rule.clone()
                    }
                    ExceptionOutcome::Bad(_) => "an earlier rule".to_string(),
                };
                slot.insert(
                    source,
                    ExceptionOutcome::Bad(format!(
                        "exceptions {earlier} and {} both name this {}; neither was applied",
                        rule.origin, rule.kind
                    )),
                );
            } else {
                slot.insert(source, outcome);
            }
        }
        table
    }
}
