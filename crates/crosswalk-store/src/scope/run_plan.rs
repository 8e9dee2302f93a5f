//! What a run writes, worked out without a hash map (a speed tactic; see
//! docs/performance.md, "The scope store"). Shared by both backends; no SQL here.
//!
//! The run's mappings are digested and sorted by (namespace, source key) before the write
//! lock is taken; the scope's current identity mappings are read in the same order; the two
//! lists are compared side by side ([`reconcile::reconcile_sorted`]). Keys are borrowed from
//! the run and from the rows read, never copied into maps, so a run over a million
//! mappings holds each key once.

use super::error::{ScopeError, ScopeResult};
use super::model::{IdentityMapping, IdentityValue, MappingValue, Namespace, RunCounts, RunRecord};
use super::reconcile::{self, Change, Current};

/// A value's serialised form as a `MappingValue::Identity`, without cloning it into one.
pub(super) fn identity_json(value: &IdentityValue) -> String {
    #[derive(serde::Serialize)]
    #[serde(tag = "type", content = "value", rename_all = "snake_case")]
    enum Borrowed<'a> {
        Identity(&'a IdentityValue),
    }
    // A value of plain strings, numbers and vectors always serialises.
    serde_json::to_string(&Borrowed::Identity(value)).unwrap_or_default()
}

type Key<'a> = (&'a str, &'a str);

/// The run's side: each mapping's digest and place in the run, in key order.
pub(super) struct NewSide<'r> {
    entries: Vec<(Key<'r>, [u8; 16])>,
    positions: Vec<u32>,
}

impl<'r> NewSide<'r> {
    /// Digests every mapping of the run (no lock is needed for this) and refuses a run that
    /// holds two mappings of one source identity.
    pub(super) fn of(run: &'r RunRecord) -> ScopeResult<NewSide<'r>> {
        let mut order: Vec<(Key<'r>, [u8; 16], u32)> = run
            .identities
            .iter()
            .enumerate()
            .map(|(position, identity)| {
                let digest = MappingValue::digest_of_json(&identity_json(&identity.value));
                (
                    (identity.namespace.as_str(), identity.source_key.as_str()),
                    digest,
                    position as u32,
                )
            })
            .collect();
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = order.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            let (namespace, key) = pair[0].0;
            return Err(ScopeError::invalid(format!(
                "the run holds two mappings for {namespace} {key:?}; a run holds one mapping per source identity"
            )));
        }
        let positions = order.iter().map(|(_, _, position)| *position).collect();
        let entries = order
            .into_iter()
            .map(|(key, digest, _)| (key, digest))
            .collect();
        Ok(NewSide { entries, positions })
    }
}

/// An identity mapping as the scope holds it, as a run reads it under the write lock.
pub(super) struct StoredMapping {
    pub namespace: &'static str,
    pub source_key: String,
    pub value_hash: [u8; 16],
    pub removed: bool,
    /// Last written by a run of the running job.
    pub ours: bool,
    pub id: i64,
    pub revision_id: i64,
    pub value_revision_id: i64,
}

/// The identity namespace a stored row names, as a static string.
pub(super) fn identity_namespace(text: &str) -> ScopeResult<&'static str> {
    match text {
        Namespace::IDENTITY_USER => Ok(Namespace::IDENTITY_USER),
        Namespace::IDENTITY_GROUP => Ok(Namespace::IDENTITY_GROUP),
        other => Err(ScopeError::corrupt(format!(
            "a run read a mapping of namespace {other:?} as an identity"
        ))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChangeKind {
    Added,
    Changed,
    Removed,
}

/// One change to write, with everything the writes need.
pub(super) struct Planned<'r> {
    pub kind: ChangeKind,
    pub namespace: &'r str,
    pub source_key: &'r str,
    /// The new value's digest; for a removal, the last value's.
    pub value_hash: [u8; 16],
    /// The run's mapping (not for a removal).
    pub identity: Option<&'r IdentityMapping>,
    /// The scope's row, if it had one.
    pub stored: Option<&'r StoredMapping>,
}

/// The changes in key order, and the counts.
pub(super) struct RunPlan<'r> {
    pub changes: Vec<Planned<'r>>,
    pub counts: RunCounts,
}

/// Compares the run with the scope's state. `stored` is sorted here (it is read in key
/// order, so this costs a pass), so the result does not hang on the database's collation.
pub(super) fn plan<'r>(
    run: &'r RunRecord,
    new: &NewSide<'r>,
    stored: &'r mut [StoredMapping],
) -> RunPlan<'r> {
    stored.sort_unstable_by(|a, b| {
        (a.namespace, a.source_key.as_str()).cmp(&(b.namespace, b.source_key.as_str()))
    });
    let stored: &'r [StoredMapping] = stored;
    let current: Vec<(Key<'r>, Current<[u8; 16]>)> = stored
        .iter()
        .map(|s| {
            (
                (s.namespace, s.source_key.as_str()),
                Current {
                    value: s.value_hash,
                    removed: s.removed,
                    ours: s.ours,
                },
            )
        })
        .collect();
    let diff = reconcile::reconcile_sorted(&current, &new.entries);
    drop(current);
    let mut counts = RunCounts {
        unchanged: diff.unchanged,
        ..RunCounts::default()
    };
    // Changes come in key order, as both lists are: one cursor into each finds a change's
    // mapping and row.
    let (mut n, mut c) = (0, 0);
    let mut changes = Vec::with_capacity(diff.changes.len());
    for change in &diff.changes {
        let key = *change.key();
        while n < new.entries.len() && new.entries[n].0 < key {
            n += 1;
        }
        while c < stored.len() && (stored[c].namespace, stored[c].source_key.as_str()) < key {
            c += 1;
        }
        let identity = (n < new.entries.len() && new.entries[n].0 == key)
            .then(|| &run.identities[new.positions[n] as usize]);
        let row = stored
            .get(c)
            .filter(|s| (s.namespace, s.source_key.as_str()) == key);
        let (kind, value_hash) = match change {
            Change::Added { new, .. } => {
                counts.added += 1;
                (ChangeKind::Added, *new)
            }
            Change::Changed { new, .. } => {
                counts.changed += 1;
                (ChangeKind::Changed, *new)
            }
            Change::Removed { old, .. } => {
                counts.removed += 1;
                (ChangeKind::Removed, *old)
            }
        };
        changes.push(Planned {
            kind,
            namespace: key.0,
            source_key: key.1,
            value_hash,
            identity: if kind == ChangeKind::Removed {
                None
            } else {
                identity
            },
            stored: row,
        });
    }
    RunPlan { changes, counts }
}
