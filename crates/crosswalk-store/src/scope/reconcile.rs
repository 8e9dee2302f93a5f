//! The reconcile step, as pure code: the scope's current state and a run's new resolution
//! in, the changes to write out. A run writes only these, so re-running the same inputs
//! writes nothing.
//!
//! Removal is owned by jobs: a scope is migrated in waves, each wave a job over its own
//! slice of the source, so a run marks removed only what runs of its own job wrote last.

use std::collections::HashMap;
use std::hash::Hash;

/// A mapping as the scope holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<V> {
    pub value: V,
    /// Marked removed by an earlier run (its source identity was gone then).
    pub removed: bool,
    /// Last written by a run of the job now running. Only these can be marked removed by
    /// it; another job's mappings are that job's to remove.
    pub ours: bool,
}

/// One change a run makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<K, V> {
    /// New, or back after it was marked removed.
    Added {
        key: K,
        new: V,
    },
    Changed {
        key: K,
        old: V,
        new: V,
    },
    /// Its source identity is gone: marked removed, keeping its last value.
    Removed {
        key: K,
        old: V,
    },
}

impl<K, V> Change<K, V> {
    pub fn key(&self) -> &K {
        match self {
            Change::Added { key, .. }
            | Change::Changed { key, .. }
            | Change::Removed { key, .. } => key,
        }
    }
}

/// What a run changes, in key order, how many mappings it left as they were, and how many
/// live mappings of other jobs it left alone although its own source lacks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff<K, V> {
    pub changes: Vec<Change<K, V>>,
    pub unchanged: u64,
    pub kept_from_other_jobs: u64,
}

impl<K, V> Diff<K, V> {
    pub fn count(&self, which: fn(&Change<K, V>) -> bool) -> u64 {
        self.changes.iter().filter(|c| which(c)).count() as u64
    }
}

/// Compares the new resolution with the current state. Every key of `new` is added,
/// changed or unchanged; every live key of `current` that this job wrote last and that is
/// missing from `new` is removed; other jobs' keys and keys already marked removed are
/// left alone.
pub fn reconcile<K, V>(current: &HashMap<K, Current<V>>, new: &HashMap<K, V>) -> Diff<K, V>
where
    K: Eq + Hash + Ord + Clone,
    V: Eq + Clone,
{
    let mut changes = Vec::new();
    let mut unchanged = 0u64;
    let mut kept_from_other_jobs = 0u64;
    for (key, value) in new {
        match current.get(key) {
            Some(now) if !now.removed && now.value == *value => unchanged += 1,
            Some(now) if !now.removed => changes.push(Change::Changed {
                key: key.clone(),
                old: now.value.clone(),
                new: value.clone(),
            }),
            _ => changes.push(Change::Added {
                key: key.clone(),
                new: value.clone(),
            }),
        }
    }
    for (key, now) in current {
        if now.removed || new.contains_key(key) {
            continue;
        }
        if now.ours {
            changes.push(Change::Removed {
                key: key.clone(),
                old: now.value.clone(),
            });
        } else {
            kept_from_other_jobs += 1;
        }
    }
    changes.sort_by(|a, b| a.key().cmp(b.key()));
    Diff {
        changes,
        unchanged,
        kept_from_other_jobs,
    }
}

/// [`reconcile`] over two lists in key order, walked side by side: what a run over a
/// million mappings uses (a speed tactic; see docs/performance.md). Neither side is
/// hashed or copied into a map, and the keys can be borrowed from where they already are.
/// Both lists must be sorted by key with no key twice; the diff is the one [`reconcile`]
/// gives for the same contents.
pub fn reconcile_sorted<K, V>(current: &[(K, Current<V>)], new: &[(K, V)]) -> Diff<K, V>
where
    K: Ord + Clone,
    V: Eq + Clone,
{
    let mut changes = Vec::new();
    let mut unchanged = 0u64;
    let mut kept_from_other_jobs = 0u64;
    let (mut c, mut n) = (0, 0);
    while c < current.len() || n < new.len() {
        let order = match (current.get(c), new.get(n)) {
            (Some((ck, _)), Some((nk, _))) => ck.cmp(nk),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            // Only in the current state: gone from the run's source.
            std::cmp::Ordering::Less => {
                let (key, now) = &current[c];
                if !now.removed {
                    if now.ours {
                        changes.push(Change::Removed {
                            key: key.clone(),
                            old: now.value.clone(),
                        });
                    } else {
                        kept_from_other_jobs += 1;
                    }
                }
                c += 1;
            }
            // Only in the run: new.
            std::cmp::Ordering::Greater => {
                let (key, value) = &new[n];
                changes.push(Change::Added {
                    key: key.clone(),
                    new: value.clone(),
                });
                n += 1;
            }
            std::cmp::Ordering::Equal => {
                let ((key, now), (_, value)) = (&current[c], &new[n]);
                if now.removed {
                    changes.push(Change::Added {
                        key: key.clone(),
                        new: value.clone(),
                    });
                } else if now.value == *value {
                    unchanged += 1;
                } else {
                    changes.push(Change::Changed {
                        key: key.clone(),
                        old: now.value.clone(),
                        new: value.clone(),
                    });
                }
                c += 1;
                n += 1;
            }
        }
    }
    Diff {
        changes,
        unchanged,
        kept_from_other_jobs,
    }
}

/// The state after the changes: what the store holds once a run is written. Every changed
/// key is then the running job's.
pub fn apply<K, V>(current: &mut HashMap<K, Current<V>>, diff: &Diff<K, V>)
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    for change in &diff.changes {
        match change {
            Change::Added { key, new } | Change::Changed { key, new, .. } => {
                current.insert(
                    key.clone(),
                    Current {
                        value: new.clone(),
                        removed: false,
                        ours: true,
                    },
                );
            }
            Change::Removed { key, old } => {
                current.insert(
                    key.clone(),
                    Current {
                        value: old.clone(),
                        removed: true,
                        ours: true,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn state() -> impl Strategy<Value = HashMap<u8, Current<u8>>> {
        prop::collection::hash_map(
            any::<u8>(),
            (0u8..4, any::<bool>(), any::<bool>()).prop_map(|(value, removed, ours)| Current {
                value,
                removed,
                ours,
            }),
            0..40,
        )
    }

    fn resolution() -> impl Strategy<Value = HashMap<u8, u8>> {
        prop::collection::hash_map(any::<u8>(), 0u8..4, 0..40)
    }

    /// What the state must be after a run: every resolved key live with its new value and
    /// the job's; every other key of the job marked removed; other jobs' keys as they were.
    fn expected(
        current: &HashMap<u8, Current<u8>>,
        new: &HashMap<u8, u8>,
    ) -> HashMap<u8, Current<u8>> {
        let mut state: HashMap<u8, Current<u8>> = current
            .iter()
            .map(|(k, c)| {
                (
                    *k,
                    if c.ours {
                        Current {
                            removed: true,
                            ..c.clone()
                        }
                    } else {
                        c.clone()
                    },
                )
            })
            .collect();
        for (k, v) in new {
            match state.get(k) {
                // Unchanged: left as it was, whoever wrote it.
                Some(c) if !c.removed && c.value == *v => {}
                _ => {
                    state.insert(
                        *k,
                        Current {
                            value: *v,
                            removed: false,
                            ours: true,
                        },
                    );
                }
            }
        }
        state
    }

    proptest! {
        #[test]
        fn applying_the_diff_gives_the_new_state(current in state(), new in resolution()) {
            let diff = reconcile(&current, &new);
            let mut state = current.clone();
            apply(&mut state, &diff);
            prop_assert_eq!(&state, &expected(&current, &new));
            // Every resolved key is counted exactly once, as a change or as unchanged.
            let touched = diff.changes.iter().filter(|c| !matches!(c, Change::Removed { .. })).count() as u64;
            prop_assert_eq!(touched + diff.unchanged, new.len() as u64);
            // Every live key missing from the run is either removed (the job's) or kept (another's).
            let missing = current.iter().filter(|(k, c)| !c.removed && !new.contains_key(k)).count() as u64;
            prop_assert_eq!(diff.count(|c| matches!(c, Change::Removed { .. })) + diff.kept_from_other_jobs, missing);
        }

        #[test]
        fn running_the_same_resolution_again_changes_nothing(current in state(), new in resolution()) {
            let mut state = current.clone();
            apply(&mut state, &reconcile(&current, &new));
            let again = reconcile(&state, &new);
            prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
            prop_assert_eq!(again.unchanged, new.len() as u64);
        }

        #[test]
        fn a_live_state_diffed_with_itself_is_empty(new in resolution(), ours in any::<bool>()) {
            let current: HashMap<u8, Current<u8>> =
                new.iter().map(|(k, v)| (*k, Current { value: *v, removed: false, ours })).collect();
            let diff = reconcile(&current, &new);
            prop_assert!(diff.changes.is_empty());
        }

        #[test]
        fn the_sorted_walk_gives_the_same_diff(current in state(), new in resolution()) {
            let mut current_list: Vec<(u8, Current<u8>)> = current.iter().map(|(k, c)| (*k, c.clone())).collect();
            current_list.sort_by_key(|(k, _)| *k);
            let mut new_list: Vec<(u8, u8)> = new.iter().map(|(k, v)| (*k, *v)).collect();
            new_list.sort_by_key(|(k, _)| *k);
            prop_assert_eq!(reconcile_sorted(&current_list, &new_list), reconcile(&current, &new));
        }

        #[test]
        fn a_job_never_removes_another_jobs_mappings(current in state(), new in resolution()) {
            let diff = reconcile(&current, &new);
            for change in &diff.changes {
                if let Change::Removed { key, .. } = change {
                    prop_assert!(current[key].ours, "removed {} written by another job", key);
                }
            }
        }
    }

    #[test]
    fn a_removed_mapping_that_comes_back_is_added_and_a_gone_one_is_removed_once() {
        let current = HashMap::from([
            (
                1,
                Current {
                    value: 'a',
                    removed: true,
                    ours: true,
                },
            ),
            (
                2,
                Current {
                    value: 'b',
                    removed: false,
                    ours: true,
                },
            ),
        ]);
        let new = HashMap::from([(1, 'a')]);
        let diff = reconcile(&current, &new);
        assert_eq!(
            diff.changes,
            vec![
                Change::Added { key: 1, new: 'a' },
                Change::Removed { key: 2, old: 'b' }
            ]
        );
    }

    #[test]
    fn a_second_wave_on_a_disjoint_source_removes_nothing_of_the_first() {
        let current = HashMap::from([
            (
                1,
                Current {
                    value: 'a',
                    removed: false,
                    ours: false,
                },
            ),
            (
                2,
                Current {
                    value: 'b',
                    removed: false,
                    ours: false,
                },
            ),
        ]);
        let new = HashMap::from([(3, 'c')]);
        let diff = reconcile(&current, &new);
        assert_eq!(diff.changes, vec![Change::Added { key: 3, new: 'c' }]);
        assert_eq!(diff.kept_from_other_jobs, 2);
    }
}
