//! `crosswalk transforms preview`: what the policy's transforms do to the real directories,
//! before anything runs. Reads exactly as `run` does; never opens the store.

use anyhow::Result;
use crosswalk_core::TransformPreview;
use crosswalk_formats::{ReadOptions, SkippedRecord};
use serde::Serialize;

use super::{check_policy, read_directories, read_exceptions};
use crate::cli::{SummaryFormat, TransformsCommand, TransformsPreviewArgs};
use crate::progress;

pub(crate) fn transforms(command: TransformsCommand) -> Result<()> {
    match command {
        TransformsCommand::Preview(args) => preview(args),
    }
}

#[derive(Serialize)]
struct PreviewOutput<'a> {
    #[serde(flatten)]
    preview: &'a TransformPreview,
    /// Invalid records left out (`--skip-invalid`).
    skipped: Vec<String>,
}

fn preview(args: TransformsPreviewArgs) -> Result<()> {
    let options = ReadOptions {
        skip_invalid: args.skip_invalid,
    };
    let policy = crosswalk_formats::read_policy_file(&args.policy)?;
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let (source, destination) = read_directories(&args.source, &args.destination, options)?;
    check_policy(&policy, Some(&args.policy), &destination.directory)?;
    let spinner = progress::spinner(format!(
        "previewing {} transforms on {} source and {} destination accounts",
        policy.transforms.len(),
        source.directory.accounts.len(),
        destination.directory.accounts.len()
    ));
    let preview = crosswalk_core::preview(
        &source.directory,
        &destination.directory,
        &policy,
        &exceptions,
    );
    spinner.finish_and_clear();
    let skipped: Vec<String> = source
        .skipped
        .iter()
        .chain(&destination.skipped)
        .map(SkippedRecord::to_string)
        .collect();
    match args.format {
        SummaryFormat::Json => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&PreviewOutput {
                    preview: &preview,
                    skipped
                })?
            )?;
        }
        SummaryFormat::Text => {
            out!("{preview}")?;
            if !skipped.is_empty() {
                outln!("{} invalid records were skipped:", skipped.len())?;
                for record in &skipped {
                    outln!("  {record}")?;
                }
            }
            if !policy.transforms.is_empty() {
                let exceptions = args
                    .exceptions
                    .as_ref()
                    .map(|path| format!(" --exceptions {}", path.display()))
                    .unwrap_or_default();
                outln!(
                    "next: crosswalk run --source {} --destination {} --policy {}{exceptions}",
                    args.source.display(),
                    args.destination.display(),
                    args.policy.display()
                )?;
            }
        }
    }
    Ok(())
}
