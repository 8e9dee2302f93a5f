//! The scopes a session sees, one scope with its jobs and latest runs, and one job's runs.

use axum::extract::{Path, State};
use crosswalk_app::ReportFilter;
use crosswalk_store::scope::{ReportOf, RunRow};
use maud::{Markup, html};

use super::layout::{self, bar_chart, segment, when};
use super::report::count_by_resolution;
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;
use crate::routes::native::visible_scope;

/// The most recent runs a scope's page lists.
const RECENT_RUNS: usize = 20;

/// Checks that the session may see `scope`: for a token of another scope exactly the 404 a
/// scope that does not exist gives.
pub(crate) async fn check_scope(
    state: &ServerState,
    signed_in: &SignedIn,
    scope: &str,
) -> UiResult<()> {
    visible_scope(state, &signed_in.principal, scope)
        .await
        .map_err(|error| {
            if error.status == axum::http::StatusCode::NOT_FOUND {
                UiError::scope_not_found(scope)
            } else {
                error.into()
            }
        })
}

pub(crate) fn scope_link(scope: &str) -> String {
    format!("/ui/scopes/{}", segment(scope))
}

pub(crate) fn job_link(scope: &str, job: &str) -> String {
    format!("/ui/scopes/{}/jobs/{}", segment(scope), segment(job))
}

/// The scope's report, or one job's (`?job=`).
pub(crate) fn report_link(scope: &str, job: Option<&str>) -> String {
    let base = format!("/ui/scopes/{}/report", segment(scope));
    match job {
        Some(job) => format!(
            "{base}?job={}",
            url::form_urlencoded::byte_serialize(job.as_bytes()).collect::<String>()
        ),
        None => base,
    }
}

/// `/ui/`: the scopes this session sees.
pub(crate) async fn scopes(
    State(state): State<ServerState>,
    signed_in: SignedIn,
) -> UiResult<Page> {
    let scopes = state.app.scopes(&signed_in.caller()?).await?;
    let body = html! {
        h1 { "Scopes" }
        @if scopes.is_empty() {
            p { "There are no scopes yet. Make one with " code { "crosswalk scope create" } ", or run " code { "crosswalk demo" } "." }
        } @else {
            table.data {
                caption { "Each scope pairs one source instance with one destination instance." }
                thead { tr { th scope="col" { "Scope" } th scope="col" { "Source" } th scope="col" { "Destination" } th scope="col" { "Created" } } }
                tbody {
                    @for scope in &scopes {
                        tr {
                            td { a href=(scope_link(&scope.name)) { (scope.name) } }
                            td { (scope.source_label) }
                            td { (scope.destination_label) }
                            td { (when(scope.created_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page(layout::frame("Scopes", Some(&signed_in), &[], body)))
}

/// One scope: what it pairs, its mappings per resolution, its jobs, its latest runs.
pub(crate) async fn scope(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let caller = signed_in.caller()?;
    let overview = state.app.scope(&caller, &scope).await?;
    let runs = state.app.runs(&caller, &scope, None).await?;
    let rows = state
        .app
        .report(&caller, &scope, &ReportOf::Scope, &ReportFilter::default())
        .await?;
    let counts = count_by_resolution(rows.iter().map(|row| row.resolution));
    let body = html! {
        h1 { "Scope " (scope) }
        dl.facts {
            dt { "Source" } dd { (overview.scope.source_label) }
            dt { "Destination" } dd { (overview.scope.destination_label) }
            dt { "Created" } dd { (when(overview.scope.created_at)) " by " (overview.scope.created_by) }
            dt { "Exception rules" } dd { (overview.exception_rules.len()) " (version " (overview.exceptions_version) ")" }
        }
        p { a.button href=(report_link(&scope, None)) { "Report of all jobs (" (rows.len()) " mappings)" } }
        (layout::scope_nav(&scope))
        (bar_chart(&counts, "Current mappings per resolution"))
        h2 #jobs { "Jobs" }
        @if overview.jobs.is_empty() {
            p { "No jobs yet: a run makes one, e.g. " code { "crosswalk run --scope " (scope) " --job wave-1 -s … -d …" } "." }
        } @else {
            table.data {
                thead { tr { th scope="col" { "Job" } th scope="col" { "Transfer id" } th scope="col" { "Runs" } th scope="col" { "Created" } th scope="col" { "Report" } } }
                tbody {
                    @for job in &overview.jobs {
                        tr {
                            td { a href=(job_link(&scope, &job.name)) { (job.name) } }
                            td { code { (job.transfer_id) } }
                            td.number { (job.runs) }
                            td { (when(job.created_at)) }
                            td { a href=(report_link(&scope, Some(&job.name))) { "Report of " (job.name) } }
                        }
                    }
                }
            }
        }
        h2 #runs { "Latest runs" }
        (runs_table(runs.iter().rev().take(RECENT_RUNS), true))
    };
    let crumbs = [(format!("Scope {scope}"), scope_link(&scope))];
    Ok(Page(layout::frame(
        &format!("Scope {scope}"),
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

/// One job: its transfer id and every run, newest first.
pub(crate) async fn job(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, job)): Path<(String, String)>,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let caller = signed_in.caller()?;
    let jobs = state.app.jobs(&caller, &scope).await?;
    let Some(row) = jobs.iter().find(|j| j.name == job) else {
        let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        let message = if names.is_empty() {
            format!("Scope {scope:?} has no job {job:?}, and no jobs yet.")
        } else {
            format!(
                "Scope {scope:?} has no job {job:?}; its jobs are {}.",
                names.join(", ")
            )
        };
        return Err(UiError::page(axum::http::StatusCode::NOT_FOUND, message));
    };
    let runs = state.app.runs(&caller, &scope, Some(&job)).await?;
    let body = html! {
        h1 { "Job " (job) }
        dl.facts {
            dt { "Scope" } dd { a href=(scope_link(&scope)) { (scope) } }
            dt { "Transfer id" } dd { code { (row.transfer_id) } }
            dt { "Created" } dd { (when(row.created_at)) }
        }
        p { a.button href=(report_link(&scope, Some(&job))) { "Report of " (job) } " " a.button #check-and-plan href=(super::planning::check_link(&scope, &job)) { "Check and plan" } }
        h2 { "Runs" }
        (runs_table(runs.iter().rev(), false))
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        (format!("Job {job}"), job_link(&scope, &job)),
    ];
    Ok(Page(layout::frame(
        &format!("Job {job}"),
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

fn runs_table<'a>(runs: impl Iterator<Item = &'a RunRow>, with_job: bool) -> Markup {
    let runs: Vec<&RunRow> = runs.collect();
    html! {
        @if runs.is_empty() {
            p { "No runs yet." }
        } @else {
            table.data.runs {
                thead {
                    tr {
                        @if with_job { th scope="col" { "Job" } }
                        th scope="col" { "Run" } th scope="col" { "Started" } th scope="col" { "By" }
                        th scope="col" { "Added" } th scope="col" { "Changed" } th scope="col" { "Removed" } th scope="col" { "Unchanged" }
                        th scope="col" { "Policy, exceptions" } th scope="col" { "Warnings" }
                    }
                }
                tbody {
                    @for run in runs {
                        tr {
                            @if with_job { td { a href=(job_link(&run.scope, &run.job)) { (run.job) } } }
                            td.number { (run.number) }
                            td { (when(run.started_at)) }
                            td { (run.who) }
                            td.number { (run.counts.added) }
                            td.number { (run.counts.changed) }
                            td.number { (run.counts.removed) }
                            td.number { (run.counts.unchanged) }
                            td { "v" (run.policy_version) ", v" (run.exceptions_version) }
                            td {
                                @if run.warnings.is_empty() { "none" } @else {
                                    ul.plain { @for warning in &run.warnings { li { (warning) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
