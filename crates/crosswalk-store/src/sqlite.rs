//! The SQLite backend: one file, WAL mode, foreign keys on, schema from `migrations/`.
//!
//! Bulk writes go through [`Batch`]: multi-row `INSERT`s whose full-size statement is
//! prepared once per connection and reused, all inside one `BEGIN IMMEDIATE` transaction.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crosswalk_core::{
    Account, Candidate, CompactString, Confidence, Directory, Evidence, Group, IdentityKind,
    Mapping, ReportRow, Resolution, Summary, Target,
};
use futures_util::TryStreamExt;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{
    Arguments, AssertSqlSafe, Connection, Encode, QueryBuilder, Row, SqlSafeStr, Sqlite,
    SqlitePool, Type,
};

use crate::{
    CandidateDetails, DirectoryId, DirectoryInfo, DirectoryMeta, JobInfo, MappingDetails,
    MappingStore, NewRun, Progress, ReportEntry, ReportQuery, Result, RunId, RunInfo, StoreError,
    check_directory, check_mapping, destination_side, report_order,
};

/// The schema, embedded: `(version, description, sql)`, one entry per file in `migrations/`
/// (a test checks that they agree). Built the way `sqlx::migrate!()` builds them, so the
/// checksums recorded in a store are the same either way.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "scores", include_str!("../migrations/0002_scores.sql")),
];

/// What `Migrator::run` does, on a connection already inside the caller's transaction (each
/// migration's own transaction becomes a savepoint), through the `Migrate` trait: its future
/// is `Send`, where `Migrator::run`'s is not general enough to be spawned.
async fn apply_missing_migrations(
    conn: &mut SqliteConnection,
) -> std::result::Result<(), MigrateError> {
    const TABLE: &str = "_sqlx_migrations";
    let migrator = migrator();
    conn.ensure_migrations_table(TABLE).await?;
    if let Some(version) = conn.dirty_version(TABLE).await? {
        return Err(MigrateError::Dirty(version));
    }
    let applied: HashMap<i64, _> = conn
        .list_applied_migrations(TABLE)
        .await?
        .into_iter()
        .map(|m| (m.version, m.checksum))
        .collect();
    if let Some(&unknown) = applied
        .keys()
        .filter(|version| !migrator.iter().any(|m| m.version == **version))
        .min()
    {
        return Err(MigrateError::VersionMissing(unknown));
    }
    for migration in migrator.iter() {
        match applied.get(&migration.version) {
            Some(checksum) if checksum.as_ref() != migration.checksum.as_ref() => {
                return Err(MigrateError::VersionMismatch(migration.version));
            }
            Some(_) => {}
            None => {
                conn.apply(TABLE, migration).await?;
            }
        }
    }
    Ok(())
}

/// The scope store's migrations table: a file that has it is a Crosswalk store whose
/// snapshot tables are not there yet.
const SCOPE_MIGRATIONS_TABLE: &str = "_crosswalk_scope_migrations";

#[derive(Debug, PartialEq, Eq)]
enum SchemaState {
    UpToDate,
    NeedsMigrator,
}

/// SQLite's default limit on bind parameters per statement.
const MAX_BIND_PARAMETERS: usize = 32766;
/// Rows per multi-row INSERT, whatever the column count.
const MAX_ROWS_PER_INSERT: usize = 2000;

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// A store in one SQLite file (or in memory).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    location: Arc<str>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens the store file at `path`, creating it if missing, and applies the schema
    /// migrations it lacks. Refuses files that are not SQLite, SQLite databases of other
    /// programs, and stores written by a newer Crosswalk.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let location: Arc<str> = path.display().to_string().into();
        if path.is_dir() {
            return Err(StoreError::CannotOpen {
                location: location.to_string(),
                detail: "it is a folder".into(),
            });
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // 64 MiB of page cache per connection: index inserts for a million rows stay in memory.
            .pragma("cache_size", "-65536")
            // After a big save is checkpointed, shrink the write-ahead log back to 64 MiB.
            .pragma("journal_size_limit", "67108864");
        let pool = connect_file(SqlitePoolOptions::new().max_connections(4), options)
            .await
            .map_err(|error| open_error(&location, error))?;
        let store = SqliteStore {
            pool,
            location,
            path: Some(path),
        };
        store.prepare().await?;
        Ok(store)
    }

    /// A private in-memory store, for tests. It lives as long as this value (and its clones).
    pub async fn open_in_memory() -> Result<SqliteStore> {
        let location: Arc<str> = ":memory:".into();
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|error| open_error(&location, error))?
            .foreign_keys(true)
            .pragma("cache_size", "-65536");
        // One connection that never closes: the database lives exactly as long as it does.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|error| open_error(&location, error))?;
        let store = SqliteStore {
            pool,
            location,
            path: None,
        };
        store.prepare().await?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes every connection; the last one checkpoints the write-ahead log into the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn db(&self, operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError + use<> {
        let location = self.location.clone();
        move |cause| StoreError::Database {
            operation,
            location: location.to_string(),
            cause,
        }
    }

    fn corrupt(&self, what: impl Into<String>, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            location: self.location.to_string(),
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    /// Brings the schema up to date, safely when several processes open a new store at once.
    ///
    /// sqlx's migrator does not lock SQLite (its `lock` is a no-op there): two processes that
    /// both read "nothing applied" both ran migration 1, and the second failed ("table already
    /// exists"). So a store that lacks a migration is migrated inside one `BEGIN IMMEDIATE`
    /// transaction (the write lock, waited for through the busy timeout), which re-reads what
    /// is applied once it holds the lock: whoever comes second finds the work done. A store
    /// already up to date is only read, so opening one never waits behind a long write.
    async fn prepare(&self) -> Result<()> {
        let location = self.location.to_string();
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|error| open_error(&location, error))?;
        if self.schema_state(&mut conn).await? == SchemaState::UpToDate {
            return Ok(());
        }
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|error| open_error(&location, error))?;
        // Read again under the lock: another process may have migrated meanwhile.
        if self.schema_state(&mut tx).await? == SchemaState::UpToDate {
            return Ok(());
        }
        apply_missing_migrations(&mut tx)
            .await
            .map_err(|error| match error {
                MigrateError::VersionMissing(version) => StoreError::NewerStore {
                    location: location.clone(),
                    version,
                },
                MigrateError::VersionMismatch(version) => StoreError::ChangedMigration {
                    location: location.clone(),
                    version,
                },
                MigrateError::Execute(error) => open_error(&location, error),
                cause => StoreError::Migrate {
                    location: location.clone(),
                    cause,
                },
            })?;
        tx.commit()
            .await
            .map_err(|error| open_error(&location, error))
    }

    /// Whether the schema is exactly this Crosswalk's. Refuses another program's database.
    /// Anything else (new file, missing, unknown or changed migrations) is `NeedsMigrator`:
    /// the migrator then applies what is missing or says what is wrong.
    async fn schema_state(&self, conn: &mut SqliteConnection) -> Result<SchemaState> {
        let location = self.location.to_string();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|error| open_error(&location, error))?;
        if !tables.iter().any(|t| t == "_sqlx_migrations") {
            // A new file, or one the scope store began (it shares the file, with its own tables).
            if tables.is_empty() || tables.iter().any(|t| t == SCOPE_MIGRATIONS_TABLE) {
                return Ok(SchemaState::NeedsMigrator);
            }
            return Err(StoreError::NotAStore {
                location,
                detail: format!(
                    "an SQLite database of another program, with tables {}",
                    tables.join(", ")
                ),
            });
        }
        let applied: Vec<(i64, Vec<u8>, bool)> = sqlx::query_as(
            "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|error| open_error(&location, error))?;
        let expected = migrator();
        let up_to_date = applied.len() == expected.iter().count()
            && applied.iter().zip(expected.iter()).all(
                |((version, checksum, success), migration)| {
                    *success
                        && *version == migration.version
                        && checksum.as_slice() == &*migration.checksum
                },
            );
        Ok(if up_to_date {
            SchemaState::UpToDate
        } else {
            SchemaState::NeedsMigrator
        })
    }

    async fn known_jobs(&self, conn: &mut SqliteConnection) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT name FROM jobs ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("list jobs"))
    }

    async fn no_such_job(&self, conn: &mut SqliteConnection, name: &str) -> StoreError {
        match self.known_jobs(conn).await {
            Ok(known) => StoreError::NoSuchJob {
                name: name.to_string(),
                known,
            },
            Err(error) => error,
        }
    }

    async fn no_such_run(&self, conn: &mut SqliteConnection, run: RunId) -> StoreError {
        let known = sqlx::query(
            "SELECT r.id, j.name, r.number FROM runs r JOIN jobs j ON j.id = r.job_id ORDER BY r.id DESC LIMIT 100",
        )
        .fetch_all(&mut *conn)
        .await;
        match known {
            Ok(rows) => StoreError::NoSuchRun {
                run,
                known: rows
                    .iter()
                    .map(|row| {
                        format!(
                            "{} ({} #{})",
                            row.get::<i64, _>(0),
                            row.get::<String, _>(1),
                            row.get::<i64, _>(2)
                        )
                    })
                    .collect(),
            },
            Err(error) => self.db("list runs")(error),
        }
    }

    async fn no_such_directory(&self, conn: &mut SqliteConnection, id: DirectoryId) -> StoreError {
        let known = sqlx::query("SELECT id, name FROM directories ORDER BY id")
            .fetch_all(&mut *conn)
            .await;
        match known {
            Ok(rows) => StoreError::NoSuchDirectory {
                id,
                known: rows
                    .iter()
                    .map(|row| format!("{} ({})", row.get::<i64, _>(0), row.get::<String, _>(1)))
                    .collect(),
            },
            Err(error) => self.db("list directories")(error),
        }
    }

    async fn directory_on(
        &self,
        conn: &mut SqliteConnection,
        id: DirectoryId,
    ) -> Result<DirectoryInfo> {
        let row = sqlx::query(
            "SELECT id, name, label, origin, imported_at, account_count, group_count FROM directories WHERE id = ?",
        )
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a directory"))?;
        match row {
            Some(row) => Ok(directory_info(&row)),
            None => Err(self.no_such_directory(conn, id).await),
        }
    }

    /// The stored directory must be the one the run was resolved against.
    async fn check_stored_directory(
        &self,
        conn: &mut SqliteConnection,
        id: DirectoryId,
        directory: &Directory,
    ) -> Result<()> {
        let stored = self.directory_on(conn, id).await?;
        let describe = |name: &str, accounts: u64, groups: u64| {
            format!("{name:?} ({accounts} accounts, {groups} groups)")
        };
        let (accounts, groups) = (
            directory.accounts.len() as u64,
            directory.groups.len() as u64,
        );
        if stored.name != directory.name || stored.accounts != accounts || stored.groups != groups {
            return Err(StoreError::DirectoryMismatch {
                id,
                stored: describe(&stored.name, stored.accounts, stored.groups),
                given: describe(&directory.name, accounts, groups),
            });
        }
        Ok(())
    }

    async fn runs_where(
        &self,
        conn: &mut SqliteConnection,
        filter: RunFilter<'_>,
    ) -> Result<Vec<RunInfo>> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT r.id, j.name, r.number, r.source_directory_id, r.destination_directory_id, r.started_at, \
             r.policy, r.exceptions, r.warnings, r.summary, r.mapping_count \
             FROM runs r JOIN jobs j ON j.id = r.job_id",
        );
        match filter {
            RunFilter::All => {}
            RunFilter::Job(name) => {
                query.push(" WHERE j.name = ").push_bind(name.to_string());
            }
            RunFilter::Run(id) => {
                query.push(" WHERE r.id = ").push_bind(id.0);
            }
            RunFilter::Latest => {
                query.push(" WHERE r.id IN (SELECT MAX(id) FROM runs GROUP BY job_id)");
            }
            RunFilter::LatestOf(name) => {
                query
                    .push(" WHERE r.id = (SELECT MAX(r2.id) FROM runs r2 JOIN jobs j2 ON j2.id = r2.job_id WHERE j2.name = ")
                    .push_bind(name.to_string())
                    .push(")");
            }
        }
        query.push(" ORDER BY j.name, r.number");
        let rows = query
            .build()
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read runs"))?;
        rows.iter().map(|row| self.run_info(row)).collect()
    }

    fn run_info(&self, row: &SqliteRow) -> Result<RunInfo> {
        let id = RunId(row.get(0));
        let warnings: String = row.get(8);
        let summary: String = row.get(9);
        Ok(RunInfo {
            id,
            job: row.get(1),
            number: row.get::<i64, _>(2) as u32,
            source_directory: DirectoryId(row.get(3)),
            destination_directory: DirectoryId(row.get(4)),
            started_at: row.get(5),
            policy_json: row.get(6),
            exceptions_json: row.get(7),
            warnings: serde_json::from_str(&warnings)
                .map_err(|error| self.corrupt(format!("warning list of run {id}"), error))?,
            summary: serde_json::from_str::<Summary>(&summary)
                .map_err(|error| self.corrupt(format!("summary of run {id}"), error))?,
            mappings: row.get::<i64, _>(10) as u64,
        })
    }

    /// The runs a report query reads, with their job names, in report order.
    async fn report_runs(
        &self,
        conn: &mut SqliteConnection,
        query: &ReportQuery,
    ) -> Result<Vec<(RunId, String)>> {
        let runs = match (&query.run, &query.job) {
            (Some(run), job) => {
                let runs = self.runs_where(conn, RunFilter::Run(*run)).await?;
                let Some(info) = runs.into_iter().next() else {
                    return Err(self.no_such_run(conn, *run).await);
                };
                if let Some(job) = job
                    && *job != info.job
                {
                    return Err(StoreError::RunNotInJob {
                        run: *run,
                        asked: job.clone(),
                        actual: info.job,
                    });
                }
                vec![info]
            }
            (None, Some(job)) => {
                let runs = self.runs_where(conn, RunFilter::LatestOf(job)).await?;
                if runs.is_empty() {
                    return Err(self.no_such_job(conn, job).await);
                }
                runs
            }
            (None, None) => self.runs_where(conn, RunFilter::Latest).await?,
        };
        Ok(runs.into_iter().map(|info| (info.id, info.job)).collect())
    }

    async fn count_rows(
        &self,
        conn: &mut SqliteConnection,
        run: RunId,
        query: &ReportQuery,
    ) -> Result<u64> {
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM mappings");
        push_report_filter(&mut sql, run, query);
        let count: i64 = sql
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(self.db("count report rows"))?;
        Ok(count as u64)
    }

    fn report_row(&self, job: &str, row: &SqliteRow, first: usize) -> Result<ReportRow> {
        let kind: String = row.get(first);
        let resolution: String = row.get(first + 9);
        Ok(ReportRow {
            kind: parse_kind(&kind)
                .ok_or_else(|| self.corrupt("mapping type", format!("{kind:?}")))?,
            job: job.to_string(),
            source_id: row.get(first + 1),
            source_username: row.get(first + 2),
            source_name: row.get(first + 3),
            source_display_name: row.get(first + 4),
            destination_id: row.get(first + 5),
            destination_username: row.get(first + 6),
            destination_name: row.get(first + 7),
            destination_display_name: row.get(first + 8),
            resolution: parse_resolution(&resolution)
                .ok_or_else(|| self.corrupt("mapping resolution", format!("{resolution:?}")))?,
            message: row.get(first + 10),
        })
    }

    /// `REPORT_COLUMNS, flags, confidence`.
    fn report_entry(&self, job: &str, row: &SqliteRow) -> Result<ReportEntry> {
        let flags: String = row.get(11);
        Ok(ReportEntry {
            row: self.report_row(job, row, 0)?,
            flags: serde_json::from_str::<crosswalk_core::Flags>(&flags)
                .map_err(|error| self.corrupt("mapping flag list", error))?,
            confidence: confidence_column(row.get(12)),
        })
    }

    /// A mapping row without its evidence and candidates: columns `seq, kind, source_index,
    /// resolution, target_kind, target_index, target_id, message, flags, confidence` from `first`.
    fn mapping_head(&self, row: &SqliteRow, first: usize) -> Result<(usize, Mapping)> {
        let seq: i64 = row.get(first);
        let kind: String = row.get(first + 1);
        let resolution: String = row.get(first + 3);
        let target_kind: Option<String> = row.get(first + 4);
        let target_index: Option<i64> = row.get(first + 5);
        let target_id: Option<String> = row.get(first + 6);
        let flags: String = row.get(first + 8);
        let target = match (target_kind.as_deref(), target_index, target_id) {
            (None, _, _) => None,
            (Some("existing"), Some(index), _) => Some(Target::Existing {
                index: index as u32,
            }),
            (Some("provision"), _, _) => Some(Target::Provision),
            (Some("passthrough"), _, _) => Some(Target::Passthrough),
            (Some("external"), _, _) => Some(Target::External),
            (Some("named"), _, Some(id)) if id == FORMER_USER_ID => Some(Target::FormerUser),
            (Some("named"), _, Some(id)) => Some(Target::Named { id }),
            (Some(other), index, id) => {
                return Err(self.corrupt(
                    "mapping target",
                    format!("{other:?} with index {index:?}, id {id:?}"),
                ));
            }
        };
        Ok((
            seq as usize,
            Mapping {
                kind: parse_kind(&kind)
                    .ok_or_else(|| self.corrupt("mapping type", format!("{kind:?}")))?,
                source: row.get::<i64, _>(first + 2) as u32,
                resolution: parse_resolution(&resolution)
                    .ok_or_else(|| self.corrupt("mapping resolution", format!("{resolution:?}")))?,
                target,
                message: row.get(first + 7),
                evidence: Vec::new(),
                candidates: Vec::new(),
                flags: serde_json::from_str::<crosswalk_core::Flags>(&flags)
                    .map_err(|error| self.corrupt("mapping flag list", error))?,
                confidence: confidence_column(row.get(first + 9)),
            },
        ))
    }

    fn evidence(&self, row: &SqliteRow, first: usize) -> Result<Evidence> {
        let method: String = row.get(first);
        Ok(Evidence {
            method: parse_resolution(&method)
                .ok_or_else(|| self.corrupt("evidence method", format!("{method:?}")))?,
            source_field: text(row, first + 1),
            destination_field: text(row, first + 2),
            key: text(row, first + 3),
            note: row.get::<String, _>(first + 4).into(),
        })
    }

    fn candidate(&self, row: &SqliteRow, first: usize) -> Result<CandidateDetails> {
        let method: String = row.get(first + 1);
        Ok(CandidateDetails {
            candidate: Candidate {
                index: row.get::<i64, _>(first) as u32,
                method: parse_resolution(&method)
                    .ok_or_else(|| self.corrupt("candidate method", format!("{method:?}")))?,
                reason: row.get::<String, _>(first + 2).into(),
                score: confidence_column(row.get(first + 6)),
            },
            destination_id: row.get(first + 3),
            destination_username: row.get(first + 4),
            destination_name: row.get(first + 5),
        })
    }
}

/// A stored score; runs saved before scores existed read as 0.
fn confidence_column(value: Option<f64>) -> Confidence {
    value.map_or(Confidence::NONE, Confidence::from_probability)
}

enum RunFilter<'a> {
    All,
    Job(&'a str),
    Run(RunId),
    Latest,
    LatestOf(&'a str),
}

const MAPPING_HEAD_COLUMNS: &str = "m.seq, m.kind, m.source_index, m.resolution, m.target_kind, m.target_index, m.target_id, m.message, m.flags, m.confidence";
const REPORT_COLUMNS: &str = "kind, source_id, source_username, source_name, source_display_name, destination_id, \
     destination_username, destination_name, destination_display_name, resolution, message";

fn push_report_filter(sql: &mut QueryBuilder<Sqlite>, run: RunId, query: &ReportQuery) {
    sql.push(" WHERE run_id = ").push_bind(run.0);
    if let Some(kind) = query.kind {
        sql.push(" AND kind = ").push_bind(kind.as_str());
    }
    if !query.resolutions.is_empty() {
        sql.push(" AND resolution IN (");
        let mut list = sql.separated(", ");
        for resolution in &query.resolutions {
            list.push_bind(resolution.as_str());
        }
        sql.push(")");
    }
    if query.flagged {
        // `flags` is the JSON array the writer stores, "[]" when there are none.
        sql.push(" AND flags <> '[]'");
    }
}

fn directory_info(row: &SqliteRow) -> DirectoryInfo {
    DirectoryInfo {
        id: DirectoryId(row.get(0)),
        name: row.get(1),
        label: row.get(2),
        origin: row.get(3),
        imported_at: row.get(4),
        accounts: row.get::<i64, _>(5) as u64,
        groups: row.get::<i64, _>(6) as u64,
    }
}

fn parse_kind(text: &str) -> Option<IdentityKind> {
    match text {
        "account" => Some(IdentityKind::Account),
        "group" => Some(IdentityKind::Group),
        _ => None,
    }
}

fn parse_resolution(text: &str) -> Option<Resolution> {
    Resolution::ALL.into_iter().find(|r| r.as_str() == text)
}

fn target_columns(target: &Option<Target>) -> (Option<&'static str>, Option<i64>, Option<String>) {
    match target {
        None => (None, None, None),
        Some(Target::Existing { index }) => (Some("existing"), Some(i64::from(*index)), None),
        Some(Target::Provision) => (Some("provision"), None, None),
        Some(Target::Passthrough) => (Some("passthrough"), None, None),
        Some(Target::External) => (Some("external"), None, None),
        Some(Target::Named { id }) => (Some("named"), None, Some(id.clone())),
        Some(Target::FormerUser) => (Some("named"), None, Some(FORMER_USER_ID.to_string())),
    }
}

/// This older store's schema (no longer used by the binary) predates former users: it keeps
/// one as a named target with this id, the spelling exception rules use for the decision.
const FORMER_USER_ID: &str = "!former-user";

/// Turns errors met while opening into ones that say what the file is.
/// Connects a pool to a store file that may be new, as WAL.
///
/// The first connection switches a new file to WAL. Connections of other processes opening
/// the same new file at that moment can get SQLITE_BUSY at once, without the busy timeout
/// (SQLite does not wait on a lock it could deadlock on). The switch happens once in a
/// file's life, so a few short retries (at most about 5 s in all) get past it.
pub(crate) async fn connect_file(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<SqlitePool, sqlx::Error> {
    let mut retries = 0u64;
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Ok(pool) => return Ok(pool),
            Err(error) if is_busy(&error) && retries < 50 => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis((10 * retries).min(100))).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// SQLITE_BUSY, whatever its extended code.
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

fn open_error(location: &str, error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        let code = db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .unwrap_or(0);
        match code & 0xff {
            // SQLITE_NOTADB
            26 => {
                return StoreError::NotAStore {
                    location: location.to_string(),
                    detail: "the file is not an SQLite database".into(),
                };
            }
            // SQLITE_CANTOPEN
            14 => {
                return StoreError::CannotOpen {
                    location: location.to_string(),
                    detail: db.message().to_string(),
                };
            }
            _ => {}
        }
    }
    StoreError::Database {
        operation: "open the store",
        location: location.to_string(),
        cause: error,
    }
}

fn json_check(what: &'static str, text: &str) -> Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|source| StoreError::InvalidJson { what, source })
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serialising plain data to a string cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

fn string_list_json<T: serde::Serialize>(list: &[T]) -> String {
    if list.is_empty() {
        "[]".to_string()
    } else {
        to_json(list)
    }
}

/// A text column as a small string.
fn text(row: &SqliteRow, column: usize) -> CompactString {
    row.get::<&str, _>(column).into()
}

/// A nullable text column as a small string.
fn opt_text(row: &SqliteRow, column: usize) -> Option<CompactString> {
    row.get::<Option<&str>, _>(column).map(Into::into)
}

/// A multi-row `INSERT` into one table: `head` is `INSERT INTO t (a, b, c) VALUES `.
struct InsertSql {
    head: &'static str,
    columns: usize,
    full: OnceLock<String>,
}

impl InsertSql {
    const fn new(head: &'static str, columns: usize) -> InsertSql {
        InsertSql {
            head,
            columns,
            full: OnceLock::new(),
        }
    }

    fn rows_per_statement(&self) -> usize {
        (MAX_BIND_PARAMETERS / self.columns).min(MAX_ROWS_PER_INSERT)
    }

    fn sql(&self, rows: usize) -> String {
        let row = format!("({})", vec!["?"; self.columns].join(","));
        let mut sql = String::with_capacity(self.head.len() + rows * (row.len() + 1));
        sql.push_str(self.head);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&row);
        }
        sql
    }

    /// The full-size statement; being `'static`, it is prepared once per connection and reused.
    fn full(&'static self) -> &'static str {
        self.full
            .get_or_init(|| self.sql(self.rows_per_statement()))
    }
}

static ACCOUNT_INSERT: InsertSql = InsertSql::new(
    "INSERT INTO directory_accounts (directory_id, idx, id, username, email, alias_emails, display_name, \
     given_name, family_name, active, source_directory, email_verified) VALUES ",
    12,
);
static GROUP_INSERT: InsertSql = InsertSql::new(
    "INSERT INTO directory_groups (directory_id, idx, id, name, display_name, members) VALUES ",
    6,
);
static MAPPING_INSERT: InsertSql = InsertSql::new(
    "INSERT INTO mappings (id, run_id, seq, kind, source_index, resolution, target_kind, target_index, target_id, \
     message, flags, confidence, source_id, source_username, source_name, source_display_name, destination_id, \
     destination_username, destination_name, destination_display_name) VALUES ",
    20,
);
static EVIDENCE_INSERT: InsertSql = InsertSql::new(
    "INSERT INTO evidence (mapping_id, ord, method, source_field, destination_field, match_key, note) VALUES ",
    7,
);
static CANDIDATE_INSERT: InsertSql = InsertSql::new(
    "INSERT INTO candidates (mapping_id, ord, destination_index, method, reason, destination_id, \
     destination_username, destination_name, score) VALUES ",
    9,
);

/// Rows waiting to be inserted into one table. Full statements queue up in `ready` until
/// [`Batch::write_ready`], so rows can wait for the rows they reference.
struct Batch {
    insert: &'static InsertSql,
    args: SqliteArguments,
    rows: usize,
    ready: Vec<SqliteArguments>,
    written: u64,
}

impl Batch {
    fn new(insert: &'static InsertSql) -> Batch {
        Batch {
            insert,
            args: Self::fresh_args(insert),
            rows: 0,
            ready: Vec::new(),
            written: 0,
        }
    }

    fn fresh_args(insert: &InsertSql) -> SqliteArguments {
        let mut args = SqliteArguments::default();
        args.reserve(insert.rows_per_statement() * insert.columns, 0);
        args
    }

    fn bind<'t, T: Encode<'t, Sqlite> + Type<Sqlite>>(
        &mut self,
        value: T,
    ) -> Result<(), sqlx::Error> {
        self.args.add(value).map_err(sqlx::Error::Encode)
    }

    /// Ends a row; returns whether a full statement is now ready.
    fn end_row(&mut self) -> bool {
        debug_assert_eq!(
            self.args.len(),
            (self.rows + 1) * self.insert.columns,
            "{}",
            self.insert.head
        );
        self.rows += 1;
        if self.rows == self.insert.rows_per_statement() {
            let args = std::mem::replace(&mut self.args, Self::fresh_args(self.insert));
            self.ready.push(args);
            self.rows = 0;
            true
        } else {
            false
        }
    }

    /// Writes the full statements that are ready.
    async fn write_ready(&mut self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let rows = self.insert.rows_per_statement() as u64;
        for args in self.ready.drain(..) {
            sqlx::query_with(self.insert.full(), args)
                .execute(&mut *conn)
                .await?;
            self.written += rows;
        }
        Ok(())
    }

    /// Writes everything, the last partial statement included.
    async fn write_all(&mut self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        self.write_ready(conn).await?;
        if self.rows > 0 {
            let args = std::mem::take(&mut self.args);
            // A one-off size: not worth a slot in the statement cache.
            sqlx::query_with(AssertSqlSafe(self.insert.sql(self.rows)), args)
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            self.written += self.rows as u64;
            self.rows = 0;
        }
        Ok(())
    }
}

fn report_progress(progress: &mut Progress<'_>, written: u64) {
    if let Some(progress) = progress.as_deref_mut() {
        progress(written);
    }
}

fn bind_account(
    batch: &mut Batch,
    directory: i64,
    idx: usize,
    a: &Account,
) -> Result<(), sqlx::Error> {
    batch.bind(directory)?;
    batch.bind(idx as i64)?;
    batch.bind(a.id.as_str())?;
    batch.bind(a.username.as_deref())?;
    batch.bind(a.email.as_deref())?;
    batch.bind(string_list_json(&a.alias_emails))?;
    batch.bind(a.display_name.as_deref())?;
    batch.bind(a.given_name.as_deref())?;
    batch.bind(a.family_name.as_deref())?;
    batch.bind(a.active)?;
    batch.bind(a.source_directory.as_deref())?;
    batch.bind(a.email_verified)?;
    Ok(())
}

fn bind_group(batch: &mut Batch, directory: i64, idx: usize, g: &Group) -> Result<(), sqlx::Error> {
    batch.bind(directory)?;
    batch.bind(idx as i64)?;
    batch.bind(g.id.as_str())?;
    batch.bind(g.name.as_str())?;
    batch.bind(g.display_name.as_deref())?;
    batch.bind(string_list_json(&g.members))?;
    Ok(())
}

impl MappingStore for SqliteStore {
    fn location(&self) -> &str {
        &self.location
    }

    async fn save_directory(
        &self,
        directory: &Directory,
        meta: &DirectoryMeta,
        mut progress: Progress<'_>,
    ) -> Result<DirectoryId> {
        check_directory(directory)?;
        let err = self.db("save a directory");
        let result: Result<DirectoryId, sqlx::Error> = async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO directories (name, label, origin, imported_at, account_count, group_count) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(directory.name.as_str())
            .bind(meta.label.as_str())
            .bind(meta.origin.as_str())
            .bind(meta.imported_at)
            .bind(directory.accounts.len() as i64)
            .bind(directory.groups.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            let mut accounts = Batch::new(&ACCOUNT_INSERT);
            for (idx, account) in directory.accounts.iter().enumerate() {
                bind_account(&mut accounts, id, idx, account)?;
                if accounts.end_row() {
                    accounts.write_ready(&mut tx).await?;
                    report_progress(&mut progress, accounts.written);
                }
            }
            accounts.write_all(&mut tx).await?;
            report_progress(&mut progress, accounts.written);
            let mut groups = Batch::new(&GROUP_INSERT);
            for (idx, group) in directory.groups.iter().enumerate() {
                bind_group(&mut groups, id, idx, group)?;
                if groups.end_row() {
                    groups.write_ready(&mut tx).await?;
                    report_progress(&mut progress, accounts.written + groups.written);
                }
            }
            groups.write_all(&mut tx).await?;
            tx.commit().await?;
            report_progress(&mut progress, accounts.written + groups.written);
            Ok(DirectoryId(id))
        }
        .await;
        result.map_err(err)
    }

    async fn directories(&self) -> Result<Vec<DirectoryInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, label, origin, imported_at, account_count, group_count FROM directories ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.db("list directories"))?;
        Ok(rows.iter().map(directory_info).collect())
    }

    async fn directory(&self, id: DirectoryId) -> Result<DirectoryInfo> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("read a directory"))?;
        self.directory_on(&mut conn, id).await
    }

    async fn load_directory(&self, id: DirectoryId) -> Result<Directory> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("read a directory"))?;
        let info = self.directory_on(&mut conn, id).await?;
        let mut accounts = Vec::with_capacity(info.accounts as usize);
        {
            let mut rows = sqlx::query(
                "SELECT idx, id, username, email, alias_emails, display_name, given_name, family_name, active, \
                 source_directory, email_verified FROM directory_accounts WHERE directory_id = ? ORDER BY idx",
            )
            .bind(id.0)
            .fetch(&mut *conn);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(self.db("read a directory's accounts"))?
            {
                let idx: i64 = row.get(0);
                if idx != accounts.len() as i64 {
                    return Err(self.corrupt(
                        format!("account list of directory {id}"),
                        format!("account {idx} is out of place"),
                    ));
                }
                let aliases: String = row.get(4);
                accounts.push(Account {
                    id: text(&row, 1),
                    username: opt_text(&row, 2),
                    email: opt_text(&row, 3),
                    alias_emails: serde_json::from_str(&aliases).map_err(|error| {
                        self.corrupt(
                            format!("alias list of account {idx} of directory {id}"),
                            error,
                        )
                    })?,
                    display_name: opt_text(&row, 5),
                    given_name: opt_text(&row, 6),
                    family_name: opt_text(&row, 7),
                    active: row.get(8),
                    source_directory: opt_text(&row, 9),
                    email_verified: row.get(10),
                });
            }
        }
        let mut groups = Vec::with_capacity(info.groups as usize);
        {
            let mut rows = sqlx::query(
                "SELECT idx, id, name, display_name, members FROM directory_groups WHERE directory_id = ? ORDER BY idx",
            )
            .bind(id.0)
            .fetch(&mut *conn);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(self.db("read a directory's groups"))?
            {
                let idx: i64 = row.get(0);
                if idx != groups.len() as i64 {
                    return Err(self.corrupt(
                        format!("group list of directory {id}"),
                        format!("group {idx} is out of place"),
                    ));
                }
                let members: String = row.get(4);
                groups.push(Group {
                    id: text(&row, 1),
                    name: text(&row, 2),
                    display_name: opt_text(&row, 3),
                    members: serde_json::from_str(&members).map_err(|error| {
                        self.corrupt(
                            format!("member list of group {idx} of directory {id}"),
                            error,
                        )
                    })?,
                });
            }
        }
        if accounts.len() as u64 != info.accounts || groups.len() as u64 != info.groups {
            return Err(self.corrupt(
                format!("directory {id}"),
                format!(
                    "{} accounts and {} groups stored, {} and {} expected",
                    accounts.len(),
                    groups.len(),
                    info.accounts,
                    info.groups
                ),
            ));
        }
        Ok(Directory {
            name: info.name,
            accounts,
            groups,
        })
    }

    async fn save_run(&self, run: &NewRun<'_>, mut progress: Progress<'_>) -> Result<RunId> {
        json_check("policy", run.policy_json)?;
        json_check("exception list", run.exceptions_json)?;
        let order = report_order(run)?;
        let err = self.db("save the run");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db("save the run"))?;
        self.check_stored_directory(&mut tx, run.source_directory, run.source)
            .await?;
        self.check_stored_directory(&mut tx, run.destination_directory, run.destination)
            .await?;
        // Any error from here on drops `tx`, which rolls everything back.
        let (run_id, mut mapping_id) = async {
            let job_id: i64 = sqlx::query_scalar(
                "INSERT INTO jobs (name, source_directory_id, destination_directory_id, created_at) \
                 VALUES (?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET source_directory_id = excluded.source_directory_id, \
                 destination_directory_id = excluded.destination_directory_id \
                 RETURNING id",
            )
            .bind(run.job)
            .bind(run.source_directory.0)
            .bind(run.destination_directory.0)
            .bind(run.started_at)
            .fetch_one(&mut *tx)
            .await?;
            let number: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE job_id = ?")
                .bind(job_id)
                .fetch_one(&mut *tx)
                .await?;
            let run_id: i64 = sqlx::query_scalar(
                "INSERT INTO runs (job_id, number, source_directory_id, destination_directory_id, started_at, \
                 policy, exceptions, warnings, summary, mapping_count) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(job_id)
            .bind(number)
            .bind(run.source_directory.0)
            .bind(run.destination_directory.0)
            .bind(run.started_at)
            .bind(run.policy_json)
            .bind(run.exceptions_json)
            .bind(string_list_json(run.warnings))
            .bind(to_json(run.summary))
            .bind(run.mappings.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            // The transaction holds the write lock, so ids after the current maximum are ours.
            let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM mappings").fetch_one(&mut *tx).await?;
            Ok::<_, sqlx::Error>((run_id, last))
        }
        .await
        .map_err(self.db("save the run"))?;

        let mut mappings = Batch::new(&MAPPING_INSERT);
        let mut evidence = Batch::new(&EVIDENCE_INSERT);
        let mut candidates = Batch::new(&CANDIDATE_INSERT);
        for &position in &order {
            let mapping = &run.mappings[position];
            check_mapping(position, run, mapping)?;
            mapping_id += 1;
            let row = ReportRow::build(run.job, run.source, run.destination, mapping);
            let (target_kind, target_index, target_id) = target_columns(&mapping.target);
            let bound: Result<(), sqlx::Error> = (|| {
                mappings.bind(mapping_id)?;
                mappings.bind(run_id)?;
                mappings.bind(position as i64)?;
                mappings.bind(mapping.kind.as_str())?;
                mappings.bind(i64::from(mapping.source))?;
                mappings.bind(mapping.resolution.as_str())?;
                mappings.bind(target_kind)?;
                mappings.bind(target_index)?;
                mappings.bind(target_id)?;
                mappings.bind(row.message)?;
                mappings.bind(if mapping.flags.is_empty() {
                    "[]".to_string()
                } else {
                    to_json(&mapping.flags)
                })?;
                mappings.bind(mapping.confidence.as_f64())?;
                mappings.bind(row.source_id)?;
                mappings.bind(row.source_username)?;
                mappings.bind(row.source_name)?;
                mappings.bind(row.source_display_name)?;
                mappings.bind(row.destination_id)?;
                mappings.bind(row.destination_username)?;
                mappings.bind(row.destination_name)?;
                mappings.bind(row.destination_display_name)?;
                for (ord, e) in mapping.evidence.iter().enumerate() {
                    evidence.bind(mapping_id)?;
                    evidence.bind(ord as i64)?;
                    evidence.bind(e.method.as_str())?;
                    evidence.bind(e.source_field.as_str())?;
                    evidence.bind(e.destination_field.as_str())?;
                    evidence.bind(e.key.as_str())?;
                    evidence.bind(e.note.as_ref())?;
                    evidence.end_row();
                }
                for (ord, c) in mapping.candidates.iter().enumerate() {
                    let (id, username, name) =
                        destination_side(run.destination, mapping.kind, c.index);
                    candidates.bind(mapping_id)?;
                    candidates.bind(ord as i64)?;
                    candidates.bind(i64::from(c.index))?;
                    candidates.bind(c.method.as_str())?;
                    candidates.bind(c.reason.as_ref())?;
                    candidates.bind(id)?;
                    candidates.bind(username)?;
                    candidates.bind(name)?;
                    candidates.bind(c.score.as_f64())?;
                    candidates.end_row();
                }
                Ok(())
            })();
            bound.map_err(self.db("save the run"))?;
            if mappings.end_row() {
                // Evidence and candidates wait for the mappings they reference.
                async {
                    mappings.write_ready(&mut tx).await?;
                    evidence.write_ready(&mut tx).await?;
                    candidates.write_ready(&mut tx).await
                }
                .await
                .map_err(self.db("save the run"))?;
                report_progress(&mut progress, mappings.written);
            }
        }
        async {
            mappings.write_all(&mut tx).await?;
            evidence.write_all(&mut tx).await?;
            candidates.write_all(&mut tx).await?;
            tx.commit().await
        }
        .await
        .map_err(err)?;
        report_progress(&mut progress, mappings.written);
        Ok(RunId(run_id))
    }

    async fn jobs(&self) -> Result<Vec<JobInfo>> {
        let mut conn = self.pool.acquire().await.map_err(self.db("list jobs"))?;
        let latest = self.runs_where(&mut conn, RunFilter::Latest).await?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT j.name, COUNT(*) FROM jobs j JOIN runs r ON r.job_id = j.id GROUP BY j.id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(self.db("list jobs"))?;
        let counts: HashMap<String, i64> = counts.into_iter().collect();
        Ok(latest
            .into_iter()
            .map(|run| JobInfo {
                name: run.job.clone(),
                runs: counts.get(&run.job).copied().unwrap_or(0) as u32,
                latest: run,
            })
            .collect())
    }

    async fn runs(&self, job: Option<&str>) -> Result<Vec<RunInfo>> {
        let mut conn = self.pool.acquire().await.map_err(self.db("list runs"))?;
        match job {
            None => self.runs_where(&mut conn, RunFilter::All).await,
            Some(name) => {
                let runs = self.runs_where(&mut conn, RunFilter::Job(name)).await?;
                if runs.is_empty() {
                    return Err(self.no_such_job(&mut conn, name).await);
                }
                Ok(runs)
            }
        }
    }

    async fn run(&self, id: RunId) -> Result<RunInfo> {
        let mut conn = self.pool.acquire().await.map_err(self.db("read a run"))?;
        match self
            .runs_where(&mut conn, RunFilter::Run(id))
            .await?
            .into_iter()
            .next()
        {
            Some(run) => Ok(run),
            None => Err(self.no_such_run(&mut conn, id).await),
        }
    }

    async fn latest_run(&self, job: &str) -> Result<RunInfo> {
        let mut conn = self.pool.acquire().await.map_err(self.db("read a run"))?;
        match self
            .runs_where(&mut conn, RunFilter::LatestOf(job))
            .await?
            .into_iter()
            .next()
        {
            Some(run) => Ok(run),
            None => Err(self.no_such_job(&mut conn, job).await),
        }
    }

    async fn report_entries_each<F, E>(&self, query: &ReportQuery, mut sink: F) -> Result<u64, E>
    where
        F: FnMut(ReportEntry) -> Result<(), E> + Send,
        E: From<StoreError> + Send,
    {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("read the report"))?;
        let runs = self.report_runs(&mut conn, query).await?;
        let mut offset = query.offset.unwrap_or(0);
        let mut remaining = query.limit.unwrap_or(u64::MAX);
        let mut handed = 0u64;
        for (run, job) in runs {
            if remaining == 0 {
                break;
            }
            if offset > 0 {
                let count = self.count_rows(&mut conn, run, query).await?;
                if count <= offset {
                    offset -= count;
                    continue;
                }
            }
            let mut sql = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {REPORT_COLUMNS}, flags, confidence FROM mappings"
            ));
            push_report_filter(&mut sql, run, query);
            sql.push(" ORDER BY kind, source_id");
            if remaining != u64::MAX || offset > 0 {
                sql.push(" LIMIT ")
                    .push_bind(i64::try_from(remaining).unwrap_or(i64::MAX))
                    .push(" OFFSET ")
                    .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
            }
            offset = 0;
            let mut rows = sql.build().fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(self.db("read the report"))? {
                sink(self.report_entry(&job, &row)?)?;
                handed += 1;
                remaining -= 1;
            }
        }
        Ok(handed)
    }

    async fn report_count(&self, query: &ReportQuery) -> Result<u64> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("count report rows"))?;
        let mut total = 0;
        for (run, _) in self.report_runs(&mut conn, query).await? {
            total += self.count_rows(&mut conn, run, query).await?;
        }
        Ok(total)
    }

    async fn mapping_details(
        &self,
        run: RunId,
        kind: IdentityKind,
        source_id: &str,
    ) -> Result<MappingDetails> {
        let err = || self.db("read a mapping");
        let mut conn = self.pool.acquire().await.map_err(err())?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT m.id, j.name, {MAPPING_HEAD_COLUMNS}, \
             m.kind, m.source_id, m.source_username, m.source_name, m.source_display_name, m.destination_id, \
             m.destination_username, m.destination_name, m.destination_display_name, m.resolution, m.message \
             FROM mappings m JOIN runs r ON r.id = m.run_id JOIN jobs j ON j.id = r.job_id \
             WHERE m.run_id = ? AND m.kind = ? AND m.source_id = ?"
        )))
        .bind(run.0)
        .bind(kind.as_str())
        .bind(source_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(err())?;
        let Some(row) = row else {
            let exists: Option<(String, i64)> = sqlx::query_as(
                "SELECT j.name, r.number FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.id = ?",
            )
            .bind(run.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err())?;
            return Err(match exists {
                Some((job, number)) => StoreError::NoSuchMapping {
                    job,
                    number: u32::try_from(number).unwrap_or(u32::MAX),
                    kind,
                    source_id: source_id.to_string(),
                },
                None => self.no_such_run(&mut conn, run).await,
            });
        };
        let id: i64 = row.get(0);
        let job: String = row.get(1);
        let (_, mut mapping) = self.mapping_head(&row, 2)?;
        let report_row = self.report_row(&job, &row, 12)?;
        let evidence_rows = sqlx::query(
            "SELECT method, source_field, destination_field, match_key, note FROM evidence \
             WHERE mapping_id = ? ORDER BY ord",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(err())?;
        mapping.evidence = evidence_rows
            .iter()
            .map(|row| self.evidence(row, 0))
            .collect::<Result<_>>()?;
        let candidate_rows = sqlx::query(
            "SELECT destination_index, method, reason, destination_id, destination_username, destination_name, score \
             FROM candidates WHERE mapping_id = ? ORDER BY ord",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(err())?;
        let candidates: Vec<CandidateDetails> = candidate_rows
            .iter()
            .map(|row| self.candidate(row, 0))
            .collect::<Result<_>>()?;
        mapping.candidates = candidates.iter().map(|c| c.candidate.clone()).collect();
        Ok(MappingDetails {
            run,
            mapping,
            row: report_row,
            candidates,
        })
    }

    async fn load_mappings(&self, run: RunId) -> Result<Vec<Mapping>> {
        let err = || self.db("read a run's mappings");
        let mut conn = self.pool.acquire().await.map_err(err())?;
        let Some(info) = self
            .runs_where(&mut conn, RunFilter::Run(run))
            .await?
            .into_iter()
            .next()
        else {
            return Err(self.no_such_run(&mut conn, run).await);
        };
        let count = info.mappings as usize;
        let mut slots: Vec<Option<Mapping>> = vec![None; count];
        let mut slot_of: HashMap<i64, usize> = HashMap::with_capacity(count);
        {
            let mut rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT m.id, {MAPPING_HEAD_COLUMNS} FROM mappings m WHERE m.run_id = ?"
            )))
            .bind(run.0)
            .fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(err())? {
                let (seq, mapping) = self.mapping_head(&row, 1)?;
                match slots.get_mut(seq) {
                    Some(slot @ None) => *slot = Some(mapping),
                    _ => {
                        return Err(self.corrupt(
                            format!("mapping list of run {run}"),
                            format!("mapping {seq} is out of place"),
                        ));
                    }
                }
                slot_of.insert(row.get(0), seq);
            }
        }
        let mut evidence: Vec<(usize, i64, Evidence)> = Vec::new();
        {
            let mut rows = sqlx::query(
                "SELECT e.mapping_id, e.ord, e.method, e.source_field, e.destination_field, e.match_key, e.note \
                 FROM evidence e JOIN mappings m ON m.id = e.mapping_id WHERE m.run_id = ?",
            )
            .bind(run.0)
            .fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(err())? {
                let slot = slot_of[&row.get::<i64, _>(0)];
                evidence.push((slot, row.get(1), self.evidence(&row, 2)?));
            }
        }
        let mut candidates: Vec<(usize, i64, Candidate)> = Vec::new();
        {
            let mut rows = sqlx::query(
                "SELECT c.mapping_id, c.ord, c.destination_index, c.method, c.reason, c.destination_id, \
                 c.destination_username, c.destination_name, c.score \
                 FROM candidates c JOIN mappings m ON m.id = c.mapping_id WHERE m.run_id = ?",
            )
            .bind(run.0)
            .fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(err())? {
                let slot = slot_of[&row.get::<i64, _>(0)];
                candidates.push((slot, row.get(1), self.candidate(&row, 2)?.candidate));
            }
        }
        let mut mappings: Vec<Mapping> = Vec::with_capacity(count);
        for (seq, slot) in slots.into_iter().enumerate() {
            match slot {
                Some(mapping) => mappings.push(mapping),
                None => {
                    return Err(self.corrupt(
                        format!("mapping list of run {run}"),
                        format!("mapping {seq} is missing"),
                    ));
                }
            }
        }
        evidence.sort_unstable_by_key(|(slot, ord, _)| (*slot, *ord));
        for (slot, _, e) in evidence {
            mappings[slot].evidence.push(e);
        }
        candidates.sort_unstable_by_key(|(slot, ord, _)| (*slot, *ord));
        for (slot, _, c) in candidates {
            mappings[slot].candidates.push(c);
        }
        Ok(mappings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "sql"))
            .map(|path| {
                let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                let (version, description) = stem.split_once('_').unwrap();
                (
                    version.parse().unwrap(),
                    description.replace('_', " "),
                    std::fs::read_to_string(&path).unwrap(),
                )
            })
            .collect();
        files.sort();
        let embedded: Vec<(i64, String, String)> = MIGRATIONS
            .iter()
            .map(|(v, d, sql)| (*v, d.to_string(), sql.to_string()))
            .collect();
        assert_eq!(
            files, embedded,
            "MIGRATIONS in sqlite.rs must list every file in migrations/"
        );
    }

    #[test]
    fn statements_stay_under_the_bind_limit() {
        for insert in [
            &ACCOUNT_INSERT,
            &GROUP_INSERT,
            &MAPPING_INSERT,
            &EVIDENCE_INSERT,
            &CANDIDATE_INSERT,
        ] {
            assert!(insert.rows_per_statement() * insert.columns <= MAX_BIND_PARAMETERS);
            let columns = insert
                .head
                .split_once('(')
                .unwrap()
                .1
                .split_once(')')
                .unwrap()
                .0
                .split(',')
                .count();
            assert_eq!(columns, insert.columns, "{}", insert.head);
        }
    }
}
