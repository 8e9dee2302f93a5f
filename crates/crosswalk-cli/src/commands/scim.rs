//! `crosswalk scim conflicts|accept|reject`: the group conflicts the SCIM service holds (a
//! provider pushed a group whose name matches a migrated group, with other members) and the
//! admin's decision on each.

use anyhow::Result;
use clap::{Args, Subcommand};
use crosswalk_app::{ConflictDecision, GroupConflict};

use super::report::check_exists;
use super::{block_on, caller, open_app};
use crate::cli::{ScopeArg, StoreArgs, SummaryFormat, shell_word};

#[derive(Debug, Subcommand)]
pub(crate) enum ScimCommand {
    /// List the held group conflicts: the migrated members, the provider's, and the difference.
    #[command(after_help = "Example:\n  crosswalk scim conflicts --scope acme")]
    Conflicts(ConflictsArgs),
    /// Apply a held group conflict: the provider's members replace the migrated ones.
    #[command(after_help = "Example:\n  crosswalk scim accept --scope acme c1")]
    Accept(DecideArgs),
    /// Keep the migrated members: the provider's pushes to the group are answered but change nothing.
    #[command(after_help = "Example:\n  crosswalk scim reject --scope acme c1")]
    Reject(DecideArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConflictsArgs {
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DecideArgs {
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    /// The group's id (the SCIM id `crosswalk scim conflicts` lists).
    #[arg(value_name = "GROUP_ID")]
    pub(crate) group: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

fn print(conflict: &GroupConflict) -> Result<()> {
    outln!(
        "group {} {:?}: {} migrated members, {} pushed",
        conflict.group_id,
        conflict.display_name,
        conflict.current.len(),
        conflict.proposed.len()
    )?;
    if !conflict.added.is_empty() {
        outln!("  + {}", conflict.added.join(" "))?;
    }
    if !conflict.removed.is_empty() {
        outln!("  - {}", conflict.removed.join(" "))?;
    }
    Ok(())
}

pub(crate) fn scim(command: ScimCommand) -> Result<()> {
    match command {
        ScimCommand::Conflicts(args) => {
            check_exists(&args.store)?;
            let scope = &args.scope.scope;
            let found = block_on(async {
                let app = open_app(&args.store).await?;
                let found = app.scim_conflicts(&caller(), scope).await;
                app.close().await;
                anyhow::Ok(found?)
            })?;
            if args.format == SummaryFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&found)?)?;
                return Ok(());
            }
            if found.is_empty() {
                outln!("no group conflicts held in scope {scope:?}")?;
                return Ok(());
            }
            for conflict in &found {
                print(conflict)?;
            }
            outln!(
                "next: crosswalk scim accept --scope {} GROUP_ID, or crosswalk scim reject --scope {} GROUP_ID",
                shell_word(scope),
                shell_word(scope)
            )?;
            Ok(())
        }
        ScimCommand::Accept(args) => decide(args, ConflictDecision::Accept),
        ScimCommand::Reject(args) => decide(args, ConflictDecision::Reject),
    }
}

fn decide(args: DecideArgs, decision: ConflictDecision) -> Result<()> {
    check_exists(&args.store)?;
    let scope = &args.scope.scope;
    let conflict = block_on(async {
        let app = open_app(&args.store).await?;
        let settled = app
            .scim_settle_conflict(&caller(), scope, &args.group, decision)
            .await;
        app.close().await;
        anyhow::Ok(settled?)
    })?;
    let word = if decision == ConflictDecision::Accept {
        "accepted: the provider's members are the group's"
    } else {
        "rejected: the migrated members stay"
    };
    outln!(
        "group {} {:?} {word}",
        conflict.group_id,
        conflict.display_name
    )?;
    Ok(())
}
