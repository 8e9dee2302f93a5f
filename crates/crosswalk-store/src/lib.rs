//! Crosswalk's durable store: directories, jobs, runs, mappings, evidence and candidates.
//!
//! Callers use [`Store`] and the [`MappingStore`] trait; the SQL lives in the backend
//! modules ([`sqlite`] today). Everything in this file is dialect-neutral, so a PostgreSQL
//! backend can be added as another [`Store`] variant without changing callers.
//!
//! ```ignore
//! use crosswalk_store::{MappingStore, Store};
//! let store = Store::open("crosswalk.db").await?;
//! let rows = store.report(&ReportQuery::default()).await?;
//! ```

use std::future::Future;
use std::path::Path;

use crosswalk_core::{
    Candidate, Confidence, Directory, DirectoryError, Flags, IdentityKind, Mapping, ReportRow,
    Resolution, Summary,
};
use serde::{Deserialize, Serialize};

mod error;
pub mod scope;
pub mod sqlite;

pub use error::StoreError;
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A progress callback: called with the number of rows written so far.
pub type Progress<'a> = Option<&'a mut (dyn FnMut(u64) + Send)>;

/// A stored directory snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DirectoryId(pub i64);

/// One run of a job (every `crosswalk run` makes a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl std::fmt::Display for DirectoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the store records about a directory besides its identities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryMeta {
    /// Free text: `source`, `destination`, `jira-server`...
    pub label: String,
    /// Where it was imported from (a file path), quoted in listings.
    pub origin: String,
    /// Unix seconds, given by the caller (the core has no clock).
    pub imported_at: i64,
}

/// A stored directory, without its identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryInfo {
    pub id: DirectoryId,
    pub name: String,
    pub label: String,
    pub origin: String,
    pub imported_at: i64,
    pub accounts: u64,
    pub groups: u64,
}

/// Everything one `crosswalk run` produced, saved by [`MappingStore::save_run`].
#[derive(Debug, Clone, Copy)]
pub struct NewRun<'a> {
    /// The job's name; the job is created by its first run.
    pub job: &'a str,
    /// The stored ids of `source` and `destination` (from [`MappingStore::save_directory`]).
    pub source_directory: DirectoryId,
    pub destination_directory: DirectoryId,
    /// The policy the run used, as JSON.
    pub policy_json: &'a str,
    /// The exception rules the run used, as JSON.
    pub exceptions_json: &'a str,
    /// Unix seconds, given by the caller.
    pub started_at: i64,
    pub source: &'a Directory,
    pub destination: &'a Directory,
    pub mappings: &'a [Mapping],
    pub summary: &'a Summary,
    /// Problems that belong to no single mapping.
    pub warnings: &'a [String],
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: RunId,
    pub job: String,
    /// 1 for the job's first run, 2 for the next...
    pub number: u32,
    pub source_directory: DirectoryId,
    pub destination_directory: DirectoryId,
    pub started_at: i64,
    pub policy_json: String,
    pub exceptions_json: String,
    pub warnings: Vec<String>,
    pub summary: Summary,
    pub mappings: u64,
}

/// A job and its latest run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub name: String,
    pub runs: u32,
    pub latest: RunInfo,
}

/// Which report rows to read. The default reads every row of the latest run of every job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// `None`: every job. With `run` unset, the job's latest run.
    pub job: Option<String>,
    /// A specific run; `job`, if also given, must be that run's job.
    pub run: Option<RunId>,
    /// Empty: every resolution.
    pub resolutions: Vec<Resolution>,
    pub kind: Option<IdentityKind>,
    /// Only rows with at least one flag: what a reviewer must look at.
    #[serde(default)]
    pub flagged: bool,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// A report row with what its 12 columns leave out: the mapping's flags and confidence.
/// The JSON report is this; the CSV keeps the 12 columns of [`ReportRow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportEntry {
    #[serde(flatten)]
    pub row: ReportRow,
    /// In the engine's order; empty when nothing is odd.
    pub flags: Flags,
    /// From 0 to 1: on a link, how strongly the evidence says the two are one; otherwise how
    /// sure the engine is that no destination identity it found is this one.
    pub confidence: Confidence,
}

impl ReportQuery {
    pub fn job(name: impl Into<String>) -> Self {
        ReportQuery {
            job: Some(name.into()),
            ..Default::default()
        }
    }

    pub fn run(run: RunId) -> Self {
        ReportQuery {
            run: Some(run),
            ..Default::default()
        }
    }
}

/// A candidate with the destination identity it names, as it was when the run was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateDetails {
    pub candidate: Candidate,
    pub destination_id: String,
    /// Empty for groups.
    pub destination_username: String,
    /// The email for accounts, the name for groups.
    pub destination_name: String,
}

/// One mapping with everything that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingDetails {
    pub run: RunId,
    /// The mapping as the engine returned it: target, evidence, candidates, flags.
    pub mapping: Mapping,
    /// Its report row.
    pub row: ReportRow,
    /// `mapping.candidates` with the destination identities they name, in the same order.
    pub candidates: Vec<CandidateDetails>,
}

/// The store's operations. Implemented by each backend and by [`Store`], which callers use.
pub trait MappingStore: Send + Sync {
    /// Where the store lives (a file path, or `:memory:`), for messages.
    fn location(&self) -> &str;

    /// Saves a directory with all its identities in one transaction and returns its id.
    /// Saving the same directory twice makes two snapshots. `progress` gets the number of
    /// identities (accounts, then groups) written so far.
    fn save_directory(
        &self,
        directory: &Directory,
        meta: &DirectoryMeta,
        progress: Progress<'_>,
    ) -> impl Future<Output = Result<DirectoryId>> + Send;

    /// Every stored directory, oldest first.
    fn directories(&self) -> impl Future<Output = Result<Vec<DirectoryInfo>>> + Send;

    fn directory(&self, id: DirectoryId) -> impl Future<Output = Result<DirectoryInfo>> + Send;

    /// The directory exactly as it was saved.
    fn load_directory(&self, id: DirectoryId) -> impl Future<Output = Result<Directory>> + Send;

    /// Saves a run, its mappings, evidence and candidates in one transaction: on any error
    /// nothing is written. Creates the job on its first run; earlier runs are kept.
    /// `progress` gets the number of mappings written so far.
    fn save_run(
        &self,
        run: &NewRun<'_>,
        progress: Progress<'_>,
    ) -> impl Future<Output = Result<RunId>> + Send;

    /// Every job with its latest run, by name.
    fn jobs(&self) -> impl Future<Output = Result<Vec<JobInfo>>> + Send;

    /// Every run (of one job, or of all jobs), by job name then run number.
    fn runs(&self, job: Option<&str>) -> impl Future<Output = Result<Vec<RunInfo>>> + Send;

    fn run(&self, id: RunId) -> impl Future<Output = Result<RunInfo>> + Send;

    fn latest_run(&self, job: &str) -> impl Future<Output = Result<RunInfo>> + Send;

    /// Report rows ordered by job name, type (account, then group), source id.
    fn report(&self, query: &ReportQuery) -> impl Future<Output = Result<Vec<ReportRow>>> + Send {
        async move {
            let mut rows = Vec::new();
            self.report_each(query, |row| {
                rows.push(row);
                Ok::<(), StoreError>(())
            })
            .await?;
            Ok(rows)
        }
    }

    /// Like [`MappingStore::report`], handing rows to `sink` one at a time as they are read,
    /// so an export of millions of rows runs in constant memory. Stops at the first error
    /// `sink` returns. Returns the number of rows handed over.
    fn report_each<F, E>(
        &self,
        query: &ReportQuery,
        mut sink: F,
    ) -> impl Future<Output = Result<u64, E>> + Send
    where
        F: FnMut(ReportRow) -> Result<(), E> + Send,
        E: From<StoreError> + Send,
    {
        self.report_entries_each(query, move |entry| sink(entry.row))
    }

    /// The report's rows with their flags and confidence, in the report's order.
    fn report_entries(
        &self,
        query: &ReportQuery,
    ) -> impl Future<Output = Result<Vec<ReportEntry>>> + Send {
        async move {
            let mut entries = Vec::new();
            self.report_entries_each(query, |entry| {
                entries.push(entry);
                Ok::<(), StoreError>(())
            })
            .await?;
            Ok(entries)
        }
    }

    /// Like [`MappingStore::report_each`], with each row's flags and confidence.
    fn report_entries_each<F, E>(
        &self,
        query: &ReportQuery,
        sink: F,
    ) -> impl Future<Output = Result<u64, E>> + Send
    where
        F: FnMut(ReportEntry) -> Result<(), E> + Send,
        E: From<StoreError> + Send;

    /// How many rows [`MappingStore::report`] would return, ignoring `limit` and `offset`.
    fn report_count(&self, query: &ReportQuery) -> impl Future<Output = Result<u64>> + Send;

    /// The mapping of one source identity in a run, with its evidence, candidates and flags.
    fn mapping_details(
        &self,
        run: RunId,
        kind: IdentityKind,
        source_id: &str,
    ) -> impl Future<Output = Result<MappingDetails>> + Send;

    /// Every mapping of a run, in the order they were saved.
    fn load_mappings(&self, run: RunId) -> impl Future<Output = Result<Vec<Mapping>>> + Send;
}

/// The store callers use. Today always SQLite; a PostgreSQL backend becomes another variant.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteStore),
}

impl Store {
    /// Opens (creating it if missing) the store file at `path` and brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(path).await?),
        })
    }

    /// A store that lives in memory and disappears with it, for tests.
    pub async fn open_in_memory() -> Result<Store> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open_in_memory().await?),
        })
    }

    /// The file behind the store, if it has one.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(s) => s.path(),
        }
    }

    /// Closes every connection, checkpointing the write-ahead log into the file.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
        }
    }
}

impl From<SqliteStore> for Store {
    fn from(store: SqliteStore) -> Self {
        Store {
            backend: Backend::Sqlite(store),
        }
    }
}

impl MappingStore for Store {
    fn location(&self) -> &str {
        match &self.backend {
            Backend::Sqlite(s) => s.location(),
        }
    }

    async fn save_directory(
        &self,
        directory: &Directory,
        meta: &DirectoryMeta,
        progress: Progress<'_>,
    ) -> Result<DirectoryId> {
        match &self.backend {
            Backend::Sqlite(s) => s.save_directory(directory, meta, progress).await,
        }
    }

    async fn directories(&self) -> Result<Vec<DirectoryInfo>> {
        match &self.backend {
            Backend::Sqlite(s) => s.directories().await,
        }
    }

    async fn directory(&self, id: DirectoryId) -> Result<DirectoryInfo> {
        match &self.backend {
            Backend::Sqlite(s) => s.directory(id).await,
        }
    }

    async fn load_directory(&self, id: DirectoryId) -> Result<Directory> {
        match &self.backend {
            Backend::Sqlite(s) => s.load_directory(id).await,
        }
    }

    async fn save_run(&self, run: &NewRun<'_>, progress: Progress<'_>) -> Result<RunId> {
        match &self.backend {
            Backend::Sqlite(s) => s.save_run(run, progress).await,
        }
    }

    async fn jobs(&self) -> Result<Vec<JobInfo>> {
        match &self.backend {
            Backend::Sqlite(s) => s.jobs().await,
        }
    }

    async fn runs(&self, job: Option<&str>) -> Result<Vec<RunInfo>> {
        match &self.backend {
            Backend::Sqlite(s) => s.runs(job).await,
        }
    }

    async fn run(&self, id: RunId) -> Result<RunInfo> {
        match &self.backend {
            Backend::Sqlite(s) => s.run(id).await,
        }
    }

    async fn latest_run(&self, job: &str) -> Result<RunInfo> {
        match &self.backend {
            Backend::Sqlite(s) => s.latest_run(job).await,
        }
    }

    async fn report_entries_each<F, E>(&self, query: &ReportQuery, sink: F) -> Result<u64, E>
    where
        F: FnMut(ReportEntry) -> Result<(), E> + Send,
        E: From<StoreError> + Send,
    {
        match &self.backend {
            Backend::Sqlite(s) => s.report_entries_each(query, sink).await,
        }
    }

    async fn report_count(&self, query: &ReportQuery) -> Result<u64> {
        match &self.backend {
            Backend::Sqlite(s) => s.report_count(query).await,
        }
    }

    async fn mapping_details(
        &self,
        run: RunId,
        kind: IdentityKind,
        source_id: &str,
    ) -> Result<MappingDetails> {
        match &self.backend {
            Backend::Sqlite(s) => s.mapping_details(run, kind, source_id).await,
        }
    }

    async fn load_mappings(&self, run: RunId) -> Result<Vec<Mapping>> {
        match &self.backend {
            Backend::Sqlite(s) => s.load_mappings(run).await,
        }
    }
}

/// Checks a mapping against the directories it indexes, so saving never panics on bad input.
/// `position` is the mapping's place in the run's list, quoted in the error.
pub(crate) fn check_mapping(position: usize, run: &NewRun<'_>, mapping: &Mapping) -> Result<()> {
    let len = |directory: &Directory| match mapping.kind {
        IdentityKind::Account => directory.accounts.len(),
        IdentityKind::Group => directory.groups.len(),
    };
    let out_of_range =
        |side: &'static str, index: u32, directory: &Directory| StoreError::IndexOutOfRange {
            position,
            side,
            kind: mapping.kind,
            index,
            directory: directory.name.clone(),
            len: len(directory),
        };
    if mapping.source as usize >= len(run.source) {
        return Err(out_of_range("source", mapping.source, run.source));
    }
    if let Some(index) = mapping.destination_index()
        && index as usize >= len(run.destination)
    {
        return Err(out_of_range("target", index, run.destination));
    }
    for candidate in &mapping.candidates {
        if candidate.index as usize >= len(run.destination) {
            return Err(out_of_range("candidate", candidate.index, run.destination));
        }
    }
    Ok(())
}

/// The directory check, as a store error.
pub(crate) fn check_directory(directory: &Directory) -> Result<()> {
    directory
        .check()
        .map_err(|source: DirectoryError| StoreError::InvalidDirectory {
            name: directory.name.clone(),
            source,
        })
}

/// The order mappings are written in: the report's (type, source id). Checks source indexes
/// (needed to sort) and that no source identity has two mappings.
pub(crate) fn report_order(run: &NewRun<'_>) -> Result<Vec<usize>> {
    let mappings = run.mappings;
    for (position, mapping) in mappings.iter().enumerate() {
        let len = match mapping.kind {
            IdentityKind::Account => run.source.accounts.len(),
            IdentityKind::Group => run.source.groups.len(),
        };
        if mapping.source as usize >= len {
            return Err(StoreError::IndexOutOfRange {
                position,
                side: "source",
                kind: mapping.kind,
                index: mapping.source,
                directory: run.source.name.clone(),
                len,
            });
        }
    }
    let source_id = |position: usize| -> (IdentityKind, &str) {
        let mapping = &mappings[position];
        match mapping.kind {
            IdentityKind::Account => (
                mapping.kind,
                &run.source.accounts[mapping.source as usize].id,
            ),
            IdentityKind::Group => (mapping.kind, &run.source.groups[mapping.source as usize].id),
        }
    };
    let mut order: Vec<usize> = (0..mappings.len()).collect();
    order.sort_unstable_by(|&a, &b| source_id(a).cmp(&source_id(b)));
    for pair in order.windows(2) {
        if source_id(pair[0]) == source_id(pair[1]) {
            let (kind, id) = source_id(pair[0]);
            return Err(StoreError::DuplicateMapping {
                first: pair[0].min(pair[1]),
                second: pair[0].max(pair[1]),
                kind,
                source_id: id.to_string(),
            });
        }
    }
    Ok(order)
}

/// The (id, username, name) the report shows for a destination identity.
pub(crate) fn destination_side(
    directory: &Directory,
    kind: IdentityKind,
    index: u32,
) -> (&str, &str, &str) {
    match kind {
        IdentityKind::Account => {
            let a = directory.account(index);
            (
                &a.id,
                a.username.as_deref().unwrap_or(""),
                a.email.as_deref().unwrap_or(""),
            )
        }
        IdentityKind::Group => {
            let g = directory.group(index);
            (&g.id, "", &g.name)
        }
    }
}
