//! `crosswalk export` (a scope's decisions as another migration tool's mapping file),
//! `crosswalk exceptions import` (such a file as the scope's exception rules) and
//! `crosswalk directory convert` (a platform's directory export as Crosswalk CSV).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use crosswalk_app::ReportFilter;
use crosswalk_formats::exports::{ExportFormat, SourceHint, format_names};
use crosswalk_formats::peer_maps::{PeerFormat, read_peer_map, write_peer_map};
use crosswalk_formats::text::Encoding;
use crosswalk_formats::{ReadOptions, write_directory_csv};
use crosswalk_store::scope::ReportOf;

use super::report::check_exists;
use super::{block_on, caller, open_app};
use crate::cli::{ScopeArg, StoreArgs};

fn parse_peer_format(text: &str) -> Result<PeerFormat, String> {
    PeerFormat::parse(text).ok_or_else(|| {
        format!(
            "unknown format {text:?}; the formats are {}",
            PeerFormat::names()
        )
    })
}

fn parse_export_format(text: &str) -> Result<ExportFormat, String> {
    ExportFormat::parse(text).ok_or_else(|| {
        format!(
            "unknown format {text:?}; the formats are {}",
            format_names()
        )
    })
}

fn parse_encoding(text: &str) -> Result<Encoding, String> {
    Encoding::parse(text).ok_or_else(|| {
        format!(
            "unknown encoding {text:?}; the encodings are {}",
            Encoding::NAMES
        )
    })
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
crosswalk export --scope acme --format spmt -o usermap.csv\n  \
crosswalk export --scope acme --format jcma -o users.csv\n\n\
Formats: spmt (SharePoint Migration Tool: no header, source,target,TRUE/FALSE), gwm (Google Workspace \
Migrate), google-dms (Google data migration service, users), mover, movebot, sharegate \
(SourceValue,DestinationValue), dryviq and dryviq-groups (DryvIQ account/group maps), jcma (Atlassian \
advanced user CSV). Identities without a destination are left out, or written with an empty \
destination where the format marks them that way (mover, jcma); either way they are listed on \
standard error. See docs/formats.md.")]
pub(crate) struct ExportArgs {
    /// The tool whose mapping file to write.
    #[arg(long, short = 'f', value_parser = parse_peer_format)]
    pub(crate) format: PeerFormat,
    /// Write to this file instead of standard output (written whole, or not at all).
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) fn export(args: ExportArgs) -> Result<()> {
    check_exists(&args.store)?;
    let rows = block_on(async {
        let app = open_app(&args.store).await?;
        let rows = app
            .report(
                &caller(),
                &args.scope.scope,
                &ReportOf::Scope,
                &ReportFilter::default(),
            )
            .await;
        app.close().await;
        anyhow::Ok(rows)
    })?
    .context("could not read the scope's mappings")?;
    let mut bytes = Vec::new();
    let exported = write_peer_map(args.format, rows, &mut bytes)
        .context("could not write the mapping file")?;
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("could not write {}", path.display()))?,
        None => {
            std::io::Write::write_all(&mut std::io::stdout(), &bytes).or_else(ignore_broken_pipe)?
        }
    }
    let marked = exported.unmapped.iter().filter(|u| u.marked).count();
    eprintln!(
        "{} mappings written; {} without a destination ({}){}",
        exported.mapped,
        exported.unmapped.len(),
        if marked > 0 {
            "written with an empty destination, as the format marks them"
        } else {
            "left out of the file"
        },
        if exported.other_kind > 0 {
            format!(
                "; {} identities of a kind this format does not map left out",
                exported.other_kind
            )
        } else {
            String::new()
        }
    );
    for unmapped in &exported.unmapped {
        eprintln!(
            "  {} {} ({})",
            unmapped.kind,
            unmapped.source,
            unmapped.resolution.as_str()
        );
    }
    Ok(())
}

fn ignore_broken_pipe(error: std::io::Error) -> std::io::Result<()> {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(error)
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExceptionsCommand {
    /// Import another migration tool's mapping file as the scope's exception rules.
    #[command(after_help = "Examples:\n  \
crosswalk exceptions import --scope acme --format sharegate mappings.csv\n  \
crosswalk exceptions import --scope acme --format mover permission-map.csv --transforms-out transforms.toml\n\n\
Every row is checked first and every bad row reported (file:line: field: why); nothing is stored \
when any row is bad, and the rules are stored in one transaction (all, or none). Each row becomes a rule `type,source,destination` (a value the file does not \
qualify matches an id, username or address, as in exceptions.csv). Mover's domain rows \
(corp.a.com,a.com) and Movebot's wildcard rows (*@a.com,*@b.com) are not rules but policy \
transforms: they are printed as [[transforms]] tables (or written to --transforms-out) for the policy.")]
    Import(ExceptionsImportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExceptionsImportArgs {
    /// The tool that wrote the file (the same names as `crosswalk export --format`).
    #[arg(long, short = 'f', value_parser = parse_peer_format)]
    pub(crate) format: PeerFormat,
    /// The mapping file.
    pub(crate) file: PathBuf,
    /// Write the [[transforms]] tables of wildcard rows here instead of standard output.
    #[arg(long)]
    pub(crate) transforms_out: Option<PathBuf>,
    /// Check the file and print the rules as exceptions CSV, storing nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) fn exceptions(command: ExceptionsCommand) -> Result<()> {
    let ExceptionsCommand::Import(args) = command;
    let name = args.file.display().to_string();
    let file = std::fs::File::open(&args.file).with_context(|| format!("could not open {name}"))?;
    let read = match read_peer_map(args.format, &name, std::io::BufReader::new(file)) {
        Ok(read) => read,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            bail!(
                "{} bad rows in {name}; nothing was stored. Fix them and import again",
                problems.len()
            );
        }
    };
    let rows: Vec<_> = read
        .rules
        .iter()
        .map(crosswalk_app::run::row_from_rule)
        .collect();
    if args.dry_run {
        outln!("type,source,destination")?;
        for row in &rows {
            outln!(
                "{},{},{}",
                row.kind,
                csv_field(&row.source),
                csv_field(&row.destination)
            )?;
        }
    } else if !rows.is_empty() {
        check_exists(&args.store)?;
        let scope = args.scope.scope.clone();
        block_on(async {
            let app = open_app(&args.store).await?;
            // One transaction: every rule is stored, or none.
            let result = app
                .add_exceptions(&caller(), &scope, &rows)
                .await
                .map(|_| ())
                .map_err(|error| {
                    anyhow::Error::new(error).context(format!(
                        "could not store the rules of {name}; nothing was stored"
                    ))
                });
            app.close().await;
            result
        })?;
        eprintln!(
            "{} rules stored in scope {}; the next run applies them",
            rows.len(),
            args.scope.scope
        );
    }
    if read.ignored > 0 {
        eprintln!(
            "{} rows map nothing (an empty destination) and were not imported",
            read.ignored
        );
    }
    if !read.transforms.is_empty() {
        let toml: String = read.transforms.iter().map(|t| t.to_toml() + "\n").collect();
        match &args.transforms_out {
            Some(path) => std::fs::write(path, toml)
                .with_context(|| format!("could not write {}", path.display()))?,
            None => outln!("{toml}")?,
        }
        eprintln!(
            "{} wildcard rows became [[transforms]] tables; add them to the policy",
            read.transforms.len()
        );
    }
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Read a platform's directory export and write it as Crosswalk's directory CSV, listing
    /// the values it had to leave out.
    #[command(after_help = "Examples:\n  \
crosswalk directory convert ad-users.csv -o source.csv\n  \
crosswalk directory convert --format google --encoding windows-1252 users.csv -o source.csv\n  \
crosswalk directory convert jira-tables/ -o jira.csv     # cwd_user.csv, app_user.csv, cwd_membership.csv...\n  \
crosswalk directory convert okta/ -o okta.csv            # users.json, groups.json, groups/<id>/users.json\n\n\
The format is found from the header; --format names it. A byte order mark decides the encoding \
(UTF-8, UTF-16 LE/BE); Windows-1252 is used only when asked. `run` reads the same exports directly, \
and takes the same choices as a prefix: --source google+windows-1252:users.csv.")]
    Convert(DirectoryConvertArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DirectoryConvertArgs {
    /// The export (a file, a folder of Jira cwd_* tables, or a folder of Okta API JSON).
    pub(crate) input: PathBuf,
    /// The export's format, when the header does not tell: entra, ad, google, atlassian, jira-cwd, slack, github, okta.
    #[arg(long, short = 'f', value_parser = parse_export_format)]
    pub(crate) format: Option<ExportFormat>,
    /// The file's encoding when it has no byte order mark: utf-8 (default), windows-1252, utf-16le, utf-16be.
    #[arg(long, value_parser = parse_encoding)]
    pub(crate) encoding: Option<Encoding>,
    /// Leave out invalid rows (listed on standard error) instead of refusing the file.
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
}

pub(crate) fn directory(command: DirectoryCommand) -> Result<()> {
    let DirectoryCommand::Convert(args) = command;
    let hint = SourceHint {
        format: args.format,
        encoding: args.encoding,
    };
    let options = ReadOptions {
        skip_invalid: args.skip_invalid,
        ..ReadOptions::default()
    };
    let imported = crosswalk_formats::exports::read_export_path(&args.input, hint, options)?;
    let mut bytes = Vec::new();
    write_directory_csv(&imported.directory, &mut bytes)
        .context("could not write the directory CSV")?;
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("could not write {}", path.display()))?,
        None => {
            std::io::Write::write_all(&mut std::io::stdout(), &bytes).or_else(ignore_broken_pipe)?
        }
    }
    eprintln!(
        "{} accounts, {} groups read from {}",
        imported.directory.accounts.len(),
        imported.directory.groups.len(),
        args.input.display()
    );
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    if !imported.skipped.is_empty() {
        eprintln!("{} invalid records were skipped:", imported.skipped.len());
        for skipped in &imported.skipped {
            eprintln!("  {skipped}");
        }
    }
    Ok(())
}
