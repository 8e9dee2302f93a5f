//! Background run tasks as the store keeps them (table `run_tasks`, times in whole seconds).
//! A server that runs a job in the background writes its task's state here as it goes, so
//! any server on the same database answers the task's status, not only the one running it.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;

use super::check_name;
use super::error::{ScopeError, ScopeResult};
use super::postgres::PostgresScopeStore;
use super::sqlite::SqliteScopeStore;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> ScopeResult<TaskState> {
        match text {
            "queued" => Ok(TaskState::Queued),
            "running" => Ok(TaskState::Running),
            "succeeded" => Ok(TaskState::Succeeded),
            "failed" => Ok(TaskState::Failed),
            _ => Err(ScopeError::corrupt(format!(
                "a stored task has the unknown state {text:?}"
            ))),
        }
    }

    pub fn finished(self) -> bool {
        matches!(self, TaskState::Succeeded | TaskState::Failed)
    }
}

/// Why a task failed: an error's code and message, as the API shows errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    pub code: String,
    pub message: String,
}

/// One background run and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: String,
    pub scope: String,
    pub job: String,
    pub state: TaskState,
    pub step: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub started_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// What the run changed, as JSON, once it succeeded.
    pub outcome: Option<serde_json::Value>,
    pub error: Option<TaskError>,
}

impl TaskRow {
    /// The row as a later read gives it: times in whole seconds.
    pub(super) fn as_stored(&self) -> TaskRow {
        let whole = |at: OffsetDateTime| {
            OffsetDateTime::from_unix_timestamp(at.unix_timestamp()).unwrap_or(at)
        };
        TaskRow {
            started_at: whole(self.started_at),
            updated_at: whole(self.updated_at),
            finished_at: self.finished_at.map(whole),
            ..self.clone()
        }
    }

    fn check(&self) -> ScopeResult<()> {
        check_name("task id", &self.id)?;
        check_name("job", &self.job)?;
        check_name("caller", &self.started_by)
    }

    fn outcome_text(&self) -> Option<String> {
        self.outcome.as_ref().map(|value| value.to_string())
    }
}

fn not_found(scope: &str, id: &str) -> ScopeError {
    ScopeError::not_found(format!("scope {scope:?} has no task {id:?}"))
}

fn unreadable(error: impl std::fmt::Display) -> ScopeError {
    ScopeError::corrupt(format!("a stored task is unreadable: {error}"))
}

fn outcome_from(text: Option<String>) -> ScopeResult<Option<serde_json::Value>> {
    text.map(|text| serde_json::from_str(&text).map_err(unreadable))
        .transpose()
}

fn error_from(code: Option<String>, message: Option<String>) -> Option<TaskError> {
    code.map(|code| TaskError {
        code,
        message: message.unwrap_or_default(),
    })
}

/// The columns every task query reads, in one place (sqlx takes only `'static` SQL text).
macro_rules! columns {
    () => {
        "id, scope_name, job, state, step, started_at, started_by, updated_at, finished_at, outcome, error_code, error_message"
    };
}

/// Inserts the task, or replaces every field but its scope, job and start.
macro_rules! upsert {
    ($p:literal, $($n:literal),*) => {
        concat!(
            "INSERT INTO run_tasks (", columns!(), ") VALUES (", $p, $(", ", $n),*, ") ",
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, step = excluded.step, updated_at = excluded.updated_at, ",
            "finished_at = excluded.finished_at, outcome = excluded.outcome, error_code = excluded.error_code, ",
            "error_message = excluded.error_message WHERE run_tasks.scope_name = excluded.scope_name"
        )
    };
}

fn sqlite_row(row: &sqlx::sqlite::SqliteRow) -> ScopeResult<TaskRow> {
    let time = |seconds: i64| {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| unreadable(format!("time {seconds} out of range")))
    };
    let state: String = row.try_get("state").map_err(unreadable)?;
    let finished: Option<i64> = row.try_get("finished_at").map_err(unreadable)?;
    Ok(TaskRow {
        id: row.try_get("id").map_err(unreadable)?,
        scope: row.try_get("scope_name").map_err(unreadable)?,
        job: row.try_get("job").map_err(unreadable)?,
        state: TaskState::parse(&state)?,
        step: row.try_get("step").map_err(unreadable)?,
        started_at: time(row.try_get("started_at").map_err(unreadable)?)?,
        started_by: row.try_get("started_by").map_err(unreadable)?,
        updated_at: time(row.try_get("updated_at").map_err(unreadable)?)?,
        finished_at: finished.map(time).transpose()?,
        outcome: outcome_from(row.try_get("outcome").map_err(unreadable)?)?,
        error: error_from(
            row.try_get("error_code").map_err(unreadable)?,
            row.try_get("error_message").map_err(unreadable)?,
        ),
    })
}

fn postgres_row(row: &sqlx::postgres::PgRow) -> ScopeResult<TaskRow> {
    let state: String = row.try_get("state").map_err(unreadable)?;
    Ok(TaskRow {
        id: row.try_get("id").map_err(unreadable)?,
        scope: row.try_get("scope_name").map_err(unreadable)?,
        job: row.try_get("job").map_err(unreadable)?,
        state: TaskState::parse(&state)?,
        step: row.try_get("step").map_err(unreadable)?,
        started_at: row.try_get("started_at").map_err(unreadable)?,
        started_by: row.try_get("started_by").map_err(unreadable)?,
        updated_at: row.try_get("updated_at").map_err(unreadable)?,
        finished_at: row.try_get("finished_at").map_err(unreadable)?,
        outcome: outcome_from(row.try_get("outcome").map_err(unreadable)?)?,
        error: error_from(
            row.try_get("error_code").map_err(unreadable)?,
            row.try_get("error_message").map_err(unreadable)?,
        ),
    })
}

impl SqliteScopeStore {
    pub(super) async fn save_task_inner(&self, task: &TaskRow) -> ScopeResult<TaskRow> {
        task.check()?;
        let db =
            |cause: sqlx::Error| ScopeError::database("keep a task's state", &self.location, cause);
        let scope_exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM scopes WHERE name = ?")
            .bind(&task.scope)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        if scope_exists.is_none() {
            return Err(ScopeError::not_found(format!(
                "scope {:?} does not exist",
                task.scope
            )));
        }
        let written = sqlx::query(upsert!(
            "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?"
        ))
        .bind(&task.id)
        .bind(&task.scope)
        .bind(&task.job)
        .bind(task.state.as_str())
        .bind(&task.step)
        .bind(task.started_at.unix_timestamp())
        .bind(&task.started_by)
        .bind(task.updated_at.unix_timestamp())
        .bind(task.finished_at.map(|at| at.unix_timestamp()))
        .bind(task.outcome_text())
        .bind(task.error.as_ref().map(|e| &e.code))
        .bind(task.error.as_ref().map(|e| &e.message))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if written.rows_affected() == 0 {
            // The id is another scope's: say nothing about it.
            return Err(not_found(&task.scope, &task.id));
        }
        Ok(task.as_stored())
    }

    pub(super) async fn task_inner(&self, scope: &str, id: &str) -> ScopeResult<TaskRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM run_tasks WHERE scope_name = ? AND id = ?"
        ))
        .bind(scope)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|cause| ScopeError::database("read a task", &self.location, cause))?;
        row.as_ref()
            .map(sqlite_row)
            .unwrap_or_else(|| Err(not_found(scope, id)))
    }
}

impl PostgresScopeStore {
    pub(super) async fn save_task_inner(&self, task: &TaskRow) -> ScopeResult<TaskRow> {
        task.check()?;
        let stored = task.as_stored();
        let db =
            |cause: sqlx::Error| ScopeError::database("keep a task's state", &self.location, cause);
        let scope_exists: Option<i64> = sqlx::query_scalar("SELECT id FROM scopes WHERE name = $1")
            .bind(&task.scope)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        if scope_exists.is_none() {
            return Err(ScopeError::not_found(format!(
                "scope {:?} does not exist",
                task.scope
            )));
        }
        let written = sqlx::query(upsert!(
            "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12"
        ))
        .bind(&stored.id)
        .bind(&stored.scope)
        .bind(&stored.job)
        .bind(stored.state.as_str())
        .bind(&stored.step)
        .bind(stored.started_at)
        .bind(&stored.started_by)
        .bind(stored.updated_at)
        .bind(stored.finished_at)
        .bind(stored.outcome_text())
        .bind(stored.error.as_ref().map(|e| &e.code))
        .bind(stored.error.as_ref().map(|e| &e.message))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if written.rows_affected() == 0 {
            return Err(not_found(&task.scope, &task.id));
        }
        Ok(stored)
    }

    pub(super) async fn task_inner(&self, scope: &str, id: &str) -> ScopeResult<TaskRow> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM run_tasks WHERE scope_name = $1 AND id = $2"
        ))
        .bind(scope)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|cause| ScopeError::database("read a task", &self.location, cause))?;
        row.as_ref()
            .map(postgres_row)
            .unwrap_or_else(|| Err(not_found(scope, id)))
    }
}
