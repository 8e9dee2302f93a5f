//! `crosswalk report`, `jobs` and `explain`: reading a scope through the application.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use crosswalk_app::{App, Database, ErrorKind, ReportEntry, ReportFilter, ReportStop};
use crosswalk_core::{Confidence, Flag, IdentityKind, ReportRow};
use crosswalk_store::scope::{ChangeOrigin, ReportColumn, ReportOf, ReportView};

use super::run::counts_line;
use super::{block_on, caller, open_app};
use crate::cli::{
    ExplainArgs, JobsArgs, KindFilter, ReportArgs, ReportFormat, SortOrder, StoreArgs,
    SummaryFormat,
};

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
    let scope = match args.transfer {
        Some(transfer) => app.job_by_transfer(&caller(), transfer).await?.0.name,
        None => args.scope.scope.clone(),
    };
    let scope = scope.as_str();
    let view = ReportView {
        of: of.clone(),
        resolutions: args.resolution.clone(),
        kind: args.kind.map(kind_of),
        flagged: args.flagged,
        ambiguous: args.ambiguous,
        suggested: args.suggested,
        search: args.search.clone().filter(|text| !text.trim().is_empty()),
        sort: args.sort.unwrap_or_default(),
        descending: args.order == SortOrder::Desc,
    };
    if args.counts {
        return print_counts(app, scope, &view, args.format).await;
    }
    if let Some(limit) = args.limit {
        return print_page(app, scope, &view, args, usize::from(limit)).await;
    }
    let natural = view.sort == ReportColumn::Type && !view.descending;
    let uses_query = args.ambiguous || args.suggested || view.search.is_some() || !natural;
    // The JSON forms as they always were (flags and confidence read with the rows), unless a
    // filter only the report query has is asked for.
    if args.format != ReportFormat::Csv && !uses_query {
        let filter = ReportFilter {
            resolutions: args.resolution.clone(),
            kind: args.kind.map(kind_of),
            flagged: args.flagged,
        };
        let entries = app
            .report_entries(&caller(), scope, &of, &filter)
            .await
            .context("could not read the report")?;
        let output = create_output(args.output.as_deref())?;
        let written = match args.format {
            ReportFormat::Csv => crosswalk_formats::write_report_csv(
                entries.into_iter().map(|entry| entry.row),
                output,
            ),
            ReportFormat::Json => crosswalk_formats::write_report_json(entries, output),
            ReportFormat::Jsonl => crosswalk_formats::write_report_jsonl(entries, output),
        };
        return finish_write(written);
    }
    app.check_report(&caller(), scope, &of)
        .await
        .context("could not read the report")?;
    if args.format != ReportFormat::Csv || !natural {
        return write_sorted(app, scope, &view, args).await;
    }
    // The CSV streams from the store to a writer thread, split into parts Excel can open.
    let part_rows = crosswalk_app::report_part_rows();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<ReportRow>(4096);
    let output = args.output.clone();
    let writer =
        std::thread::spawn(move || write_csv_parts(receiver, output.as_deref(), part_rows));
    // A closed receiver means the writer stopped (e.g. `| head`): stop reading.
    let mut sink = move |row: ReportRow| {
        sender
            .send(row)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    };
    let read = app
        .report_view_each(&caller(), scope, &view, 0, None, &mut sink)
        .await;
    drop(sink);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the report writer thread panicked"))?;
    match (read, written) {
        (_, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        (_, Err(e)) => Err(e).context("could not write the report"),
        (Err(ReportStop::Sink(_)), Ok(_)) => Ok(()),
        (Err(ReportStop::App(e)), Ok(_)) => Err(e).context("could not read the report"),
        (Ok(_), Ok(parts)) => {
            say_parts(&parts, part_rows);
            Ok(())
        }
    }
}

fn finish_write(written: std::io::Result<()>) -> Result<()> {
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("could not write the report"),
    }
}

/// `--counts`: rows matching, and per resolution.
async fn print_counts(
    app: &App,
    scope: &str,
    view: &ReportView,
    format: ReportFormat,
) -> Result<()> {
    let counts = app
        .report_counts(&caller(), scope, view)
        .await
        .context("could not count the report")?;
    if format != ReportFormat::Csv {
        outln!("{}", serde_json::to_string_pretty(&counts)?)?;
        return Ok(());
    }
    outln!("{} rows match", counts.matching)?;
    for count in &counts.resolutions {
        outln!("{:<12} {}", count.resolution.as_str(), count.count)?;
    }
    Ok(())
}

/// `--limit`: one keyset page; the next page's cursor to standard error (CSV) or in the JSON.
async fn print_page(
    app: &App,
    scope: &str,
    view: &ReportView,
    args: &ReportArgs,
    limit: usize,
) -> Result<()> {
    let page = app
        .report_page(&caller(), scope, view, args.after.as_deref(), limit)
        .await
        .context("could not read the report")?;
    let output = create_output(args.output.as_deref())?;
    let next = page.next.clone();
    let entries: Vec<ReportEntry> = page.rows.into_iter().map(ReportEntry::from).collect();
    let written = match args.format {
        ReportFormat::Csv => {
            crosswalk_formats::write_report_csv(entries.into_iter().map(|entry| entry.row), output)
        }
        ReportFormat::Json => {
            let mut output = output;
            serde_json::to_writer_pretty(
                &mut output,
                &serde_json::json!({ "rows": entries, "next": next }),
            )
            .map_err(std::io::Error::other)
            .and_then(|()| output.write_all(b"\n"))
            .and_then(|()| output.flush())
        }
        ReportFormat::Jsonl => crosswalk_formats::write_report_jsonl(entries, output),
    };
    finish_write(written)?;
    if args.format != ReportFormat::Json {
        match &next {
            Some(cursor) => eprintln!("next page: --after {cursor}"),
            None => eprintln!("last page"),
        }
    }
    Ok(())
}

/// The whole report in a sort other than the natural one (or as JSON with the query's
/// filters): a page of 10,000 at a time, so memory stays flat; each page reads the report.
async fn write_sorted(app: &App, scope: &str, view: &ReportView, args: &ReportArgs) -> Result<()> {
    let part_rows = crosswalk_app::report_part_rows();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<ReportEntry>(4096);
    let output = args.output.clone();
    let format = args.format;
    let writer = std::thread::spawn(move || -> std::io::Result<Vec<PathBuf>> {
        match format {
            ReportFormat::Csv => write_csv_parts(
                receiver.into_iter().map(|entry| entry.row),
                output.as_deref(),
                part_rows,
            ),
            ReportFormat::Json => crosswalk_formats::write_report_json(
                receiver,
                create_output(output.as_deref()).map_err(std::io::Error::other)?,
            )
            .map(|()| Vec::new()),
            ReportFormat::Jsonl => crosswalk_formats::write_report_jsonl(
                receiver,
                create_output(output.as_deref()).map_err(std::io::Error::other)?,
            )
            .map(|()| Vec::new()),
        }
    });
    let mut after: Option<String> = None;
    let read: Result<()> = async {
        loop {
            let page = app
                .report_page(
                    &caller(),
                    scope,
                    view,
                    after.as_deref(),
                    crosswalk_store::scope::MAX_BATCH,
                )
                .await?;
            for item in page.rows {
                if sender.send(ReportEntry::from(item)).is_err() {
                    return Ok(());
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }
    .await;
    drop(sender);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the report writer thread panicked"))?;
    match (read, written) {
        (_, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        (_, Err(e)) => Err(e).context("could not write the report"),
        (Err(e), Ok(_)) => Err(e).context("could not read the report"),
        (Ok(()), Ok(parts)) => {
            say_parts(&parts, part_rows);
            Ok(())
        }
    }
}

/// Tells on standard error where a split export went.
fn say_parts(parts: &[PathBuf], part_rows: u64) {
    if parts.len() > 1 {
        let names: Vec<String> = parts
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        eprintln!(
            "the report has more rows than a spreadsheet opens; it is split into {} parts of at most {part_rows} rows, each with its header: {}",
            parts.len(),
            names.join(", ")
        );
    }
}

/// `FILE.csv` as part `n`: `FILE-n.csv`.
fn part_path(path: &Path, n: u64) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Writes the rows as CSV: to standard output whole, or to `path`, split every `part_rows`
/// rows. The first part is written to `path` itself; when a second is needed it is renamed
/// `FILE-1.csv` and the rest go to `FILE-2.csv`… Returns the files written.
fn write_csv_parts(
    rows: impl IntoIterator<Item = ReportRow>,
    path: Option<&Path>,
    part_rows: u64,
) -> std::io::Result<Vec<PathBuf>> {
    let Some(path) = path else {
        let mut rows = rows.into_iter();
        let mut count = 0u64;
        let counted = std::iter::from_fn(|| {
            let row = rows.next()?;
            count += 1;
            Some(row)
        });
        crosswalk_formats::write_report_csv(
            counted,
            std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        )?;
        if count > crosswalk_app::EXCEL_MAX_ROWS - 1 {
            eprintln!(
                "the report has {count} rows, more than a spreadsheet opens; write it with -o FILE.csv to have it split into parts"
            );
        }
        return Ok(Vec::new());
    };
    let mut rows = rows.into_iter().peekable();
    let mut written = Vec::new();
    let mut part = 1u64;
    loop {
        let target = if part == 1 {
            path.to_path_buf()
        } else {
            part_path(path, part)
        };
        let file = std::fs::File::create(&target)?;
        crosswalk_formats::write_report_csv(
            rows.by_ref()
                .take(usize::try_from(part_rows).unwrap_or(usize::MAX)),
            file,
        )?;
        written.push(target);
        if rows.peek().is_none() {
            return Ok(written);
        }
        if part == 1 {
            let first = part_path(path, 1);
            std::fs::rename(path, &first)?;
            written[0] = first;
        }
        part += 1;
    }
}

fn create_output(path: Option<&Path>) -> Result<Box<dyn Write + Send>> {
    Ok(match path {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("could not create {}", path.display()))?,
        ),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )),
    })
}

pub(crate) fn jobs(args: JobsArgs) -> Result<()> {
    let scope = args.scope.scope.as_str();
    let location = args.store.database()?.describe();
    if store_missing(&args.store)? {
        outln!(
            "no jobs yet: there is no store at {location}; start one with `crosswalk run` or `crosswalk demo`"
        )?;
        return Ok(());
    }
    let read = block_on(async {
        let app = open_app(&args.store).await?;
        let read = async {
            Ok::<_, crosswalk_app::AppError>((
                app.jobs(&caller(), scope).await?,
                app.runs(&caller(), scope, None).await?,
            ))
        }
        .await;
        app.close().await;
        anyhow::Ok(read)
    })?;
    let (jobs, runs) = match read {
        Ok(read) => read,
        // The default scope is made by the first run: before it, there is nothing to list.
        Err(error)
            if error.kind() == ErrorKind::NotFound && scope == crosswalk_app::DEFAULT_SCOPE =>
        {
            (Vec::new(), Vec::new())
        }
        Err(error) => return Err(error.into()),
    };
    if args.format == SummaryFormat::Json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "scope": scope, "jobs": jobs, "runs": runs })
            )?
        )?;
        return Ok(());
    }
    if jobs.is_empty() {
        outln!(
            "no jobs yet in scope {scope:?} of {location}; start one with `crosswalk run` or `crosswalk demo`"
        )?;
    }
    for job in &jobs {
        outln!("{:<24} transfer id {}", job.name, job.transfer_id)?;
    }
    for run in &runs {
        let at = run
            .started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        outln!(
            "{:<24} run {:>3}  {at}  {}  by {}",
            run.job,
            run.number,
            counts_line(&run.counts),
            run.who
        )?;
    }
    Ok(())
}

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    check_exists(&args.store)?;
    let scope = args.scope.scope.as_str();
    let explained = block_on(async {
        let app = open_app(&args.store).await?;
        let explained = app
            .explain(
                &caller(),
                scope,
                args.job.as_deref(),
                kind_of(args.kind),
                &args.source_id,
            )
            .await;
        app.close().await;
        anyhow::Ok(explained)
    })??;
    let value = &explained.value;
    let changed_by = match explained.last_change.as_ref().map(|r| &r.origin) {
        Some(ChangeOrigin::Run { job, run, .. }) => {
            format!(", last changed in job {job:?}, run {run}")
        }
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
        outln!(
            "destination: {} {}",
            value.destination.id,
            value.destination.name
        )?;
    }
    if !value.message.is_empty() {
        outln!("message: {}", value.message)?;
    }
    for evidence in &value.evidence {
        let note = if evidence.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", evidence.note)
        };
        outln!(
            "evidence: {} matched source {} to destination {} on key {:?}{note}",
            evidence.method,
            evidence.source_field,
            evidence.destination_field,
            evidence.key
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
            .map(|name| {
                serde_json::from_value::<Flag>(serde_json::Value::String(name.clone()))
                    .map_or_else(|_| name.clone(), |f| format!("{f:?}"))
            })
            .collect();
        outln!("flags: {}", flags.join(", "))?;
    }
    outln!("in short: {}", explained.in_short())?;
    if let Some(change) = &explained.last_change {
        let at = change
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        outln!(
            "changed: {at} by {} ({}); `crosswalk history` lists every change",
            change.who,
            change.reason.as_str()
        )?;
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
