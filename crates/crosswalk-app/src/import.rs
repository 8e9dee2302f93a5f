//! Importing a job's inputs: the two directory files (read side by side), the policy and
//! the exception rules. Everything is read and checked before anything is stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crosswalk_core::{Directory, ExceptionRule, Policy};
use crosswalk_formats::{Imported, ReadOptions, SkippedRecord};
use crosswalk_plan::{Handling, handling_of_fixes};

use crate::check::{AppliedFixes, read_and_apply_fixes};

use crate::error::{AppError, AppResult};
use crate::progress::{Progress, ProgressSink};

/// Where a job's inputs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFiles {
    pub source: PathBuf,
    pub destination: PathBuf,
    /// None: the default policy.
    pub policy: Option<PathBuf>,
    /// None: the scope's own exception rules, as they stand.
    pub exceptions: Option<PathBuf>,
    /// An edited findings CSV (`crosswalk check --format csv`): its fixes are applied to
    /// the source, all or none, before the job resolves.
    pub fixes: Option<PathBuf>,
    pub skip_invalid: bool,
}

/// A job's inputs, read and checked.
#[derive(Debug)]
pub struct JobInput {
    pub source: Imported,
    pub source_origin: String,
    pub destination: Imported,
    pub destination_origin: String,
    pub policy: Policy,
    /// None when no exceptions file was given (the scope's own rules apply).
    pub exceptions: Option<Vec<ExceptionRule>>,
    /// What the fixes file did to the source (already applied to `source`), when one was given.
    pub fixes: Option<AppliedFixes>,
    /// How the fixes handle each identity they name (and each merge survivor): what a run
    /// records, and judges against the scope's earlier waves.
    pub handling: BTreeMap<String, Handling>,
}

impl JobInput {
    /// The records `--skip-invalid` left out, source first.
    pub fn skipped(&self) -> Vec<String> {
        self.source
            .skipped
            .iter()
            .chain(&self.destination.skipped)
            .map(SkippedRecord::to_string)
            .collect()
    }

    /// The job name used when none is given: `<source file> to <destination file>`.
    pub fn default_job_name(&self) -> String {
        format!(
            "{} to {}",
            self.source.directory.name, self.destination.directory.name
        )
    }
}

/// Reads and checks every input of a job. The policy and exceptions come first (small, and
/// their errors are quicker to fix), then both directories, then the policy against the
/// destination.
pub fn import(files: &InputFiles, progress: ProgressSink<'_>) -> AppResult<JobInput> {
    import_from(files, None, progress)
}

/// [`import`], reading the source from an LDAP server when `files.source` is an `ldap://` or
/// `ldaps://` URL and `ldap` is given. Only the CLI's `run` passes `ldap`: the server never
/// connects to a directory server an upload names.
pub fn import_from(
    files: &InputFiles,
    ldap: Option<&crosswalk_ldap::LdapOptions>,
    progress: ProgressSink<'_>,
) -> AppResult<JobInput> {
    let policy = read_policy(files.policy.as_deref())?;
    let exceptions = files
        .exceptions
        .as_deref()
        .map(read_exceptions)
        .transpose()?;
    let options = ReadOptions {
        skip_invalid: files.skip_invalid,
    };
    let (mut source, destination) =
        read_directories_from(&files.source, &files.destination, ldap, options, progress)?;
    check_policy(&policy, files.policy.as_deref(), &destination.directory)?;
    let (mut fixes, mut handling) = (None, BTreeMap::new());
    if let Some(path) = &files.fixes {
        let (outcome, chosen) = read_and_apply_fixes(path, &source.directory)?;
        fixes = Some(AppliedFixes::of(&outcome));
        handling = handling_of_fixes(&chosen);
        source.directory = outcome.directory;
    }
    Ok(JobInput {
        source,
        source_origin: shown(&files.source),
        destination,
        destination_origin: files.destination.display().to_string(),
        policy,
        exceptions,
        fixes,
        handling,
    })
}

/// The policy file, or the default policy.
pub fn read_policy(path: Option<&Path>) -> AppResult<Policy> {
    match path {
        Some(path) => crosswalk_formats::read_policy_file(path).map_err(AppError::input),
        None => Ok(Policy::default()),
    }
}

pub fn read_exceptions(path: &Path) -> AppResult<Vec<ExceptionRule>> {
    crosswalk_formats::read_exceptions_file(path).map_err(AppError::input)
}

/// Reads the source and the destination side by side, one thread each: two files on two
/// cores take about the time of the larger. A bad source is reported before a bad
/// destination, as when they were read one after the other.
pub fn read_directories(
    source: &Path,
    destination: &Path,
    options: ReadOptions,
    progress: ProgressSink<'_>,
) -> AppResult<(Imported, Imported)> {
    read_directories_from(source, destination, None, options, progress)
}

/// [`read_directories`], the source from an LDAP server when it is a URL and `ldap` is given.
fn read_directories_from(
    source: &Path,
    destination: &Path,
    ldap: Option<&crosswalk_ldap::LdapOptions>,
    options: ReadOptions,
    progress: ProgressSink<'_>,
) -> AppResult<(Imported, Imported)> {
    progress(Progress::Reading {
        source: shown(source),
        destination: destination.display().to_string(),
    });
    let (source, destination) = std::thread::scope(|scope| {
        let source = scope.spawn(|| read_source(source, ldap, options));
        let destination = scope.spawn(|| {
            crosswalk_formats::read_directory_file(destination, options).map_err(AppError::input)
        });
        (join(source), join(destination))
    });
    progress(Progress::Finished);
    Ok((source?, destination?))
}

/// A source as messages and the store show it: a file's path, or an LDAP URL without any
/// user or password it holds (such a URL is refused, but not printed on the way).
fn shown(source: &Path) -> String {
    let text = source.display().to_string();
    if crosswalk_ldap::is_ldap_url(&text) {
        crosswalk_ldap::redacted(&text)
    } else {
        text
    }
}

/// A directory file, or with `ldap` given and an `ldap://`/`ldaps://` source, the directory
/// read live from that server (`crosswalk-ldap`).
fn read_source(
    source: &Path,
    ldap: Option<&crosswalk_ldap::LdapOptions>,
    options: ReadOptions,
) -> AppResult<Imported> {
    let url = source
        .to_str()
        .filter(|text| crosswalk_ldap::is_ldap_url(text));
    match (url, ldap) {
        (Some(url), Some(ldap)) => {
            crosswalk_ldap::read_directory(url, ldap, options).map_err(|error| match error {
                crosswalk_ldap::LdapError::Format(error) => AppError::input(error),
                crosswalk_ldap::LdapError::Server { .. } => {
                    AppError::unavailable(error.to_string())
                }
                other => AppError::invalid(other.to_string()),
            })
        }
        (Some(url), None) => Err(AppError::invalid(format!(
            "{}: a directory server is read only by `crosswalk run --source ldap://...`; here give a file",
            crosswalk_ldap::redacted(url)
        ))),
        (None, _) => {
            crosswalk_formats::read_directory_file(source, options).map_err(AppError::input)
        }
    }
}

/// Refuses a policy whose `default_account` is not an account of the destination (only the
/// destination can tell), naming the policy file's line.
pub fn check_policy(
    policy: &Policy,
    path: Option<&Path>,
    destination: &Directory,
) -> AppResult<()> {
    crosswalk_core::check_policy_against(destination, policy).map_err(|error| match path {
        Some(path) => AppError::input(crosswalk_formats::locate_policy_file_error(path, error)),
        None => AppError::invalid(format!("the policy: {error}")),
    })
}

/// A reader's result; a panic in it is the caller's panic, not a lost error.
fn join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
