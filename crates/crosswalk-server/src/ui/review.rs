//! Review and resolve in the browser: the review queue (a scope's suggestions with their
//! candidate, score and why; accepted or rejected one by one, by selection, or all at or
//! above a score) and the decisions on a mapping's own page (one of its candidates, any
//! destination account found by a search, to be provisioned, a former user).
//!
//! Every decision is a POST carrying the session's CSRF token (checked by the guard) and
//! goes to the application layer as the API's does: an exception rule with who and when,
//! applied at once by resolving the job again, on a blocking thread (the engine is
//! CPU-bound). The answer is a page saying what changed and which items that re-attributes.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use crosswalk_app::{AppResult, Decision, DestinationIdentity, ReviewSelection, SuggestionEntry};
use crosswalk_core::{Confidence, IdentityKind, SUGGESTION_THRESHOLD};
use crosswalk_store::scope::{IdentityValue, MappingValue, Namespace, Role, SideRow};
use maud::{Markup, html};

use super::items::{reattributed_items, reattribution_link};
use super::layout::{self, csrf_field, percent, resolution_badge, segment, when};
use super::report::mapping_link;
use super::scopes::{check_scope, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// The most destination accounts a search on a mapping's page lists.
pub const SEARCH_RESULTS: usize = 25;

pub(crate) fn review_link(scope: &str) -> String {
    format!("/ui/scopes/{}/review", segment(scope))
}

fn resolve_action(scope: &str, kind: IdentityKind, key: &str) -> String {
    format!("{}/resolve", mapping_link(scope, kind, key))
}

/// Whether this session may decide (a writer token of the scope, or the instance admin).
pub(crate) fn may_decide(signed_in: &SignedIn) -> bool {
    signed_in.principal.check_role(Role::Writer).is_ok()
}

pub(crate) fn reader_note() -> Markup {
    html! {
        p.notice.reader-note role="status" {
            "You are signed in with a reader token: you can see everything here, but deciding needs a writer token of this scope ("
            code { "crosswalk token create --scope S --role writer" } ")."
        }
    }
}

/// Runs work that resolves a job again (CPU-bound) on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce(&tokio::runtime::Handle) -> AppResult<T> + Send + 'static,
) -> UiResult<T> {
    let runtime = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || work(&runtime)).await {
        Ok(result) => result.map_err(UiError::from),
        Err(_) => Err(UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The decision failed unexpectedly; nothing was half-written. Try again.",
        )),
    }
}

/// A score as a person types it (`0.9`, `0.90`, `90%`), from 0 to 1.
fn parse_score(text: &str) -> Result<Confidence, UiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(SUGGESTION_THRESHOLD);
    }
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    match value {
        Ok(score) if (0.0..=1.0).contains(&score) => Ok(Confidence::from_probability(score)),
        _ => Err(UiError::page(
            StatusCode::BAD_REQUEST,
            format!("min_score={text:?} is not a score; give a number from 0 to 1, e.g. 0.90"),
        )),
    }
}

fn parse_kind(text: &str) -> Result<Option<IdentityKind>, UiError> {
    match text.trim() {
        "" => Ok(None),
        "user" | "account" => Ok(Some(IdentityKind::Account)),
        "group" => Ok(Some(IdentityKind::Group)),
        other => Err(UiError::page(
            StatusCode::BAD_REQUEST,
            format!("kind={other:?} is not a kind; use user or group"),
        )),
    }
}

fn kind_value(kind: Option<IdentityKind>) -> &'static str {
    match kind {
        None => "",
        Some(IdentityKind::Account) => "user",
        Some(IdentityKind::Group) => "group",
    }
}

/// What the queue shows: the score floor and the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct QueueQuery {
    min_score: Confidence,
    kind: Option<IdentityKind>,
}

impl QueueQuery {
    fn parse(pairs: &[(String, String)]) -> Result<QueueQuery, UiError> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map_or("", |(_, value)| value.as_str())
        };
        Ok(QueueQuery {
            min_score: parse_score(get("min_score"))?,
            kind: parse_kind(get("kind"))?,
        })
    }
}

fn pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// `/ui/scopes/{scope}/review`: the review queue.
pub(crate) async fn queue(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let query = QueueQuery::parse(&pairs(raw.unwrap_or_default().as_bytes()))?;
    let suggestions = state
        .app
        .suggestions(&signed_in.caller()?, &scope, query.min_score, query.kind)
        .await?;
    let decide = may_decide(&signed_in);
    let action = review_link(&scope);
    let body = html! {
        h1 { "Review suggestions" }
        p.help {
            "A suggestion is an Unresolved mapping whose best candidate is strong enough to offer (the default floor, "
            (SUGGESTION_THRESHOLD) ", is where accepting every suggestion stays safe on labelled data; see docs/matching.md). "
            "Accepting one records an exception rule with who and when and re-resolves its job at once; rejecting one keeps the "
            "mapping as it is and stops offering that candidate."
        }
        @if !decide { (reader_note()) }
        form.inline-filters method="get" action=(action) aria-label="Which suggestions" {
            label for="review-min-score" { "Score at least" }
            input #review-min-score type="number" name="min_score" min="0" max="1" step="0.01" value=(query.min_score);
            label for="review-kind" { "Type" }
            select #review-kind name="kind" {
                option value="" selected[query.kind.is_none()] { "Users and groups" }
                option value="user" selected[query.kind == Some(IdentityKind::Account)] { "Users" }
                option value="group" selected[query.kind == Some(IdentityKind::Group)] { "Groups" }
            }
            button #review-show type="submit" { "Show" }
        }
        @if suggestions.is_empty() {
            p #review-count role="status" {
                "No suggestions at a score of " (query.min_score) " or more. The mappings left Unresolved are in the "
                a href={ (super::scopes::report_link(&scope, None)) "?resolution=Unresolved" } { "report" }
                "; open one to resolve it by hand."
            }
        } @else {
            p #review-count role="status" { (suggestions.len()) " suggestions at a score of " (query.min_score) " or more." }
            form #review-form method="post" action=(action) {
                (csrf_field(&signed_in))
                input type="hidden" name="min_score" value=(query.min_score);
                input type="hidden" name="kind" value=(kind_value(query.kind));
                div.table-scroll {
                    table.data #review-table {
                        caption.visually-hidden { "Suggestions, each with its candidate, score and why" }
                        thead {
                            tr {
                                @if decide { th scope="col" { span.visually-hidden { "Select" } } }
                                th scope="col" { "Source" } th scope="col" { "Suggested destination" } th scope="col" { "Score" }
                                th scope="col" { "Why" } th scope="col" { "Why the engine did not decide" }
                                @if decide { th scope="col" { "Decide" } }
                            }
                        }
                        tbody {
                            @for (index, entry) in suggestions.iter().enumerate() {
                                tr data-source-id=(entry.source_key) {
                                    @if decide {
                                        td {
                                            input type="checkbox" id={ "select-" (index) } name="key" value=(entry.source_key);
                                            label.visually-hidden for={ "select-" (index) } { "Select " (entry.source_key) }
                                        }
                                    }
                                    td {
                                        a href=(mapping_link(&scope, entry.kind, &entry.source_key)) { (side_label(&entry.source)) }
                                        span.secondary { code { (entry.source_key) } }
                                    }
                                    td { (side_label(&entry.candidate.destination)) span.secondary { code { (entry.candidate.destination.id) } } }
                                    td.number.score { (entry.score) }
                                    td { (entry.why) }
                                    td.message { (entry.message) }
                                    @if decide {
                                        td.decide {
                                            button type="submit" name="accept" value=(entry.source_key) { "Accept" span.visually-hidden { " " (entry.source_key) } }
                                            " "
                                            button.secondary-button type="submit" name="reject" value=(entry.source_key) { "Reject" span.visually-hidden { " " (entry.source_key) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if decide {
                    div.actions {
                        button #accept-selected type="submit" name="decision" value="accept-selected" { "Accept selected" }
                        button.secondary-button #reject-selected type="submit" name="decision" value="reject-selected" { "Reject selected" }
                    }
                }
            }
            @if decide {
                form.bulk #review-all method="post" action=(action) aria-labelledby="review-all-heading" {
                    h2 #review-all-heading { "All at or above a score" }
                    (csrf_field(&signed_in))
                    input type="hidden" name="kind" value=(kind_value(query.kind));
                    label for="all-min-score" { "Score at least" }
                    input #all-min-score type="number" name="min_score" min="0" max="1" step="0.01" value=(query.min_score);
                    button #accept-all type="submit" name="decision" value="accept-all" { "Accept all" }
                    button.secondary-button #reject-all type="submit" name="decision" value="reject-all" { "Reject all" }
                }
            }
        }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("Review".to_string(), review_link(&scope)),
    ];
    Ok(Page(layout::frame(
        "Review suggestions",
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

/// A side in a few words: display name, else address or name, else id.
fn side_label(side: &SideRow) -> String {
    [
        side.display_name.as_str(),
        side.name.as_str(),
        side.username.as_str(),
        side.id.as_str(),
    ]
    .into_iter()
    .find(|text| !text.is_empty())
    .unwrap_or("(no name)")
    .to_string()
}

/// POST `/ui/scopes/{scope}/review`: accept or reject one suggestion (its row's button),
/// the selected ones, or all at or above the score.
pub(crate) async fn decide(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    body: Bytes,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let form = pairs(&body);
    let query = QueueQuery::parse(&form)?;
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let selected: Vec<String> = form
        .iter()
        .filter(|(key, _)| key == "key")
        .map(|(_, value)| value.clone())
        .collect();
    let (accept, keys, all) = if let Some(key) = field("accept") {
        (true, vec![key], false)
    } else if let Some(key) = field("reject") {
        (false, vec![key], false)
    } else {
        match field("decision").as_deref() {
            Some("accept-selected") => (true, selected, false),
            Some("reject-selected") => (false, selected, false),
            Some("accept-all") => (true, Vec::new(), true),
            Some("reject-all") => (false, Vec::new(), true),
            _ => {
                return Err(UiError::page(
                    StatusCode::BAD_REQUEST,
                    "This form does not say what to do: use its Accept or Reject buttons.",
                ));
            }
        }
    };
    if !all && keys.is_empty() {
        return Err(UiError::page(
            StatusCode::BAD_REQUEST,
            "No suggestion was selected: tick the boxes in the first column, then Accept selected or Reject selected (or use All at or above a score).",
        ));
    }
    let selection = ReviewSelection {
        min_score: query.min_score,
        kind: query.kind,
        all,
        keys,
    };
    let caller = signed_in.caller()?;
    let (app, scope_name) = (state.app.clone(), scope.clone());
    let outcome = blocking(move |runtime| {
        if accept {
            runtime.block_on(app.accept_suggestions(&caller, &scope_name, &selection))
        } else {
            runtime.block_on(app.reject_suggestions(&caller, &scope_name, &selection))
        }
    })
    .await?;
    let body = html! {
        @if accept {
            h1 { "Accepted " (outcome.decided.len()) " suggestions" }
            p.notice role="status" #decision-outcome {
                @if outcome.decided.is_empty() { "There was nothing to accept at this score." }
                @else {
                    "Each is now an exception rule"
                    @if let Some(version) = outcome.exceptions_version { " (the scope's rules are at version " (version) ")" }
                    ", applied at once by " (outcome.runs.len()) " run(s) of its job."
                }
            }
        } @else {
            h1 { "Rejected " (outcome.decided.len()) " suggestions" }
            p.notice role="status" #decision-outcome { "Their mappings stay as they were; these candidates will not be suggested for them again." }
        }
        @if !outcome.decided.is_empty() {
            table.data #decided-table {
                thead { tr { th scope="col" { "Source" } th scope="col" { "Candidate" } th scope="col" { "Score" } th scope="col" { "Now" } } }
                tbody {
                    @for entry in &outcome.decided {
                        (decided_row(&scope, entry))
                    }
                }
            }
        }
        @if accept && !outcome.decided.is_empty() {
            p { "Content already moved still names the old destination: " a href=(reattribution_link(&scope)) { "the re-attribution list" } " says which items to fix." }
        }
        p { a href=(review_link(&scope)) { "Back to the review queue" } }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("Review".to_string(), review_link(&scope)),
    ];
    Ok(Page(layout::frame(
        "Review decisions",
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

fn decided_row(scope: &str, entry: &SuggestionEntry) -> Markup {
    html! {
        tr data-source-id=(entry.source_key) {
            td { a href=(mapping_link(scope, entry.kind, &entry.source_key)) { (side_label(&entry.source)) } " " code { (entry.source_key) } }
            td { (side_label(&entry.candidate.destination)) " " code { (entry.candidate.destination.id) } }
            td.number { (entry.score) }
            td { a href=(mapping_link(scope, entry.kind, &entry.source_key)) { "Open the mapping" } }
        }
    }
}

/// The decision section of a mapping's page: its candidates' choose buttons are in the
/// candidates table ([`choose_button`]); here, any destination identity by search, to be
/// provisioned, or a former user.
pub(crate) fn resolve_section(
    signed_in: &SignedIn,
    scope: &str,
    kind: IdentityKind,
    key: &str,
    search: Option<&str>,
    found: &[DestinationIdentity],
) -> Markup {
    let action = resolve_action(scope, kind, key);
    let what = if kind == IdentityKind::Account {
        "account"
    } else {
        "group"
    };
    html! {
        section #resolve aria-labelledby="resolve-heading" {
            h2 #resolve-heading { "Resolve" }
            @if !may_decide(signed_in) {
                (reader_note())
            } @else {
                p.help {
                    "Choose one of the candidates above, any destination " (what) " below, or another outcome. The decision is kept as an "
                    "exception rule with who and when, and the job is resolved again at once."
                }
                form.inline-filters #destination-search method="get" action={ (mapping_link(scope, kind, key)) "#resolve" } role="search" {
                    label for="find-destination" { "Find a destination " (what) }
                    input #find-destination type="search" name="find" value=(search.unwrap_or_default())
                        placeholder="name, address, username or id" autocomplete="off";
                    button #find-button type="submit" { "Search" }
                }
                @if let Some(search) = search {
                    @if found.is_empty() {
                        p #search-results role="status" { "No destination " (what) " matches " q { (search) } "." }
                    } @else {
                        table.data #search-results {
                            caption { (found.len()) " destination " (what) "s match " q { (search) } (if found.len() == SEARCH_RESULTS { " (the first ones; say more to narrow it)" } else { "" }) }
                            thead { tr { th scope="col" { "Destination" } th scope="col" { "ID" } th scope="col" { "Decide" } } }
                            tbody {
                                @for identity in found {
                                    @let (id, label) = destination_label(identity);
                                    tr data-destination-id=(id) {
                                        td { (label) }
                                        td { code { (id) } }
                                        td { (choose_button(signed_in, &action, id, "Resolve to this")) }
                                    }
                                }
                            }
                        }
                    }
                }
                div.outcomes {
                    form method="post" action=(action) {
                        (csrf_field(signed_in))
                        input type="hidden" name="decision" value="provision";
                        button.secondary-button #mark-provision type="submit" { "Mark to be provisioned" }
                    }
                    @if kind == IdentityKind::Account {
                        form method="post" action=(action) {
                            (csrf_field(signed_in))
                            input type="hidden" name="decision" value="former-user";
                            button.secondary-button #mark-former-user type="submit" { "Mark as a former user" }
                        }
                    }
                }
            }
        }
    }
}

/// A small form resolving the mapping to the destination identity `id`.
pub(crate) fn choose_button(signed_in: &SignedIn, action: &str, id: &str, label: &str) -> Markup {
    html! {
        form.choose method="post" action=(action) {
            (csrf_field(signed_in))
            input type="hidden" name="decision" value="to";
            input type="hidden" name="to" value={ "id:" (id) };
            button type="submit" data-destination-id=(id) { (label) span.visually-hidden { " " (id) } }
        }
    }
}

/// The candidates table's last cell: choose this candidate (writers only).
pub(crate) fn candidate_action(
    signed_in: &SignedIn,
    scope: &str,
    kind: IdentityKind,
    key: &str,
    destination_id: &str,
) -> Markup {
    if !may_decide(signed_in) || destination_id.is_empty() {
        return html! {};
    }
    choose_button(
        signed_in,
        &resolve_action(scope, kind, key),
        destination_id,
        "Choose",
    )
}

fn destination_label(identity: &DestinationIdentity) -> (&str, String) {
    match identity {
        DestinationIdentity::Account(account) => {
            let parts: Vec<&str> = [
                account.display_name.as_deref(),
                account.email.as_deref(),
                account.username.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
            (account.id.as_str(), parts.join(" · "))
        }
        DestinationIdentity::Group(group) => {
            let parts: Vec<&str> = [group.display_name.as_deref(), Some(group.name.as_str())]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect();
            (group.id.as_str(), parts.join(" · "))
        }
    }
}

/// The destination identities a mapping page's search finds.
pub(crate) async fn search_destinations(
    state: &ServerState,
    signed_in: &SignedIn,
    scope: &str,
    kind: IdentityKind,
    search: &str,
) -> UiResult<Vec<DestinationIdentity>> {
    Ok(state
        .app
        .destination_identities(
            &signed_in.caller()?,
            scope,
            kind,
            Some(search),
            SEARCH_RESULTS,
        )
        .await?)
}

/// POST `/ui/scopes/{scope}/mappings/{kind}/{key}/resolve`: `decision` is `to` (with `to`,
/// a destination reference), `provision` or `former-user`.
pub(crate) async fn resolve(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, kind_text, key)): Path<(String, String, String)>,
    body: Bytes,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let kind = super::mapping::parse_kind(&kind_text)?;
    let form = pairs(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let decision = match field("decision").as_deref() {
        Some("provision") => Decision::Provision,
        Some("former-user") => Decision::FormerUser,
        Some("to") => match field("to") {
            Some(to) if !to.is_empty() => Decision::To(to),
            _ => {
                return Err(UiError::page(
                    StatusCode::BAD_REQUEST,
                    "Say which destination: choose a candidate or a search result.",
                ));
            }
        },
        _ => {
            return Err(UiError::page(
                StatusCode::BAD_REQUEST,
                "This form does not say what to decide: use the buttons on the mapping's page.",
            ));
        }
    };
    let caller = signed_in.caller()?;
    let namespace = Namespace::identity(kind);
    let (app, scope_name, ns, key_name) = (
        state.app.clone(),
        scope.clone(),
        namespace.clone(),
        key.clone(),
    );
    let outcome = blocking(move |runtime| {
        runtime.block_on(app.resolve_mapping(&caller, &scope_name, &ns, &key_name, &decision))
    })
    .await?;
    let source_key = outcome.mapping.source_key.clone();
    let value = outcome.mapping.value.as_identity();
    let old = outcome
        .revision
        .as_ref()
        .and_then(|r| r.old_value.as_ref())
        .and_then(MappingValue::as_identity);
    let moved = match (old, value) {
        (Some(old), Some(new)) => old.destination.id != new.destination.id,
        _ => false,
    };
    let items = match (&outcome.revision, moved) {
        (Some(revision), true) => Some(
            reattributed_items(&state, &signed_in, &scope, revision.cursor, &source_key).await?,
        ),
        _ => None,
    };
    let heading = value.map_or(source_key.clone(), |v| {
        if v.source.display_name.is_empty() {
            v.source.id.clone()
        } else {
            v.source.display_name.clone()
        }
    });
    let body = html! {
        h1 { "Resolved " (heading) }
        p.notice role="status" #decision-outcome {
            @match &outcome.revision {
                Some(revision) => { "Recorded as exception rule " code { (outcome.exception.source) " → " (outcome.exception.destination) } " (rules version " (outcome.exceptions_version) "), by " (revision.who) " at " (when(revision.at)) ", and applied by run " (outcome.run.number) " of job " (outcome.run.job) "." }
                None => { "Recorded as exception rule " code { (outcome.exception.source) " → " (outcome.exception.destination) } " (rules version " (outcome.exceptions_version) "); the mapping already had this value, so nothing else changed." }
            }
        }
        @if let Some(value) = value {
            (new_value(old, value))
        }
        @if let Some(items) = &items {
            section aria-labelledby="reattributed" {
                h2 #reattributed { "Items to re-attribute" }
                (items)
            }
        } @else if outcome.revision.is_some() {
            p { "The destination did not change, so no item needs re-attribution." }
        }
        p { a #back-to-mapping href=(mapping_link(&scope, kind, &source_key)) { "Back to the mapping" } " · " a href=(review_link(&scope)) { "The review queue" } }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        (heading.clone(), mapping_link(&scope, kind, &source_key)),
    ];
    Ok(Page(layout::frame(
        &format!("Resolved {heading}"),
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

fn new_value(old: Option<&IdentityValue>, value: &IdentityValue) -> Markup {
    let side = |side: &SideRow| {
        if side.id.is_empty() {
            html! { "none" }
        } else {
            html! { (side_label(side)) " " code { (side.id) } }
        }
    };
    html! {
        dl.facts #new-value {
            @if let Some(old) = old {
                dt { "Before" } dd #old-resolution { (resolution_badge(&old.resolution)) " " (side(&old.destination)) }
            }
            dt { "Now" } dd #new-resolution { (resolution_badge(&value.resolution)) " " span #new-destination { (side(&value.destination)) } }
            dt { "Confidence" } dd { (percent(value.confidence)) }
            @if !value.message.is_empty() { dt { "Message" } dd { (value.message) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_is_read_as_people_type_it() {
        assert_eq!(parse_score("").unwrap(), SUGGESTION_THRESHOLD);
        assert_eq!(
            parse_score("0.95").unwrap(),
            Confidence::from_thousandths(950)
        );
        assert_eq!(
            parse_score("85%").unwrap(),
            Confidence::from_thousandths(850)
        );
        for bad in ["1.5", "-0.1", "high", "NaN"] {
            assert!(parse_score(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_kind("group").unwrap(), Some(IdentityKind::Group));
        assert!(parse_kind("robot").is_err());
    }
}
