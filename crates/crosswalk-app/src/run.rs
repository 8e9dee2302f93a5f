//! Running a job: resolve with the core engine, then reconcile into the scope store (only
//! what differs from the scope's current state is written).

use crosswalk_core::{ExceptionRule, IdentityKind, IdentityRef, Summary};
use std::collections::{BTreeMap, BTreeSet};

use crosswalk_plan::{Handling, Switch, WaveChoices, judge_wave};
use crosswalk_store::scope::{
    ChangeContext, ChoiceRow, ChoiceSet, DirectoryContent, ExceptionRow, ExceptionSet,
    IdentityMapping, JobRow, NewChoice, NewScope, RunChoices, RunRecord, RunRow, ScopeRow,
    StoredHandling, check_name,
};

use serde::Serialize;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::import::JobInput;
use crate::progress::{Progress, ProgressSink};

/// The scope a run without `--scope` uses, created by its first run: today's single-job
/// workflow (and the README's commands) keep working.
pub const DEFAULT_SCOPE: &str = "default";

/// How many times a run resolves before giving up on exception rules that keep changing.
const MAX_ATTEMPTS: u32 = 5;

/// What to run.
#[derive(Debug)]
pub struct RunRequest {
    pub scope: String,
    /// None: `<source file> to <destination file>`.
    pub job: Option<String>,
    pub input: JobInput,
    /// Run although the input's fixes switch a duplicate-handling choice an earlier run of
    /// the scope made (which would make a second account for one person); the switch is
    /// recorded with the run (who, when).
    pub force: bool,
}

/// What a run did, for the person (or program) who started it.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub scope: String,
    pub job: JobRow,
    pub run: RunRow,
    pub summary: Summary,
    pub warnings: Vec<String>,
    pub skipped: Vec<String>,
    /// The exception rules' version the run resolved with, and how many rules it has.
    pub exceptions_version: u32,
    pub exception_rules: usize,
}

impl App {
    /// Resolves the job's directories and reconciles the result into its scope. Nothing is
    /// written unless every input was valid; the run itself is one transaction.
    ///
    /// The scope must exist, except [`DEFAULT_SCOPE`], which the first run creates: a typo
    /// in a scope name must not start an empty scope and hide the real one's mappings.
    /// With an exceptions file, the scope's rules become the file's (a new version when
    /// they differ); without one, the scope's current rules apply.
    ///
    /// The engine runs on the calling thread; a server calls this from a blocking task.
    pub async fn run_job(
        &self,
        caller: &Caller,
        request: RunRequest,
        progress: ProgressSink<'_>,
    ) -> AppResult<RunOutcome> {
        self.run_job_noting(caller, request, Vec::new(), progress)
            .await
    }

    /// [`App::run_job`], keeping `notes` with the run's warnings (a pre-flight override:
    /// who overrode which blockers, when; see [`App::preflight`]).
    ///
    /// A run of an existing job announces `job.started` first and `job.failed` if it fails;
    /// what it commits announces itself (`mappings.changed`, `job.completed`) in its
    /// transaction (issue 21).
    pub async fn run_job_noting(
        &self,
        caller: &Caller,
        request: RunRequest,
        notes: Vec<String>,
        progress: ProgressSink<'_>,
    ) -> AppResult<RunOutcome> {
        let scope = request.scope.clone();
        let job = request
            .job
            .clone()
            .unwrap_or_else(|| request.input.default_job_name());
        let may_announce = caller.check_write(&scope).is_ok() && check_name("job", &job).is_ok();
        if may_announce {
            // A scope that does not exist is the run's error to report, not this one's.
            let _ = self.announce_start(&scope, &job, caller.actor()).await;
        }
        let outcome = self
            .run_job_unannounced(caller, request, notes, progress)
            .await;
        if let Err(error) = &outcome
            && may_announce
        {
            self.announce_failure(&scope, &job, caller.actor(), error)
                .await;
        }
        outcome
    }

    async fn run_job_unannounced(
        &self,
        caller: &Caller,
        request: RunRequest,
        notes: Vec<String>,
        progress: ProgressSink<'_>,
    ) -> AppResult<RunOutcome> {
        let RunRequest {
            scope,
            job,
            input,
            force,
        } = request;
        caller.check_write(&scope)?;
        let job_name = job.unwrap_or_else(|| input.default_job_name());
        check_name("job", &job_name)?;
        let context = caller.context(self.clock.now());
        let scope_row = self.scope_for_run(caller, &scope, &input).await?;

        let source = &input.source.directory;
        let destination = &input.destination.directory;
        let policy = serde_json::to_string(&input.policy).map_err(|error| {
            AppError::invalid(format!("the policy cannot be recorded: {error}"))
        })?;

        // The store refuses a run resolved with exception rules the scope no longer has
        // (another run or caller changed them meanwhile): resolve again with the rules as
        // they are then. Each attempt that fails this way lost a race that another
        // attempt won, so a few suffice.
        let mut attempt = 0;
        let (run, summary, warnings, exceptions_version, exception_rules) = loop {
            attempt += 1;
            // Resolved with the rules as the scope holds them, whether they came from a file
            // or not: an exception's evidence names its rule, and the same rule read from
            // another line of a file must not change every mapping it decides.
            let (exceptions_version, rules): (u32, Vec<ExceptionRule>) = match &input.exceptions {
                Some(rules) => (
                    self.sync_exceptions(caller, &scope, rules).await?,
                    rules
                        .iter()
                        .map(|rule| rule_from_row(&row_from_rule(rule)))
                        .collect(),
                ),
                None => {
                    let set = self.store.exceptions(&scope).await?;
                    (set.version, set.rules.iter().map(rule_from_row).collect())
                }
            };
            // The fixes' handling, judged against the scope's earlier waves before resolving:
            // a refused switch costs no resolution.
            let (choices, switch_notes) =
                self.judge_choices(&scope, &input, force, &context).await?;
            progress(Progress::Resolving {
                source_identities: source.accounts.len() + source.groups.len(),
                destination_identities: destination.accounts.len() + destination.groups.len(),
            });
            let crosswalk_core::Resolved {
                mappings,
                summary,
                mut warnings,
            } = crosswalk_core::resolve(source, destination, &input.policy, &rules);
            warnings.splice(0..0, notes.iter().chain(&switch_notes).cloned());
            progress(Progress::Finished);

            let identities = IdentityMapping::all_from_core(&mappings, source, destination)?;
            // The store's rows hold everything now; core's copy would only add to the peak.
            drop(mappings);
            progress(Progress::Recording {
                mappings: identities.len(),
            });
            let record = RunRecord {
                scope: scope_row.name.clone(),
                job: job_name.clone(),
                started_at: context.at,
                who: context.who.clone(),
                policy: policy.clone(),
                exceptions_version,
                source: DirectoryContent::from_core(source),
                destination: DirectoryContent::from_core(destination),
                identities,
                warnings: warnings.clone(),
            };
            match self
                .store
                .record_run_choosing(&record, Some(&choices))
                .await
            {
                Ok(run) => break (run, summary, warnings, exceptions_version, rules.len()),
                Err(error)
                    if error.kind() == crosswalk_store::scope::ErrorKind::Conflict
                        && attempt < MAX_ATTEMPTS =>
                {
                    progress(Progress::Finished);
                }
                Err(error) => return Err(error.into()),
            }
        };
        progress(Progress::Finished);
        // The run made the job if it was new (in its transaction: a failed run leaves none).
        let job = self.store.job(&scope, &job_name, &context).await?;
        let job = JobRow {
            runs: run.number,
            ..job
        };
        Ok(RunOutcome {
            scope: scope_row.name,
            job,
            run,
            summary,
            warnings,
            skipped: input.skipped(),
            exceptions_version,
            exception_rules,
        })
    }

    /// The choices a run of `input` records, judged against the scope's: refused (nothing
    /// written) when the fixes would switch how an identity an earlier wave handled is
    /// handled, making a second account, unless `force`; then the notes the run keeps with
    /// its warnings say who forced which switches, when.
    async fn judge_choices(
        &self,
        scope: &str,
        input: &JobInput,
        force: bool,
        context: &ChangeContext,
    ) -> AppResult<(RunChoices, Vec<String>)> {
        let stored = self.store.choices(scope).await?;
        let judged = judge_stored(&stored, input);
        if !judged.refused.is_empty() && !force {
            return Err(switch_refusal(scope, &stored, &judged.refused));
        }
        let refused: BTreeSet<&str> = judged
            .refused
            .iter()
            .map(|s| s.source_key.as_str())
            .collect();
        let choices = judged
            .record
            .iter()
            .map(|(key, handling)| NewChoice {
                source_key: key.clone(),
                handling: stored_handling(handling),
                forced: refused.contains(key.as_str()),
            })
            .collect();
        let notes = if judged.refused.is_empty() {
            Vec::new()
        } else {
            let at = context
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let switches: Vec<String> = judged.refused.iter().map(ToString::to_string).collect();
            vec![format!(
                "duplicate handling switched by {} at {at} (forced): {}",
                context.who,
                switches.join("; ")
            )]
        };
        Ok((
            RunChoices {
                version: stored.version,
                choices,
            },
            notes,
        ))
    }

    /// The run's scope; the default scope is created on first use, named after the files.
    async fn scope_for_run(
        &self,
        caller: &Caller,
        scope: &str,
        input: &JobInput,
    ) -> AppResult<ScopeRow> {
        match self.store.scope(scope).await {
            Ok(row) => Ok(row),
            Err(error)
                if error.kind() == crosswalk_store::scope::ErrorKind::NotFound
                    && scope == DEFAULT_SCOPE =>
            {
                let new = NewScope {
                    name: DEFAULT_SCOPE.to_string(),
                    source_label: input.source.directory.name.clone(),
                    destination_label: input.destination.directory.name.clone(),
                };
                match self.create_scope(caller, &new).await {
                    Ok(row) => Ok(row),
                    // Another run created it meanwhile.
                    Err(error) if error.kind() == ErrorKind::Conflict => {
                        Ok(self.store.scope(scope).await?)
                    }
                    Err(error) => Err(error),
                }
            }
            Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {
                Err(AppError::not_found(format!(
                    "there is no scope {scope:?}; create it with `crosswalk scope create {scope} --source-label ... \
                 --destination-label ...` (see `crosswalk scope list`)"
                )))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Makes the scope's exception rules the file's: adds or replaces what differs, removes
    /// what the file no longer has. Returns the version the run resolves with.
    async fn sync_exceptions(
        &self,
        caller: &Caller,
        scope: &str,
        rules: &[ExceptionRule],
    ) -> AppResult<u32> {
        let context = caller.context(self.clock.now());
        let current = self.store.exceptions(scope).await?;
        let wanted: Vec<ExceptionRow> = rules.iter().map(row_from_rule).collect();
        let mut version = current.version;
        for row in &wanted {
            if !current.rules.contains(row) {
                version = self
                    .store
                    .add_exception(scope, row, &context)
                    .await?
                    .version;
            }
        }
        for row in &current.rules {
            if !wanted
                .iter()
                .any(|w| w.kind == row.kind && w.source == row.source)
            {
                match self.store.remove_exception(scope, row, &context).await {
                    Ok(ExceptionSet { version: after, .. }) => version = after,
                    // Another run removed it meanwhile: what this run wanted.
                    Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(version)
    }
}

/// The input's handling judged against the scope's stored choices.
pub(crate) fn judge_stored(stored: &ChoiceSet, input: &JobInput) -> WaveChoices {
    let before: BTreeMap<String, Handling> = stored
        .choices
        .iter()
        .map(|row| (row.source_key.clone(), handling_of_stored(&row.handling)))
        .collect();
    let in_wave: std::collections::HashSet<&str> = input
        .source
        .directory
        .accounts
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    judge_wave(&before, &input.handling, |key| in_wave.contains(key))
}

/// The refusal of a run switching duplicate handling: which identities, what was chosen
/// before (by which run, who, when), what now, and how to go ahead anyway.
fn switch_refusal(scope: &str, stored: &ChoiceSet, refused: &[Switch]) -> AppError {
    let rows: BTreeMap<&str, &ChoiceRow> = stored
        .choices
        .iter()
        .map(|row| (row.source_key.as_str(), row))
        .collect();
    let lines: Vec<String> = refused
        .iter()
        .map(|switch| {
            let earlier = rows
                .get(switch.source_key.as_str())
                .map_or_else(String::new, |row| {
                    let at = row
                        .at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                    format!(
                        " (job {:?} run {}, by {} at {at})",
                        row.job, row.run, row.who
                    )
                });
            format!(
                "  {}: {}{earlier}; now {}",
                switch.source_key, switch.before, switch.now
            )
        })
        .collect();
    AppError::conflict(format!(
        "this run would handle {} identities of scope {scope:?} differently from an earlier wave, which would make a second \
         account for each; nothing was run:\n{}\nKeep the earlier choices in the fixes file (crosswalk check --format csv \
         writes them as suggested; edit NewEmail, Tombstone or MergeInto back), or run with --force (API: \"force\": true) \
         to switch anyway: the switch is recorded with who and when",
        refused.len(),
        lines.join("\n")
    ))
}

fn stored_handling(handling: &Handling) -> StoredHandling {
    match handling {
        Handling::Keep => StoredHandling::Keep,
        Handling::Merge { into } => StoredHandling::Merge { into: into.clone() },
        Handling::Tombstone => StoredHandling::Tombstone,
        Handling::NewEmail { email } => StoredHandling::NewEmail {
            email: email.clone(),
        },
        Handling::Exclude => StoredHandling::Exclude,
    }
}

pub(crate) fn handling_of_stored(handling: &StoredHandling) -> Handling {
    match handling {
        StoredHandling::Keep => Handling::Keep,
        StoredHandling::Merge { into } => Handling::Merge { into: into.clone() },
        StoredHandling::Tombstone => Handling::Tombstone,
        StoredHandling::NewEmail { email } => Handling::NewEmail {
            email: email.clone(),
        },
        StoredHandling::Exclude => Handling::Exclude,
    }
}

/// An exception rule as the scope stores it: each side as text `IdentityRef::parse` reads back.
pub fn row_from_rule(rule: &ExceptionRule) -> ExceptionRow {
    ExceptionRow {
        kind: rule.kind,
        source: side_text(rule.kind, &rule.source),
        destination: side_text(rule.kind, &rule.destination),
    }
}

fn side_text(kind: IdentityKind, side: &IdentityRef) -> String {
    match side {
        IdentityRef::Id(id) => format!("id:{id}"),
        // A group's name is what a username is to an account.
        IdentityRef::Username(name) if kind == IdentityKind::Group => format!("name:{name}"),
        IdentityRef::Username(name) => format!("username:{name}"),
        IdentityRef::Email(email) => format!("email:{email}"),
        IdentityRef::Any(text) => text.clone(),
    }
}

/// A stored rule for the engine. Its origin, which the engine quotes in evidence and
/// warnings, is the rule itself (`account id:JIRAUSER5`): stable across files and versions.
pub fn rule_from_row(row: &ExceptionRow) -> ExceptionRule {
    ExceptionRule {
        kind: row.kind,
        source: IdentityRef::parse(&row.source),
        destination: IdentityRef::parse(&row.destination),
        origin: format!("{} {}", row.kind, row.source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_rule_reads_back_as_the_rule_it_was() {
        for (kind, source, destination) in [
            (
                IdentityKind::Account,
                IdentityRef::Id("JIRAUSER1".into()),
                IdentityRef::Email("a@b.example".into()),
            ),
            (
                IdentityKind::Account,
                IdentityRef::Username("ann".into()),
                IdentityRef::Any("42".into()),
            ),
            (
                IdentityKind::Group,
                IdentityRef::Username("devs".into()),
                IdentityRef::Id("g-1".into()),
            ),
        ] {
            let rule = ExceptionRule {
                kind,
                source: source.clone(),
                destination: destination.clone(),
                origin: String::new(),
            };
            let back = rule_from_row(&row_from_rule(&rule));
            assert_eq!(
                (back.kind, back.source, back.destination),
                (kind, source, destination)
            );
        }
    }
}
