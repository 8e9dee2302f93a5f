//! `crosswalk plan`: the dry run of `run` with the same inputs: what would be new, changed,
//! removed and unchanged in the scope, writing nothing.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use crosswalk_app::{Database, InputFiles, PlanOutcome};

use super::{block_on, caller, open_app};
use crate::cli::{ScopeArg, StoreArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// The counts, then one line per mapping that would change.
    Text,
    /// `{"scope", "counts": {"new", "changed", "removed", "unchanged"}, "rows": [...]}`.
    Json,
}

#[derive(Debug, Args)]
#[command(
    long_about = "Resolves the inputs exactly as `crosswalk run` would and compares the result with what \
the scope holds now: which mappings would be new, which would change (old and new destination), which \
would be marked removed (their source identity is gone, among the mappings this job's runs wrote last), and how many stay as they are. Nothing is \
written: not the mappings, not the exception rules, not even a store file.\n\n\
Planning the same inputs after a run of them shows 0 new, 0 changed, 0 removed: a second wave resolves \
only what changed since the last.",
    after_help = "Examples:\n  \
crosswalk plan --scope acme -s server.json -d cloud.csv -p policy.toml -e exceptions.csv\n  \
crosswalk plan --scope acme -s server.json -d cloud.csv --format json | jq .counts"
)]
pub(crate) struct PlanArgs {
    /// The directory you migrate from (SCIM JSON or CSV).
    #[arg(long, short = 's')]
    pub(crate) source: PathBuf,
    /// The directory you migrate to (SCIM JSON or CSV).
    #[arg(long, short = 'd')]
    pub(crate) destination: PathBuf,
    /// Policy (TOML), as for `run`.
    #[arg(long, short = 'p')]
    pub(crate) policy: Option<PathBuf>,
    /// Exceptions (CSV), as for `run`; without it, the scope's own rules apply.
    #[arg(long, short = 'e')]
    pub(crate) exceptions: Option<PathBuf>,
    /// An edited findings CSV, as for `run`: its fixes are applied to the source first, and
    /// switches of duplicate handling a run would be refused for are listed.
    #[arg(long, value_name = "FILE")]
    pub(crate) fixes: Option<PathBuf>,
    /// The job the run would be, as for `run`: only mappings its own runs wrote last can be
    /// marked removed. Default: `<source file> to <destination file>`.
    #[arg(long, short = 'j', value_parser = crate::cli::parse_job_name)]
    pub(crate) job: Option<String>,
    #[arg(long, short = 'f', value_enum, default_value_t = PlanFormat::Text)]
    pub(crate) format: PlanFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) fn plan(args: PlanArgs) -> Result<()> {
    let files = InputFiles {
        source: args.source,
        destination: args.destination,
        policy: args.policy,
        exceptions: args.exceptions,
        fixes: args.fixes,
        skip_invalid: false,
    };
    let scope = args.scope.scope;
    let database = args.store.database()?;
    let input = crosswalk_app::import(&files, &mut |_| {})?;
    // No store file yet: nothing is held, and opening one would create it.
    let outcome = match &database {
        Database::Sqlite(path) if !path.exists() => {
            if scope != crosswalk_app::DEFAULT_SCOPE {
                anyhow::bail!(
                    "there is no scope {scope:?}: there is no store at {}; create the scope with `crosswalk scope create` first",
                    path.display()
                );
            }
            crosswalk_app::plan_new_scope(&scope, &input)?
        }
        _ => block_on(async {
            let app = open_app(&args.store).await?;
            let outcome = app
                .plan(&caller(), &scope, args.job.as_deref(), &input)
                .await;
            app.close().await;
            anyhow::Ok(outcome?)
        })?,
    };
    print(&outcome, args.format)
}

fn print(outcome: &PlanOutcome, format: PlanFormat) -> Result<()> {
    match format {
        // Written as it is serialised: a million rows never sit in memory as one string.
        PlanFormat::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, outcome).map_err(std::io::Error::from)?;
            std::io::Write::write_all(&mut out, b"\n")?;
            std::io::Write::flush(&mut out)?;
        }
        PlanFormat::Text => {
            let counts = &outcome.counts;
            outln!(
                "scope {}{}: {} new, {} changed, {} removed, {} unchanged (dry run: nothing written)",
                outcome.scope,
                if outcome.scope_exists {
                    ""
                } else {
                    " (not created yet)"
                },
                counts.new,
                counts.changed,
                counts.removed,
                counts.unchanged
            )?;
            for row in &outcome.rows {
                let arrow = match row.change {
                    "new" => format!("-> {} ({})", show(&row.new_destination), row.new_resolution),
                    "removed" => format!(
                        "was {} ({})",
                        show(&row.old_destination),
                        row.old_resolution
                    ),
                    _ => format!(
                        "{} ({}) -> {} ({})",
                        show(&row.old_destination),
                        row.old_resolution,
                        show(&row.new_destination),
                        row.new_resolution
                    ),
                };
                outln!(
                    "{:<8} {} {} {arrow}",
                    row.change,
                    row.namespace,
                    row.source_key
                )?;
            }
            if !outcome.refused_switches.is_empty() {
                outln!(
                    "a run would be refused: the fixes handle {} identities differently from an earlier wave (a second account each; --force to switch anyway):",
                    outcome.refused_switches.len()
                )?;
                for switch in &outcome.refused_switches {
                    outln!("  {switch}")?;
                }
            }
        }
    }
    Ok(())
}

fn show(destination: &str) -> &str {
    if destination.is_empty() {
        "(none)"
    } else {
        destination
    }
}
