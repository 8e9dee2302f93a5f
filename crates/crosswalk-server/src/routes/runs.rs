//! Running a job on directories uploaded in the request. The run happens in the background
//! (the engine on a blocking thread, off the async workers); the answer is a task whose
//! status says which step it is at and, at the end, what the run changed or why it failed.
//! A task's state is kept in the store as the run goes, so every `crosswalk serve` on the same
//! store answers its status, whichever one runs it.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::StatusCode;
use crosswalk_app::{InputFiles, Progress, RunRequest};
use crosswalk_store::scope::{Role, TaskError, TaskRow};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::routes::native::visible_scope;
use crate::{Principal, ServerState};

/// A background run and where it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskStatus {
    pub id: String,
    pub scope: String,
    pub job: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// The step under way: `reading`, `resolving N identities`, `recording N mappings`.
    pub step: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When its state or step last changed: a task still `running` long after this was
    /// cut short (its server stopped mid-run); run the job again.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// When it succeeded: the job (with its transfer id), the run and its counts.
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<serde_json::Value>,
    /// When it failed: why, in the API's error shape.
    pub error: Option<ErrorBody>,
}

impl From<TaskRow> for TaskStatus {
    fn from(task: TaskRow) -> TaskStatus {
        TaskStatus {
            id: task.id,
            scope: task.scope,
            job: task.job,
            state: task.state.as_str().to_string(),
            step: task.step,
            started_at: task.started_at,
            updated_at: task.updated_at,
            finished_at: task.finished_at,
            outcome: task.outcome,
            error: task.error.map(|e| ErrorBody {
                code: e.code,
                message: e.message,
            }),
        }
    }
}

/// The file formats the CLI reads.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UploadFormat {
    /// Crosswalk's directory CSV.
    Csv,
    /// A SCIM 2.0 ListResponse.
    Json,
    /// SCIM User and Group resources, one per line.
    Jsonl,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Upload {
    pub(crate) format: UploadFormat,
    /// The file's contents.
    pub(crate) content: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RunUpload {
    source: Upload,
    destination: Upload,
    /// The policy TOML; none: the default policy.
    policy: Option<String>,
    /// The exceptions CSV; none: the scope's rules as they stand.
    exceptions: Option<String>,
    /// Store the valid records and list the skipped ones, rather than refuse the run.
    #[serde(default)]
    skip_invalid: bool,
    /// An edited findings CSV (`crosswalk check --format csv`) whose fixes the run applies
    /// first, all rows or none; the duplicate-handling choices among them are recorded.
    fixes: Option<String>,
    /// Run although the pre-flight checks find blockers in the directories (invalid,
    /// duplicate or missing emails, reserved group names), or these fixes switch a
    /// duplicate-handling choice an earlier run of the scope made (which would create
    /// duplicate accounts). Without it such a run is refused (the task fails with
    /// `conflict`, nothing written); with it the override is kept with the run's warnings,
    /// saying who and when.
    #[serde(default)]
    force: bool,
}

/// A private temporary directory holding one request's uploaded files, named as the caller
/// would name them (`source.csv`, `items.csv`), so the readers' messages name them so too.
pub(crate) struct UploadDir(tempfile::TempDir);

fn unavailable(error: std::io::Error) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("cannot keep the upload: {error}"),
    )
}

impl UploadDir {
    pub(crate) fn new() -> Result<UploadDir, ApiError> {
        tempfile::tempdir().map(UploadDir).map_err(unavailable)
    }

    /// Writes a directory upload as `<name>.<its format's extension>`.
    pub(crate) fn upload(&self, name: &str, upload: &Upload) -> Result<PathBuf, ApiError> {
        let extension = match upload.format {
            UploadFormat::Csv => "csv",
            UploadFormat::Json => "json",
            UploadFormat::Jsonl => "jsonl",
        };
        self.text(&format!("{name}.{extension}"), &upload.content)
    }

    /// Writes a text upload (policy, exceptions, items, fixes) under `file_name`.
    pub(crate) fn text(&self, file_name: &str, content: &str) -> Result<PathBuf, ApiError> {
        let path = self.0.path().join(file_name);
        std::fs::write(&path, content).map_err(unavailable)?;
        Ok(path)
    }

    /// An application error as the API answers it, naming an uploaded file as the caller
    /// called it, not where it was kept.
    pub(crate) fn error(&self, error: crosswalk_app::AppError) -> ApiError {
        let mut error = ApiError::from(error);
        error.message = self.hide(&error.message);
        error
    }

    fn hide(&self, message: &str) -> String {
        message.replace(
            &format!("{}{}", self.0.path().display(), std::path::MAIN_SEPARATOR),
            "",
        )
    }
}

fn step(progress: &Progress) -> Option<String> {
    match progress {
        Progress::Reading { .. } => Some("reading".to_string()),
        Progress::Resolving {
            source_identities, ..
        } => Some(format!("resolving {source_identities} identities")),
        Progress::Recording { mappings } => Some(format!("recording {mappings} mappings")),
        _ => None,
    }
}

/// Runs the job on the uploaded directories, in the background (a writer token). Answers
/// 202 with the task; its status is at `/api/v1/scopes/{scope}/tasks/{task}`. The
/// pre-flight checks run first: with blockers the task fails (`conflict`) unless `force`.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/jobs/{job}/runs", tag = "jobs", security(("token" = [])),
    params(("scope" = String, Path), ("job" = String, Path)), request_body = RunUpload,
    responses((status = 202, body = TaskStatus), (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn start_run(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, job)): ApiPath<(String, String)>,
    ApiJson(upload): ApiJson<RunUpload>,
) -> ApiResult<(StatusCode, ApiJson<TaskStatus>)> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    crosswalk_store::scope::check_name("job", &job)?;
    let caller = principal.caller()?;
    let dir = UploadDir::new()?;
    let files = InputFiles {
        source: dir.upload("source", &upload.source)?,
        destination: dir.upload("destination", &upload.destination)?,
        policy: upload
            .policy
            .as_deref()
            .map(|text| dir.text("policy.toml", text))
            .transpose()?,
        exceptions: upload
            .exceptions
            .as_deref()
            .map(|text| dir.text("exceptions.csv", text))
            .transpose()?,
        fixes: upload
            .fixes
            .as_deref()
            .map(|text| dir.text("fixes.csv", text))
            .transpose()?,
        skip_invalid: upload.skip_invalid,
    };
    let task = state.app.queue_task(&caller, &scope, &job).await?;
    let (app, queued) = (state.app.clone(), task.clone());
    let runtime = tokio::runtime::Handle::current();
    // The run's steps go to the task keeper below over a channel: the run's thread is inside
    // `block_on` and must not start another.
    let (steps, mut step_updates) = tokio::sync::mpsc::unbounded_channel::<String>();
    let run_app = app.clone();
    // The engine is CPU-bound: a blocking thread, never an async worker.
    let run = tokio::task::spawn_blocking(move || {
        let mut on_progress = |event: Progress| {
            if let Some(step) = step(&event) {
                // The keeper only stops once this sender is gone.
                let _ = steps.send(step);
            }
        };
        let result = crosswalk_app::import(&files, &mut on_progress).and_then(|input| {
            let request = RunRequest {
                scope,
                job: Some(job),
                input,
                force: upload.force,
            };
            // The pre-flight gate: blockers refuse the run unless forced (recorded then).
            runtime.block_on(run_app.run_job_gated(
                &caller,
                request,
                upload.force,
                &mut on_progress,
            ))
        });
        match result {
            Ok(outcome) => Ok(serde_json::to_value(&outcome).unwrap_or(serde_json::Value::Null)),
            Err(error) => {
                let error = dir.error(error);
                Err(TaskError {
                    code: error.code.to_string(),
                    message: error.message,
                })
            }
        }
    });
    // The task keeper writes the task's state as the run goes. A failure to write it must not
    // stop the run: it is logged and the run goes on.
    tokio::spawn(async move {
        let mut task = queued;
        let keep =
            |written: Result<TaskRow, crosswalk_app::AppError>, task: &mut TaskRow| match written {
                Ok(row) => *task = row,
                Err(error) => {
                    tracing::warn!(task = %task.id, %error, "could not keep the task's state")
                }
            };
        keep(app.task_running(&task, None).await, &mut task);
        while let Some(step) = step_updates.recv().await {
            keep(app.task_running(&task, Some(step)).await, &mut task);
        }
        let result = run.await.unwrap_or_else(|panic| {
            tracing::error!(task = %task.id, %panic, "a background run stopped unexpectedly");
            Err(TaskError {
                code: "internal".to_string(),
                message: "the run stopped unexpectedly; the server's log says why".to_string(),
            })
        });
        keep(app.task_finished(&task, result).await, &mut task);
    });
    Ok((StatusCode::ACCEPTED, ApiJson(task.into())))
}

/// A background run's status.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/tasks/{task}", tag = "jobs", security(("token" = [])),
    params(("scope" = String, Path), ("task" = String, Path)),
    responses((status = 200, body = TaskStatus), (status = 401, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn task_status(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, task)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<TaskStatus>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .task(&principal.caller()?, &scope, &task)
            .await?
            .into(),
    ))
}
