//! `crosswalk run`: read, validate, resolve, store, summarise.

use std::path::Path;

use anyhow::{Context, Result};
use crosswalk_core::{Directory, ExceptionRule, Policy, Resolution, Resolved, Summary, resolve};
use crosswalk_formats::{Imported, ReadOptions, SkippedRecord};
use crosswalk_store::{DirectoryMeta, MappingStore, NewRun};
use serde::Serialize;

use super::{block_on, check_policy, now, open_store, read_directories, read_exceptions};
use crate::cli::{RunArgs, StoreArgs, SummaryFormat, shell_word};
use crate::progress;

/// Everything a job needs, already read and validated.
pub(crate) struct JobInput {
    pub(crate) job: String,
    pub(crate) source: Imported,
    pub(crate) source_origin: String,
    pub(crate) destination: Imported,
    pub(crate) destination_origin: String,
    pub(crate) policy: Policy,
    pub(crate) exceptions: Vec<ExceptionRule>,
}

pub(crate) fn run(args: RunArgs) -> Result<()> {
    let options = ReadOptions { skip_invalid: args.skip_invalid };
    let policy = match &args.policy {
        Some(path) => crosswalk_formats::read_policy_file(path)?,
        None => Policy::default(),
    };
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let (source, destination) = read_directories(&args.source, &args.destination, options)?;
    check_policy(&policy, args.policy.as_deref(), &destination.directory)?;
    let job = args.job.clone().unwrap_or_else(|| default_job_name(&source.directory, &destination.directory));
    let input = JobInput {
        job,
        source_origin: args.source.display().to_string(),
        source,
        destination_origin: args.destination.display().to_string(),
        destination,
        policy,
        exceptions,
    };
    let outcome = run_job(&args.store.store, input)?;
    print_outcome(&outcome, args.format)
}

fn default_job_name(source: &Directory, destination: &Directory) -> String {
    format!("{} to {}", source.name, destination.name)
}

/// What a stored run looks like to the person who started it.
#[derive(Debug, Serialize)]
pub(crate) struct Outcome {
    pub(crate) job: String,
    /// The run's number within its job: 1 for the job's first run.
    pub(crate) run: u32,
    pub(crate) store: String,
    pub(crate) summary: Summary,
    pub(crate) warnings: Vec<String>,
    pub(crate) skipped: Vec<String>,
}

/// Resolves and stores one job. Nothing is written before every input has been read and
/// validated, and the run is written in one transaction.
pub(crate) fn run_job(store_path: &Path, input: JobInput) -> Result<Outcome> {
    let spinner = progress::spinner(format!(
        "resolving {} source identities against {} destination identities",
        input.source.directory.accounts.len() + input.source.directory.groups.len(),
        input.destination.directory.accounts.len() + input.destination.directory.groups.len()
    ));
    let resolved: Resolved =
        resolve(&input.source.directory, &input.destination.directory, &input.policy, &input.exceptions);
    spinner.finish_and_clear();

    let policy_json = serde_json::to_string(&input.policy).context("policy to JSON")?;
    let exceptions_json = serde_json::to_string(&input.exceptions).context("exceptions to JSON")?;
    let started_at = now();
    let run_number = block_on(async {
        let store = open_store(store_path).await?;
        let source_id = save_directory(&store, &input.source.directory, "source", &input.source_origin, started_at).await?;
        let destination_id =
            save_directory(&store, &input.destination.directory, "destination", &input.destination_origin, started_at)
                .await?;
        let bar = progress::bar(resolved.mappings.len() as u64, "saving mappings");
        let mut tick = |n: u64| bar.set_position(n);
        let run = NewRun {
            job: &input.job,
            source_directory: source_id,
            destination_directory: destination_id,
            policy_json: &policy_json,
            exceptions_json: &exceptions_json,
            started_at,
            source: &input.source.directory,
            destination: &input.destination.directory,
            mappings: &resolved.mappings,
            summary: &resolved.summary,
            warnings: &resolved.warnings,
        };
        let id = store
            .save_run(&run, Some(&mut tick))
            .await
            .with_context(|| format!("could not save the run in {}", store_path.display()))?;
        bar.finish_and_clear();
        // The id is store-wide; people see the run's number within its job, as `jobs` lists it.
        let number = store.run(id).await.context("could not read back the saved run")?.number;
        store.close().await;
        anyhow::Ok(number)
    })?;
    let skipped = input
        .source
        .skipped
        .iter()
        .chain(&input.destination.skipped)
        .map(SkippedRecord::to_string)
        .collect();
    Ok(Outcome {
        job: input.job,
        run: run_number,
        store: store_path.display().to_string(),
        summary: resolved.summary,
        warnings: resolved.warnings,
        skipped,
    })
}

async fn save_directory(
    store: &crosswalk_store::Store,
    directory: &Directory,
    label: &str,
    origin: &str,
    imported_at: i64,
) -> Result<crosswalk_store::DirectoryId> {
    let total = (directory.accounts.len() + directory.groups.len()) as u64;
    let bar = progress::bar(total, format!("saving {label} directory"));
    let mut tick = |n: u64| bar.set_position(n);
    let meta = DirectoryMeta { label: label.to_string(), origin: origin.to_string(), imported_at };
    let id = store
        .save_directory(directory, &meta, Some(&mut tick))
        .await
        .with_context(|| format!("could not save the {label} directory"))?;
    bar.finish_and_clear();
    Ok(id)
}

pub(crate) fn print_outcome(outcome: &Outcome, format: SummaryFormat) -> Result<()> {
    match format {
        SummaryFormat::Json => {
            outln!("{}", serde_json::to_string_pretty(outcome)?)?;
        }
        SummaryFormat::Text => {
            let s = &outcome.summary;
            outln!("job {:?}, run {} (store {})", outcome.job, outcome.run, outcome.store)?;
            outln!("{} accounts and {} groups resolved", s.accounts, s.groups)?;
            let width = Resolution::ALL.iter().map(|r| r.as_str().len()).max().unwrap_or(10);
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
                "next: crosswalk report --job {} --resolution unresolved{}   (rows to review)",
                shell_word(&outcome.job),
                StoreArgs::hint(Path::new(&outcome.store))
            )?;
        }
    }
    Ok(())
}
