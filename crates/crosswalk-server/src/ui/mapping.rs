//! One identity mapping: where it goes and why (evidence), whom the engine would not choose
//! between (candidates, each with a choose button), what is odd about it (flags), how to
//! resolve it ([`super::review`]), the items it affects ([`super::items`]), and every
//! revision of it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use crosswalk_core::IdentityKind;
use crosswalk_store::scope::{
    ChangeOrigin, IdentityValue, MappingValue, Namespace, RevisionRow, SideRow,
};
use maud::{Markup, html};

use super::items::{self, ItemsQuery};
use super::layout::{self, percent, resolution_badge, when};
use super::report::mapping_link;
use super::review;
use super::scopes::{check_scope, job_link, report_link, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// `/ui/scopes/{scope}/mappings/{account|group}/{key}`: the key is the source id or, for a
/// user, any alternate key (username, address).
pub(crate) async fn mapping(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, kind, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let kind = parse_kind(&kind)?;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let items_query = ItemsQuery::parse(&pairs)?;
    let search = pairs
        .iter()
        .find(|(k, _)| k == "find")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let history = state
        .app
        .history(
            &signed_in.caller()?,
            &scope,
            &Namespace::identity(kind),
            &key,
        )
        .await?;
    let mapping = &history.mapping;
    let Some(value) = mapping.value.as_identity() else {
        return Err(UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the {kind} mapping {key:?} holds no identity"),
        ));
    };
    let found = match &search {
        Some(search) => {
            review::search_destinations(&state, &signed_in, &scope, kind, search).await?
        }
        None => Vec::new(),
    };
    let affected = items::affected_section(
        &state,
        &signed_in,
        &scope,
        kind,
        &mapping.source_key,
        &items_query,
    )
    .await?;
    let decide = |destination_id: &str| {
        review::candidate_action(
            &signed_in,
            &scope,
            kind,
            &mapping.source_key,
            destination_id,
        )
    };
    let heading = if value.source.display_name.is_empty() {
        value.source.id.clone()
    } else {
        value.source.display_name.clone()
    };
    let body = html! {
        h1 { (heading) }
        @if mapping.removed {
            p.notice role="status" { "This mapping is marked removed: its source identity was gone at the last run that owned it." }
        }
        div.detail-columns {
            section aria-labelledby="decision" {
                h2 #decision { "Decision" }
                dl.facts {
                    dt { "Resolution" } dd #resolution { (resolution_badge(&value.resolution)) }
                    dt { "Confidence" } dd { (percent(value.confidence)) }
                    dt { "Destination" } dd { (side_text(&value.destination)) }
                    @if !value.target.is_empty() { dt { "Target" } dd { (value.target) } }
                    @if !value.message.is_empty() { dt { "Message" } dd { (value.message) } }
                    dt { "Last written" } dd {
                        (when(mapping.updated_at))
                        @if let Some(job) = &mapping.job { " by job " a href=(job_link(&scope, job)) { (job) } }
                        " (" (mapping.revision) ")"
                    }
                }
            }
            section aria-labelledby="source" {
                h2 #source { "Source " (kind) }
                dl.facts {
                    dt { "ID" } dd { code { (value.source.id) } }
                    @if !value.source.username.is_empty() { dt { "Username" } dd { (value.source.username) } }
                    @if !value.source.name.is_empty() { dt { (if kind == IdentityKind::Account { "Email" } else { "Name" }) } dd { (value.source.name) } }
                    @if !value.source.display_name.is_empty() { dt { "Display name" } dd { (value.source.display_name) } }
                    @if value.source_emails.len() > 1 { dt { "All addresses" } dd { (value.source_emails.join(", ")) } }
                }
            }
        }
        section aria-labelledby="flags" {
            h2 #flags { "Flags" }
            @if value.flags.is_empty() { p { "None: nothing odd was found." } }
            @else { ul #flag-list { @for flag in &value.flags { li.flag { (flag.replace('_', " ")) } } } }
        }
        (evidence(value))
        (candidates(value, &decide))
        @if !mapping.removed {
            (review::resolve_section(&signed_in, &scope, kind, &mapping.source_key, search.as_deref(), &found))
        }
        (affected)
        (revisions(&history.revisions))
        p { a href=(report_link(&scope, None)) { "Back to the report" } }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("Report".to_string(), report_link(&scope, None)),
        (
            heading.clone(),
            mapping_link(&scope, kind, &mapping.source_key),
        ),
    ];
    Ok(Page(layout::frame(
        &heading,
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

/// A mapping type as the pages' addresses spell it.
pub(crate) fn parse_kind(kind: &str) -> UiResult<IdentityKind> {
    match kind {
        "account" => Ok(IdentityKind::Account),
        "group" => Ok(IdentityKind::Group),
        _ => Err(UiError::page(
            StatusCode::NOT_FOUND,
            format!("{kind:?} is not a mapping type; the types are account and group."),
        )),
    }
}

/// A side in one line: display name, address or name, username, id.
fn side_text(side: &SideRow) -> Markup {
    if side.id.is_empty() && side.name.is_empty() {
        return html! { "none" };
    }
    let parts: Vec<&str> = [
        side.display_name.as_str(),
        side.name.as_str(),
        side.username.as_str(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    html! {
        (parts.join(" · "))
        @if !side.id.is_empty() { " " code { (side.id) } }
    }
}

fn evidence(value: &IdentityValue) -> Markup {
    html! {
        section aria-labelledby="evidence" {
            h2 #evidence { "Evidence" }
            @if value.evidence.is_empty() {
                p { "No evidence: no key of this identity matched one of the destination's." }
            } @else {
                table.data #evidence-table {
                    thead { tr { th scope="col" { "Method" } th scope="col" { "Source field" } th scope="col" { "Destination field" } th scope="col" { "Key" } th scope="col" { "Note" } } }
                    tbody {
                        @for piece in &value.evidence {
                            tr { td { (piece.method) } td { (piece.source_field) } td { (piece.destination_field) } td { code { (piece.key) } } td { (piece.note) } }
                        }
                    }
                }
            }
        }
    }
}

/// The candidates the engine would not choose between, each with its choose button
/// (`decide`: empty for a reader).
fn candidates(value: &IdentityValue, decide: &dyn Fn(&str) -> Markup) -> Markup {
    html! {
        section aria-labelledby="candidates" {
            h2 #candidates { "Candidates" }
            @if value.candidates.is_empty() {
                p { "None: the engine was not left choosing between destinations." }
            } @else {
                table.data #candidate-table {
                    thead { tr { th scope="col" { "Destination" } th scope="col" { "Method" } th scope="col" { "Score" } th scope="col" { "Why" } th scope="col" { span.visually-hidden { "Decide" } } } }
                    tbody {
                        @for candidate in &value.candidates {
                            tr { td { (side_text(&candidate.destination)) } td { (candidate.method) } td.number { (percent(candidate.score)) } td { (candidate.reason) } td { (decide(&candidate.destination.id)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A value in a few words: its resolution and destination.
fn summary(value: Option<&MappingValue>) -> Markup {
    match value {
        None => html! { "(none)" },
        Some(MappingValue::App(text)) => html! { (text) },
        Some(MappingValue::Identity(identity)) => html! {
            (resolution_badge(&identity.resolution)) " "
            @if identity.destination.id.is_empty() { "no destination" } @else { code { (identity.destination.id) } }
        },
    }
}

fn revisions(revisions: &[RevisionRow]) -> Markup {
    html! {
        section aria-labelledby="revisions" {
            h2 #revisions { "Revisions" }
            table.data #revision-table {
                caption.visually-hidden { "Every change of this mapping, oldest first" }
                thead { tr { th scope="col" { "Revision" } th scope="col" { "When" } th scope="col" { "Made by" } th scope="col" { "Who" } th scope="col" { "Why" } th scope="col" { "Before" } th scope="col" { "After" } } }
                tbody {
                    @for revision in revisions {
                        tr {
                            td { (revision.cursor) }
                            td { (when(revision.at)) }
                            td {
                                @match &revision.origin {
                                    ChangeOrigin::Run { job, run, .. } => { "run " (run) " of job " (job) }
                                    ChangeOrigin::Caller { caller } => { (caller) }
                                }
                            }
                            td { (revision.who) }
                            td { (revision.reason.as_str()) }
                            td { (summary(revision.old_value.as_ref())) }
                            td { (summary(revision.new_value.as_ref())) }
                        }
                    }
                }
            }
        }
    }
}
