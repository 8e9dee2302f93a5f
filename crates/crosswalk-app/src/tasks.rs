//! Background run tasks: a server runs a job off the request and answers with a task whose
//! state it keeps in the store as the run goes, so any server on the same store answers the
//! task's status. The clock and the caller are this layer's, like everywhere.

use crosswalk_store::scope::{TaskError, TaskRow, TaskState};

use crate::App;
use crate::access::Caller;
use crate::error::AppResult;
use crate::read::scope_error;

impl App {
    /// A new task for a run of `job` that the caller (a writer of the scope) is about to
    /// start: queued, now, with a fresh id.
    pub async fn queue_task(&self, caller: &Caller, scope: &str, job: &str) -> AppResult<TaskRow> {
        caller.check_write(scope)?;
        let now = self.clock.now();
        let task = TaskRow {
            id: uuid::Uuid::new_v4().to_string(),
            scope: scope.to_string(),
            job: job.to_string(),
            state: TaskState::Queued,
            step: None,
            started_at: now,
            started_by: caller.actor().to_string(),
            updated_at: now,
            finished_at: None,
            outcome: None,
            error: None,
        };
        self.store
            .save_task(&task)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// The task is running, at `step` (`None`: just started).
    pub async fn task_running(&self, task: &TaskRow, step: Option<String>) -> AppResult<TaskRow> {
        let running = TaskRow {
            state: TaskState::Running,
            step,
            updated_at: self.clock.now(),
            ..task.clone()
        };
        Ok(self.store.save_task(&running).await?)
    }

    /// The task has ended: what the run changed, or why it failed.
    pub async fn task_finished(
        &self,
        task: &TaskRow,
        result: Result<serde_json::Value, TaskError>,
    ) -> AppResult<TaskRow> {
        let now = self.clock.now();
        let (state, outcome, error) = match result {
            Ok(outcome) => (TaskState::Succeeded, Some(outcome), None),
            Err(error) => (TaskState::Failed, None, Some(error)),
        };
        let finished = TaskRow {
            state,
            step: None,
            updated_at: now,
            finished_at: Some(now),
            outcome,
            error,
            ..task.clone()
        };
        Ok(self.store.save_task(&finished).await?)
    }

    /// One of the scope's tasks, whichever server runs it.
    pub async fn task(&self, caller: &Caller, scope: &str, id: &str) -> AppResult<TaskRow> {
        caller.check_read(scope)?;
        self.store
            .task(scope, id)
            .await
            .map_err(|e| scope_error(scope, e))
    }
}
