//! The SQLite backend of the scope store: one file, WAL mode, its schema in
//! `migrations/sqlite/`. Every write is one `BEGIN IMMEDIATE` transaction, so writers to a
//! file are serialised: a run reads the scope's state and writes its diff under one lock, and
//! a second run at the same time diffs against the first one's result. A kill at any moment
//! leaves the last committed state.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crosswalk_core::IdentityKind;
use futures_util::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::contents;
use super::error::{ScopeError, ScopeResult};
use super::find::{self, FindBatch};
use super::items::{ItemCounts, ItemFilter, ItemPage, ItemReferenceRow, ItemReferencesState};
use super::keys::{self, AltKind};
use super::model::*;
use super::run_plan::{
    self, ChangeKind, NewSide, Planned, RunPlan, StoredMapping, identity_json, identity_namespace,
};
use super::{ReportValueRef, ReportValueSink, ScopeRead, ScopeWrite, StoreFuture};

/// The schema, embedded: `(version, description, sql)`, one entry per file in
/// `migrations/sqlite/` (a test checks that they agree).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "scopes",
        include_str!("../../migrations/sqlite/0001_scopes.sql"),
    ),
    (
        2,
        "tokens",
        include_str!("../../migrations/sqlite/0002_tokens.sql"),
    ),
    (
        3,
        "items",
        include_str!("../../migrations/sqlite/0003_items.sql"),
    ),
    (
        4,
        "choices",
        include_str!("../../migrations/sqlite/0004_choices.sql"),
    ),
    (
        5,
        "scim",
        include_str!("../../migrations/sqlite/0005_scim.sql"),
    ),
    (
        6,
        "webhooks",
        include_str!("../../migrations/sqlite/0006_webhooks.sql"),
    ),
    (
        7,
        "tasks",
        include_str!("../../migrations/sqlite/0007_tasks.sql"),
    ),
];

mod items;
mod scim;
mod webhooks;

/// Kept apart from the snapshot store's `_sqlx_migrations`, so the two schemas can share a
/// file without either taking the other's migrations for its own.
const MIGRATIONS_TABLE: &str = "_crosswalk_scope_migrations";

/// A scope store in one SQLite file (or in memory). Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct SqliteScopeStore {
    pub(super) pool: SqlitePool,
    pub(super) location: Arc<str>,
    /// Turns each write's change into its events (issue 21); none installed: no events.
    pub(super) announcer: super::webhooks::AnnouncerSlot,
    /// Scope rows once read (they never change): a look-up asks for its keys only.
    scopes: Arc<super::scope_cache::ScopeCache>,
}

type Tx = sqlx::Transaction<'static, Sqlite>;

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn from_unix(seconds: i64) -> ScopeResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| ScopeError::corrupt(format!("a stored time {seconds} is out of range")))
}

fn col<'r, T>(row: &'r SqliteRow, index: usize) -> ScopeResult<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(index)
        .map_err(|error| ScopeError::corrupt(format!("a stored row is unreadable: {error}")))
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn check_limit(limit: usize) -> ScopeResult<()> {
    if limit == 0 || limit > MAX_BATCH {
        return Err(ScopeError::invalid(format!(
            "a page holds 1 to {MAX_BATCH} items, not {limit}"
        )));
    }
    Ok(())
}

fn kind_str(kind: IdentityKind) -> &'static str {
    kind.as_str()
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

const MAPPING_COLUMNS: &str = "m.namespace, m.source_key, v.value, m.removed, m.revision_id, m.updated_at, j.name \
     FROM scope_mappings m JOIN scope_revisions v ON v.id = m.value_revision_id LEFT JOIN scope_jobs j ON j.id = m.job_id";

const REVISION_COLUMNS: &str = "r.id, r.namespace, r.source_key, p.value, r.value, r.caller, j.name, j.transfer_id, run.number, \
     r.at, r.who, r.reason \
     FROM scope_revisions r LEFT JOIN scope_revisions p ON p.id = r.previous_id \
     LEFT JOIN scope_runs run ON run.id = r.run_id LEFT JOIN scope_jobs j ON j.id = run.job_id";

fn mapping_row(row: &SqliteRow) -> ScopeResult<MappingRow> {
    let value: Option<String> = col(row, 2)?;
    Ok(MappingRow {
        namespace: Namespace::parse(&col::<String>(row, 0)?)?,
        source_key: col(row, 1)?,
        value: MappingValue::from_json(value.as_deref().unwrap_or("null"))?,
        removed: col::<i64>(row, 3)? != 0,
        revision: Cursor::from_revision(col(row, 4)?),
        updated_at: from_unix(col(row, 5)?)?,
        job: col(row, 6)?,
    })
}

/// A row batch find reads: the whole mapping, or its brief (docs/performance.md, "The
/// mapping API": the brief reads two fields out of the value's JSON in SQLite and leaves
/// the evidence and candidates unread and undecoded).
trait SqliteFound: FoundRow + Send {
    /// How many columns [`SqliteFound::columns`] selects (the stored key comes next).
    const WIDTH: usize;
    /// What to select, and from where (starting `FROM scope_mappings m`).
    fn columns(namespace: &Namespace) -> (&'static str, &'static str);
    fn decode(row: &SqliteRow) -> ScopeResult<Self>;
}

impl SqliteFound for MappingRow {
    const WIDTH: usize = 7;
    fn columns(_: &Namespace) -> (&'static str, &'static str) {
        (
            "m.namespace, m.source_key, v.value, m.removed, m.revision_id, m.updated_at, j.name",
            "FROM scope_mappings m JOIN scope_revisions v ON v.id = m.value_revision_id LEFT JOIN scope_jobs j ON j.id = m.job_id",
        )
    }
    fn decode(row: &SqliteRow) -> ScopeResult<Self> {
        mapping_row(row)
    }
}

impl SqliteFound for MappingBrief {
    const WIDTH: usize = 4;
    fn columns(namespace: &Namespace) -> (&'static str, &'static str) {
        let columns = if namespace.is_identity() {
            "m.source_key, m.removed, json_extract(v.value, '$.value.destination.id') AS destination_id, \
             json_extract(v.value, '$.value.resolution') AS resolution"
        } else {
            "m.source_key, m.removed, json_extract(v.value, '$.value') AS destination_id, NULL AS resolution"
        };
        (
            columns,
            "FROM scope_mappings m JOIN scope_revisions v ON v.id = m.value_revision_id",
        )
    }
    fn decode(row: &SqliteRow) -> ScopeResult<Self> {
        Ok(MappingBrief {
            source_key: col(row, 0)?,
            removed: col::<i64>(row, 1)? != 0,
            destination_id: col::<Option<String>>(row, 2)?.unwrap_or_default(),
            resolution: col(row, 3)?,
        })
    }
}

fn revision_row(row: &SqliteRow) -> ScopeResult<RevisionRow> {
    let value = |index: usize| -> ScopeResult<Option<MappingValue>> {
        col::<Option<String>>(row, index)?
            .map(|text| MappingValue::from_json(&text))
            .transpose()
    };
    let caller: Option<String> = col(row, 5)?;
    let origin = match caller {
        Some(caller) => ChangeOrigin::Caller { caller },
        None => ChangeOrigin::Run {
            job: col::<Option<String>>(row, 6)?.unwrap_or_default(),
            transfer_id: parse_uuid(&col::<Option<String>>(row, 7)?.unwrap_or_default())?,
            run: u32::try_from(col::<Option<i64>>(row, 8)?.unwrap_or(0)).unwrap_or(0),
        },
    };
    let reason: String = col(row, 11)?;
    Ok(RevisionRow {
        cursor: Cursor::from_revision(col(row, 0)?),
        namespace: Namespace::parse(&col::<String>(row, 1)?)?,
        source_key: col(row, 2)?,
        old_value: value(3)?,
        new_value: value(4)?,
        origin,
        at: from_unix(col(row, 9)?)?,
        who: col(row, 10)?,
        reason: Reason::parse(&reason).ok_or_else(|| {
            ScopeError::corrupt(format!("a revision has an unknown reason {reason:?}"))
        })?,
    })
}

fn parse_uuid(text: &str) -> ScopeResult<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| ScopeError::corrupt(format!("a stored transfer id {text:?} is not a UUID")))
}

fn scope_row(row: &SqliteRow) -> ScopeResult<(i64, ScopeRow)> {
    let source_label: String = col(row, 2)?;
    Ok((
        col(row, 0)?,
        ScopeRow {
            name: col(row, 1)?,
            source_platform: SourcePlatform::from_label(&source_label),
            source_label,
            destination_label: col(row, 3)?,
            created_at: from_unix(col(row, 4)?)?,
            created_by: col(row, 5)?,
        },
    ))
}

const SCOPE_COLUMNS: &str =
    "id, name, source_label, destination_label, created_at, created_by FROM scopes";

fn job_row(row: &SqliteRow) -> ScopeResult<JobRow> {
    Ok(JobRow {
        scope: col(row, 0)?,
        name: col(row, 1)?,
        transfer_id: parse_uuid(&col::<String>(row, 2)?)?,
        created_at: from_unix(col(row, 3)?)?,
        runs: u32::try_from(col::<i64>(row, 4)?).unwrap_or(0),
    })
}

const JOB_COLUMNS: &str = "s.name, j.name, j.transfer_id, j.created_at, j.runs FROM scope_jobs j JOIN scopes s ON s.id = j.scope_id";

fn run_row(row: &SqliteRow) -> ScopeResult<RunRow> {
    Ok(RunRow {
        scope: col(row, 0)?,
        job: col(row, 1)?,
        transfer_id: parse_uuid(&col::<String>(row, 2)?)?,
        number: u32::try_from(col::<i64>(row, 3)?).unwrap_or(0),
        started_at: from_unix(col(row, 4)?)?,
        who: col(row, 5)?,
        counts: RunCounts {
            added: count(col(row, 6)?),
            changed: count(col(row, 7)?),
            removed: count(col(row, 8)?),
            unchanged: count(col(row, 9)?),
        },
        policy_version: u32::try_from(col::<i64>(row, 10)?).unwrap_or(0),
        exceptions_version: u32::try_from(col::<i64>(row, 11)?).unwrap_or(0),
        source_content: col(row, 12)?,
        destination_content: col(row, 13)?,
        warnings: serde_json::from_str(&col::<String>(row, 14)?).map_err(|error| {
            ScopeError::corrupt(format!("a run's warnings are unreadable: {error}"))
        })?,
    })
}

const RUN_COLUMNS: &str = "s.name, j.name, j.transfer_id, r.number, r.started_at, r.who, r.added, r.changed, r.removed, \
     r.unchanged, r.policy_version, r.exceptions_version, r.source_content, r.destination_content, r.warnings \
     FROM scope_runs r JOIN scope_jobs j ON j.id = r.job_id JOIN scopes s ON s.id = j.scope_id";

/// Rows per multi-row statement: under SQLite's 32,766 bind parameters (9 a revision,
/// 6 a mapping, 3 a key).
const REVISION_BATCH: usize = 2000;
const MAPPING_BATCH: usize = 2000;
const KEY_BATCH: usize = 4000;

/// The identity namespaces, by the code a run's maps key them with.
const NAMESPACES: [&str; 2] = [Namespace::IDENTITY_USER, Namespace::IDENTITY_GROUP];

/// A mapping's place in the scope, as a run's reconcile needs it.
struct Stored {
    id: i64,
    revision_id: i64,
}

impl SqliteScopeStore {
    /// Opens the store file at `path`, creating it if missing, and brings the scope schema
    /// up to date. Several processes may open a new file at once: the schema is applied
    /// under the write lock, once.
    pub async fn open(path: impl AsRef<Path>) -> ScopeResult<SqliteScopeStore> {
        Self::open_tuned(path.as_ref(), false).await
    }

    /// [`SqliteScopeStore::open`] for a long-lived server answering look-ups: the file is
    /// also read through a memory map (up to 2 GiB), so a page already in the operating
    /// system's cache is read in place rather than copied by a system call for each page a
    /// look-up touches. Not for runs: the mapped pages would count in their peak memory.
    pub async fn open_for_serving(path: impl AsRef<Path>) -> ScopeResult<SqliteScopeStore> {
        Self::open_tuned(path.as_ref(), true).await
    }

    async fn open_tuned(path: &Path, mapped: bool) -> ScopeResult<SqliteScopeStore> {
        let location: Arc<str> = path.display().to_string().into();
        if path.is_dir() {
            return Err(ScopeError::invalid(format!(
                "cannot open store {location}: it is a folder; pass a file path"
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60))
            .pragma("cache_size", "-65536")
            // The connection's thread hands rows back through a channel; with sqlx's 50 it
            // stopped every 50 rows of a 10,000-key look-up to wait for the reader.
            .row_buffer_size(MAX_BATCH + 1)
            .pragma("mmap_size", if mapped { "2147418112" } else { "0" });
        // A new file switching to WAL can answer SQLITE_BUSY past the busy timeout when
        // several processes open it at once: connect_file retries that briefly.
        let pool = crate::sqlite::connect_file(
            SqlitePoolOptions::new()
                .max_connections(4)
                // A connection to a local file does not drop: no ping before each use (it
                // was a round trip to the connection's thread on every request).
                .test_before_acquire(false),
            options,
        )
        .await
        .map_err(|error| ScopeError::database("open the store", &location, error))?;
        let store = SqliteScopeStore {
            pool,
            location,
            announcer: Default::default(),
            scopes: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A private in-memory store, for tests; it lives as long as this value and its clones.
    pub async fn open_in_memory() -> ScopeResult<SqliteScopeStore> {
        let location: Arc<str> = ":memory:".into();
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|error| ScopeError::database("open the store", &location, error))?
            .foreign_keys(true);
        // One connection that never closes: the database lives exactly as long as it does.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|error| ScopeError::database("open the store", &location, error))?;
        let store = SqliteScopeStore {
            pool,
            location,
            announcer: Default::default(),
            scopes: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Closes every connection; the last one checkpoints the write-ahead log into the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn db(&self, operation: &'static str) -> impl FnOnce(sqlx::Error) -> ScopeError + use<> {
        let location = self.location.clone();
        move |cause| ScopeError::database(operation, &location, cause)
    }

    async fn begin(&self, operation: &'static str) -> ScopeResult<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db(operation))
    }

    /// Applies the migrations this file lacks, all under one write lock, so concurrent first
    /// opens apply each exactly once. Refuses other programs' databases, files written by a
    /// newer Crosswalk, and migrations changed since they were applied.
    async fn migrate(&self) -> ScopeResult<()> {
        let mut tx = self.begin("bring the schema up to date").await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db("read the schema"))?;
        let ours = |t: &String| t == MIGRATIONS_TABLE || t == "_sqlx_migrations";
        if !tables.is_empty() && !tables.iter().any(ours) {
            return Err(ScopeError::invalid(format!(
                "{} is not a Crosswalk store (an SQLite database of another program, with tables {}); pass the path of a store file, or a path where a new one can be created",
                self.location,
                tables.join(", ")
            )));
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS _crosswalk_scope_migrations (\
             version INTEGER PRIMARY KEY, description TEXT NOT NULL, sql TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .execute(&mut *tx)
        .await
        .map_err(self.db("create the migrations table"))?;
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, sql FROM _crosswalk_scope_migrations ORDER BY version")
                .fetch_all(&mut *tx)
                .await
                .map_err(self.db("read the applied migrations"))?;
        for (version, sql) in &applied {
            match MIGRATIONS.iter().find(|(v, _, _)| v == version) {
                None => {
                    return Err(ScopeError::conflict(format!(
                        "store {} was written by a newer Crosswalk (scope migration {version} unknown to this version); upgrade Crosswalk to use it",
                        self.location
                    )));
                }
                Some((_, _, ours)) if ours != sql => {
                    return Err(ScopeError::corrupt(format!(
                        "store {}: scope migration {version} differs from the one this Crosswalk applies; the file was changed by another build of Crosswalk or by hand",
                        self.location
                    )));
                }
                Some(_) => {}
            }
        }
        let now = unix(OffsetDateTime::now_utc());
        for (version, description, sql) in MIGRATIONS {
            if applied.iter().any(|(v, _)| v == version) {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(self.db("apply a scope migration"))?;
            sqlx::query("INSERT INTO _crosswalk_scope_migrations (version, description, sql, applied_at) VALUES (?, ?, ?, ?)")
                .bind(version)
                .bind(description)
                .bind(sql)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(self.db("record a scope migration"))?;
        }
        tx.commit()
            .await
            .map_err(self.db("bring the schema up to date"))
    }

    async fn scope_on(
        &self,
        conn: &mut SqliteConnection,
        name: &str,
    ) -> ScopeResult<(i64, ScopeRow)> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCOPE_COLUMNS} WHERE name = ?"
        )))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a scope"))?;
        match row {
            Some(row) => scope_row(&row),
            None => {
                let known: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM scopes ORDER BY name LIMIT 21")
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(self.db("list scopes"))?;
                let listed = if known.is_empty() {
                    "no scope has been created yet".to_string()
                } else {
                    format!(
                        "scopes: {}{}",
                        known
                            .iter()
                            .take(20)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", "),
                        if known.len() > 20 { ", ..." } else { "" }
                    )
                };
                Err(ScopeError::not_found(format!(
                    "no scope named {name:?}; {listed}"
                )))
            }
        }
    }

    async fn scope_id(&self, conn: &mut SqliteConnection, name: &str) -> ScopeResult<i64> {
        Ok(self.scope_on(conn, name).await?.0)
    }

    /// [`Self::scope_on`] through the scope cache, for reads outside a transaction (the
    /// row read is committed, so keeping it is safe).
    async fn scope_cached(
        &self,
        conn: &mut SqliteConnection,
        name: &str,
    ) -> ScopeResult<(i64, ScopeRow)> {
        if let Some(found) = self.scopes.get(name) {
            return Ok(found);
        }
        let (id, row) = self.scope_on(conn, name).await?;
        self.scopes.keep(id, &row);
        Ok((id, row))
    }

    async fn job_on(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
        name: &str,
    ) -> ScopeResult<Option<(i64, JobRow)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT j.id, {JOB_COLUMNS} WHERE j.scope_id = ? AND j.name = ?"
        )))
        .bind(scope_id)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a job"))?;
        match row {
            None => Ok(None),
            Some(row) => {
                let id: i64 = col(&row, 0)?;
                // The job columns start after the id.
                let job = JobRow {
                    scope: col(&row, 1)?,
                    name: col(&row, 2)?,
                    transfer_id: parse_uuid(&col::<String>(&row, 3)?)?,
                    created_at: from_unix(col(&row, 4)?)?,
                    runs: u32::try_from(col::<i64>(&row, 5)?).unwrap_or(0),
                };
                Ok(Some((id, job)))
            }
        }
    }

    /// The scope's job of that name, created if it has none, inside the caller's transaction.
    async fn job_or_create(
        &self,
        tx: &mut SqliteConnection,
        scope_id: i64,
        name: &str,
        at: OffsetDateTime,
    ) -> ScopeResult<(i64, JobRow)> {
        check_name("job", name)?;
        if let Some(job) = self.job_on(tx, scope_id, name).await? {
            return Ok(job);
        }
        sqlx::query(
            "INSERT INTO scope_jobs (scope_id, name, transfer_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(scope_id)
        .bind(name)
        .bind(Uuid::new_v4().hyphenated().to_string())
        .bind(unix(at))
        .execute(&mut *tx)
        .await
        .map_err(self.db("create a job"))?;
        self.job_on(tx, scope_id, name)
            .await?
            .ok_or_else(|| ScopeError::corrupt("a job just created cannot be read back"))
    }

    async fn mapping_on(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
        namespace: &Namespace,
        key: &str,
    ) -> ScopeResult<Option<(Stored, MappingRow)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.id, {MAPPING_COLUMNS} WHERE m.scope_id = ? AND m.namespace = ? AND m.source_key = ?"
        )))
        .bind(scope_id)
        .bind(namespace.as_str())
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.db("read a mapping"))?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = col(&row, 0)?;
        let revision_id: i64 = col(&row, 5)?;
        let mapping = MappingRow {
            namespace: Namespace::parse(&col::<String>(&row, 1)?)?,
            source_key: col(&row, 2)?,
            value: MappingValue::from_json(&col::<String>(&row, 3)?)?,
            removed: col::<i64>(&row, 4)? != 0,
            revision: Cursor::from_revision(revision_id),
            updated_at: from_unix(col(&row, 6)?)?,
            job: col(&row, 7)?,
        };
        Ok(Some((Stored { id, revision_id }, mapping)))
    }

    async fn revision_on(&self, conn: &mut SqliteConnection, id: i64) -> ScopeResult<RevisionRow> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVISION_COLUMNS} WHERE r.id = ?"
        )))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(self.db("read a revision"))?;
        revision_row(&row)
    }

    /// Writes one revision made by a caller, returning its id (a run writes its own in batches).
    #[allow(clippy::too_many_arguments)]
    async fn insert_revision(
        &self,
        tx: &mut SqliteConnection,
        scope_id: i64,
        namespace: &str,
        key: &str,
        previous: Option<i64>,
        value: Option<&str>,
        context: &ChangeContext,
        reason: Reason,
    ) -> ScopeResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO scope_revisions (scope_id, namespace, source_key, previous_id, value, caller, at, who, reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(scope_id)
        .bind(namespace)
        .bind(key)
        .bind(previous)
        .bind(value)
        .bind(&context.caller)
        .bind(unix(context.at))
        .bind(&context.who)
        .bind(reason.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db("write a revision"))
    }

    /// Points a mapping at a new live value (creating it if new), returning its id.
    #[allow(clippy::too_many_arguments)]
    async fn set_live(
        &self,
        tx: &mut SqliteConnection,
        scope_id: i64,
        namespace: &str,
        key: &str,
        existing: Option<i64>,
        revision_id: i64,
        value_hash: [u8; 16],
        at: i64,
        job_id: Option<i64>,
    ) -> ScopeResult<i64> {
        match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE scope_mappings SET value_revision_id = ?, revision_id = ?, value_hash = ?, removed = 0, removed_at = NULL, \
                     updated_at = ?, job_id = ? WHERE id = ?",
                )
                .bind(revision_id)
                .bind(revision_id)
                .bind(value_hash.to_vec())
                .bind(at)
                .bind(job_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(self.db("update a mapping"))?;
                Ok(id)
            }
            None => sqlx::query_scalar(
                "INSERT INTO scope_mappings (scope_id, namespace, source_key, value_revision_id, revision_id, value_hash, updated_at, job_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(scope_id)
            .bind(namespace)
            .bind(key)
            .bind(revision_id)
            .bind(revision_id)
            .bind(value_hash.to_vec())
            .bind(at)
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db("write a mapping")),
        }
    }

    async fn set_removed(
        &self,
        tx: &mut SqliteConnection,
        id: i64,
        revision_id: i64,
        at: i64,
        job_id: Option<i64>,
    ) -> ScopeResult<()> {
        sqlx::query("UPDATE scope_mappings SET revision_id = ?, removed = 1, removed_at = ?, updated_at = ?, job_id = ? WHERE id = ?")
            .bind(revision_id)
            .bind(at)
            .bind(at)
            .bind(job_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.db("mark a mapping removed"))?;
        Ok(())
    }

    async fn exception_set(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
    ) -> ScopeResult<ExceptionSet> {
        let version: i64 = sqlx::query_scalar("SELECT exceptions_version FROM scopes WHERE id = ?")
            .bind(scope_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(self.db("read the exceptions version"))?;
        let rows = sqlx::query("SELECT kind, source, destination FROM scope_exceptions WHERE scope_id = ? ORDER BY kind, source")
            .bind(scope_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read the exceptions"))?;
        let mut rules = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = col(row, 0)?;
            rules.push(ExceptionRow {
                kind: IdentityKind::parse(&kind).ok_or_else(|| {
                    ScopeError::corrupt(format!("an exception has an unknown kind {kind:?}"))
                })?,
                source: col(row, 1)?,
                destination: col(row, 2)?,
            });
        }
        Ok(ExceptionSet {
            version: u32::try_from(version).unwrap_or(0),
            rules,
        })
    }

    async fn change_exception(
        &self,
        scope: &str,
        rules: &[ExceptionRow],
        context: &ChangeContext,
        add: bool,
        note: Option<&super::webhooks::ExceptionNote>,
    ) -> ScopeResult<ExceptionSet> {
        check_name("caller", &context.caller)?;
        for rule in rules {
            for (what, side) in [
                ("exception's source", &rule.source),
                ("exception's destination", &rule.destination),
            ] {
                check_key(what, side, MAX_KEY_LEN)?;
            }
        }
        let mut tx = self.begin("change an exception").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        // Every rule in this one transaction: all are stored, or (on any error) none.
        for rule in rules {
            let existing: Option<String> = sqlx::query_scalar("SELECT destination FROM scope_exceptions WHERE scope_id = ? AND kind = ? AND source = ?")
            .bind(scope_id)
            .bind(kind_str(rule.kind))
            .bind(&rule.source)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db("read an exception"))?;
            if add {
                if existing.as_deref() == Some(rule.destination.as_str()) {
                    // Already so: no new version.
                    continue;
                }
                sqlx::query(
                "INSERT INTO scope_exceptions (scope_id, kind, source, destination) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (scope_id, kind, source) DO UPDATE SET destination = excluded.destination",
            )
            .bind(scope_id)
            .bind(kind_str(rule.kind))
            .bind(&rule.source)
            .bind(&rule.destination)
            .execute(&mut *tx)
            .await
            .map_err(self.db("add an exception"))?;
            } else {
                if existing.is_none() {
                    return Err(ScopeError::not_found(format!(
                        "scope {scope:?} has no {} exception for {:?}; `exceptions list` shows its rules",
                        rule.kind, rule.source
                    )));
                }
                sqlx::query(
                    "DELETE FROM scope_exceptions WHERE scope_id = ? AND kind = ? AND source = ?",
                )
                .bind(scope_id)
                .bind(kind_str(rule.kind))
                .bind(&rule.source)
                .execute(&mut *tx)
                .await
                .map_err(self.db("remove an exception"))?;
            }
            let version: i64 = sqlx::query_scalar("UPDATE scopes SET exceptions_version = exceptions_version + 1 WHERE id = ? RETURNING exceptions_version")
            .bind(scope_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db("version the exceptions"))?;
            sqlx::query(
            "INSERT INTO scope_exception_changes (scope_id, version, action, kind, source, destination, at, who, caller) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(scope_id)
        .bind(version)
        .bind(if add { "add" } else { "remove" })
        .bind(kind_str(rule.kind))
        .bind(&rule.source)
        .bind(if add { rule.destination.clone() } else { existing.unwrap_or_default() })
        .bind(unix(context.at))
        .bind(&context.who)
        .bind(&context.caller)
        .execute(&mut *tx)
        .await
        .map_err(self.db("record an exception change"))?;
            let committed = super::webhooks::Committed::ExceptionChanged {
                version: u32::try_from(version).unwrap_or(0),
                added: add,
                rule,
                context,
                note,
            };
            self.announce_in(&mut tx, scope_id, scope, context.at, &committed)
                .await?;
        }
        let set = self.exception_set(&mut tx, scope_id).await?;
        tx.commit().await.map_err(self.db("change an exception"))?;
        Ok(set)
    }

    /// Writes a run's identity choices (see [`ScopeWrite::record_run_choosing`]) in its
    /// transaction, under the scope's write lock.
    async fn record_choices(
        &self,
        tx: &mut SqliteConnection,
        scope_id: i64,
        run_id: i64,
        scope: &str,
        choices: &RunChoices,
    ) -> ScopeResult<()> {
        let version: i64 = sqlx::query_scalar("SELECT choices_version FROM scopes WHERE id = ?")
            .bind(scope_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(self.db("read the choices version"))?;
        if i64::from(choices.version) != version {
            return Err(ScopeError::conflict(format!(
                "the run was judged against identity choices version {}, but scope {scope:?} is at version {version}: \
                 another run changed them meanwhile; run it again",
                choices.version
            )));
        }
        let mut changed = false;
        for choice in &choices.choices {
            let (kind, target) = choice.handling.parts();
            let existing: Option<(String, String)> = sqlx::query_as(
                "SELECT handling, target FROM scope_choices WHERE scope_id = ? AND source_key = ?",
            )
            .bind(scope_id)
            .bind(&choice.source_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db("read an identity choice"))?;
            match existing {
                Some((old_kind, old_target)) if old_kind == kind && old_target == target => {
                    continue;
                }
                Some((old_kind, old_target)) => {
                    sqlx::query(
                        "INSERT INTO scope_choice_switches (scope_id, source_key, old_handling, old_target, new_handling, new_target, forced, run_id) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(scope_id)
                    .bind(&choice.source_key)
                    .bind(&old_kind)
                    .bind(&old_target)
                    .bind(kind)
                    .bind(target)
                    .bind(i64::from(choice.forced))
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("record a switched identity choice"))?;
                    sqlx::query("UPDATE scope_choices SET handling = ?, target = ?, run_id = ? WHERE scope_id = ? AND source_key = ?")
                        .bind(kind)
                        .bind(target)
                        .bind(run_id)
                        .bind(scope_id)
                        .bind(&choice.source_key)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("record an identity choice"))?;
                }
                None => {
                    sqlx::query("INSERT INTO scope_choices (scope_id, source_key, handling, target, run_id) VALUES (?, ?, ?, ?, ?)")
                        .bind(scope_id)
                        .bind(&choice.source_key)
                        .bind(kind)
                        .bind(target)
                        .bind(run_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("record an identity choice"))?;
                }
            }
            changed = true;
        }
        if changed {
            sqlx::query("UPDATE scopes SET choices_version = choices_version + 1 WHERE id = ?")
                .bind(scope_id)
                .execute(&mut *tx)
                .await
                .map_err(self.db("version the identity choices"))?;
        }
        Ok(())
    }

    async fn record_run_inner(
        &self,
        run: &RunRecord,
        choices: Option<&RunChoices>,
    ) -> ScopeResult<RunRow> {
        check_name("job", &run.job)?;
        for choice in choices.iter().flat_map(|c| &c.choices) {
            check_key("source key", &choice.source_key, MAX_KEY_LEN)?;
        }
        for identity in &run.identities {
            if !identity.namespace.is_identity() {
                return Err(ScopeError::invalid(format!(
                    "a run writes identity namespaces only; {} is an app namespace, written by upsert",
                    identity.namespace
                )));
            }
            check_key("source key", &identity.source_key, MAX_KEY_LEN)?;
        }
        // Everything that needs no lock is done before taking it.
        let source_content = contents::pack(&run.source)?;
        let destination_content = contents::pack(&run.destination)?;
        let (source_hash, destination_hash) = (&source_content.hash, &destination_content.hash);
        let policy_hash = content_hash(run.policy.as_bytes());
        // Values are compared by digest: the current state is read as digests, and only the
        // changed values are serialised a second time, to be written.
        let new = NewSide::of(run)?;
        let at = unix(run.started_at);

        let mut tx = self.begin("record a run").await?;
        let scope_id = self.scope_id(&mut tx, &run.scope).await?;
        let current_exceptions: i64 =
            sqlx::query_scalar("SELECT exceptions_version FROM scopes WHERE id = ?")
                .bind(scope_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db("read the exceptions version"))?;
        if i64::from(run.exceptions_version) != current_exceptions {
            return Err(ScopeError::conflict(format!(
                "the run resolved with exceptions version {}, but scope {:?} is at version {current_exceptions}: the exceptions changed while it ran; run it again",
                run.exceptions_version, run.scope
            )));
        }
        let (job_id, _) = self
            .job_or_create(&mut tx, scope_id, &run.job, run.started_at)
            .await?;
        for content in [&source_content, &destination_content] {
            sqlx::query("INSERT INTO directory_contents (hash, body, accounts, groups) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING")
                .bind(&content.hash)
                .bind(&content.packed)
                .bind(content.accounts)
                .bind(content.groups)
                .execute(&mut *tx)
                .await
                .map_err(self.db("store a directory's contents"))?;
        }
        let policy_version: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM scope_policies WHERE scope_id = ? AND hash = ?",
        )
        .bind(scope_id)
        .bind(&policy_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db("read the policy versions"))?;
        let policy_version = match policy_version {
            Some(version) => version,
            None => {
                let version: i64 = sqlx::query_scalar("UPDATE scopes SET policy_version = policy_version + 1 WHERE id = ? RETURNING policy_version")
                    .bind(scope_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(self.db("version the policy"))?;
                sqlx::query("INSERT INTO scope_policies (scope_id, version, hash, body) VALUES (?, ?, ?, ?)")
                    .bind(scope_id)
                    .bind(version)
                    .bind(&policy_hash)
                    .bind(&run.policy)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("store the policy"))?;
                version
            }
        };
        let number: i64 =
            sqlx::query_scalar("UPDATE scope_jobs SET runs = runs + 1 WHERE id = ? RETURNING runs")
                .bind(job_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db("number the run"))?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO scope_runs (job_id, number, started_at, who, policy_version, exceptions_version, source_content, destination_content, warnings) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(job_id)
        .bind(number)
        .bind(at)
        .bind(&run.who)
        .bind(policy_version)
        .bind(current_exceptions)
        .bind(source_hash)
        .bind(destination_hash)
        .bind(serde_json::to_string(&run.warnings).unwrap_or_else(|_| "[]".into()))
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db("record the run"))?;

        // The scope's current identity state, read under the write lock in key order, with
        // which job wrote each mapping last: a run removes only its own job's.
        let mut stored: Vec<StoredMapping> = Vec::new();
        {
            let mut rows = sqlx::query(
                "SELECT namespace, source_key, value_hash, removed, id, revision_id, value_revision_id, job_id FROM scope_mappings \
                 WHERE scope_id = ? AND namespace IN ('identity:group', 'identity:user') ORDER BY namespace, source_key",
            )
            .bind(scope_id)
            .fetch(&mut *tx);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(self.db("read the scope's mappings"))?
            {
                let hash: Vec<u8> = col(&row, 2)?;
                let written_by: Option<i64> = col(&row, 7)?;
                stored.push(StoredMapping {
                    namespace: identity_namespace(&col::<String>(&row, 0)?)?,
                    source_key: col(&row, 1)?,
                    value_hash: hash
                        .try_into()
                        .map_err(|_| ScopeError::corrupt("a stored value hash is not 16 bytes"))?,
                    removed: col::<i64>(&row, 3)? != 0,
                    ours: written_by == Some(job_id),
                    id: col(&row, 4)?,
                    revision_id: col(&row, 5)?,
                    value_revision_id: col(&row, 6)?,
                });
            }
        }
        let RunPlan { changes, counts } = run_plan::plan(run, &new, &mut stored);
        drop(new);
        let was_exception = self.exception_mappings(&mut tx, &changes).await?;

        // One revision per change, in batches. Nothing is read back (RETURNING made the
        // write five times slower): the mappings below find their revision by key and run.
        for batch in changes.chunks(REVISION_BATCH) {
            let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO scope_revisions (scope_id, namespace, source_key, previous_id, value, run_id, at, who, reason) ",
            );
            sql.push_values(batch, |mut row, change| {
                let (value, reason) = match change.identity {
                    None => (None, Reason::Removal),
                    Some(identity) => {
                        let exception = identity.value.is_exception()
                            || change.stored.is_some_and(|s| was_exception.contains(&s.id));
                        (
                            Some(identity_json(&identity.value)),
                            if exception {
                                Reason::Exception
                            } else {
                                Reason::Resolution
                            },
                        )
                    }
                };
                row.push_bind(scope_id)
                    .push_bind(change.namespace)
                    .push_bind(change.source_key)
                    .push_bind(change.stored.map(|s| s.revision_id))
                    .push_bind(value)
                    .push_bind(run_id)
                    .push_bind(at)
                    .push_bind(run.who.as_str())
                    .push_bind(reason.as_str());
            });
            sql.build()
                .execute(&mut *tx)
                .await
                .map_err(self.db("write revisions"))?;
        }

        // The mappings themselves: new ones inserted, the rest updated, in one upsert per
        // batch, each pointed at the revision this run just wrote for its key (a run writes
        // at most one per key). A removed mapping keeps pointing at its last value.
        for batch in changes.chunks(MAPPING_BATCH) {
            let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO scope_mappings (scope_id, namespace, source_key, value_revision_id, revision_id, value_hash, \
                 removed, removed_at, updated_at, job_id) \
                 SELECT r.scope_id, v.column1, v.column2, COALESCE(v.column3, r.id), r.id, v.column4, v.column5, v.column6, r.at, ",
            );
            sql.push_bind(job_id).push(" FROM (");
            sql.push_values(batch, |mut row, change| {
                let removed = change.kind == ChangeKind::Removed;
                let value_revision_id = if removed {
                    change.stored.map(|s| s.value_revision_id)
                } else {
                    None
                };
                row.push_bind(change.namespace)
                    .push_bind(change.source_key)
                    .push_bind(value_revision_id)
                    .push_bind(change.value_hash.to_vec())
                    .push_bind(i64::from(removed))
                    .push_bind(removed.then_some(at));
            });
            // CROSS JOIN fixes the order SQLite joins in: each listed key looked up in the
            // index. Left to choose, it scanned the list once per revision (quadratic: 20,000
            // users took 24 s instead of 0.35 s).
            sql.push(") AS v CROSS JOIN scope_revisions r ON r.scope_id = ")
                .push_bind(scope_id)
                .push(" AND r.namespace = v.column1 AND r.source_key = v.column2 AND r.run_id = ")
                .push_bind(run_id)
                // `WHERE true`: SQLite's grammar needs it between a join and ON CONFLICT.
                .push(
                    " WHERE true ON CONFLICT (scope_id, namespace, source_key) DO UPDATE SET \
                     value_revision_id = excluded.value_revision_id, revision_id = excluded.revision_id, \
                     value_hash = excluded.value_hash, removed = excluded.removed, removed_at = excluded.removed_at, \
                     updated_at = excluded.updated_at, job_id = excluded.job_id",
                );
            let written = sql
                .build()
                .execute(&mut *tx)
                .await
                .map_err(self.db("write mappings"))?
                .rows_affected();
            if written != batch.len() as u64 {
                return Err(ScopeError::corrupt(format!(
                    "a run wrote {} revisions but {written} mappings found theirs; nothing was saved",
                    batch.len()
                )));
            }
        }

        // Alternate keys: replaced for every mapping that got a new value; a removed mapping
        // keeps its own, so it is still found by them (marked removed).
        let replaced: Vec<i64> = changes
            .iter()
            .filter(|c| c.kind != ChangeKind::Removed)
            .filter_map(|c| c.stored.map(|s| s.id))
            .collect();
        for batch in replaced.chunks(MAPPING_BATCH) {
            let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
                "DELETE FROM scope_mapping_keys WHERE mapping_id IN (",
            );
            let mut list = sql.separated(", ");
            for id in batch {
                list.push_bind(*id);
            }
            sql.push(")");
            sql.build()
                .execute(&mut *tx)
                .await
                .map_err(self.db("replace alternate keys"))?;
        }
        let mut alternate: Vec<(AltKind, String, &str)> = Vec::new();
        for change in &changes {
            let Some(identity) = change.identity else {
                continue;
            };
            if change.namespace != Namespace::IDENTITY_USER {
                continue;
            }
            for (kind, alt) in keys::alternate_keys(&identity.value) {
                alternate.push((kind, alt, change.source_key));
            }
        }
        // In the key table's order: a new scope's keys are appended, not scattered over the
        // index (scattered, each page was written to the log many times over).
        alternate
            .sort_unstable_by(|a, b| (a.0.as_str(), &a.1, a.2).cmp(&(b.0.as_str(), &b.1, b.2)));
        for batch in alternate.chunks(KEY_BATCH) {
            let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO scope_mapping_keys (scope_id, namespace, kind, key, mapping_id) \
                 SELECT m.scope_id, m.namespace, v.column1, v.column2, m.id FROM (",
            );
            sql.push_values(batch, |mut row, (kind, alt, source_key)| {
                row.push_bind(kind.as_str())
                    .push_bind(alt.as_str())
                    .push_bind(*source_key);
            });
            // CROSS JOIN: the listed keys drive the look-ups (see the mappings above).
            sql.push(") AS v CROSS JOIN scope_mappings m ON m.scope_id = ")
                .push_bind(scope_id)
                .push(" AND m.namespace = 'identity:user' AND m.source_key = v.column3");
            sql.build()
                .execute(&mut *tx)
                .await
                .map_err(self.db("write alternate keys"))?;
        }
        sqlx::query(
            "UPDATE scope_runs SET added = ?, changed = ?, removed = ?, unchanged = ? WHERE id = ?",
        )
        .bind(counts.added as i64)
        .bind(counts.changed as i64)
        .bind(counts.removed as i64)
        .bind(counts.unchanged as i64)
        .bind(run_id)
        .execute(&mut *tx)
        .await
        .map_err(self.db("count the run's changes"))?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} WHERE r.id = ?"
        )))
        .bind(run_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db("read the run back"))?;
        let run_row = run_row(&row)?;
        if let Some(choices) = choices {
            self.record_choices(&mut tx, scope_id, run_id, &run.scope, choices)
                .await?;
        }
        let batch = self
            .revision_batch(
                &mut tx,
                scope_id,
                counts.added + counts.changed + counts.removed,
            )
            .await?;
        let committed = super::webhooks::Committed::RunRecorded {
            run: &run_row,
            record: run,
            batch: batch.as_ref(),
        };
        self.announce_in(&mut tx, scope_id, &run.scope, run.started_at, &committed)
            .await?;
        tx.commit().await.map_err(self.db("record a run"))?;
        Ok(run_row)
    }

    /// The changed mappings whose value was resolved by an exception: their change is an
    /// exception's doing too (a rule removed, or a new one), whatever the new value says.
    async fn exception_mappings(
        &self,
        tx: &mut SqliteConnection,
        changes: &[Planned<'_>],
    ) -> ScopeResult<HashSet<i64>> {
        let changed: Vec<i64> = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Changed)
            .filter_map(|c| c.stored.map(|s| s.id))
            .collect();
        let mut found = HashSet::new();
        for batch in changed.chunks(MAPPING_BATCH) {
            let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
                "SELECT m.id FROM scope_mappings m JOIN scope_revisions v ON v.id = m.value_revision_id \
                 WHERE json_extract(v.value, '$.value.resolution') = 'Exception' AND m.id IN (",
            );
            let mut list = sql.separated(", ");
            for id in batch {
                list.push_bind(*id);
            }
            sql.push(")");
            let rows = sql
                .build()
                .fetch_all(&mut *tx)
                .await
                .map_err(self.db("read the changed mappings"))?;
            for row in &rows {
                found.insert(col::<i64>(row, 0)?);
            }
        }
        Ok(found)
    }

    async fn upsert_app_inner(
        &self,
        scope: &str,
        namespace: &Namespace,
        key: &str,
        value: Option<&str>,
        context: &ChangeContext,
    ) -> ScopeResult<Option<RevisionRow>> {
        if namespace.is_identity() {
            return Err(ScopeError::invalid(format!(
                "{namespace} is written by runs; callers write app namespaces (product:entity, e.g. confluence:page)"
            )));
        }
        check_key("source key", key, MAX_KEY_LEN)?;
        if let Some(value) = value {
            check_key("value", value, MAX_APP_VALUE_LEN)?;
        }
        check_name("caller", &context.caller)?;
        let mut tx = self.begin("write an app mapping").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        let existing = self.mapping_on(&mut tx, scope_id, namespace, key).await?;
        let at = unix(context.at);
        let revision_id = match (value, existing) {
            (Some(value), existing) => {
                let new = MappingValue::App(value.to_string());
                if let Some((_, mapping)) = &existing
                    && !mapping.removed
                    && mapping.value == new
                {
                    return Ok(None);
                }
                let stored = existing.map(|(stored, _)| stored);
                let json = new.to_json();
                let revision_id = self
                    .insert_revision(
                        &mut tx,
                        scope_id,
                        namespace.as_str(),
                        key,
                        stored.as_ref().map(|s| s.revision_id),
                        Some(&json),
                        context,
                        Reason::Manual,
                    )
                    .await?;
                let hash = MappingValue::digest_of_json(&json);
                self.set_live(
                    &mut tx,
                    scope_id,
                    namespace.as_str(),
                    key,
                    stored.map(|s| s.id),
                    revision_id,
                    hash,
                    at,
                    None,
                )
                .await?;
                revision_id
            }
            (None, Some((stored, mapping))) if !mapping.removed => {
                let revision_id = self
                    .insert_revision(
                        &mut tx,
                        scope_id,
                        namespace.as_str(),
                        key,
                        Some(stored.revision_id),
                        None,
                        context,
                        Reason::Manual,
                    )
                    .await?;
                self.set_removed(&mut tx, stored.id, revision_id, at, None)
                    .await?;
                revision_id
            }
            (None, _) => return Ok(None),
        };
        let revision = self.revision_on(&mut tx, revision_id).await?;
        let batch = super::webhooks::RevisionBatch::single(&revision);
        let committed = super::webhooks::Committed::MappingWritten {
            batch: &batch,
            namespace: namespace.as_str(),
            source_key: key,
            value,
            context,
        };
        self.announce_in(&mut tx, scope_id, scope, context.at, &committed)
            .await?;
        tx.commit().await.map_err(self.db("write an app mapping"))?;
        Ok(Some(revision))
    }

    async fn purge_inner(
        &self,
        scope: &str,
        namespace: &Namespace,
        context: &ChangeContext,
        dry_run: bool,
    ) -> ScopeResult<PurgeReport> {
        check_name("caller", &context.caller)?;
        let mut tx = self.begin("purge").await?;
        let scope_id = self.scope_id(&mut tx, scope).await?;
        let keep: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT keep_days FROM scope_retention WHERE scope_id = ? AND namespace = ?",
        )
        .bind(scope_id)
        .bind(namespace.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db("read the retention"))?;
        let retention = match keep.flatten() {
            Some(days) => Retention::Days(u32::try_from(days).unwrap_or(u32::MAX)),
            None => Retention::Forever,
        };
        let mut report = PurgeReport {
            namespace: namespace.clone(),
            retention,
            removed: Vec::new(),
            revisions: Vec::new(),
        };
        let Retention::Days(days) = retention else {
            return Ok(report);
        };
        let cutoff = unix(context.at) - i64::from(days) * 86_400;
        let rows = sqlx::query(
            "SELECT id, source_key, revision_id FROM scope_mappings \
             WHERE scope_id = ? AND namespace = ? AND removed = 1 AND removed_at <= ? ORDER BY source_key",
        )
        .bind(scope_id)
        .bind(namespace.as_str())
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .map_err(self.db("find what to purge"))?;
        for row in &rows {
            let (id, key, revision_id): (i64, String, i64) =
                (col(row, 0)?, col(row, 1)?, col(row, 2)?);
            if !dry_run {
                let purge_id = self
                    .insert_revision(
                        &mut tx,
                        scope_id,
                        namespace.as_str(),
                        &key,
                        Some(revision_id),
                        None,
                        context,
                        Reason::Purge,
                    )
                    .await?;
                sqlx::query("DELETE FROM scope_mappings WHERE id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("purge a mapping"))?;
                report.revisions.push(Cursor::from_revision(purge_id));
            }
            report.removed.push(key);
        }
        if dry_run {
            return Ok(report);
        }
        self.announce_in(
            &mut tx,
            scope_id,
            scope,
            context.at,
            &super::webhooks::Committed::Purged {
                report: &report,
                context,
            },
        )
        .await?;
        tx.commit().await.map_err(self.db("purge"))?;
        Ok(report)
    }

    async fn find_inner<R: SqliteFound>(
        &self,
        scope: &str,
        namespace: &Namespace,
        keys: &[String],
    ) -> ScopeResult<Vec<FindAnswer<R>>> {
        if keys.len() > MAX_BATCH {
            return Err(ScopeError::invalid(format!(
                "a look-up holds at most {MAX_BATCH} keys, not {}",
                keys.len()
            )));
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db("look mappings up"))?;
        let (scope_id, scope_row) = self.scope_cached(&mut conn, scope).await?;
        let mut batch = FindBatch::new(scope_row.source_platform, namespace, keys)?;
        for kind in find::KIND_ORDER {
            let lookups = batch.pending(kind);
            if lookups.is_empty() {
                continue;
            }
            let rows = self
                .find_rows::<R>(&mut conn, scope_id, namespace, kind, &lookups)
                .await?;
            batch.answer(kind, rows);
        }
        Ok(batch.finish())
    }

    /// The mappings stored under `lookups` as `kind` keys, one query (`json_each` over the
    /// keys as a JSON array): `(stored key, row)`, each key's live ones first, then by
    /// source key, at most [`find::ALT_KEY_CANDIDATES`] per key. `R` says which columns:
    /// the whole mapping, or its brief.
    async fn find_rows<R: SqliteFound>(
        &self,
        conn: &mut SqliteConnection,
        scope_id: i64,
        namespace: &Namespace,
        kind: AltKind,
        lookups: &[String],
    ) -> ScopeResult<Vec<(String, R)>> {
        // One key (a single look-up, the common call) is compared directly: no JSON array to
        // build and no temporary list for SQLite to fill.
        let (matches, bound) = match lookups {
            [one] => ("= ?", one.clone()),
            _ => (
                "IN (SELECT value FROM json_each(?))",
                serde_json::to_string(lookups).map_err(|error| {
                    ScopeError::invalid(format!("keys that cannot be looked up: {error}"))
                })?,
            ),
        };
        let (columns, from) = R::columns(namespace);
        let rows = match kind {
            AltKind::SourceKey => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {columns} {from} WHERE m.scope_id = ? AND m.namespace = ? AND m.source_key {matches}"
                )))
                .bind(scope_id)
                .bind(namespace.as_str())
                .bind(&bound)
                .fetch_all(&mut *conn)
                .await
            }
            AltKind::Username | AltKind::Email => {
                // The columns come out under their own names (`removed`, `source_key`) for
                // the outer ORDER BY; the stored key follows them.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT * FROM (\
                     SELECT {columns}, k.key AS lookup, \
                     ROW_NUMBER() OVER (PARTITION BY k.key ORDER BY m.removed, m.source_key) AS candidate_rank \
                     FROM scope_mapping_keys k JOIN scope_mappings m ON m.id = k.mapping_id {joins} \
                     WHERE k.scope_id = ? AND k.namespace = ? AND k.kind = ? AND k.key {matches}) \
                     WHERE candidate_rank <= {} ORDER BY lookup, removed, source_key",
                    find::ALT_KEY_CANDIDATES,
                    joins = from.trim_start_matches("FROM scope_mappings m"),
                )))
                .bind(scope_id)
                .bind(namespace.as_str())
                .bind(kind.as_str())
                .bind(&bound)
                .fetch_all(&mut *conn)
                .await
            }
        }
        .map_err(self.db("look mappings up"))?;
        rows.iter()
            .map(|row| {
                let found = R::decode(row)?;
                let lookup = if kind == AltKind::SourceKey {
                    found.source_key().to_string()
                } else {
                    col(row, R::WIDTH)?
                };
                Ok((lookup, found))
            })
            .collect()
    }

    async fn report_inner(
        &self,
        scope: &str,
        of: &ReportOf,
        sink: &mut ReportValueSink<'_>,
    ) -> ScopeResult<u64> {
        let mut conn = self
            .pool
            .begin()
            .await
            .map_err(self.db("read the report"))?;
        let scope_id = self.scope_cached(&mut conn, scope).await?.0;
        // For one job: the source identities of its latest run.
        let mut only: Option<(String, HashSet<(IdentityKind, String)>)> = None;
        if let ReportOf::Job(job) = of {
            let Some((job_id, _)) = self.job_on(&mut conn, scope_id, job).await? else {
                return Err(ScopeError::not_found(format!(
                    "scope {scope:?} has no job named {job:?}; `jobs` lists them"
                )));
            };
            let hash: Option<String> = sqlx::query_scalar("SELECT source_content FROM scope_runs WHERE job_id = ? ORDER BY number DESC LIMIT 1")
                .bind(job_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(self.db("read the job's latest run"))?;
            let mut ids = HashSet::new();
            if let Some(hash) = hash {
                let content = self.content_on(&mut conn, &hash).await?;
                ids.extend(
                    content
                        .accounts
                        .into_iter()
                        .map(|a| (IdentityKind::Account, a.id)),
                );
                ids.extend(
                    content
                        .groups
                        .into_iter()
                        .map(|g| (IdentityKind::Group, g.id)),
                );
            }
            only = Some((job.clone(), ids));
        }
        // Users, then groups, each in key order straight off the index (no sort of the
        // whole scope), inside one read transaction: one snapshot for both.
        let mut handed = 0u64;
        for namespace in NAMESPACES {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {MAPPING_COLUMNS} WHERE m.scope_id = ? AND m.namespace = ? AND m.removed = 0 ORDER BY m.source_key"
            )))
            .bind(scope_id)
            .bind(namespace)
            .fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(self.db("read the report"))? {
                let mapping = mapping_row(&row)?;
                let Some(kind) = mapping.namespace.identity_kind() else {
                    continue;
                };
                let Some(value) = mapping.value.as_identity() else {
                    return Err(ScopeError::corrupt(format!(
                        "identity mapping {:?} holds an app value",
                        mapping.source_key
                    )));
                };
                let job = match &only {
                    Some((job, ids)) => {
                        if !ids.contains(&(kind, mapping.source_key.clone())) {
                            continue;
                        }
                        job.clone()
                    }
                    None => mapping.job.clone().unwrap_or_default(),
                };
                sink(ReportValueRef {
                    kind,
                    job: &job,
                    source_key: &mapping.source_key,
                    value,
                })?;
                handed += 1;
            }
        }
        Ok(handed)
    }

    async fn content_on(
        &self,
        conn: &mut SqliteConnection,
        hash: &str,
    ) -> ScopeResult<DirectoryContent> {
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM directory_contents WHERE hash = ?")
                .bind(hash)
                .fetch_optional(&mut *conn)
                .await
                .map_err(self.db("read a directory's contents"))?;
        let body = body.ok_or_else(|| {
            ScopeError::not_found(format!("no directory contents with hash {hash}"))
        })?;
        contents::unpack(hash, &body)
    }
}

impl ScopeRead for SqliteScopeStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn scopes(&self) -> StoreFuture<'_, Vec<ScopeRow>> {
        Box::pin(async move {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {SCOPE_COLUMNS} ORDER BY name"
            )))
            .fetch_all(&self.pool)
            .await
            .map_err(self.db("list scopes"))?;
            rows.iter()
                .map(|row| scope_row(row).map(|(_, scope)| scope))
                .collect()
        })
    }

    fn scope<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ScopeRow> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(self.db("read a scope"))?;
            Ok(self.scope_cached(&mut conn, scope).await?.1)
        })
    }

    fn jobs<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<JobRow>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(self.db("list jobs"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE j.scope_id = ? ORDER BY j.name"
            )))
            .bind(scope_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("list jobs"))?;
            rows.iter().map(job_row).collect()
        })
    }

    fn job_by_transfer(&self, transfer_id: Uuid) -> StoreFuture<'_, (ScopeRow, JobRow)> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(self.db("read a job"))?;
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE j.transfer_id = ?"
            )))
            .bind(transfer_id.hyphenated().to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(self.db("read a job"))?;
            let row = row.ok_or_else(|| {
                ScopeError::not_found(format!("no job has transfer id {transfer_id}"))
            })?;
            let job = job_row(&row)?;
            let (_, scope) = self.scope_cached(&mut conn, &job.scope).await?;
            Ok((scope, job))
        })
    }

    fn runs<'a>(&'a self, scope: &'a str, job: Option<&'a str>) -> StoreFuture<'a, Vec<RunRow>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(self.db("list runs"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} WHERE j.scope_id = ? AND (? IS NULL OR j.name = ?) ORDER BY r.id"
            )))
            .bind(scope_id)
            .bind(job)
            .bind(job)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("list runs"))?;
            rows.iter().map(run_row).collect()
        })
    }

    fn mappings_page<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, MappingPage> {
        Box::pin(async move {
            check_limit(limit)?;
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read mappings"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            // Two statements rather than `(? IS NULL OR key > ?)`, which SQLite cannot use as
            // the index range: every page would scan from the namespace's first key.
            let after_clause = if after.is_some() {
                " AND m.source_key > ?"
            } else {
                ""
            };
            let sql = format!(
                "SELECT {MAPPING_COLUMNS} WHERE m.scope_id = ? AND m.namespace = ?{after_clause} ORDER BY m.source_key LIMIT ?"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(scope_id)
                .bind(namespace.as_str());
            if let Some(after) = after {
                query = query.bind(after);
            }
            let rows = query
                .bind(limit as i64 + 1)
                .fetch_all(&mut *conn)
                .await
                .map_err(self.db("read mappings"))?;
            let last_page = rows.len() <= limit;
            let mappings = rows
                .iter()
                .take(limit)
                .map(mapping_row)
                .collect::<ScopeResult<Vec<_>>>()?;
            let next = if last_page {
                None
            } else {
                mappings.last().map(|m| m.source_key.clone())
            };
            Ok(MappingPage {
                mappings,
                next,
                last_page,
            })
        })
    }

    fn find<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        keys: &'a [String],
    ) -> StoreFuture<'a, Vec<FindAnswer>> {
        Box::pin(self.find_inner(scope, namespace, keys))
    }

    fn find_brief<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        keys: &'a [String],
    ) -> StoreFuture<'a, Vec<FindAnswer<MappingBrief>>> {
        Box::pin(self.find_inner(scope, namespace, keys))
    }

    fn mapping<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
    ) -> StoreFuture<'a, MappingHistory> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read a mapping"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let Some((_, mapping)) = self
                .mapping_on(&mut conn, scope_id, namespace, source_key)
                .await?
            else {
                return Err(ScopeError::not_found(format!(
                    "scope {scope:?} has no {namespace} mapping for {source_key:?}"
                )));
            };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {REVISION_COLUMNS} WHERE r.scope_id = ? AND r.namespace = ? AND r.source_key = ? ORDER BY r.id"
            )))
            .bind(scope_id)
            .bind(namespace.as_str())
            .bind(source_key)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read a mapping's revisions"))?;
            let revisions = rows.iter().map(revision_row).collect::<ScopeResult<_>>()?;
            Ok(MappingHistory { mapping, revisions })
        })
    }

    fn changes<'a>(
        &'a self,
        scope: &'a str,
        after: Cursor,
        limit: usize,
    ) -> StoreFuture<'a, ChangePage> {
        Box::pin(async move {
            check_limit(limit)?;
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the change feed"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {REVISION_COLUMNS} WHERE r.scope_id = ? AND r.id > ? ORDER BY r.id LIMIT ?"
            )))
            .bind(scope_id)
            .bind(after.revision())
            .bind(limit as i64 + 1)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read the change feed"))?;
            let last_page = rows.len() <= limit;
            let revisions: Vec<RevisionRow> = rows
                .iter()
                .take(limit)
                .map(revision_row)
                .collect::<ScopeResult<_>>()?;
            let cursor = revisions.last().map(|r| r.cursor).unwrap_or(after);
            Ok(ChangePage {
                revisions,
                cursor,
                last_page,
            })
        })
    }

    fn report_values_each<'a>(
        &'a self,
        scope: &'a str,
        of: &'a ReportOf,
        sink: &'a mut ReportValueSink<'_>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(self.report_inner(scope, of, sink))
    }

    fn exceptions<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ExceptionSet> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the exceptions"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            self.exception_set(&mut conn, scope_id).await
        })
    }

    fn exception_changes<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<ExceptionChange>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the exception history"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query(
                "SELECT version, action, kind, source, destination, at, who, caller FROM scope_exception_changes \
                 WHERE scope_id = ? ORDER BY version",
            )
            .bind(scope_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read the exception history"))?;
            rows.iter()
                .map(|row| {
                    let kind: String = col(row, 2)?;
                    Ok(ExceptionChange {
                        version: u32::try_from(col::<i64>(row, 0)?).unwrap_or(0),
                        added: col::<String>(row, 1)? == "add",
                        rule: ExceptionRow {
                            kind: IdentityKind::parse(&kind).ok_or_else(|| {
                                ScopeError::corrupt(format!(
                                    "an exception change has an unknown kind {kind:?}"
                                ))
                            })?,
                            source: col(row, 3)?,
                            destination: col(row, 4)?,
                        },
                        at: from_unix(col(row, 5)?)?,
                        who: col(row, 6)?,
                        caller: col(row, 7)?,
                    })
                })
                .collect()
        })
    }

    fn choices<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ChoiceSet> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the identity choices"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let version: i64 =
                sqlx::query_scalar("SELECT choices_version FROM scopes WHERE id = ?")
                    .bind(scope_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(self.db("read the choices version"))?;
            let rows = sqlx::query(
                "SELECT c.source_key, c.handling, c.target, j.name, r.number, r.who, r.started_at FROM scope_choices c \
                 JOIN scope_runs r ON r.id = c.run_id JOIN scope_jobs j ON j.id = r.job_id WHERE c.scope_id = ? ORDER BY c.source_key",
            )
            .bind(scope_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read the identity choices"))?;
            let choices = rows
                .iter()
                .map(|row| {
                    Ok(ChoiceRow {
                        source_key: col(row, 0)?,
                        handling: StoredHandling::from_parts(
                            &col::<String>(row, 1)?,
                            &col::<String>(row, 2)?,
                        )?,
                        job: col(row, 3)?,
                        run: u32::try_from(col::<i64>(row, 4)?).unwrap_or(0),
                        who: col(row, 5)?,
                        at: from_unix(col(row, 6)?)?,
                    })
                })
                .collect::<ScopeResult<Vec<_>>>()?;
            Ok(ChoiceSet {
                version: u32::try_from(version).unwrap_or(0),
                choices,
            })
        })
    }

    fn choice_switches<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<ChoiceSwitchRow>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the identity choice switches"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query(
                "SELECT s.source_key, s.old_handling, s.old_target, s.new_handling, s.new_target, s.forced, j.name, r.number, r.who, r.started_at \
                 FROM scope_choice_switches s JOIN scope_runs r ON r.id = s.run_id JOIN scope_jobs j ON j.id = r.job_id \
                 WHERE s.scope_id = ? ORDER BY s.id",
            )
            .bind(scope_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.db("read the identity choice switches"))?;
            rows.iter()
                .map(|row| {
                    Ok(ChoiceSwitchRow {
                        source_key: col(row, 0)?,
                        before: StoredHandling::from_parts(
                            &col::<String>(row, 1)?,
                            &col::<String>(row, 2)?,
                        )?,
                        after: StoredHandling::from_parts(
                            &col::<String>(row, 3)?,
                            &col::<String>(row, 4)?,
                        )?,
                        forced: col::<i64>(row, 5)? != 0,
                        job: col(row, 6)?,
                        run: u32::try_from(col::<i64>(row, 7)?).unwrap_or(0),
                        who: col(row, 8)?,
                        at: from_unix(col(row, 9)?)?,
                    })
                })
                .collect()
        })
    }

    fn retention<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<RetentionRow>> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read the retention"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let rows = sqlx::query("SELECT namespace, keep_days, set_at, set_by FROM scope_retention WHERE scope_id = ? ORDER BY namespace")
                .bind(scope_id)
                .fetch_all(&mut *conn)
                .await
                .map_err(self.db("read the retention"))?;
            rows.iter()
                .map(|row| {
                    Ok(RetentionRow {
                        namespace: Namespace::parse(&col::<String>(row, 0)?)?,
                        retention: match col::<Option<i64>>(row, 1)? {
                            Some(days) => Retention::Days(u32::try_from(days).unwrap_or(u32::MAX)),
                            None => Retention::Forever,
                        },
                        set_at: from_unix(col(row, 2)?)?,
                        set_by: col(row, 3)?,
                    })
                })
                .collect()
        })
    }

    fn item_references<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ItemReferencesState> {
        Box::pin(self.item_references_inner(scope))
    }

    fn affected_items<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        filter: &'a ItemFilter,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, ItemPage> {
        Box::pin(self.affected_items_inner(scope, namespace, source_key, filter, after, limit))
    }

    fn item_counts<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_keys: &'a [String],
    ) -> StoreFuture<'a, Vec<ItemCounts>> {
        Box::pin(self.item_counts_inner(scope, namespace, source_keys))
    }

    fn content<'a>(&'a self, scope: &'a str, hash: &'a str) -> StoreFuture<'a, DirectoryContent> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read a directory's contents"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let used: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM scope_runs r JOIN scope_jobs j ON j.id = r.job_id \
                 WHERE j.scope_id = ? AND (r.source_content = ? OR r.destination_content = ?))",
            )
            .bind(scope_id)
            .bind(hash)
            .bind(hash)
            .fetch_one(&mut *conn)
            .await
            .map_err(self.db("read a directory's contents"))?;
            if !used {
                return Err(ScopeError::not_found(format!(
                    "no run of scope {scope:?} resolved directory contents {hash}"
                )));
            }
            self.content_on(&mut conn, hash).await
        })
    }

    fn task<'a>(&'a self, scope: &'a str, id: &'a str) -> StoreFuture<'a, super::TaskRow> {
        Box::pin(self.task_inner(scope, id))
    }

    fn policy<'a>(&'a self, scope: &'a str, version: u32) -> StoreFuture<'a, String> {
        Box::pin(async move {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(self.db("read a policy"))?;
            let scope_id = self.scope_cached(&mut conn, scope).await?.0;
            let body: Option<String> = sqlx::query_scalar(
                "SELECT body FROM scope_policies WHERE scope_id = ? AND version = ?",
            )
            .bind(scope_id)
            .bind(i64::from(version))
            .fetch_optional(&mut *conn)
            .await
            .map_err(self.db("read a policy"))?;
            body.ok_or_else(|| {
                ScopeError::not_found(format!("scope {scope:?} has no policy version {version}"))
            })
        })
    }
}

impl ScopeWrite for SqliteScopeStore {
    fn scim(&self) -> Option<&dyn super::ScimStore> {
        Some(self)
    }

    fn create_scope<'a>(
        &'a self,
        scope: &'a NewScope,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ScopeRow> {
        Box::pin(async move {
            check_name("scope", &scope.name)?;
            check_name("source label", &scope.source_label)?;
            check_name("destination label", &scope.destination_label)?;
            let mut tx = self.begin("create a scope").await?;
            let inserted = sqlx::query("INSERT INTO scopes (name, source_label, destination_label, created_at, created_by) VALUES (?, ?, ?, ?, ?)")
                .bind(&scope.name)
                .bind(&scope.source_label)
                .bind(&scope.destination_label)
                .bind(unix(context.at))
                .bind(&context.who)
                .execute(&mut *tx)
                .await;
            match inserted {
                Err(error) if is_unique_violation(&error) => {
                    return Err(ScopeError::conflict(format!(
                        "a scope named {:?} already exists; `scope show {0:?}` shows it",
                        scope.name
                    )));
                }
                other => other.map_err(self.db("create a scope"))?,
            };
            let (_, row) = self.scope_on(&mut tx, &scope.name).await?;
            tx.commit().await.map_err(self.db("create a scope"))?;
            Ok(row)
        })
    }

    fn job<'a>(
        &'a self,
        scope: &'a str,
        name: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, JobRow> {
        Box::pin(async move {
            let mut tx = self.begin("create a job").await?;
            let scope_id = self.scope_id(&mut tx, scope).await?;
            let (_, job) = self
                .job_or_create(&mut tx, scope_id, name, context.at)
                .await?;
            tx.commit().await.map_err(self.db("create a job"))?;
            Ok(job)
        })
    }

    fn record_run_choosing<'a>(
        &'a self,
        run: &'a RunRecord,
        choices: Option<&'a RunChoices>,
    ) -> StoreFuture<'a, RunRow> {
        Box::pin(self.record_run_inner(run, choices))
    }

    fn upsert_app<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        value: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, Option<RevisionRow>> {
        Box::pin(self.upsert_app_inner(scope, namespace, source_key, Some(value), context))
    }

    fn delete_app<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, Option<RevisionRow>> {
        Box::pin(self.upsert_app_inner(scope, namespace, source_key, None, context))
    }

    fn add_exception<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet> {
        Box::pin(self.change_exception(scope, std::slice::from_ref(rule), context, true, None))
    }

    fn add_exceptions<'a>(
        &'a self,
        scope: &'a str,
        rules: &'a [ExceptionRow],
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet> {
        Box::pin(self.change_exception(scope, rules, context, true, None))
    }

    fn add_exception_noting<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
        note: &'a super::webhooks::ExceptionNote,
    ) -> StoreFuture<'a, ExceptionSet> {
        Box::pin(self.change_exception(
            scope,
            std::slice::from_ref(rule),
            context,
            true,
            Some(note),
        ))
    }

    fn remove_exception<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet> {
        Box::pin(self.change_exception(scope, std::slice::from_ref(rule), context, false, None))
    }

    fn set_retention<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        retention: Retention,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, RetentionRow> {
        Box::pin(async move {
            let mut tx = self.begin("set the retention").await?;
            let scope_id = self.scope_id(&mut tx, scope).await?;
            let days = match retention {
                Retention::Forever => None,
                Retention::Days(days) => Some(i64::from(days)),
            };
            sqlx::query(
                "INSERT INTO scope_retention (scope_id, namespace, keep_days, set_at, set_by) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (scope_id, namespace) DO UPDATE SET keep_days = excluded.keep_days, set_at = excluded.set_at, set_by = excluded.set_by",
            )
            .bind(scope_id)
            .bind(namespace.as_str())
            .bind(days)
            .bind(unix(context.at))
            .bind(&context.who)
            .execute(&mut *tx)
            .await
            .map_err(self.db("set the retention"))?;
            tx.commit().await.map_err(self.db("set the retention"))?;
            Ok(RetentionRow {
                namespace: namespace.clone(),
                retention,
                set_at: context.at,
                set_by: context.who.clone(),
            })
        })
    }

    fn replace_item_references<'a>(
        &'a self,
        scope: &'a str,
        references: &'a [ItemReferenceRow],
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ItemReferencesState> {
        Box::pin(self.replace_items_inner(scope, references, context))
    }

    fn save_task<'a>(&'a self, task: &'a super::TaskRow) -> StoreFuture<'a, super::TaskRow> {
        Box::pin(self.save_task_inner(task))
    }

    fn purge<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        context: &'a ChangeContext,
        dry_run: bool,
    ) -> StoreFuture<'a, PurgeReport> {
        Box::pin(self.purge_inner(scope, namespace, context, dry_run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|(version, description, _)| format!("{version:04}_{description}.sql"))
            .collect();
        assert_eq!(files, embedded);
    }
}
