//! One module per command; `run_job` is the shared path of `run` and `demo`.

mod bench;
mod demo;
mod eval;
mod generate;
mod report;
mod run;
mod transforms;

use std::path::Path;

use anyhow::{Context, Result};
use crosswalk_store::Store;

use crate::cli::{Cli, Command};

pub(crate) fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::run(&cli.store, args),
        Command::Report(args) => report::report(&cli.store, args),
        Command::Jobs => report::jobs(&cli.store),
        Command::Explain(args) => report::explain(&cli.store, args),
        Command::Generate(args) => generate::generate(args),
        Command::Demo => demo::demo(&cli.store),
        Command::Bench(args) => bench::bench(args),
        Command::Transforms(command) => transforms::transforms(command),
        Command::Eval(args) => eval::eval(args),
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

pub(crate) async fn open_store(path: &Path) -> Result<Store> {
    Store::open(path)
        .await
        .with_context(|| format!("could not open the store {}", path.display()))
}

/// Unix seconds now: the CLI owns the clock, the core has none.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
