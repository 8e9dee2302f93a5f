//! Planning before a run: the pre-flight check and the dry run, on files uploaded in the
//! request as for a job's run. Both write nothing, so a reader token may call them; both
//! answer what `crosswalk check --format json` and `crosswalk plan --format json` print.
//! The work runs on a blocking thread (the engine and the checks are CPU-bound).

use std::collections::BTreeSet;

use axum::extract::State;
use crosswalk_app::{CheckRequest, InputFiles, PlanOutcome, UserScope};

use crosswalk_store::scope::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::routes::native::visible_scope;
use crate::routes::runs::{Upload, UploadDir};
use crate::{Principal, ServerState};

/// Which identities the job takes.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UsersChoice {
    /// Every account and group of the source.
    All,
    /// Those tied to `containers` by content or permission, directly or through a group.
    Related,
    /// Content only: nobody is migrated.
    None,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckUpload {
    source: Upload,
    /// Enables the group-name and unverified-email checks.
    destination: Option<Upload>,
    /// Content references, CSV `container,item,role,type,identity`: enables the check for
    /// identities the content refers to that the source lacks, and the user scope.
    items: Option<String>,
    /// An edited findings CSV whose fixes are applied (all rows or none) before checking.
    fixes: Option<String>,
    /// Template for suggested new emails: `{id}`, `{username}`, `{local}`.
    email_template: Option<String>,
    /// Source directories in priority order (for a username in several, the first is in effect).
    #[serde(default)]
    directory_order: Vec<String>,
    /// The job's user scope; none: every identity is checked and no scope is reported.
    users: Option<UsersChoice>,
    /// The selected containers (space, project or drive keys), for `users: related`.
    #[serde(default)]
    containers: Vec<String>,
    /// With `users: related`: the groups holding permissions there are migrated too.
    #[serde(default)]
    include_groups: bool,
    /// Report a group permission once it brings this many users into one container.
    #[schema(minimum = 1)]
    group_pull_threshold: Option<u32>,
}

/// What the check found, as `crosswalk check --format json` prints it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CheckAnswer {
    scope: String,
    /// `findings` (each with `kind`, `severity`, `count`, `rows`, `suggested_fix`),
    /// `blockers`, `warnings`, `suggested` (fix per UserKey), `merge_rule`, `applied`, `scope`.
    #[schema(value_type = Object)]
    outcome: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanUpload {
    source: Upload,
    destination: Upload,
    /// The policy TOML; none: the default policy.
    policy: Option<String>,
    /// The exceptions CSV; none: the scope's rules as they stand.
    exceptions: Option<String>,
    /// The job the run would be: only mappings its own runs wrote last can be marked
    /// removed. None: `<source> to <destination>`.
    job: Option<String>,
    /// An edited findings CSV whose fixes the run would apply.
    fixes: Option<String>,
}

/// How many mappings the run would add, change, mark removed and leave alone.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanCountsDoc {
    new: u64,
    changed: u64,
    removed: u64,
    unchanged: u64,
}

/// One mapping the run would write.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanRowDoc {
    /// `new`, `changed` or `removed`.
    change: String,
    namespace: String,
    source_key: String,
    old_destination: String,
    old_resolution: String,
    new_destination: String,
    new_resolution: String,
}

/// The dry run, as `crosswalk plan --format json` prints it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanAnswer {
    scope: String,
    scope_exists: bool,
    counts: PlanCountsDoc,
    rows: Vec<PlanRowDoc>,
    /// Switches of duplicate handling the run would be refused for (see `force` on runs).
    #[schema(value_type = Vec<Object>)]
    refused_switches: serde_json::Value,
}

impl From<PlanOutcome> for PlanAnswer {
    fn from(outcome: PlanOutcome) -> PlanAnswer {
        let c = outcome.counts;
        PlanAnswer {
            scope: outcome.scope,
            scope_exists: outcome.scope_exists,
            counts: PlanCountsDoc {
                new: c.new,
                changed: c.changed,
                removed: c.removed,
                unchanged: c.unchanged,
            },
            rows: outcome
                .rows
                .into_iter()
                .map(|r| PlanRowDoc {
                    change: r.change.to_string(),
                    namespace: r.namespace,
                    source_key: r.source_key,
                    old_destination: r.old_destination,
                    old_resolution: r.old_resolution,
                    new_destination: r.new_destination,
                    new_resolution: r.new_resolution,
                })
                .collect(),
            refused_switches: serde_json::to_value(&outcome.refused_switches).unwrap_or_default(),
        }
    }
}

/// Runs the pre-flight checks on the uploaded files (any token of the scope: nothing is
/// written). Bad input is a 400 naming the uploaded file, line and field.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/check", tag = "planning", security(("token" = [])),
    params(("scope" = String, Path)), request_body = CheckUpload,
    responses((status = 200, body = CheckAnswer), (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn check(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(upload): ApiJson<CheckUpload>,
) -> ApiResult<ApiJson<CheckAnswer>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Reader)?;
    let caller = principal.caller()?;
    let users = match upload.users {
        None => None,
        Some(UsersChoice::All) => Some(UserScope::All),
        Some(UsersChoice::None) => Some(UserScope::None),
        Some(UsersChoice::Related) => Some(UserScope::Related {
            containers: upload
                .containers
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect::<BTreeSet<_>>(),
            include_groups: upload.include_groups,
        }),
    };
    if upload.group_pull_threshold == Some(0) {
        return Err(ApiError::invalid(
            "group_pull_threshold is 0; give 1 or more (the default is 100)",
        ));
    }
    let dir = UploadDir::new()?;
    let request = CheckRequest {
        source: dir.upload("source", &upload.source)?,
        destination: upload
            .destination
            .as_ref()
            .map(|d| dir.upload("destination", d))
            .transpose()?,
        items: upload
            .items
            .as_deref()
            .map(|text| dir.text("items.csv", text))
            .transpose()?,
        fixes: upload
            .fixes
            .as_deref()
            .map(|text| dir.text("fixes.csv", text))
            .transpose()?,
        email_template: upload.email_template,
        directory_order: upload.directory_order,
        users,
        group_pull_threshold: upload.group_pull_threshold.map_or(100, |n| n as usize),
    };
    let app = state.app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let outcome = app
            .check(&caller, &scope, &request)
            .map_err(|error| dir.error(error))?;
        let outcome = serde_json::to_value(&outcome).map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                e.to_string(),
            )
        })?;
        Ok::<_, ApiError>(CheckAnswer { scope, outcome })
    })
    .await
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the check stopped: {e}"),
        )
    })??;
    Ok(ApiJson(outcome))
}

/// The dry run: what a run of these uploaded inputs would change in the scope (any token of
/// the scope: nothing is written). Bad input is a 400 naming the uploaded file, line and field.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/plan", tag = "planning", security(("token" = [])),
    params(("scope" = String, Path)), request_body = PlanUpload,
    responses((status = 200, body = PlanAnswer), (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn plan(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(upload): ApiJson<PlanUpload>,
) -> ApiResult<ApiJson<PlanAnswer>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Reader)?;
    if let Some(job) = &upload.job {
        crosswalk_store::scope::check_name("job", job)?;
    }
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
        skip_invalid: false,
    };
    let app = state.app.clone();
    let runtime = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let input = crosswalk_app::import(&files, &mut |_| {}).map_err(|error| dir.error(error))?;
        runtime
            .block_on(app.plan(&caller, &scope, upload.job.as_deref(), &input))
            .map_err(|error| dir.error(error))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the dry run stopped: {e}"),
        )
    })??;
    Ok(ApiJson(PlanAnswer::from(outcome)))
}
