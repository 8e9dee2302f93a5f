//! A job's pre-flight check and dry run on what its latest run stored (both directories and
//! the policy, with the scope's exception rules as they stand now), for a page that shows
//! them without uploading anything; and the pre-flight gate in front of a run started by a
//! server, which refuses a run with blockers unless the admin overrides it.
//!
//! All of it writes nothing, except the gated run itself.

use crosswalk_formats::Imported;
use crosswalk_plan::{CheckOptions, run_checks};
/// The findings' types, for callers that do not depend on the planning crate.
pub use crosswalk_plan::{Finding, FindingRow, Severity};
use serde::Serialize;

use crate::App;
use crate::access::Caller;
use crate::check::{preflight_blockers, preflight_refusal};
use crate::error::{AppError, AppResult};
use crate::import::JobInput;
use crate::plan::PlanOutcome;
use crate::progress::ProgressSink;
use crate::run::{RunOutcome, RunRequest};

/// The pre-flight findings of a job's latest run's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobCheck {
    pub job: String,
    /// The run whose stored inputs were checked.
    pub run: u32,
    /// Blockers first, then warnings, each kind once, with its rows and suggested fix.
    pub findings: Vec<Finding>,
    /// Rows concerned by blockers, over every kind.
    pub blockers: usize,
    pub warnings: usize,
}

impl App {
    /// A job's inputs as its latest run stored them (source, destination, policy), with no
    /// exceptions file (the scope's current rules apply) and the scope's duplicate-handling
    /// choices carried over (the stored directories already hold the fixes' effect).
    pub(crate) async fn stored_job_input(
        &self,
        scope: &str,
        job: &str,
    ) -> AppResult<(crosswalk_store::scope::RunRow, JobInput)> {
        let latest = self
            .store
            .runs(scope, Some(job))
            .await
            .map_err(|e| crate::read::scope_error(scope, e))?
            .pop()
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "job {job:?} of scope {scope:?} has not run yet; run it first"
                ))
            })?;
        let policy_text = self.store.policy(scope, latest.policy_version).await?;
        let policy = serde_json::from_str(&policy_text).map_err(|error| {
            AppError::new(
                crate::ErrorKind::Corrupt,
                format!("the policy of job {job:?}'s latest run is unreadable: {error}"),
            )
        })?;
        let source = self
            .store
            .content(scope, &latest.source_content)
            .await?
            .to_core("stored source")?;
        let destination = self
            .store
            .content(scope, &latest.destination_content)
            .await?
            .to_core("stored destination")?;
        let origin =
            |side: &str| format!("the {side} directory of {job:?}'s run {}", latest.number);
        let input = JobInput {
            source: Imported {
                directory: source,
                skipped: Vec::new(),
                warnings: Vec::new(),
            },
            source_origin: origin("source"),
            destination: Imported {
                directory: destination,
                skipped: Vec::new(),
                warnings: Vec::new(),
            },
            destination_origin: origin("destination"),
            policy,
            exceptions: None,
            fixes: None,
            handling: self
                .store
                .choices(scope)
                .await?
                .choices
                .iter()
                .map(|row| {
                    (
                        row.source_key.clone(),
                        crate::run::handling_of_stored(&row.handling),
                    )
                })
                .collect(),
        };
        Ok((latest, input))
    }

    /// The pre-flight checks on what `job`'s latest run stored (any reader of the scope:
    /// nothing is written). The content-reference check needs an items file and is left to
    /// `crosswalk check --items`.
    pub async fn preflight_job(
        &self,
        caller: &Caller,
        scope: &str,
        job: &str,
    ) -> AppResult<JobCheck> {
        caller.check_read(scope)?;
        let (latest, input) = self.stored_job_input(scope, job).await?;
        let mut findings = run_checks(
            &input.source.directory,
            Some(&input.destination.directory),
            &[],
            &CheckOptions::default(),
        );
        // Blockers first: what stops the run is what the admin reads first.
        findings.sort_by_key(|finding| (finding.severity != Severity::Blocker, finding.kind));
        let count = |severity: Severity| {
            findings
                .iter()
                .filter(|f| f.severity == severity)
                .map(|f| f.count)
                .sum()
        };
        Ok(JobCheck {
            job: job.to_string(),
            run: latest.number,
            blockers: count(Severity::Blocker),
            warnings: count(Severity::Warning),
            findings,
        })
    }

    /// The dry run of `job` on what its latest run stored, against the scope as it stands
    /// (any reader: nothing is written): what running it again now would add, change and
    /// mark removed, e.g. after exception rules changed.
    pub async fn plan_job(
        &self,
        caller: &Caller,
        scope: &str,
        job: &str,
    ) -> AppResult<PlanOutcome> {
        caller.check_read(scope)?;
        let (_, input) = self.stored_job_input(scope, job).await?;
        self.plan(caller, scope, Some(job), &input).await
    }

    /// Runs a job behind the pre-flight gate, as a server starts one: when the checks find
    /// blockers in its directories the run is refused (a conflict, nothing written) unless
    /// `override_blockers`; an overridden run keeps a note with its warnings saying who
    /// overrode which blockers, when.
    pub async fn run_job_gated(
        &self,
        caller: &Caller,
        request: RunRequest,
        override_blockers: bool,
        progress: ProgressSink<'_>,
    ) -> AppResult<RunOutcome> {
        caller.check_write(&request.scope)?;
        let blockers = preflight_blockers(&request.input);
        if blockers.is_empty() {
            return self.run_job(caller, request, progress).await;
        }
        if !override_blockers {
            return Err(preflight_refusal(&request.input, &blockers));
        }
        let note = self.override_note(caller, &blockers);
        self.run_job_noting(caller, request, vec![note], progress)
            .await
    }
}
