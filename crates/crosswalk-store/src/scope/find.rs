//! Batch find without a query per key (a speed tactic; see docs/performance.md, "Batch
//! find"). Each key's look-up plan ([`keys::lookup_plan`]) tries its key kinds in the order
//! source key, username, address, and stops at the first that has rows. So the whole batch
//! is answered kind by kind: one query for every key still unanswered that tries this kind,
//! at most three queries for 10,000 keys, where there were up to 30,000. The answers are those
//! of asking each key alone: the same kind wins, the same rows are candidates.
//!
//! The backends bring the rows ([`FindBatch::pending`] says which), whole mappings or only
//! their briefs (the default answer of the API: no evidence read or sent); this module
//! decides, the same way for both.

use std::collections::HashMap;

use super::error::{ScopeError, ScopeResult};
use super::keys::{self, AltKind};
use super::model::{FindAnswer, FindOutcome, FoundRow, KeyForm, MAX_BATCH, Namespace, SourcePlatform};

/// The most rows one alternate key (a username, an address) brings as candidates: the live
/// ones first, then by source key. An ambiguous answer lists at most this many.
pub const ALT_KEY_CANDIDATES: usize = 50;

/// The kinds in the order every plan tries them.
pub const KIND_ORDER: [AltKind; 3] = [AltKind::SourceKey, AltKind::Username, AltKind::Email];

/// A batch of keys being answered, with rows of type `R`: whole mappings, or briefs.
pub struct FindBatch<R> {
    keys: Vec<String>,
    /// Per key: the steps of its plan, and its answer once one step had rows.
    plans: Vec<Vec<(AltKind, String, KeyForm)>>,
    outcomes: Vec<Option<FindOutcome<R>>>,
}

impl<R: FoundRow> FindBatch<R> {
    /// Plans every key: in `identity:user` by the scope's source platform's key forms; in
    /// other namespaces by source key only. Refuses more than [`MAX_BATCH`] keys.
    pub fn new(
        platform: SourcePlatform,
        namespace: &Namespace,
        keys: &[String],
    ) -> ScopeResult<FindBatch<R>> {
        if keys.len() > MAX_BATCH {
            return Err(ScopeError::invalid(format!(
                "a look-up holds at most {MAX_BATCH} keys, not {}",
                keys.len()
            )));
        }
        let plans = keys
            .iter()
            .map(|key| {
                if namespace.as_str() == Namespace::IDENTITY_USER {
                    keys::lookup_plan(platform, key)
                } else {
                    vec![(AltKind::SourceKey, key.clone(), KeyForm::SourceKey)]
                }
            })
            .collect();
        Ok(FindBatch {
            keys: keys.to_vec(),
            plans,
            outcomes: (0..keys.len()).map(|_| None).collect(),
        })
    }

    /// The distinct stored keys of `kind` to look up now: those of the keys not answered yet
    /// whose plan tries `kind`. Call with each kind of [`KIND_ORDER`] in turn.
    pub fn pending(&self, kind: AltKind) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut lookups = Vec::new();
        for (plan, outcome) in self.plans.iter().zip(&self.outcomes) {
            if outcome.is_some() {
                continue;
            }
            for (step_kind, lookup, _) in plan {
                if *step_kind == kind && seen.insert(lookup.as_str()) {
                    lookups.push(lookup.clone());
                }
            }
        }
        lookups
    }

    /// Takes the rows found for `kind`: `(stored key, mapping)`, each stored key's rows live
    /// first then by source key, at most [`ALT_KEY_CANDIDATES`] per stored key (a source key
    /// has at most one). Every unanswered key whose `kind` step has rows is answered.
    pub fn answer(&mut self, kind: AltKind, rows: Vec<(String, R)>) {
        let mut by_lookup: HashMap<String, Vec<R>> = HashMap::new();
        for (lookup, row) in rows {
            by_lookup.entry(lookup).or_default().push(row);
        }
        for (plan, outcome) in self.plans.iter().zip(self.outcomes.iter_mut()) {
            if outcome.is_some() {
                continue;
            }
            let Some((_, lookup, form)) = plan.iter().find(|(step_kind, _, _)| *step_kind == kind)
            else {
                continue;
            };
            let Some(rows) = by_lookup.get(lookup) else {
                continue;
            };
            // Live mappings first; a removed one answers only when no live one does.
            let mut candidates: Vec<&R> = rows.iter().take(ALT_KEY_CANDIDATES).collect();
            if candidates.iter().any(|m| !m.removed()) {
                candidates.retain(|m| !m.removed());
            }
            *outcome = Some(if candidates.len() == 1 {
                FindOutcome::Found {
                    by: form.clone(),
                    mapping: Box::new(candidates[0].clone()),
                }
            } else {
                FindOutcome::Ambiguous {
                    by: form.clone(),
                    source_keys: candidates.iter().map(|m| m.source_key().to_string()).collect(),
                }
            });
        }
    }

    /// Every key's answer, in the order given; a key no step found is not found.
    pub fn finish(self) -> Vec<FindAnswer<R>> {
        self.keys
            .into_iter()
            .zip(self.outcomes)
            .map(|(key, outcome)| FindAnswer {
                key,
                outcome: outcome.unwrap_or(FindOutcome::NotFound),
            })
            .collect()
    }
}
