//! `crosswalk check`: pre-flight findings, as text, the admin-editable CSV, or JSON; and
//! the edited CSV imported back with `--fixes`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use crosswalk_app::{CheckRequest, check};
use crosswalk_plan::UserScope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// Findings for a person: each kind with its count, suggested fix and rows.
    Text,
    /// The CSV a migration admin edits: UserKey,UserName,ErrorType,OldEmail,NewEmail,
    /// Tombstone,AccountType, then Exclude,MergeInto,Severity,Detail,SuggestedFix.
    Csv,
    /// Everything, for programs.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum UsersArg {
    All,
    Related,
    None,
}

#[derive(Debug, Args)]
#[command(
    long_about = "Checks a job's inputs before anything moves and lists the findings: blockers (invalid, \
duplicate or missing emails, reserved group names) that must be cleared, and warnings (the same username in \
several source directories, source groups whose name the destination already has, destination emails a \
match would rely on that are not verified, inactive users, look-alike addresses, identities the content \
refers to that the source lacks). Each finding has a count, its rows and a suggested fix.\n\n\
--format csv writes the findings with the suggested fixes filled in: duplicates merged by the stated merge \
rule (printed with the text format), accounts with no usable email given one from --email-template or, \
without it, migrated as former users (Tombstone). Edit NewEmail, Tombstone, Exclude or MergeInto (one per \
row) and import the file with --fixes: every bad row is reported with its line, and nothing is applied \
unless every row is good. The findings printed then are those left after the fixes. Nothing is written \
to the store.",
    after_help = "Examples:\n  \
crosswalk check --scope acme -s server.json -d cloud.csv --items items.csv\n  \
crosswalk check -s server.json --format csv --email-template '{username}@former.acme.com' -o findings.csv\n  \
crosswalk check -s server.json -d cloud.csv --fixes findings.csv\n\n\
The exit status is 0 when the check ran, whatever it found (read `blockers` in the JSON), and 1 when an \
input or a fix is bad."
)]
pub(crate) struct CheckArgs {
    /// The migration scope the job is for (shown in the output; check reads no store).
    #[arg(long, value_name = "SCOPE", default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    /// The source directory (SCIM JSON or Crosswalk CSV).
    #[arg(long, short = 's', value_name = "FILE")]
    pub(crate) source: PathBuf,
    /// The destination directory: enables the group-name and unverified-email checks.
    #[arg(long, short = 'd', value_name = "FILE")]
    pub(crate) destination: Option<PathBuf>,
    /// Content references (CSV: container,item,role,type,identity): enables the check for
    /// identities the content refers to that the source lacks.
    #[arg(long, value_name = "FILE")]
    pub(crate) items: Option<PathBuf>,
    /// An edited findings CSV to apply (all rows or none) before checking.
    #[arg(long, value_name = "FILE")]
    pub(crate) fixes: Option<PathBuf>,
    /// Template for suggested new emails: {id}, {username} and {local} (the old address's
    /// local part) are replaced.
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) email_template: Option<String>,
    /// Source directories in priority order, comma-separated: for a username in several,
    /// the first is in effect; a merge keeps the account from the earliest.
    #[arg(long, value_delimiter = ',', value_name = "DIRECTORIES")]
    pub(crate) directory_order: Vec<String>,
    /// The job's user scope: all (every user and group of the source), related (those tied
    /// to --containers by content or permission, directly or through a group), or none
    /// (content only). Given, the output says why each identity is in scope, which group
    /// permissions pull in many users, and which referenced identities get no mapping.
    #[arg(long, value_enum, value_name = "SCOPE")]
    pub(crate) users: Option<UsersArg>,
    /// The selected containers (space, project or drive keys, comma-separated) for
    /// --users related.
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub(crate) containers: Vec<String>,
    /// With --users related: migrate the groups holding permissions there too.
    #[arg(long)]
    pub(crate) include_groups: bool,
    /// Report a group permission once it brings this many users into one container.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub(crate) group_pull_threshold: usize,
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

pub(crate) fn check_command(args: CheckArgs) -> Result<()> {
    let users = match args.users {
        None => None,
        Some(UsersArg::All) => Some(UserScope::All),
        Some(UsersArg::None) => Some(UserScope::None),
        Some(UsersArg::Related) => {
            if args.containers.is_empty() {
                anyhow::bail!(
                    "--users related needs --containers: the space, project or drive keys the job takes"
                );
            }
            Some(UserScope::Related {
                containers: args.containers.iter().cloned().collect(),
                include_groups: args.include_groups,
            })
        }
    };
    if users.is_some() && args.items.is_none() && args.users != Some(UsersArg::All) {
        anyhow::bail!(
            "--users related and --users none need --items: the content references tell who is related"
        );
    }
    let request = CheckRequest {
        users,
        group_pull_threshold: args.group_pull_threshold,
        source: args.source,
        destination: args.destination,
        items: args.items,
        fixes: args.fixes,
        email_template: args.email_template,
        directory_order: args.directory_order,
    };
    let outcome = check(&request)?;
    let mut text = Vec::new();
    match args.format {
        CheckFormat::Csv => {
            crosswalk_formats::write_findings_csv(&outcome.findings, &outcome.suggested, &mut text)?
        }
        CheckFormat::Json => {
            let json = serde_json::json!({ "scope": args.scope, "outcome": outcome });
            serde_json::to_writer_pretty(&mut text, &json)?;
            text.push(b'\n');
        }
        CheckFormat::Text => {
            let out = &mut text;
            writeln!(
                out,
                "scope {}: {} blockers, {} warnings",
                args.scope, outcome.blockers, outcome.warnings
            )?;
            if let Some(applied) = &outcome.applied {
                writeln!(
                    out,
                    "fixes applied: {} merged, {} tombstoned, {} given a new email, {} excluded",
                    applied.merged.len(),
                    applied.tombstoned.len(),
                    applied.reemailed.len(),
                    applied.excluded.len()
                )?;
            }
            writeln!(out, "merge rule: {}", outcome.merge_rule)?;
            if let Some(scope) = &outcome.scope {
                let mapping = &scope.mapping;
                writeln!(
                    out,
                    "user scope: {} accounts and {} groups in scope; they get identity:user and identity:group mappings",
                    mapping.mapped_accounts.len(),
                    mapping.mapped_groups.len()
                )?;
                for pull in &scope.group_pulls {
                    writeln!(out, "  warning: {pull}")?;
                }
                if !mapping.referenced_not_mapped.is_empty() {
                    writeln!(
                        out,
                        "referenced by the content but getting no mapping ({}):",
                        mapping.referenced_not_mapped.len()
                    )?;
                    for identity in &mapping.referenced_not_mapped {
                        writeln!(out, "  {} {}: {}", identity.kind, identity.id, identity.why)?;
                    }
                }
                // Reasons for every identity are in the JSON; a few are shown here.
                const SHOWN: usize = 50;
                for identity in scope.in_scope.iter().take(SHOWN) {
                    let reasons: Vec<String> =
                        identity.reasons.iter().map(ToString::to_string).collect();
                    writeln!(
                        out,
                        "  in scope: {} {}: {}",
                        identity.kind,
                        identity.id,
                        reasons.join("; ")
                    )?;
                }
                if scope.in_scope.len() > SHOWN {
                    writeln!(
                        out,
                        "  ... and {} more (--format json lists every one with its reasons)",
                        scope.in_scope.len() - SHOWN
                    )?;
                }
            }
            for finding in &outcome.findings {
                let severity = match finding.severity {
                    crosswalk_plan::Severity::Blocker => "BLOCKER",
                    crosswalk_plan::Severity::Warning => "warning",
                };
                writeln!(
                    out,
                    "\n{severity} {} ({})\n  fix: {}",
                    finding.kind, finding.count, finding.suggested_fix
                )?;
                for row in &finding.rows {
                    writeln!(
                        out,
                        "  {} {} {} {}: {}",
                        row.kind, row.user_key, row.user_name, row.old_email, row.detail
                    )?;
                }
            }
            if outcome.findings.is_empty() {
                writeln!(out, "nothing found: the job may run")?;
            }
        }
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => out!("{}", String::from_utf8_lossy(&text))?,
    }
    Ok(())
}
