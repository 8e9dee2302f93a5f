//! The user scope of a job: which identities it takes, why each one, which group
//! permissions pull in many users, and what that means for the `identity:user` mappings.

use std::collections::{BTreeMap, BTreeSet};

use crosswalk_core::{CompactString, Directory, IdentityKind};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::references::{Reference, Role};

/// Which identities a job migrates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "users")]
pub enum UserScope {
    /// Every account and group of the source.
    All,
    /// Everyone tied to the selected containers: by content (created, modified, owns,
    /// commented, mentioned, assigned) or by a permission there, directly or through a
    /// group holding one. Groups themselves come along only when `include_groups`.
    Related {
        containers: BTreeSet<String>,
        include_groups: bool,
    },
    /// Content only: identities stay referenced but none is migrated or mapped.
    None,
}

/// Why an identity is in scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum Reason {
    /// The scope is every user and group of the source.
    WholeSource,
    /// Tied to a selected container, directly or (for an account) as a member of `through_group`,
    /// a group with that role there.
    Container {
        container: CompactString,
        role: Role,
        through_group: Option<CompactString>,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::WholeSource => f.write_str("all users and groups of the source"),
            Reason::Container {
                container,
                role,
                through_group: None,
            } => write!(f, "{role} in {container}"),
            Reason::Container {
                container,
                role,
                through_group: Some(group),
            } => {
                write!(f, "{role} in {container} through group {group}")
            }
        }
    }
}

/// An identity the job takes, with every reason (sorted, at least one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InScope {
    pub kind: IdentityKind,
    pub id: CompactString,
    pub reasons: Vec<Reason>,
}

/// A group permission on a selected container that brings in users only through the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPull {
    pub container: CompactString,
    pub group: CompactString,
    pub group_name: CompactString,
    /// Accounts in scope only because of this group on this container.
    pub users: usize,
}

impl std::fmt::Display for GroupPull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pulls in {} users through group {}",
            self.container, self.users, self.group_name
        )
    }
}

/// An identity the migrated content refers to that will get no `identity:user` mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NotMapped {
    pub kind: IdentityKind,
    pub id: CompactString,
    pub why: String,
}

/// What the scope means for the mapping API, said before the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingConsequence {
    /// Accounts that will get `identity:user` mappings (sorted).
    pub mapped_accounts: Vec<CompactString>,
    /// Groups that will get `identity:group` mappings (sorted).
    pub mapped_groups: Vec<CompactString>,
    /// Identities the migrated content refers to that will get none (sorted).
    pub referenced_not_mapped: Vec<NotMapped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeResult {
    /// Accounts first, then groups, each sorted by id.
    pub in_scope: Vec<InScope>,
    /// Group pulls of at least the threshold, largest first.
    pub group_pulls: Vec<GroupPull>,
    pub mapping: MappingConsequence,
}

impl ScopeResult {
    pub fn contains(&self, kind: IdentityKind, id: &str) -> bool {
        self.in_scope
            .binary_search_by(|s| (s.kind, s.id.as_str()).cmp(&(kind, id)))
            .is_ok()
    }
}

/// Resolves a scope over the source and the content references. `group_pull_threshold` is
/// the number of users one group must bring into one container before it is reported.
pub fn resolve_scope(
    source: &Directory,
    references: &[Reference],
    scope: &UserScope,
    group_pull_threshold: usize,
) -> ScopeResult {
    let accounts: FxHashSet<&str> = source.accounts.iter().map(|a| a.id.as_str()).collect();
    let groups: FxHashMap<&str, usize> = source
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i))
        .collect();
    let exists = |kind: IdentityKind, id: &str| match kind {
        IdentityKind::Account => accounts.contains(id),
        IdentityKind::Group => groups.contains_key(id),
    };

    let mut reasons: BTreeMap<(IdentityKind, CompactString), BTreeSet<Reason>> = BTreeMap::new();
    let mut group_pulls = Vec::new();
    let migrated_content: Box<dyn Fn(&Reference) -> bool> = match scope {
        UserScope::Related { containers, .. } => {
            Box::new(move |r: &Reference| containers.contains(r.container.as_str()))
        }
        UserScope::All | UserScope::None => Box::new(|_| true),
    };

    match scope {
        UserScope::None => {}
        UserScope::All => {
            let all = source
                .accounts
                .iter()
                .map(|a| (IdentityKind::Account, a.id.clone()));
            for key in all.chain(
                source
                    .groups
                    .iter()
                    .map(|g| (IdentityKind::Group, g.id.clone())),
            ) {
                reasons.entry(key).or_default().insert(Reason::WholeSource);
            }
        }
        UserScope::Related { include_groups, .. } => {
            // Accounts reached directly, per container, to tell which ones a group alone brings.
            let mut direct: FxHashSet<(&str, &str)> = FxHashSet::default();
            for r in references
                .iter()
                .filter(|r| migrated_content(r) && r.kind == IdentityKind::Account)
            {
                if exists(IdentityKind::Account, &r.identity) {
                    direct.insert((r.container.as_str(), r.identity.as_str()));
                    let reason = Reason::Container {
                        container: r.container.clone(),
                        role: r.role,
                        through_group: None,
                    };
                    reasons
                        .entry((IdentityKind::Account, r.identity.clone()))
                        .or_default()
                        .insert(reason);
                }
            }
            let mut pulled: BTreeMap<(CompactString, CompactString), FxHashSet<&str>> =
                BTreeMap::new();
            for r in references
                .iter()
                .filter(|r| migrated_content(r) && r.kind == IdentityKind::Group)
            {
                let Some(&group) = groups.get(r.identity.as_str()) else {
                    continue;
                };
                if *include_groups {
                    let reason = Reason::Container {
                        container: r.container.clone(),
                        role: r.role,
                        through_group: None,
                    };
                    reasons
                        .entry((IdentityKind::Group, r.identity.clone()))
                        .or_default()
                        .insert(reason);
                }
                for member in members_of(source, &groups, group) {
                    let reason = Reason::Container {
                        container: r.container.clone(),
                        role: r.role,
                        through_group: Some(r.identity.clone()),
                    };
                    reasons
                        .entry((IdentityKind::Account, member.into()))
                        .or_default()
                        .insert(reason);
                    if !direct.contains(&(r.container.as_str(), member)) {
                        pulled
                            .entry((r.container.clone(), r.identity.clone()))
                            .or_default()
                            .insert(member);
                    }
                }
            }
            for ((container, group), users) in pulled {
                if users.len() >= group_pull_threshold.max(1) {
                    let group_name = source.groups[groups[group.as_str()]].name.clone();
                    group_pulls.push(GroupPull {
                        container,
                        group,
                        group_name,
                        users: users.len(),
                    });
                }
            }
            group_pulls.sort_by(|a, b| {
                b.users
                    .cmp(&a.users)
                    .then_with(|| (&a.container, &a.group).cmp(&(&b.container, &b.group)))
            });
        }
    }

    let in_scope: Vec<InScope> = reasons
        .into_iter()
        .map(|((kind, id), reasons)| InScope {
            kind,
            id,
            reasons: reasons.into_iter().collect(),
        })
        .collect();
    let mut mapping = MappingConsequence::default();
    for identity in &in_scope {
        match identity.kind {
            IdentityKind::Account => mapping.mapped_accounts.push(identity.id.clone()),
            IdentityKind::Group => mapping.mapped_groups.push(identity.id.clone()),
        }
    }
    let in_scope_set: FxHashSet<(IdentityKind, &str)> =
        in_scope.iter().map(|s| (s.kind, s.id.as_str())).collect();
    let mut not_mapped: BTreeSet<NotMapped> = BTreeSet::new();
    for r in references.iter().filter(|r| migrated_content(r)) {
        if in_scope_set.contains(&(r.kind, r.identity.as_str())) {
            continue;
        }
        let why = if !exists(r.kind, &r.identity) {
            "referenced by content but absent from the source directory"
        } else if *scope == UserScope::None {
            "the user scope is none: content only"
        } else {
            "groups are not included in this scope"
        };
        not_mapped.insert(NotMapped {
            kind: r.kind,
            id: r.identity.clone(),
            why: why.to_string(),
        });
    }
    mapping.referenced_not_mapped = not_mapped.into_iter().collect();
    ScopeResult {
        in_scope,
        group_pulls,
        mapping,
    }
}

/// Account ids in a group, nested groups followed once each (a cycle ends where it closes).
fn members_of<'a>(
    source: &'a Directory,
    groups: &FxHashMap<&str, usize>,
    group: usize,
) -> Vec<&'a str> {
    let mut seen_groups = FxHashSet::default();
    let mut stack = vec![group];
    let mut accounts = Vec::new();
    let mut seen_accounts = FxHashSet::default();
    while let Some(g) = stack.pop() {
        if !seen_groups.insert(g) {
            continue;
        }
        for member in &source.groups[g].members {
            match groups.get(member.as_str()) {
                Some(&nested) => stack.push(nested),
                None => {
                    if seen_accounts.insert(member.as_str()) {
                        accounts.push(member.as_str());
                    }
                }
            }
        }
    }
    accounts
}
