//! `crosswalk demo`: the whole path on sample data compiled into the binary, so it works
//! from any folder on a fresh machine.

use anyhow::{Context, Result};
use crosswalk_app::{DEFAULT_SCOPE, JobInput, RunRequest};
use crosswalk_formats::{ReadOptions, read_directory_csv, read_exceptions, read_policy, read_scim};

use super::run::{print_outcome, run_job, store_hint};
use super::serve::{DemoServeArgs, serve_demo};
use crate::cli::{StoreArgs, SummaryFormat};

const SOURCE: &str = include_str!("../../../../samples/server-directory.json");
const DESTINATION: &str = include_str!("../../../../samples/cloud-directory.csv");
const POLICY: &str = include_str!("../../../../samples/policy.toml");
const EXCEPTIONS: &str = include_str!("../../../../samples/exceptions.csv");

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) serve: DemoServeArgs,
}

pub(crate) fn demo(args: &DemoArgs) -> Result<()> {
    let store = &args.store;
    let strict = ReadOptions::default();
    let input = JobInput {
        source: read_scim("samples/server-directory.json", SOURCE.as_bytes(), strict)
            .context("the bundled sample is invalid")?,
        source_origin: "samples/server-directory.json (bundled)".into(),
        destination: read_directory_csv(
            "samples/cloud-directory.csv",
            DESTINATION.as_bytes(),
            strict,
        )
        .context("the bundled sample is invalid")?,
        destination_origin: "samples/cloud-directory.csv (bundled)".into(),
        policy: read_policy("samples/policy.toml", POLICY)?,
        exceptions: Some(read_exceptions(
            "samples/exceptions.csv",
            EXCEPTIONS.as_bytes(),
        )?),
        fixes: None,
        handling: Default::default(),
    };
    outln!(
        "Crosswalk demo: a Jira Server directory (SCIM JSON) against an Atlassian Cloud directory (CSV)"
    )?;
    outln!(
        "with the policy and exceptions in samples/ (see samples/README.md for each planted case).\n"
    )?;
    super::items::demo_earlier_wave(store, &input)?;
    let request = RunRequest {
        scope: DEFAULT_SCOPE.to_string(),
        job: Some("demo".into()),
        input,
        force: false,
    };
    let outcome = run_job(store, request)?;
    print_outcome(&outcome, store, SummaryFormat::Text)?;
    let store = store_hint(store);
    outln!("\nthe full report: crosswalk report --job demo{store}")?;
    outln!("why one mapping was decided: crosswalk explain --job demo{store} <source id>")?;
    outln!("the suggestions to review: crosswalk review list{store}")?;
    serve_demo(&args.store, DEFAULT_SCOPE, &args.serve)
}
