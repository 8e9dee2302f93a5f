//! The dry run: resolve a job's inputs as `run` would and compare the result with what the
//! scope holds, writing nothing. The comparison is the store's own reconcile step, so the
//! counts are the ones a run with the same inputs would record.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crosswalk_core::ExceptionRule;
use crosswalk_plan::Switch;
use crosswalk_store::scope::reconcile::{Change, Current, reconcile};
use crosswalk_store::scope::{IdentityMapping, MAX_BATCH, MappingValue, Namespace};
use serde::Serialize;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::import::JobInput;
use crate::plan_digest::Compared;
use crate::run::{DEFAULT_SCOPE, row_from_rule, rule_from_row};

/// How many mappings a run would add, change, mark removed and leave alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    pub new: u64,
    pub changed: u64,
    pub removed: u64,
    pub unchanged: u64,
}

/// One mapping a run would write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRow {
    /// `new`, `changed` or `removed`.
    pub change: &'static str,
    pub namespace: String,
    pub source_key: String,
    /// The destination id it maps to now (empty when none).
    pub old_destination: String,
    pub old_resolution: String,
    /// The destination id it would map to (empty when none, or when removed).
    pub new_destination: String,
    pub new_resolution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanOutcome {
    pub scope: String,
    /// Whether the scope exists yet (the default scope is made by its first run).
    pub scope_exists: bool,
    pub counts: PlanCounts,
    /// In namespace, then source-key order.
    pub rows: Vec<PlanRow>,
    /// Identities the input's fixes would handle differently from an earlier wave (making a
    /// second account): a run would be refused for them unless forced.
    pub refused_switches: Vec<Switch>,
}

impl App {
    /// What `run` with these inputs would change in `scope`. Reads the scope, writes nothing.
    /// With an exceptions file its rules are used as given; without, the scope's own. `job`
    /// (default: the inputs' default job name) decides which mappings the run could remove.
    pub async fn plan(
        &self,
        caller: &Caller,
        scope: &str,
        job: Option<&str>,
        input: &JobInput,
    ) -> AppResult<PlanOutcome> {
        caller.check_read(scope)?;
        // As a run judges removal: only what this job's own runs wrote last.
        let job = job.map_or_else(|| input.default_job_name(), str::to_string);
        let scope_exists = match self.store.scope(scope).await {
            Ok(_) => true,
            Err(error)
                if error.kind() == crosswalk_store::scope::ErrorKind::NotFound
                    && scope == DEFAULT_SCOPE =>
            {
                false
            }
            Err(error) => return Err(crate::read::scope_error(scope, error)),
        };
        let rules: Vec<ExceptionRule> = match (&input.exceptions, scope_exists) {
            // As `run` does: the rules as the scope would store them.
            (Some(rules), _) => rules
                .iter()
                .map(|rule| rule_from_row(&row_from_rule(rule)))
                .collect(),
            (None, true) => self
                .store
                .exceptions(scope)
                .await?
                .rules
                .iter()
                .map(rule_from_row)
                .collect(),
            (None, false) => Vec::new(),
        };
        let mut current: HashMap<(String, String), Current<Compared>> = HashMap::new();
        if scope_exists {
            for namespace in [Namespace::identity_user(), Namespace::identity_group()] {
                let mut after: Option<String> = None;
                loop {
                    let page = self
                        .store
                        .mappings_page(scope, &namespace, after.as_deref(), MAX_BATCH)
                        .await?;
                    for row in page.mappings {
                        if let MappingValue::Identity(value) = row.value {
                            current.insert(
                                (namespace.as_str().to_string(), row.source_key),
                                Current {
                                    value: Compared::of(&value),
                                    removed: row.removed,
                                    ours: row.job.as_deref() == Some(job.as_str()),
                                },
                            );
                        }
                    }
                    if page.last_page || page.next.is_none() {
                        break;
                    }
                    after = page.next;
                }
            }
        }
        let refused_switches = if scope_exists {
            crate::run::judge_stored(&self.store.choices(scope).await?, input).refused
        } else {
            Vec::new()
        };
        let mut outcome = compare(scope, scope_exists, input, &rules, &current)?;
        outcome.refused_switches = refused_switches;
        Ok(outcome)
    }
}

/// The dry run of a scope that does not exist yet (no store, or the default scope before its
/// first run): everything the inputs resolve is new.
pub fn plan_new_scope(scope: &str, input: &JobInput) -> AppResult<PlanOutcome> {
    let rules: Vec<ExceptionRule> = input
        .exceptions
        .iter()
        .flatten()
        .map(|rule| rule_from_row(&row_from_rule(rule)))
        .collect();
    compare(scope, false, input, &rules, &HashMap::new())
}

/// Resolves the inputs and compares them with `current`, the scope's mappings.
fn compare(
    scope: &str,
    scope_exists: bool,
    input: &JobInput,
    rules: &[ExceptionRule],
    current: &HashMap<(String, String), Current<Compared>>,
) -> AppResult<PlanOutcome> {
    let source = &input.source.directory;
    let destination = &input.destination.directory;
    let resolved = crosswalk_core::resolve(source, destination, &input.policy, rules);
    // One mapping at a time in the store's form, kept only as its digest (plan_digest).
    let mut new: HashMap<(String, String), Compared> =
        HashMap::with_capacity(resolved.mappings.len());
    for (position, mapping) in resolved.mappings.iter().enumerate() {
        let mapping = IdentityMapping::from_core(position, mapping, source, destination)?;
        let value = Compared::of(&mapping.value);
        match new.entry((mapping.namespace.as_str().to_string(), mapping.source_key)) {
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
            Entry::Occupied(entry) => {
                let (namespace, key) = entry.key();
                return Err(AppError::invalid(format!(
                    "mapping {position}: a second mapping for {namespace} {key:?}; a run holds one mapping per source identity"
                )));
            }
        }
    }
    drop(resolved);
    let diff = reconcile(current, &new);
    drop(new);
    let mut counts = PlanCounts {
        unchanged: diff.unchanged,
        ..PlanCounts::default()
    };
    let rows = diff
        .changes
        .into_iter()
        .map(|change| {
            let side = |value: &Compared| (value.destination.clone(), value.resolution.clone());
            let (kind, (namespace, source_key), old, new) = match change {
                Change::Added { key, new } => {
                    counts.new += 1;
                    ("new", key, None, Some(side(&new)))
                }
                Change::Changed { key, old, new } => {
                    counts.changed += 1;
                    ("changed", key, Some(side(&old)), Some(side(&new)))
                }
                Change::Removed { key, old } => {
                    counts.removed += 1;
                    ("removed", key, Some(side(&old)), None)
                }
            };
            let (old_destination, old_resolution) = old.unwrap_or_default();
            let (new_destination, new_resolution) = new.unwrap_or_default();
            PlanRow {
                change: kind,
                namespace,
                source_key,
                old_destination,
                old_resolution,
                new_destination,
                new_resolution,
            }
        })
        .collect();
    Ok(PlanOutcome {
        scope: scope.to_string(),
        scope_exists,
        counts,
        rows,
        refused_switches: Vec::new(),
    })
}
