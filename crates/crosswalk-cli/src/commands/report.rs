//! `crosswalk report`, `jobs` and `explain`: reading a scope through the application.

use std::io::Write;

use anyhow::{Context, Result};
use crosswalk_app::{App, Database, ErrorKind, ReportFilter, ReportStop};
use crosswalk_core::{Confidence, Flag, IdentityKind, ReportRow};
use crosswalk_store::scope::{ChangeOrigin, ReportOf};

use super::run::counts_line;
use super::{block_on, caller, open_app};
use crate::cli::{ExplainArgs, JobsArgs, KindFilter, ReportArgs, ReportFormat, StoreArgs, SummaryFormat};

pub(crate) fn kind_of(filter: KindFilter) -> IdentityKind {
    match filter {
        KindFilter::Account => IdentityKind::Account,
        KindFilter::Group => IdentityKind::Group,
    }
}

/// Whether the store is a file that does not exist yet: reading it must not create it.
pub(crate) fn store_missing(store: &StoreArgs) -> Result<bool> {
    Ok(matches!(store.database()?, Database::Sqlite(path) if !path.exists()))
}

/// Refuses to read a store file that does not exist (opening would create an empty one).
pub(crate) fn check_exists(store: &StoreArgs) -> Result<()> {
    if let Database::Sqlite(path) = store.database()?
        && !path.exists()
    {
        anyhow::bail!(
            "no store at {}; run `crosswalk run` (or `crosswalk demo`) first, or pass the store's file with --store",
            path.display()
        );
    }
    Ok(())
}

/// The report: the scope's current mappings, or those of one job's latest run. The scope
/// (and job) are checked before the output is created: a report that cannot be read leaves
/// no empty file or lone header behind. The CSV streams from the store to a writer thread,
/// so an export of millions of rows never sits in memory.
pub(crate) fn report(args: ReportArgs) -> Result<()> {
    check_exists(&args.store)?;
    block_on(async {
        let app = open_app(&args.store).await?;
        let result = report_with(&app, &args).await;
        app.close().await;
        result
    })
}

async fn report_with(app: &App, args: &ReportArgs) -> Result<()> {
    let of = args.job.clone().map_or(ReportOf::Scope, ReportOf::Job);
    let filter = ReportFilter { resolutions: args.resolution.clone(), kind: args.kind.map(kind_of), flagged: args.flagged };
    let scope = match args.transfer {
        Some(transfer) => app.job_by_transfer(&caller(), transfer).await?.0.name,
        None => args.scope.scope.clone(),
    };
    let scope = scope.as_str();
    // The CSV is the export's 12 columns; the JSON forms (and --flagged) need each mapping's
    // flags and confidence too, which are read with the rows.
    if args.format != ReportFormat::Csv || args.flagged {
        let entries = app.report_entries(&caller(), scope, &of, &filter).await.context("could not read the report")?;
        let output = create_output(args)?;
        let written = match args.format {
            ReportFormat::Csv => crosswalk_formats::write_report_csv(entries.into_iter().map(|entry| entry.row), output),
            ReportFormat::Json => crosswalk_formats::write_report_json(entries, output),
            ReportFormat::Jsonl => crosswalk_formats::write_report_jsonl(entries, output),
        };
        return match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.context("could not write the report"),
        };
    }
    app.check_report(&caller(), scope, &of).await.context("could not read the report")?;
    let output = create_output(args)?;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<ReportRow>(4096);
    let writer = std::thread::spawn(move || crosswalk_formats::write_report_csv(receiver, output));
    // A closed receiver means the writer stopped (e.g. `| head`): stop reading.
    let mut sink = move |row: ReportRow| sender.send(row).map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    let read = app.report_each(&caller(), scope, &of, &filter, &mut sink).await;
    drop(sink);
    let written = writer.join().map_err(|_| anyhow::anyhow!("the report writer thread panicked"))?;
    match (read, written) {
        (_, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        (_, Err(e)) => Err(e).context("could not write the report"),
        (Err(ReportStop::Sink(_)), Ok(())) => Ok(()),
        (Err(ReportStop::App(e)), Ok(())) => Err(e).context("could not read the report"),
        (Ok(_), Ok(())) => Ok(()),
    }
}

fn create_output(args: &ReportArgs) -> Result<Box<dyn Write + Send>> {
    Ok(match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("could not create {}", path.display()))?),
        None => Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())),
    })
}

pub(crate) fn jobs(args: JobsArgs) -> Result<()> {
    let scope = args.scope.scope.as_str();
    let location = args.store.database()?.describe();
    if store_missing(&args.store)? {
        outln!("no jobs yet: there is no store at {location}; start one with `crosswalk run` or `crosswalk demo`")?;
        return Ok(());
    }
    let read = block_on(async {
        let app = open_app(&args.store).await?;
        let read = async { Ok::<_, crosswalk_app::AppError>((app.jobs(&caller(), scope).await?, app.runs(&caller(), scope, None).await?)) }.await;
        app.close().await;
        anyhow::Ok(read)
    })?;
    let (jobs, runs) = match read {
        Ok(read) => read,
        // The default scope is made by the first run: before it, there is nothing to list.
        Err(error) if error.kind() == ErrorKind::NotFound && scope == crosswalk_app::DEFAULT_SCOPE => (Vec::new(), Vec::new()),
        Err(error) => return Err(error.into()),
    };
    if args.format == SummaryFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&serde_json::json!({ "scope": scope, "jobs": jobs, "runs": runs }))?)?;
        return Ok(());
    }
    if jobs.is_empty() {
        outln!("no jobs yet in scope {scope:?} of {location}; start one with `crosswalk run` or `crosswalk demo`")?;
    }
    for job in &jobs {
        outln!("{:<24} transfer id {}", job.name, job.transfer_id)?;
    }
    for run in &runs {
        let at = run.started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        outln!("{:<24} run {:>3}  {at}  {}  by {}", run.job, run.number, counts_line(&run.counts), run.who)?;
    }
    Ok(())
}

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    check_exists(&args.store)?;
    let scope = args.scope.scope.as_str();
    let explained = block_on(async {
        let app = open_app(&args.store).await?;
        let explained = app.explain(&caller(), scope, args.job.as_deref(), kind_of(args.kind), &args.source_id).await;
        app.close().await;
        anyhow::Ok(explained)
    })??;
    let value = &explained.value;
    let changed_by = match explained.last_change.as_ref().map(|r| &r.origin) {
        Some(ChangeOrigin::Run { job, run, .. }) => format!(", last changed in job {job:?}, run {run}"),
        Some(ChangeOrigin::Caller { caller }) => format!(", last changed by {caller}"),
        None => String::new(),
    };
    outln!(
        "{} {}{} in scope {scope:?}{changed_by}",
        explained.kind,
        value.source.id,
        in_parentheses(&value.source.name, &value.source.username)
    )?;
    let confidence = Confidence::from_probability(f64::from(value.confidence) / 1000.0);
    outln!("resolution: {} (confidence {confidence})", value.resolution)?;
    if !value.destination.id.is_empty() || !value.destination.name.is_empty() {
        outln!("destination: {} {}", value.destination.id, value.destination.name)?;
    }
    if !value.message.is_empty() {
        outln!("message: {}", value.message)?;
    }
    for evidence in &value.evidence {
        let note = if evidence.note.is_empty() { String::new() } else { format!(" ({})", evidence.note) };
        outln!(
            "evidence: {} matched source {} to destination {} on key {:?}{note}",
            evidence.method, evidence.source_field, evidence.destination_field, evidence.key
        )?;
    }
    for candidate in &value.candidates {
        let score = Confidence::from_probability(f64::from(candidate.score) / 1000.0);
        let name = match candidate.destination.name.as_str() {
            "" => &candidate.destination.username,
            name => name,
        };
        outln!(
            "candidate: {}{}{name} by {}, score {score}: {}",
            candidate.destination.id,
            if name.is_empty() { "" } else { " " },
            candidate.method,
            candidate.reason
        )?;
    }
    if !value.flags.is_empty() {
        // Stored snake_case; shown as the engine names them (LookAlike), as before.
        let flags: Vec<String> = value
            .flags
            .iter()
            .map(|name| serde_json::from_value::<Flag>(serde_json::Value::String(name.clone())).map_or_else(|_| name.clone(), |f| format!("{f:?}")))
            .collect();
        outln!("flags: {}", flags.join(", "))?;
    }
    outln!("in short: {}", explained.in_short())?;
    if let Some(change) = &explained.last_change {
        let at = change.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        outln!("changed: {at} by {} ({}); `crosswalk history` lists every change", change.who, change.reason.as_str())?;
    }
    Ok(())
}

/// ` (name)`, or ` (username)` for an identity without an address, or nothing.
fn in_parentheses(name: &str, username: &str) -> String {
    match (name, username) {
        ("", "") => String::new(),
        ("", username) => format!(" ({username})"),
        (name, _) => format!(" ({name})"),
    }
}
