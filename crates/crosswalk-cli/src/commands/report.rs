//! `crosswalk report`, `jobs` and `explain`: reading what runs stored.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use crosswalk_core::IdentityKind;
use crosswalk_store::{MappingStore, ReportEntry, ReportQuery, StoreError};

/// Why reading the report stopped early.
enum ReadStop {
    Store(StoreError),
    /// The writer hung up (e.g. `crosswalk report | head`): not an error.
    WriterGone,
}

impl From<StoreError> for ReadStop {
    fn from(error: StoreError) -> Self {
        ReadStop::Store(error)
    }
}

use super::{block_on, open_existing_store};
use crate::cli::{ExplainArgs, KindFilter, ReportArgs, ReportFormat};

fn kind_of(filter: KindFilter) -> IdentityKind {
    match filter {
        KindFilter::Account => IdentityKind::Account,
        KindFilter::Group => IdentityKind::Group,
    }
}

/// Streams rows from the store to a writer thread, so a report of millions of rows never
/// sits in memory: the store reads asynchronously, the formats crate writes synchronously.
pub(crate) fn report(args: ReportArgs) -> Result<()> {
    let store_path = args.store.store.as_path();
    let query = ReportQuery {
        job: args.job.clone(),
        resolutions: args.resolution.clone(),
        kind: args.kind.map(kind_of),
        flagged: args.flagged,
        ..Default::default()
    };
    block_on(async {
        // The store is open, and the job known, before the output exists: a report that
        // cannot be read leaves no empty file or lone header behind.
        let store = open_existing_store(store_path).await?;
        if let Some(job) = &query.job {
            store.latest_run(job).await.context("could not read the report")?;
        }
        let output: Box<dyn Write + Send> = match &args.output {
            Some(path) => Box::new(
                std::fs::File::create(path).with_context(|| format!("could not create {}", path.display()))?,
            ),
            None => Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())),
        };
        let (sender, receiver) = std::sync::mpsc::sync_channel::<ReportEntry>(4096);
        let format = args.format;
        let writer = std::thread::spawn(move || match format {
            // The CSV is the export's 12 columns, nothing more; the JSON forms add flags and confidence.
            ReportFormat::Csv => crosswalk_formats::write_report_csv(receiver.into_iter().map(|entry| entry.row), output),
            ReportFormat::Json => crosswalk_formats::write_report_json(receiver, output),
            ReportFormat::Jsonl => crosswalk_formats::write_report_jsonl(receiver, output),
        });
        let read = store
            .report_entries_each(&query, |entry| {
                // A closed receiver means the writer stopped (e.g. `| head`): stop reading.
                sender.send(entry).map_err(|_| ReadStop::WriterGone)
            })
            .await;
        store.close().await;
        drop(sender);
        let written = writer.join().map_err(|_| anyhow::anyhow!("the report writer thread panicked"))?;
        match (read, written) {
            (_, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            (_, Err(e)) => Err(e).context("could not write the report"),
            (Err(ReadStop::WriterGone), Ok(())) => Ok(()),
            (Err(ReadStop::Store(e)), Ok(())) => Err(e).context("could not read the report"),
            (Ok(_), Ok(())) => Ok(()),
        }
    })
}

pub(crate) fn jobs(store_path: &Path) -> Result<()> {
    block_on(async {
        let store = open_existing_store(store_path).await?;
        let runs = store.runs(None).await?;
        if runs.is_empty() {
            outln!("no jobs yet in {}; start one with `crosswalk run` or `crosswalk demo`", store_path.display())?;
        }
        for run in runs {
            let s = &run.summary;
            let linked: usize = s.by_resolution.iter().filter(|(r, _)| r.links_existing()).map(|(_, n)| n).sum();
            outln!(
                "{:<24} run {:>3}  {:>9} mappings  {:>9} linked  {:>7} ambiguous  {:>7} flagged",
                run.job, run.number, run.mappings, linked, s.ambiguous, s.flagged
            )?;
        }
        store.close().await;
        Ok(())
    })
}

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    let store_path = args.store.store.as_path();
    block_on(async {
        let store = open_existing_store(store_path).await?;
        let run = store.latest_run(&args.job).await?;
        let details = store.mapping_details(run.id, kind_of(args.kind), &args.source_id).await?;
        store.close().await;
        let row = &details.row;
        outln!(
            "{} {}{} in job {:?}, run {}",
            row.kind,
            row.source_id,
            in_parentheses(&row.source_name, &row.source_username),
            row.job,
            run.number
        )?;
        outln!("resolution: {} (confidence {})", row.resolution, details.mapping.confidence)?;
        if !row.destination_id.is_empty() || !row.destination_name.is_empty() {
            outln!("destination: {} {}", row.destination_id, row.destination_name)?;
        }
        if !row.message.is_empty() {
            outln!("message: {}", row.message)?;
        }
        for evidence in &details.mapping.evidence {
            let note = if evidence.note.is_empty() { String::new() } else { format!(" ({})", evidence.note) };
            outln!(
                "evidence: {} matched source {} to destination {} on key {:?}{note}",
                evidence.method, evidence.source_field, evidence.destination_field, evidence.key
            )?;
        }
        for candidate in &details.candidates {
            let name = match candidate.destination_name.as_str() {
                "" => &candidate.destination_username,
                name => name,
            };
            outln!(
                "candidate: {}{}{name} by {}, score {}: {}",
                candidate.destination_id,
                if name.is_empty() { "" } else { " " },
                candidate.candidate.method,
                candidate.candidate.score,
                candidate.candidate.reason
            )?;
        }
        if !details.mapping.flags.is_empty() {
            let flags: Vec<String> = details.mapping.flags.iter().map(|f| format!("{f:?}")).collect();
            outln!("flags: {}", flags.join(", "))?;
        }
        outln!("in short: {}", details.mapping.explanation())?;
        Ok(())
    })
}

/// ` (name)`, or ` (username)` for an identity without an address, or nothing.
fn in_parentheses(name: &str, username: &str) -> String {
    match (name, username) {
        ("", "") => String::new(),
        ("", username) => format!(" ({username})"),
        (name, _) => format!(" ({name})"),
    }
}
