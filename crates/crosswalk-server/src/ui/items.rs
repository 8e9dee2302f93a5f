//! Affected items in the browser: the items a mapping's identity is named on (on its page,
//! filtered by role and item type, a keyset page at a time), and the re-attribution list
//! (each item whose mapping's destination changed: role, old and new destination) with its
//! CSV and JSON downloads. Where no job has run or no item references were imported, the
//! application layer's message says so and what to do, instead of an empty table.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use crosswalk_app::items::write_reattribution_csv;
use crosswalk_app::{ReattributionEntry, items::role_name};
use crosswalk_core::IdentityKind;
use crosswalk_store::scope::{Cursor, ItemFilter, MAX_BATCH, Namespace};
use maud::{Markup, html};

use super::layout::{self, segment, when};
use super::report::mapping_link;
use super::scopes::{check_scope, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// Affected items per page on a mapping's page.
pub const ITEMS_PER_PAGE: usize = 25;
/// Revisions read per page of the re-attribution list (each lists every item of its mapping).
pub const REVISIONS_PER_PAGE: usize = 1000;

/// The roles an item reference has, as the filter offers them.
const ROLES: [&str; 9] = [
    "creator",
    "modifier",
    "owner",
    "commenter",
    "mentioned",
    "assignee",
    "reporter",
    "watcher",
    "permission",
];

pub(crate) fn reattribution_link(scope: &str) -> String {
    format!("/ui/scopes/{}/reattribution", segment(scope))
}

/// What the affected-items section of a mapping's page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ItemsQuery {
    pub role: Option<String>,
    pub item_type: Option<String>,
    pub after: Option<String>,
}

impl ItemsQuery {
    /// Reads `role`, `item_type` and `after` from a page's query pairs; a role that is none is
    /// refused naming the parameter.
    pub(crate) fn parse(pairs: &[(String, String)]) -> UiResult<ItemsQuery> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let role = match get("role") {
            None => None,
            Some(text) => Some(role_name(&text).ok_or_else(|| {
                UiError::page(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "role={text:?} is not a role; use one of {}",
                        ROLES.join(", ")
                    ),
                )
            })?),
        };
        Ok(ItemsQuery {
            role,
            item_type: get("item_type"),
            after: get("after"),
        })
    }

    fn filter(&self) -> ItemFilter {
        ItemFilter {
            role: self.role.clone(),
            container: None,
            item_type: self.item_type.clone(),
        }
    }

    /// The mapping page's address with these filters, continuing `after`.
    fn link(&self, base: &str, after: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(role) = &self.role {
            query.append_pair("role", role);
        }
        if let Some(item_type) = &self.item_type {
            query.append_pair("item_type", item_type);
        }
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        let query = query.finish();
        if query.is_empty() {
            format!("{base}#affected-items")
        } else {
            format!("{base}?{query}#affected-items")
        }
    }
}

/// The affected-items section of a mapping's page.
pub(crate) async fn affected_section(
    state: &ServerState,
    signed_in: &SignedIn,
    scope: &str,
    kind: IdentityKind,
    key: &str,
    query: &ItemsQuery,
) -> UiResult<Markup> {
    let caller = signed_in.caller()?;
    let namespace = Namespace::identity(kind);
    let answer = state
        .app
        .affected_items(
            &caller,
            scope,
            &namespace,
            key,
            &query.filter(),
            query.after.as_deref(),
            ITEMS_PER_PAGE,
        )
        .await?;
    let base = mapping_link(scope, kind, key);
    let filtered = query.role.is_some() || query.item_type.is_some();
    Ok(html! {
        section #affected-items aria-labelledby="affected-heading" {
            h2 #affected-heading { "Affected items" }
            @if let Some(message) = &answer.message {
                p.notice #items-missing role="status" { (message) }
            } @else {
                p #items-counts {
                    (answer.counts.references) " references on " (answer.counts.items) " items"
                    @if answer.counts.permissions > 0 { "; permissions on " (answer.counts.permissions) " items" }
                    @if !answer.counts.by_role.is_empty() {
                        " (" (answer.counts.by_role.iter().map(|(role, count)| format!("{role} {count}")).collect::<Vec<_>>().join(", ")) ")"
                    }
                    "."
                }
                form.inline-filters #items-filters method="get" action={ (base) "#affected-items" } aria-label="Filter the affected items" {
                    label for="items-role" { "Role" }
                    select #items-role name="role" {
                        option value="" selected[query.role.is_none()] { "Any role" }
                        @for role in ROLES {
                            option value=(role) selected[query.role.as_deref() == Some(role)] { (role) }
                        }
                    }
                    label for="items-type" { "Item type" }
                    input #items-type type="text" name="item_type" value=(query.item_type.as_deref().unwrap_or_default()) placeholder="page, issue, file…" size="12";
                    button #items-apply type="submit" { "Filter" }
                    @if filtered { a href=(ItemsQuery::default().link(&base, None)) { "Clear" } }
                }
                @if answer.items.is_empty() {
                    p #items-none {
                        @if filtered { "No affected item matches these filters." }
                        @else { "No imported item reference names this identity." }
                    }
                } @else {
                    div.table-scroll {
                        table.data #affected-table {
                            thead {
                                tr {
                                    th scope="col" { "Container" } th scope="col" { "Item" } th scope="col" { "Type" } th scope="col" { "Title or path" }
                                    th scope="col" { "Role" } th scope="col" { "Named as" } th scope="col" { "Permissions" }
                                }
                            }
                            tbody {
                                @for item in &answer.items {
                                    tr {
                                        td { (item.container) span.secondary { (item.container_type) } }
                                        td { @if item.item.is_empty() { "(the container itself)" } @else { code { (item.item) } } }
                                        td { (item.item_type) }
                                        td { (item.title) }
                                        td { (item.role) }
                                        td { code { (item.identity) } }
                                        td.number { @if item.permissions > 0 { (item.permissions) } }
                                    }
                                }
                            }
                        }
                    }
                    nav.pager aria-label="Affected item pages" {
                        @if query.after.is_some() { a #items-first href=(query.link(&base, None)) { "First page" } }
                        @if let (Some(next), false) = (&answer.next, answer.last_page) {
                            a #items-next rel="next" href=(query.link(&base, Some(next))) { "Next items" }
                        }
                    }
                }
            }
        }
    })
}

/// The cursor just before `cursor`: the re-attribution list after it starts with it.
fn cursor_before(cursor: Cursor) -> Option<String> {
    let number: i64 = cursor.to_string().trim_start_matches('r').parse().ok()?;
    Some(format!("r{}", number.saturating_sub(1)))
}

/// The items a decision re-attributes: the re-attribution list of the revision `revision`
/// of the mapping `source_key`.
pub(crate) async fn reattributed_items(
    state: &ServerState,
    signed_in: &SignedIn,
    scope: &str,
    revision: Cursor,
    source_key: &str,
) -> UiResult<Markup> {
    let caller = signed_in.caller()?;
    let since = cursor_before(revision);
    let list = state
        .app
        .reattribution(&caller, scope, since.as_deref(), REVISIONS_PER_PAGE)
        .await?;
    if let Some(message) = &list.message {
        return Ok(html! { p.notice #items-missing role="status" { (message) } });
    }
    let entries: Vec<ReattributionEntry> = list
        .entries
        .into_iter()
        .filter(|e| e.revision == revision && e.source_key == source_key)
        .collect();
    Ok(html! {
        @if entries.is_empty() {
            p #reattributed-none { "No imported item reference names this identity, so no item needs re-attribution." }
        } @else {
            p { (entries.len()) " item references name this identity; content already moved must be re-attributed from the old destination to the new one." }
            (reattribution_table(scope, &entries, false))
            p { a href=(reattribution_link(scope)) { "The whole re-attribution list, with CSV and JSON downloads" } }
        }
    })
}

fn destination(id: &str, name: &str) -> Markup {
    html! {
        @if id.is_empty() { "none" } @else {
            @if !name.is_empty() { (name) " " }
            code { (id) }
        }
    }
}

fn reattribution_table(scope: &str, entries: &[ReattributionEntry], with_mapping: bool) -> Markup {
    html! {
        div.table-scroll {
            table.data #reattribution-table {
                thead {
                    tr {
                        @if with_mapping { th scope="col" { "Mapping" } th scope="col" { "Changed" } }
                        th scope="col" { "Container" } th scope="col" { "Item" } th scope="col" { "Title or path" } th scope="col" { "Role" }
                        th scope="col" { "Old destination" } th scope="col" { "New destination" }
                    }
                }
                tbody {
                    @for entry in entries {
                        tr data-source-key=(entry.source_key) {
                            @if with_mapping {
                                td {
                                    @match entry.namespace.identity_kind() {
                                        Some(kind) => { a href=(mapping_link(scope, kind, &entry.source_key)) { (entry.source_key) } }
                                        None => { (entry.source_key) }
                                    }
                                }
                                td { (when(entry.at)) span.secondary { (entry.reason.as_str()) " · " (entry.revision) } }
                            }
                            td { (entry.item.container) span.secondary { (entry.item.container_type) } }
                            td { @if entry.item.item.is_empty() { "(the container itself)" } @else { code { (entry.item.item) } span.secondary { (entry.item.item_type) } } }
                            td { (entry.item.title) }
                            td { (entry.item.role) @if entry.item.permissions > 0 { span.secondary { (entry.item.permissions) " permissions" } } }
                            td.old { (destination(&entry.old_destination_id, &entry.old_destination_name)) }
                            td.new { (destination(&entry.new_destination_id, &entry.new_destination_name)) }
                        }
                    }
                }
            }
        }
    }
}

fn since_of(raw: Option<&str>) -> UiResult<Option<String>> {
    let since = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "since")
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty());
    if let Some(text) = &since {
        Cursor::parse(text).map_err(|_| UiError::page(StatusCode::BAD_REQUEST, format!("since={text:?} is not a change-feed cursor (like r42); start from the list's first page")))?;
    }
    Ok(since)
}

/// `/ui/scopes/{scope}/reattribution`: the items to re-attribute, a page of revisions at a time.
pub(crate) async fn reattribution(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let since = since_of(raw.as_deref())?;
    let list = state
        .app
        .reattribution(
            &signed_in.caller()?,
            &scope,
            since.as_deref(),
            REVISIONS_PER_PAGE,
        )
        .await?;
    let base = reattribution_link(&scope);
    let with_since = |path: &str| match &since {
        Some(since) => format!(
            "{path}?since={}",
            url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>()
        ),
        None => path.to_string(),
    };
    let body = html! {
        h1 { "Re-attribution list" }
        p.help {
            "After a mapping's destination changes (a fix, an accepted suggestion, a new run), content already moved still names the old "
            "destination. Each row is an item to re-attribute: who it named before and who it must name now."
        }
        @if let Some(message) = &list.message {
            p.notice #reattribution-missing role="status" { (message) }
        } @else {
            div.grid-header {
                p #reattribution-count role="status" {
                    @if list.entries.is_empty() { "No item needs re-attribution" @if since.is_some() { " after this point" } "." }
                    @else { (list.entries.len()) " items to re-attribute" @if !list.last_page { " on this page" } "." }
                }
                p.downloads {
                    "Download: " a #download-csv href=(with_since(&format!("{base}.csv"))) download { "CSV" } " · " a #download-json href=(with_since(&format!("{base}.json"))) download { "JSON" }
                }
            }
            @if !list.entries.is_empty() { (reattribution_table(&scope, &list.entries, true)) }
            nav.pager aria-label="Pages" {
                @if since.is_some() { a href=(base) { "From the start" } }
                @if !list.last_page { a rel="next" href={ (base) "?since=" (list.cursor) } { "Next changes" } }
            }
        }
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("Re-attribution".to_string(), base.clone()),
    ];
    Ok(Page(layout::frame(
        "Re-attribution list",
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

/// Every re-attribution entry after `since`, all pages.
async fn all_entries(
    state: &ServerState,
    signed_in: &SignedIn,
    scope: &str,
    since: Option<String>,
) -> UiResult<Vec<ReattributionEntry>> {
    let caller = signed_in.caller()?;
    let mut since = since;
    let mut entries = Vec::new();
    loop {
        let page = state
            .app
            .reattribution(&caller, scope, since.as_deref(), MAX_BATCH)
            .await?;
        if let Some(message) = page.message {
            return Err(UiError::page(StatusCode::NOT_FOUND, message));
        }
        entries.extend(page.entries);
        if page.last_page {
            return Ok(entries);
        }
        since = Some(page.cursor.to_string());
    }
}

/// A file name part made of the scope's name (letters, digits, `-`, `_` only).
fn file_stem(scope: &str) -> String {
    let safe: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("reattribution-{safe}")
}

fn download(content_type: &'static str, file_name: String, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// `/ui/scopes/{scope}/reattribution.csv`: the whole list as a spreadsheet-safe CSV.
pub(crate) async fn reattribution_csv(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Response> {
    check_scope(&state, &signed_in, &scope).await?;
    let entries = all_entries(&state, &signed_in, &scope, since_of(raw.as_deref())?).await?;
    let mut body = Vec::new();
    write_reattribution_csv(&entries, &mut body).map_err(|error| {
        UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the CSV could not be written: {error}"),
        )
    })?;
    Ok(download(
        "text/csv; charset=utf-8",
        format!("{}.csv", file_stem(&scope)),
        body,
    ))
}

/// `/ui/scopes/{scope}/reattribution.json`: the whole list as a JSON array.
pub(crate) async fn reattribution_json(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Response> {
    check_scope(&state, &signed_in, &scope).await?;
    let entries = all_entries(&state, &signed_in, &scope, since_of(raw.as_deref())?).await?;
    let body = serde_json::to_vec_pretty(&entries).map_err(|error| {
        UiError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the JSON could not be written: {error}"),
        )
    })?;
    Ok(download(
        "application/json",
        format!("{}.json", file_stem(&scope)),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_back_and_a_bad_role_is_refused() {
        let pairs = |text: &str| {
            url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<Vec<_>>()
        };
        let query = ItemsQuery::parse(&pairs("role=Owner&item_type=page&after=")).unwrap();
        assert_eq!(
            query,
            ItemsQuery {
                role: Some("owner".into()),
                item_type: Some("page".into()),
                after: None
            }
        );
        assert_eq!(
            query.link("/m", Some("k 1")),
            "/m?role=owner&item_type=page&after=k+1#affected-items"
        );
        assert!(ItemsQuery::parse(&pairs("role=janitor")).is_err());
        assert_eq!(file_stem("acme/../x"), "reattribution-acme____x");
        assert_eq!(
            cursor_before(Cursor::parse("r10").unwrap()).as_deref(),
            Some("r9")
        );
    }
}
