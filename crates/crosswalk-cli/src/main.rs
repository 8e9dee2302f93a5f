//! The `crosswalk` binary: parses arguments and hands each command to `commands`.
//! It holds no matching logic; see ARCHITECTURE.md.

// First: its macros are used by the modules after it.
#[macro_use]
mod output;
mod cli;
mod commands;
mod progress;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(message) = cli::misplaced_store_option(&args) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let cli = cli::Cli::parse_from(args);
    match commands::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `crosswalk eval | head -1`: the reader had what it wanted.
        Err(error) if output::reader_gone(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
