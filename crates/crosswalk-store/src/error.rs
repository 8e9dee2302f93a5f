//! What can go wrong, phrased so the reader knows what to do next.

use crosswalk_core::{DirectoryError, IdentityKind};

use crate::{DirectoryId, RunId};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    // The causes of this and `Migrate` are part of the message, and so deliberately not
    // `source()`s: a reporter that prints the chain (`{:#}`) would say them twice.
    #[error("cannot {operation} in store {location}: {cause}")]
    Database {
        operation: &'static str,
        location: String,
        cause: sqlx::Error,
    },

    #[error(
        "cannot open store file {location}: {detail}; check that the path names a file in a folder that exists and that you may write to it"
    )]
    CannotOpen { location: String, detail: String },

    #[error(
        "{location} is not a Crosswalk store ({detail}); pass the path of a store file, or a path where a new one can be created"
    )]
    NotAStore { location: String, detail: String },

    #[error(
        "store file {location} was written by a newer Crosswalk (migration {version} unknown to this version); upgrade Crosswalk to use it"
    )]
    NewerStore { location: String, version: i64 },

    #[error(
        "store file {location}: migration {version} differs from the one this Crosswalk applies; the file was changed by another build of Crosswalk or by hand"
    )]
    ChangedMigration { location: String, version: i64 },

    #[error("cannot bring store file {location} up to date: {cause}")]
    Migrate {
        location: String,
        cause: sqlx::migrate::MigrateError,
    },

    #[error(
        "no job named {name:?}; {}",
        list_or_none("jobs in this store", known, "no job has been run yet")
    )]
    NoSuchJob { name: String, known: Vec<String> },

    #[error(
        "no run {run} in this store; {}",
        list_or_none("runs", known, "nothing has been run yet")
    )]
    NoSuchRun { run: RunId, known: Vec<String> },

    #[error("run {run} belongs to job {actual:?}, not {asked:?}; leave out the job or the run")]
    RunNotInJob {
        run: RunId,
        asked: String,
        actual: String,
    },

    #[error(
        "no directory {id} in this store; {}",
        list_or_none("directories", known, "no directory has been imported yet")
    )]
    NoSuchDirectory { id: DirectoryId, known: Vec<String> },

    #[error(
        "directory {id} is stored as {stored}, but the run passed {given}; pass the directory that was saved under that id"
    )]
    DirectoryMismatch {
        id: DirectoryId,
        stored: String,
        given: String,
    },

    /// `number` is the run's number within its job (1 for its first run), as listings say it.
    #[error(
        "run {number} of job {job:?} has no {kind} mapping for source id {source_id:?}; `crosswalk report --job {job:?}` lists the source ids"
    )]
    NoSuchMapping {
        job: String,
        number: u32,
        kind: IdentityKind,
        source_id: String,
    },

    #[error(
        "mapping {position}: {side} {kind} index {index} is out of range; directory {directory:?} has {len} {kind}s. Nothing was saved"
    )]
    IndexOutOfRange {
        position: usize,
        side: &'static str,
        kind: IdentityKind,
        index: u32,
        directory: String,
        len: usize,
    },

    #[error(
        "mappings {first} and {second} are both for source {kind} {source_id:?}; a run holds one mapping per source identity. Nothing was saved"
    )]
    DuplicateMapping {
        first: usize,
        second: usize,
        kind: IdentityKind,
        source_id: String,
    },

    #[error("directory {name:?} cannot be stored: {source}")]
    InvalidDirectory {
        name: String,
        #[source]
        source: DirectoryError,
    },

    #[error("the {what} is not valid JSON: {source}")]
    InvalidJson {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "store {location} holds an unreadable {what}: {detail}; the file was changed outside Crosswalk"
    )]
    Corrupt {
        location: String,
        what: String,
        detail: String,
    },
}

fn list_or_none(label: &str, known: &[String], none: &str) -> String {
    const SHOWN: usize = 20;
    if known.is_empty() {
        return none.to_string();
    }
    let mut text = format!(
        "{label}: {}",
        known
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if known.len() > SHOWN {
        text.push_str(&format!(" and {} more", known.len() - SHOWN));
    }
    text
}
