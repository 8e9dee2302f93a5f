//! The SCIM service's held group conflicts in the browser: each group a provider pushed with
//! members that differ from the migration's, the members it would add and remove, and the
//! admin's decision (accept: the provider's members replace the migrated ones; reject: the
//! migrated members stay and the provider's pushes change nothing). The same use cases as
//! the API's `/scim/conflicts` and `crosswalk scim conflicts|accept|reject`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use crosswalk_app::{ConflictDecision, GroupConflict};
use maud::{Markup, html};

use super::layout::{self, csrf_field, segment, when};
use super::review::{may_decide, reader_note};
use super::scopes::{check_scope, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

pub(crate) fn conflicts_link(scope: &str) -> String {
    format!("/ui/scopes/{}/scim/conflicts", segment(scope))
}

fn decide_action(scope: &str, group: &str) -> String {
    format!("{}/{}", conflicts_link(scope), segment(group))
}

fn members(ids: &[String], empty: &str) -> Markup {
    html! {
        @if ids.is_empty() {
            span.muted { (empty) }
        } @else {
            ul.members { @for id in ids { li { code { (id) } } } }
        }
    }
}

fn conflict_table(conflicts: &[GroupConflict], scope: &str, signed_in: &SignedIn) -> Markup {
    let decide = may_decide(signed_in);
    html! {
        div.table-scroll {
            table.data #conflict-table {
                caption.visually-hidden { "Held group conflicts, each with the members the provider would add and remove" }
                thead {
                    tr {
                        th scope="col" { "Group" } th scope="col" { "Held" }
                        th scope="col" { "Provider adds" } th scope="col" { "Provider removes" }
                        th scope="col" { "Members now" } th scope="col" { "Members pushed" }
                        @if decide { th scope="col" { "Decide" } }
                    }
                }
                tbody {
                    @for conflict in conflicts {
                        tr data-group-id=(conflict.group_id) {
                            th scope="row" { (conflict.display_name) br; code.muted { (conflict.group_id) } }
                            td { (when(conflict.held_at)) }
                            td.added { (members(&conflict.added, "none")) }
                            td.removed { (members(&conflict.removed, "none")) }
                            td { (conflict.current.len()) }
                            td { (conflict.proposed.len()) }
                            @if decide {
                                td {
                                    form method="post" action=(decide_action(scope, &conflict.group_id)) {
                                        (csrf_field(signed_in))
                                        button.accept type="submit" name="decision" value="accept"
                                            aria-label={ "Accept the provider's members for " (conflict.display_name) } { "Accept" }
                                        " "
                                        button.secondary-button.reject type="submit" name="decision" value="reject"
                                            aria-label={ "Keep the migrated members of " (conflict.display_name) } { "Reject" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/ui/scopes/{scope}/scim/conflicts`: the held group conflicts.
pub(crate) async fn conflicts(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let conflicts = state
        .app
        .scim_conflicts(&signed_in.caller()?, &scope)
        .await?;
    let body = html! {
        h1 { "SCIM group conflicts" }
        p.help {
            "When an identity provider (Okta, Entra ID) pushes a group whose name is a migrated group's but whose members differ, "
            "Crosswalk holds the change instead of overwriting the migration's memberships. Accepting applies the provider's members; "
            "rejecting keeps the migrated ones, and the provider's later pushes to that group are answered but change nothing."
        }
        @if !may_decide(&signed_in) { (reader_note()) }
        @if conflicts.is_empty() {
            p #conflict-count role="status" { "No group conflict is held: every group a provider pushed agreed with the migration, or was decided." }
        } @else {
            p #conflict-count role="status" { (conflicts.len()) " group conflicts are held." }
            (conflict_table(&conflicts, &scope, &signed_in))
        }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("SCIM conflicts".to_string(), conflicts_link(&scope)),
    ];
    Ok(Page(layout::frame(
        "SCIM group conflicts",
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

/// POST `/ui/scopes/{scope}/scim/conflicts/{group}`: accept or reject one held conflict.
pub(crate) async fn decide(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, group)): Path<(String, String)>,
    body: Bytes,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let decision = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "decision")
        .map(|(_, value)| value.into_owned());
    let decision = match decision.as_deref() {
        Some("accept") => ConflictDecision::Accept,
        Some("reject") => ConflictDecision::Reject,
        other => {
            return Err(UiError::page(
                StatusCode::BAD_REQUEST,
                format!(
                    "decision={other:?} is not a decision; the form sends accept or reject. Go back to the conflicts and press a button."
                ),
            ));
        }
    };
    let settled = state
        .app
        .scim_settle_conflict(&signed_in.caller()?, &scope, &group, decision)
        .await?;
    let (title, said) = match decision {
        ConflictDecision::Accept => (
            format!(
                "Accepted the provider's members for {}",
                settled.display_name
            ),
            "The group's members are now the ones the provider pushed; the change is a revision in the scope's change feed.",
        ),
        ConflictDecision::Reject => (
            format!("Kept the migrated members of {}", settled.display_name),
            "The migrated members stay; the provider's pushes to this group are answered but change nothing.",
        ),
    };
    let body = html! {
        h1 #decided { (title) }
        p role="status" { (said) }
        p { a #back-to-conflicts href=(conflicts_link(&scope)) { "Back to the held conflicts" } }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("SCIM conflicts".to_string(), conflicts_link(&scope)),
    ];
    Ok(Page(layout::frame(&title, Some(&signed_in), &crumbs, body)))
}
