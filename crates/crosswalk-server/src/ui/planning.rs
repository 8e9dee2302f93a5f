//! A job's check and plan page: the pre-flight findings on what its latest run stored
//! (severity, count, rows, suggested fix) and the dry run of running it again now (new,
//! changed and removed mappings, with counts and rows). It writes nothing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use crosswalk_app::job_check::Severity;
use crosswalk_app::{JobCheck, PlanOutcome};
use crosswalk_store::scope::Namespace;
use maud::{Markup, html};

use super::layout;
use super::report::mapping_link;
use super::scopes::{check_scope, job_link, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// The rows a finding or the plan shows on the page; the CLI's CSV and JSON give all.
pub const ROWS_SHOWN: usize = 200;

pub(crate) fn check_link(scope: &str, job: &str) -> String {
    format!("{}/check", job_link(scope, job))
}

/// `/ui/scopes/{scope}/jobs/{job}/check`.
pub(crate) async fn check_and_plan(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, job)): Path<(String, String)>,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let caller = signed_in.caller()?;
    let (app, scope_name, job_name) = (state.app.clone(), scope.clone(), job.clone());
    // The checks and the dry run are CPU-bound (the engine resolves the whole job).
    let runtime = tokio::runtime::Handle::current();
    let (check, plan) = tokio::task::spawn_blocking(move || {
        let check = runtime.block_on(app.preflight_job(&caller, &scope_name, &job_name))?;
        let plan = runtime.block_on(app.plan_job(&caller, &scope_name, &job_name))?;
        Ok::<_, crosswalk_app::AppError>((check, plan))
    })
    .await
    .map_err(|_| {
        UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The check stopped unexpectedly; nothing was written. Try again.",
        )
    })??;
    let body = html! {
        h1 { "Check and plan: job " (job) }
        p.help {
            "On what run " (check.run) " of this job stored (both directories and its policy), with the scope's exception rules as they "
            "stand now. Nothing is written. To check new exports before a run, use "
            code { "crosswalk check --scope " (scope) " -s SOURCE -d DESTINATION" } " and " code { "crosswalk plan" } " (or the API's check and plan)."
        }
        (findings(&check))
        (plan_section(&scope, &plan))
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        (format!("Job {job}"), job_link(&scope, &job)),
        ("Check and plan".to_string(), check_link(&scope, &job)),
    ];
    Ok(Page(layout::frame(
        &format!("Check and plan: job {job}"),
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

fn findings(check: &JobCheck) -> Markup {
    html! {
        section #preflight aria-labelledby="preflight-heading" {
            h2 #preflight-heading { "Pre-flight checks" }
            p #preflight-summary role="status" {
                @if check.findings.is_empty() { "No blockers and no warnings: nothing stops this job." }
                @else { (check.blockers) " rows with blockers, " (check.warnings) " with warnings." }
            }
            @if check.blockers > 0 {
                p.problem #gate-note {
                    "While there are blockers, a run of this job is refused: through the API unless it is forced ("
                    code { "\"force\": true" } "), on the command line with " code { "--check" } " unless "
                    code { "--override-blockers" } ". An override is kept with the run's warnings: who overrode which blockers, and when."
                }
            }
            @for finding in &check.findings {
                @let severity = match finding.severity { Severity::Blocker => "blocker", Severity::Warning => "warning" };
                article.finding data-kind=(finding.kind.as_str()) data-severity=(severity) {
                    h3 {
                        span class={ "severity severity-" (severity) } { (severity) } " "
                        (finding.kind.as_str()) " "
                        span.count { "(" (finding.count) ")" }
                    }
                    p { strong { "Suggested fix: " } (finding.suggested_fix) }
                    div.table-scroll {
                        table.data.finding-rows {
                            thead { tr { th scope="col" { "UserKey" } th scope="col" { "UserName" } th scope="col" { "Email" } th scope="col" { "What" } } }
                            tbody {
                                @for row in finding.rows.iter().take(ROWS_SHOWN) {
                                    tr { td { code { (row.user_key) } } td { (row.user_name) } td { (row.old_email) } td { (row.detail) } }
                                }
                            }
                        }
                    }
                    @if finding.rows.len() > ROWS_SHOWN {
                        p.help { "The first " (ROWS_SHOWN) " of " (finding.rows.len()) " rows; " code { "crosswalk check --format csv" } " writes them all, for editing as fixes." }
                    }
                }
            }
        }
    }
}

fn plan_section(scope: &str, plan: &PlanOutcome) -> Markup {
    let c = plan.counts;
    html! {
        section #plan aria-labelledby="plan-heading" {
            h2 #plan-heading { "Plan: running this job again now" }
            dl.facts #plan-counts {
                dt { "New" } dd #plan-new { (c.new) }
                dt { "Changed" } dd #plan-changed { (c.changed) }
                dt { "Removed" } dd #plan-removed { (c.removed) }
                dt { "Unchanged" } dd #plan-unchanged { (c.unchanged) }
            }
            @if plan.rows.is_empty() {
                p #plan-none { "Running this job again with these inputs would change nothing." }
            } @else {
                div.table-scroll {
                    table.data #plan-table {
                        thead {
                            tr {
                                th scope="col" { "Change" } th scope="col" { "Type" } th scope="col" { "Source key" }
                                th scope="col" { "Now" } th scope="col" { "Would be" }
                            }
                        }
                        tbody {
                            @for row in plan.rows.iter().take(ROWS_SHOWN) {
                                @let kind = Namespace::parse(&row.namespace).ok().and_then(|n| n.identity_kind());
                                tr data-change=(row.change) {
                                    td { (row.change) }
                                    td { (row.namespace) }
                                    td { @match kind { Some(kind) => { a href=(mapping_link(scope, kind, &row.source_key)) { (row.source_key) } } None => { (row.source_key) } } }
                                    td { (side(&row.old_resolution, &row.old_destination)) }
                                    td { (side(&row.new_resolution, &row.new_destination)) }
                                }
                            }
                        }
                    }
                }
                @if plan.rows.len() > ROWS_SHOWN {
                    p.help { "The first " (ROWS_SHOWN) " of " (plan.rows.len()) " rows; " code { "crosswalk plan --format json" } " gives them all." }
                }
            }
            @if !plan.refused_switches.is_empty() {
                p.problem #refused-switches {
                    (plan.refused_switches.len()) " identities would be handled differently from an earlier wave (a second account each); the run would be refused unless forced: "
                    (plan.refused_switches.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
                }
            }
        }
    }
}

fn side(resolution: &str, destination: &str) -> Markup {
    html! {
        @if resolution.is_empty() { "—" } @else {
            (layout::resolution_badge(resolution))
            @if !destination.is_empty() { " " code { (destination) } }
        }
    }
}
