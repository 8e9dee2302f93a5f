//! Reads one directory, a file or a live LDAP server, and says how long it took: the import
//! alone, without resolving or storing (`crosswalk run` does both after this read).
//! BENCHMARKS.md's import rows come from it, run under `/usr/bin/time -v` for peak memory.
//!
//! ```text
//! cargo build --release -p crosswalk-ldap --example read_directory
//! target/release/examples/read_directory gen/source.ldif
//! target/release/examples/read_directory ldap://127.0.0.1:3890 --base dc=example,dc=com --credentials bind.txt
//! ```
//!
//! A file is read as `crosswalk run --source FILE` reads it (format by extension or content);
//! a server as `crosswalk run --source ldap://...` does, with the bind DN and password from
//! `--credentials FILE` (DN on line 1, password on line 2) or `CROSSWALK_LDAP_BIND_DN` and
//! `CROSSWALK_LDAP_PASSWORD`, never from the command line.

use std::process::ExitCode;
use std::time::Instant;

use crosswalk_formats::ReadOptions;
use crosswalk_ldap::LdapOptions;

// The allocator the crosswalk binary uses, so that time and memory are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(source) = args.next() else {
        eprintln!(
            "usage: read_directory FILE | ldap://HOST:PORT [--base DN] [--credentials FILE] [--page-size N]"
        );
        return ExitCode::from(2);
    };
    let mut options = LdapOptions::default();
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--base", Some(base)) => options.base = Some(base),
            ("--credentials", Some(file)) => options.credentials_file = Some(file.into()),
            ("--page-size", Some(n)) => match n.parse() {
                Ok(n) => options.page_size = Some(n),
                Err(_) => {
                    eprintln!("--page-size takes a number, not {n:?}");
                    return ExitCode::from(2);
                }
            },
            (flag, _) => {
                eprintln!("unknown or incomplete option {flag:?}");
                return ExitCode::from(2);
            }
        }
    }
    let started = Instant::now();
    let imported = if crosswalk_ldap::is_ldap_url(&source) {
        crosswalk_ldap::read_directory(&source, &options, ReadOptions::default())
            .map_err(|e| e.to_string())
    } else {
        crosswalk_formats::read_directory_file(&source, ReadOptions::default())
            .map_err(|e| e.to_string())
    };
    let seconds = started.elapsed().as_secs_f64();
    match imported {
        Ok(imported) => {
            let directory = &imported.directory;
            let records = directory.accounts.len() + directory.groups.len();
            let memberships: usize = directory.groups.iter().map(|g| g.members.len()).sum();
            println!(
                "{} accounts, {} groups, {memberships} memberships read from {} in {seconds:.2} s: {:.0} records/s",
                directory.accounts.len(),
                directory.groups.len(),
                crosswalk_ldap::redacted(&source),
                records as f64 / seconds
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
