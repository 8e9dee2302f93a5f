//! One module per command; `run_job` is the shared path of `run` and `demo`. The commands
//! that read or write a store call the application layer (crosswalk-app) and print.

mod bench;
mod bench_webhooks;
pub(crate) mod check;
mod demo;
mod eval;
mod generate;
pub(crate) mod items;
pub(crate) mod peers;
pub(crate) mod plan;
mod report;
mod review;
mod run;
mod scim;
mod scope;
mod serve;
mod transforms;
mod webhook;

use std::path::Path;

use anyhow::Result;
use crosswalk_app::{App, Caller, SystemClock};
use crosswalk_core::{Directory, ExceptionRule, Policy};
use crosswalk_formats::{Imported, ReadOptions};

use crate::cli::{Cli, Command, StoreArgs};
pub(crate) use demo::DemoArgs;
pub(crate) use scim::ScimCommand;
pub(crate) use serve::{ServeArgs, TokenCommand};
pub(crate) use webhook::WebhookCommand;

pub(crate) fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check_command(args),
        Command::Plan(args) => plan::plan(args),
        Command::Report(args) => report::report(args),
        Command::Jobs(args) => report::jobs(args),
        Command::Explain(args) => report::explain(args),
        Command::Scope(command) => scope::scope(command),
        Command::Serve(args) => serve::serve(args),
        Command::Token(command) => serve::token(command),
        Command::History(args) => scope::history(args),
        Command::Changes(args) => scope::changes(args),
        Command::Items(args) => items::items(args),
        Command::Reattribution(args) => items::reattribution(args),
        Command::Purge(args) => scope::purge(args),
        Command::Review(command) => review::review(command),
        Command::Resolve(args) => review::resolve(args),
        Command::Generate(args) => generate::generate(args),
        Command::Demo(args) => demo::demo(&args),
        Command::Bench(args) => bench::bench(args),
        Command::Transforms(command) => transforms::transforms(command),
        Command::Eval(args) => eval::eval(args),
        Command::Webhook(command) => webhook::webhook(command),
        Command::Export(args) => peers::export(args),
        Command::Exceptions(command) => peers::exceptions(command),
        Command::Directory(command) => peers::directory(command),
        Command::Scim(command) => scim::scim(command),
    }
}

/// Store calls are async (sqlx); everything else is plain threads (rayon), so a small
/// current-thread runtime per command is all the CLI needs.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime needs no resources that can be missing")
        .block_on(future)
}

/// Reads the source and the destination directory side by side, one thread each: two files
/// on two cores take about the time of the larger (2–4 s less of a whole `run` at 1M
/// accounts; BENCHMARKS.md). A bad source is reported before a bad destination, as when they
/// were read one after the other.
pub(crate) fn read_directories(
    source: &Path,
    destination: &Path,
    options: ReadOptions,
) -> Result<(Imported, Imported)> {
    let mut steps = crate::progress::Steps::default();
    Ok(crosswalk_app::import::read_directories(
        source,
        destination,
        options,
        &mut |event| steps.show(event),
    )?)
}

/// The exception rules of `--exceptions`, or none when it is not given.
pub(crate) fn read_exceptions(path: Option<&Path>) -> Result<Vec<ExceptionRule>> {
    Ok(match path {
        Some(path) => crosswalk_formats::read_exceptions_file(path)?,
        None => Vec::new(),
    })
}

/// Refuses a policy whose `default_account` is not one account of the destination (only
/// the destination can tell), naming the policy file's line, before anything is stored.
pub(crate) fn check_policy(
    policy: &Policy,
    path: Option<&Path>,
    destination: &Directory,
) -> Result<()> {
    crosswalk_core::check_policy_against(destination, policy).map_err(|error| match path {
        Some(path) => anyhow::Error::new(crosswalk_formats::locate_policy_file_error(path, error)),
        None => anyhow::anyhow!("the policy: {error}"),
    })
}

/// The most source accounts `generate`, `eval --generate` and `bench` make.
pub(crate) const MAX_GENERATED_ACCOUNTS: usize = 20_000_000;
/// Memory a generated source account takes with its destination twin, at the most of the
/// three commands (measured: `generate` 0.9 KiB, `eval --generate` 1.7 KiB, `bench` 1.6 KiB).
const GENERATED_ACCOUNT_BYTES: u64 = 2 << 10;

/// Refuses a count of generated accounts this machine cannot hold, before any memory is
/// asked for (an allocation that fails aborts the process), saying the limit and why.
pub(crate) fn check_generated_accounts(accounts: usize) -> Result<()> {
    let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
    if accounts > MAX_GENERATED_ACCOUNTS {
        anyhow::bail!(
            "{accounts} accounts is more than Crosswalk generates: at most {MAX_GENERATED_ACCOUNTS}, because a generated pair \
             is held in memory at about {} KiB per account ({:.0} GiB at the limit)",
            GENERATED_ACCOUNT_BYTES >> 10,
            gib(MAX_GENERATED_ACCOUNTS as u64 * GENERATED_ACCOUNT_BYTES)
        );
    }
    let needed = accounts as u64 * GENERATED_ACCOUNT_BYTES;
    if let Some(available) = available_memory()
        && needed > available
    {
        anyhow::bail!(
            "{accounts} accounts need about {:.1} GiB of memory ({} KiB each), and this machine has {:.1} GiB available; \
             ask for at most {}",
            gib(needed),
            GENERATED_ACCOUNT_BYTES >> 10,
            gib(available),
            available / GENERATED_ACCOUNT_BYTES
        );
    }
    Ok(())
}

/// Memory available to new work (Linux's `MemAvailable`), where the system says.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Opens the application over the store `--store` or `--database` names.
pub(crate) async fn open_app(store: &StoreArgs) -> Result<App> {
    let database = store.database()?;
    Ok(App::open(&database, std::sync::Arc::new(SystemClock)).await?)
}

/// The person at the command line, as revisions record them: `cli:<login name>`.
pub(crate) fn caller() -> Caller {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    Caller::cli(&user)
}
