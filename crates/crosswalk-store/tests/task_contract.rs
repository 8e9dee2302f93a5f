//! The run-task contract, written once and run against each backend
//! (`task_tests!(backend, constructor)`): a task's state is kept as it moves on, a second
//! handle on the same database (another server process) reads it at once, and a task is
//! seen only through its own scope.

use crosswalk_store::scope::{ChangeContext, ErrorKind, NewScope, TaskError, TaskRow, TaskState};
use time::OffsetDateTime;

#[path = "support/backends.rs"]
mod backends;
use backends::{Backend, postgres_store, sqlite_store};

macro_rules! task_tests {
    ($backend:ident, $constructor:ident; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = super::$constructor().await else { return };
                    super::$case(&backend).await;
                }
            )*
        }
    };
}

task_tests!(sqlite, sqlite_store;
    a_task_moves_from_queued_to_its_end_and_another_handle_sees_each_step,
    a_task_is_seen_only_through_its_own_scope,
);
task_tests!(postgres, postgres_store;
    a_task_moves_from_queued_to_its_end_and_another_handle_sees_each_step,
    a_task_is_seen_only_through_its_own_scope,
);

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

async fn create_scope(backend: &Backend, name: &str) {
    let context = ChangeContext {
        at: at(0),
        who: "t".into(),
        caller: "t".into(),
    };
    let scope = NewScope {
        name: name.into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    backend.store.create_scope(&scope, &context).await.unwrap();
}

fn queued(id: &str, scope: &str) -> TaskRow {
    TaskRow {
        id: id.to_string(),
        scope: scope.to_string(),
        job: "wave-1".to_string(),
        state: TaskState::Queued,
        step: None,
        started_at: at(1),
        started_by: "token:abc".to_string(),
        updated_at: at(1),
        finished_at: None,
        outcome: None,
        error: None,
    }
}

async fn a_task_moves_from_queued_to_its_end_and_another_handle_sees_each_step(backend: &Backend) {
    let other = backend.other().await;
    create_scope(backend, "acme").await;
    let task = backend
        .store
        .save_task(&queued("t1", "acme"))
        .await
        .unwrap();
    assert_eq!(other.task("acme", "t1").await.unwrap(), task);

    let running = TaskRow {
        state: TaskState::Running,
        step: Some("resolving 12 identities".into()),
        updated_at: at(2),
        ..task
    };
    backend.store.save_task(&running).await.unwrap();
    let seen = other.task("acme", "t1").await.unwrap();
    assert_eq!(
        (seen.state, seen.step.as_deref()),
        (TaskState::Running, Some("resolving 12 identities"))
    );

    let done = TaskRow {
        state: TaskState::Succeeded,
        step: None,
        updated_at: at(3),
        finished_at: Some(at(3)),
        outcome: Some(serde_json::json!({"run": 1, "summary": {"email": 10}})),
        ..running.clone()
    };
    backend.store.save_task(&done).await.unwrap();
    assert_eq!(other.task("acme", "t1").await.unwrap(), done);

    let failed = TaskRow {
        id: "t2".into(),
        state: TaskState::Failed,
        finished_at: Some(at(4)),
        error: Some(TaskError {
            code: "invalid_input".into(),
            message: "source.csv:3: field email: not an address".into(),
        }),
        ..queued("t2", "acme")
    };
    backend.store.save_task(&failed).await.unwrap();
    assert_eq!(other.task("acme", "t2").await.unwrap().error, failed.error);
    // Each task keeps its own state.
    assert_eq!(
        other.task("acme", "t1").await.unwrap().state,
        TaskState::Succeeded
    );
}

async fn a_task_is_seen_only_through_its_own_scope(backend: &Backend) {
    let other = backend.other().await;
    create_scope(backend, "acme").await;
    create_scope(backend, "globex").await;
    backend
        .store
        .save_task(&queued("t1", "acme"))
        .await
        .unwrap();
    let error = other.task("globex", "t1").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    // Another scope cannot overwrite it under the same id either.
    let error = backend
        .store
        .save_task(&TaskRow {
            state: TaskState::Failed,
            ..queued("t1", "globex")
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(
        backend.store.task("acme", "t1").await.unwrap().state,
        TaskState::Queued
    );
    // And a task needs an existing scope.
    let error = backend
        .store
        .save_task(&queued("t3", "initech"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}
