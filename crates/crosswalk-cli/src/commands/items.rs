//! `crosswalk items import|…` and `crosswalk reattribution`: the content that refers to
//! identities, a mapping's affected items, and what a changed mapping must re-attribute.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use crosswalk_app::App;
use crosswalk_formats::SafeCsvWriter;
use crosswalk_store::scope::{ItemFilter, MAX_BATCH, Namespace};

use super::report::check_exists;
use super::run::{scope_hint, store_hint};
use super::{block_on, caller, open_app};
use crate::cli::{ScopeArg, StoreArgs};

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    long_about = "Item references say which content items (pages, issues, files, folders, attachments, \
comments) refer to which identities, and how: creator, modifier (last modifier), owner, commenter, \
mentioned, assignee, reporter, watcher, or permission (a permission holder, with how many permissions). \
`crosswalk items import` stores them in a scope (replacing what it held); `crosswalk items --mapping KEY` \
lists the items one mapping affects, with its counts per role and its permission count. When a mapping's \
destination changes later, `crosswalk reattribution` lists the items to re-attribute.\n\n\
References name identities as the content does: an account by its source id, its username or an address \
(or a platform-prefixed form such as jira.userkey/…), a group by its source id. They are matched to \
mappings when read, so they may be imported before or after a run.",
    after_help = "Examples:\n  \
crosswalk items import --scope acme items.csv          # or items.jsonl (docs/formats.md)\n  \
crosswalk items --scope acme --mapping jdoe            # CSV of the items jdoe's mapping affects\n  \
crosswalk items --scope acme --mapping u-42 --role permission --format json\n  \
crosswalk items --scope acme --mapping G1 --namespace identity:group --container ENG\n\n\
A file with any bad row is refused whole, naming the file, line and field; nothing is stored."
)]
pub(crate) struct ItemsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ItemsCommand>,
    #[command(flatten)]
    pub(crate) list: ItemsListArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ItemsCommand {
    /// Import item references (CSV or JSON Lines, by extension), replacing the scope's.
    Import(ItemsImportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ItemsImportArgs {
    /// The item references: .csv (one reference a row) or .jsonl (one item a line).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ItemsFormatArg {
    /// Spreadsheet-safe CSV (cells starting with =, +, -, @, tab or CR are neutralised).
    Csv,
    /// One JSON document: counts, items, next cursor, and a message when inputs are missing.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ItemsListArgs {
    /// The mapping: its source key or, for users, a username or address.
    #[arg(long, value_name = "KEY", required = true)]
    pub(crate) mapping: Option<String>,
    /// identity:user (accounts) or identity:group.
    #[arg(long, short = 'n', default_value = Namespace::IDENTITY_USER)]
    pub(crate) namespace: String,
    /// Only references in this role (creator, modifier, owner, commenter, mentioned,
    /// assignee, reporter, watcher, permission).
    #[arg(long, value_name = "ROLE")]
    pub(crate) role: Option<String>,
    /// Only items in this container (space, project or drive key).
    #[arg(long, value_name = "CONTAINER")]
    pub(crate) container: Option<String>,
    /// Only items of this type (page, issue, file, folder, attachment, comment...).
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) item_type: Option<String>,
    /// Continue after this cursor (a previous page's `next`).
    #[arg(long, value_name = "CURSOR")]
    pub(crate) after: Option<String>,
    /// At most this many items (1 to 10,000); without it, every item.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = ItemsFormatArg::Csv)]
    pub(crate) format: ItemsFormatArg,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(
    long_about = "Lists, for every identity mapping whose destination changed after --since (a new run, \
an exception, a decision), each item that refers to it: the item, the role, the old destination and \
the new one, so that content already moved can be fixed. It reads the change feed and the item \
references as they are now; the last line (stderr for CSV) gives the cursor to pass next time.",
    after_help = "Examples:\n  \
crosswalk reattribution --scope acme > reattribute.csv\n  \
crosswalk reattribution --scope acme --since r1042 --format json"
)]
pub(crate) struct ReattributionArgs {
    /// Only changes after this cursor (as a previous run of this command or `changes` printed it).
    #[arg(long, value_name = "CURSOR")]
    pub(crate) since: Option<String>,
    #[arg(long, value_enum, default_value_t = ItemsFormatArg::Csv)]
    pub(crate) format: ItemsFormatArg,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

fn with_app<T>(
    store: &StoreArgs,
    work: impl AsyncFnOnce(&App) -> Result<T, crosswalk_app::AppError>,
) -> Result<T> {
    block_on(async {
        let app = open_app(store).await?;
        let result = work(&app).await;
        app.close().await;
        Ok(result?)
    })
}

pub(crate) fn items(args: ItemsArgs) -> Result<()> {
    match args.command {
        Some(ItemsCommand::Import(import)) => import_items(import),
        None => list(args.list),
    }
}

/// Imports a file; `demo` calls it too.
pub(crate) fn import_items(args: ItemsImportArgs) -> Result<()> {
    // The whole file is read and checked before the store is opened.
    let references = crosswalk_app::items::read_items_file(&args.file)?;
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let state = with_app(&args.store, async |app| {
        app.import_items(&caller(), &scope, &references).await
    })?;
    outln!(
        "imported {} item references ({} items) into scope {scope:?}, replacing what it held",
        state.references,
        state.items
    )?;
    outln!(
        "next: crosswalk items{} --mapping KEY{}",
        scope_hint(&scope),
        store_hint(&args.store)
    )?;
    Ok(())
}

fn list(args: ItemsListArgs) -> Result<()> {
    let Some(key) = args.mapping.clone() else {
        anyhow::bail!(
            "--mapping KEY is required: the source key (or username or address) of the mapping whose items to list"
        );
    };
    let namespace = Namespace::parse(&args.namespace)?;
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let filter = ItemFilter {
        role: args.role.clone(),
        container: args.container.clone(),
        item_type: args.item_type.clone(),
    };
    if let Some(role) = &filter.role
        && crosswalk_plan::Role::parse(role).is_none()
    {
        let roles: Vec<&str> = crosswalk_plan::Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        anyhow::bail!(
            "--role {role:?} is not a role; use one of {}",
            roles.join(", ")
        );
    }
    let filter = ItemFilter {
        role: filter
            .role
            .as_deref()
            .and_then(crosswalk_plan::Role::parse)
            .map(|r| r.as_str().to_string()),
        ..filter
    };
    let page_size = args.limit.unwrap_or(MAX_BATCH);
    let format = args.format;
    with_app(&args.store, async |app| {
        // Page by page, each written before the next is read: a mapping referenced by
        // millions of items is never held whole. Without --limit, every page.
        let mut page = app
            .affected_items(
                &caller(),
                &scope,
                &namespace,
                &key,
                &filter,
                args.after.as_deref(),
                page_size,
            )
            .await?;
        if let (ItemsFormatArg::Csv, Some(message)) = (format, &page.message) {
            eprintln!("{message}");
            return Ok(Ok(()));
        }
        let mut stream = match ListStream::start(
            format,
            "items",
            &crosswalk_app::items::AFFECTED_ITEM_COLUMNS,
        ) {
            Ok(stream) => stream,
            Err(error) => return Ok(Err(error)),
        };
        loop {
            if let Err(error) = stream.rows(&page.items, crosswalk_app::items::affected_item_cells)
            {
                return Ok(Err(error));
            }
            if args.limit.is_some() || page.last_page {
                break;
            }
            page = app
                .affected_items(
                    &caller(),
                    &scope,
                    &namespace,
                    &key,
                    &filter,
                    page.next.as_deref(),
                    page_size,
                )
                .await?;
        }
        let counts = &page.counts;
        let tail = [
            ("namespace", serde_json::to_value(&page.namespace)),
            ("source_key", serde_json::to_value(&page.source_key)),
            ("counts", serde_json::to_value(counts)),
            ("next", serde_json::to_value(&page.next)),
            ("last_page", serde_json::to_value(page.last_page)),
            ("message", serde_json::to_value(&page.message)),
        ];
        if let Err(error) = stream.finish(&tail) {
            return Ok(Err(error));
        }
        if format == ItemsFormatArg::Csv {
            let roles: Vec<String> = counts
                .by_role
                .iter()
                .map(|(role, n)| format!("{role} {n}"))
                .collect();
            eprintln!(
                "{} references on {} items ({}); {} permissions{}",
                counts.references,
                counts.items,
                if roles.is_empty() {
                    "none".to_string()
                } else {
                    roles.join(", ")
                },
                counts.permissions,
                page.next
                    .as_ref()
                    .map(|next| format!("; more after --after {next}"))
                    .unwrap_or_default()
            );
        }
        Ok(Ok(()))
    })?
}

/// A list written as it is read: CSV (spreadsheet-safe, one header) or one JSON object whose
/// list field is filled page by page and whose other fields (`tail`, from the last page)
/// follow it.
enum ListStream {
    Csv(SafeCsvWriter<Stdout>),
    Json { output: Stdout, first: bool },
}

type Stdout = std::io::BufWriter<std::io::Stdout>;

impl ListStream {
    fn start(format: ItemsFormatArg, field: &str, header: &[&str]) -> Result<ListStream> {
        let output = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
        Ok(match format {
            ItemsFormatArg::Csv => ListStream::Csv(SafeCsvWriter::new(header, output)?),
            ItemsFormatArg::Json => {
                let mut output = output;
                write!(output, "{{\"{field}\": [")?;
                ListStream::Json {
                    output,
                    first: true,
                }
            }
        })
    }

    fn rows<T: serde::Serialize, R: IntoIterator<Item = String>>(
        &mut self,
        rows: &[T],
        cells: impl Fn(&T) -> R,
    ) -> Result<()> {
        match self {
            ListStream::Csv(writer) => {
                for row in rows {
                    writer.row(cells(row))?;
                }
                writer.flush()?;
            }
            ListStream::Json { output, first } => {
                for row in rows {
                    output.write_all(if std::mem::take(first) {
                        b"\n  "
                    } else {
                        b",\n  "
                    })?;
                    serde_json::to_writer(&mut *output, row)?;
                }
            }
        }
        Ok(())
    }

    fn finish(self, tail: &[(&str, serde_json::Result<serde_json::Value>)]) -> Result<()> {
        if let ListStream::Json { mut output, first } = self {
            output.write_all(if first { b"]" } else { b"\n]" })?;
            for (name, value) in tail {
                let value = value
                    .as_ref()
                    .map_err(|e| anyhow::anyhow!("cannot write {name}: {e}"))?;
                // As the page types write it: no message when there is none.
                if !(value.is_null() && *name == "message") {
                    write!(output, ",\n\"{name}\": {value}")?;
                }
            }
            output.write_all(b"\n}\n")?;
            output.flush()?;
        }
        Ok(())
    }
}

pub(crate) fn reattribution(args: ReattributionArgs) -> Result<()> {
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let format = args.format;
    with_app(&args.store, async |app| {
        // Page by page, each written before the next is read.
        let mut page = app
            .reattribution(&caller(), &scope, args.since.as_deref(), MAX_BATCH)
            .await?;
        if let (ItemsFormatArg::Csv, Some(message)) = (format, &page.message) {
            eprintln!("{message}");
            return Ok(Ok(()));
        }
        let mut stream = match ListStream::start(
            format,
            "entries",
            &crosswalk_app::items::REATTRIBUTION_COLUMNS,
        ) {
            Ok(stream) => stream,
            Err(error) => return Ok(Err(error)),
        };
        let mut entries = 0;
        loop {
            entries += page.entries.len();
            if let Err(error) = stream.rows(&page.entries, |entry| entry.cells()) {
                return Ok(Err(error));
            }
            if page.last_page {
                break;
            }
            page = app
                .reattribution(&caller(), &scope, Some(&page.cursor.to_string()), MAX_BATCH)
                .await?;
        }
        let tail = [
            ("cursor", serde_json::to_value(page.cursor)),
            ("last_page", serde_json::to_value(page.last_page)),
            ("message", serde_json::to_value(&page.message)),
        ];
        if let Err(error) = stream.finish(&tail) {
            return Ok(Err(error));
        }
        if format == ItemsFormatArg::Csv {
            eprintln!(
                "{entries} items to re-attribute; next: crosswalk reattribution --since {}{}{}",
                page.cursor,
                scope_hint(&scope),
                store_hint(&args.store)
            );
        }
        Ok(Ok(()))
    })?
}

const DEMO_ITEMS: &str = include_str!("../../../../samples/items.csv");

/// The demo's first wave: the job as it ran before the admin added the account exception
/// (Anna Kowalska, unresolved then), and the content's item references. The demo's own run
/// that follows applies the exception, so her destination changes and
/// `crosswalk reattribution` lists the items that must follow her.
pub(crate) fn demo_earlier_wave(store: &StoreArgs, input: &crosswalk_app::JobInput) -> Result<()> {
    let earlier = crosswalk_app::JobInput {
        source: input.source.clone(),
        source_origin: input.source_origin.clone(),
        destination: input.destination.clone(),
        destination_origin: input.destination_origin.clone(),
        policy: input.policy.clone(),
        exceptions: input.exceptions.as_ref().map(|rules| {
            rules
                .iter()
                .filter(|rule| rule.kind != crosswalk_core::IdentityKind::Account)
                .cloned()
                .collect()
        }),
        fixes: input.fixes.clone(),
        handling: input.handling.clone(),
    };
    let request = crosswalk_app::RunRequest {
        scope: crosswalk_app::DEFAULT_SCOPE.to_string(),
        job: Some("demo".into()),
        input: earlier,
        force: false,
    };
    let outcome = super::run::run_job(store, request)?;
    let references = crosswalk_app::items::parse_items(
        "samples/items.csv",
        DEMO_ITEMS.as_bytes(),
        crosswalk_app::items::ItemsFormat::Csv,
    )?;
    let scope = crosswalk_app::DEFAULT_SCOPE;
    let state = with_app(store, async |app| {
        app.import_items(&caller(), scope, &references).await
    })?;
    outln!(
        "first, the job as it ran before Anna Kowalska's exception was added (run {}), and {} item references from samples/items.csv;",
        outcome.run.number,
        state.references
    )?;
    outln!("then the run with samples/exceptions.csv, which changes her destination:")?;
    outln!(
        "  the items to re-attribute: crosswalk reattribution{}",
        store_hint(store)
    )?;
    outln!(
        "  her affected items:        crosswalk items --mapping JIRAUSER10017{}\n",
        store_hint(store)
    )?;
    Ok(())
}
