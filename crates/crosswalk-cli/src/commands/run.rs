//! `crosswalk run`: read and check the inputs, then let the application resolve the job and
//! reconcile it into its scope; print what changed.

use anyhow::Result;
use crosswalk_app::{InputFiles, RunOutcome, RunRequest};
use crosswalk_core::Resolution;
use crosswalk_store::scope::RunCounts;
use serde::Serialize;

use super::{block_on, caller, open_app};
use crate::cli::{RunArgs, StoreArgs, SummaryFormat, shell_word};
use crate::progress::Steps;

pub(crate) fn run(args: RunArgs) -> Result<()> {
    let files = InputFiles {
        source: args.source,
        destination: args.destination,
        policy: args.policy,
        exceptions: args.exceptions,
        fixes: args.fixes,
        skip_invalid: args.skip_invalid,
    };
    // A bad --database is refused before any file is read, and a database server is reached
    // first too: a wrong URL fails at once, not after minutes of reading. (A store file is
    // not opened yet: invalid input must leave no file behind.)
    if let crosswalk_app::Database::Postgres(_) = args.store.database()? {
        block_on(async {
            open_app(&args.store).await?.close().await;
            anyhow::Ok(())
        })?;
    }
    let mut steps = Steps::default();
    let ldap = args.ldap.options();
    let input = crosswalk_app::import_from(&files, Some(&ldap), &mut |event| steps.show(event))?;
    drop(steps);
    // Values a platform export mangled (issue 20): left out of the directory, said here.
    for warning in input
        .source
        .warnings
        .iter()
        .chain(&input.destination.warnings)
    {
        eprintln!("warning: {warning}");
    }
    let request = RunRequest {
        scope: args.scope.scope,
        job: args.job,
        input,
        force: args.force,
    };
    let gate = args.check.then_some(args.override_blockers);
    let outcome = run_job_gated(&args.store, request, gate)?;
    print_outcome(&outcome, &args.store, args.format)
}

/// Runs one job through the application, drawing its progress. Nothing is written before
/// every input has been read and checked, and the run is recorded in one transaction.
pub(crate) fn run_job(store: &StoreArgs, request: RunRequest) -> Result<RunOutcome> {
    block_on(async {
        let app = open_app(store).await?;
        let mut steps = Steps::default();
        let outcome = app
            .run_job(&caller(), request, &mut |event| steps.show(event))
            .await;
        drop(steps);
        app.close().await;
        Ok(outcome?)
    })
}

/// [`run_job`], with the pre-flight gate first when `gate` is `Some(override_blockers)`.
fn run_job_gated(store: &StoreArgs, request: RunRequest, gate: Option<bool>) -> Result<RunOutcome> {
    let Some(override_blockers) = gate else {
        return run_job(store, request);
    };
    // Refused before the store is opened: a refused run leaves no store file behind.
    let blockers = crosswalk_app::check::preflight_blockers(&request.input);
    if !blockers.is_empty() && !override_blockers {
        return Err(crosswalk_app::check::preflight_refusal(&request.input, &blockers).into());
    }
    block_on(async {
        let app = open_app(store).await?;
        let notes = if blockers.is_empty() {
            Vec::new()
        } else {
            vec![app.override_note(&caller(), &blockers)]
        };
        let mut steps = Steps::default();
        let outcome = app
            .run_job_noting(&caller(), request, notes, &mut |event| steps.show(event))
            .await;
        drop(steps);
        app.close().await;
        Ok(outcome?)
    })
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Printed<'a> {
    scope: &'a str,
    job: &'a str,
    transfer_id: String,
    /// The run's number within its job: 1 for the job's first run.
    run: u32,
    store: String,
    counts: RunCounts,
    exceptions_version: u32,
    summary: &'a crosswalk_core::Summary,
    warnings: &'a [String],
    skipped: &'a [String],
}

/// `N added, M changed, K removed`, or `0 changed` when the run changed nothing.
pub(crate) fn counts_line(counts: &RunCounts) -> String {
    if counts.revisions() == 0 {
        format!("0 changed ({} unchanged)", counts.unchanged)
    } else {
        format!(
            "{} added, {} changed, {} removed ({} unchanged)",
            counts.added, counts.changed, counts.removed, counts.unchanged
        )
    }
}

/// ` --scope S` for a hint, unless it is the default scope.
pub(crate) fn scope_hint(scope: &str) -> String {
    if scope == crosswalk_app::DEFAULT_SCOPE {
        String::new()
    } else {
        format!(" --scope {}", shell_word(scope))
    }
}

pub(crate) fn store_hint(store: &StoreArgs) -> String {
    match &store.database {
        Some(_) => " --database ...".to_string(),
        None => StoreArgs::hint(&store.store),
    }
}

pub(crate) fn print_outcome(
    outcome: &RunOutcome,
    store: &StoreArgs,
    format: SummaryFormat,
) -> Result<()> {
    let location = store.database()?.describe();
    match format {
        SummaryFormat::Json => {
            let printed = Printed {
                scope: &outcome.scope,
                job: &outcome.job.name,
                transfer_id: outcome.job.transfer_id.to_string(),
                run: outcome.run.number,
                store: location,
                counts: outcome.run.counts,
                exceptions_version: outcome.exceptions_version,
                summary: &outcome.summary,
                warnings: &outcome.warnings,
                skipped: &outcome.skipped,
            };
            outln!("{}", serde_json::to_string_pretty(&printed)?)?;
        }
        SummaryFormat::Text => {
            let s = &outcome.summary;
            outln!(
                "job {:?}, run {} (scope {:?}, store {})",
                outcome.job.name,
                outcome.run.number,
                outcome.scope,
                location
            )?;
            outln!("transfer id {}", outcome.job.transfer_id)?;
            outln!("{}", counts_line(&outcome.run.counts))?;
            if outcome.exception_rules > 0 {
                // Said because a run without --exceptions uses the scope's rules as they stand.
                outln!(
                    "{} exception rules (the scope's, version {}; `crosswalk scope show {}` lists them)",
                    outcome.exception_rules,
                    outcome.exceptions_version,
                    shell_word(&outcome.scope)
                )?;
            }
            outln!("{} accounts and {} groups resolved", s.accounts, s.groups)?;
            let width = Resolution::ALL
                .iter()
                .map(|r| r.as_str().len())
                .max()
                .unwrap_or(10);
            for (resolution, count) in &s.by_resolution {
                outln!("  {:width$}  {count:>9}", resolution.as_str())?;
            }
            outln!("  {:width$}  {:>9}", "ambiguous", s.ambiguous)?;
            outln!("  {:width$}  {:>9}", "flagged", s.flagged)?;
            outln!("  {:width$}  {:>9}", "look-alikes", s.look_alikes)?;
            for warning in &outcome.warnings {
                outln!("warning: {warning}")?;
            }
            if !outcome.skipped.is_empty() {
                outln!("{} invalid records were skipped:", outcome.skipped.len())?;
                for skipped in &outcome.skipped {
                    outln!("  {skipped}")?;
                }
            }
            outln!(
                "next: crosswalk report --job {} --resolution unresolved{}{}   (rows to review)",
                shell_word(&outcome.job.name),
                scope_hint(&outcome.scope),
                store_hint(store)
            )?;
        }
    }
    Ok(())
}
