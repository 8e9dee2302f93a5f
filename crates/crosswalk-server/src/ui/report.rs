//! The report grid: the 12-column User Mappings report of a scope (or one job), filtered by
//! resolution (several at once), type, flagged, ambiguous and suggested, searched over every
//! source and destination field, sorted by any column either way, a keyset page at a time,
//! with the counts per resolution as a bar chart and an export of the same rows as CSV.
//!
//! The query lives in the URL (`?job=…&resolution=Email&resolution=Name&type=account&
//! flagged=1&search=ann&sort=source_name&order=desc&per_page=50&after=…&start=51`), so a
//! filtered page can be bookmarked and the form is a plain GET. Rows come from the report
//! query ([`crosswalk_app::App::report_page`]), the same one the API and `crosswalk report`
//! use; `start` only numbers the rows shown. The export button downloads
//! `/ui/scopes/{scope}/report/export` with the same filters and search.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use crosswalk_app::{App, Caller, ReportEntry, ReportParts};
use crosswalk_core::{IdentityKind, Resolution};
use crosswalk_store::scope::{ReportColumn, ReportOf, ReportView};
use maud::{Markup, html};

use super::layout::{self, bar_chart, resolution_badge, segment};
use super::scopes::{check_scope, job_link, report_link, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// The page sizes offered.
pub const PAGE_SIZES: [usize; 4] = [25, 50, 100, 250];
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// What the grid shows: the report's filters, search, sort and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// One job's latest run; none: the scope's current mappings, whichever job made them.
    pub job: Option<String>,
    /// Empty: every resolution.
    pub resolutions: Vec<Resolution>,
    pub kind: Option<IdentityKind>,
    pub flagged: bool,
    pub ambiguous: bool,
    pub suggested: bool,
    /// Blank: no search.
    pub search: String,
    pub sort: ReportColumn,
    pub descending: bool,
    /// The keyset cursor of this page (the previous page's `next`); none: the first page.
    pub after: Option<String>,
    /// The number of the page's first row, from 1 (for "showing 51–100" only).
    pub start: usize,
    pub per_page: usize,
}

impl Default for ReportQuery {
    fn default() -> ReportQuery {
        ReportQuery {
            job: None,
            resolutions: Vec::new(),
            kind: None,
            flagged: false,
            ambiguous: false,
            suggested: false,
            search: String::new(),
            sort: ReportColumn::Type,
            descending: false,
            after: None,
            start: 1,
            per_page: DEFAULT_PAGE_SIZE,
        }
    }
}

fn checked(value: &str) -> bool {
    matches!(value, "1" | "true" | "on" | "yes")
}

impl ReportQuery {
    /// Reads the query string. Parameters it does not know are left alone (a later version's
    /// link still opens); a value it cannot read is refused naming the parameter.
    pub fn parse(query: Option<&str>) -> Result<ReportQuery, String> {
        let mut parsed = ReportQuery::default();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "job" if !value.is_empty() => parsed.job = Some(value.to_string()),
                "resolution" if !value.is_empty() => {
                    let resolution = Resolution::parse(value).ok_or_else(|| {
                        let known: Vec<&str> = Resolution::ALL.iter().map(|r| r.as_str()).collect();
                        format!(
                            "resolution={value:?} is not a resolution; use one of {}",
                            known.join(", ")
                        )
                    })?;
                    if !parsed.resolutions.contains(&resolution) {
                        parsed.resolutions.push(resolution);
                    }
                }
                "type" if !value.is_empty() => {
                    parsed.kind = Some(IdentityKind::parse(value).ok_or_else(|| {
                        format!("type={value:?} is not a type; use account or group")
                    })?);
                }
                "flagged" => parsed.flagged = checked(value),
                "ambiguous" => parsed.ambiguous = checked(value),
                "suggested" => parsed.suggested = checked(value),
                "search" => parsed.search = value.to_string(),
                "sort" if !value.is_empty() => {
                    parsed.sort = ReportColumn::parse(value).ok_or_else(|| {
                        format!(
                            "sort={value:?} is not a column; use one of {}",
                            ReportColumn::names()
                        )
                    })?;
                }
                "order" if !value.is_empty() => {
                    parsed.descending = match value {
                        "asc" => false,
                        "desc" => true,
                        _ => {
                            return Err(format!(
                                "order={value:?} is not an order; use asc or desc"
                            ));
                        }
                    };
                }
                "after" if !value.is_empty() => parsed.after = Some(value.to_string()),
                "start" if !value.is_empty() => {
                    parsed.start = value
                        .parse()
                        .ok()
                        .filter(|start| *start >= 1)
                        .ok_or_else(|| format!("start={value:?} is not a row number (1, 2, …)"))?;
                }
                "per_page" if !value.is_empty() => {
                    parsed.per_page = value
                        .parse()
                        .ok()
                        .filter(|size| PAGE_SIZES.contains(size))
                        .ok_or_else(|| {
                            format!(
                                "per_page={value:?} is not one of the page sizes {PAGE_SIZES:?}"
                            )
                        })?;
                }
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// The filters and search as query pairs (what the export takes too).
    fn filter_pairs(&self, query: &mut url::form_urlencoded::Serializer<'_, String>) {
        if let Some(job) = &self.job {
            query.append_pair("job", job);
        }
        for resolution in &self.resolutions {
            query.append_pair("resolution", resolution.as_str());
        }
        if let Some(kind) = self.kind {
            query.append_pair("type", kind.as_str());
        }
        for (on, name) in [
            (self.flagged, "flagged"),
            (self.ambiguous, "ambiguous"),
            (self.suggested, "suggested"),
        ] {
            if on {
                query.append_pair(name, "1");
            }
        }
        if !self.search.trim().is_empty() {
            query.append_pair("search", &self.search);
        }
    }

    /// The query string of this view sorted by `sort`, from the page after `after` (whose
    /// first row is number `start`); empty parts left out.
    pub fn to_query_at(
        &self,
        sort: ReportColumn,
        descending: bool,
        after: Option<&str>,
        start: usize,
    ) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        self.filter_pairs(&mut query);
        if sort != ReportColumn::Type {
            query.append_pair("sort", sort.as_str());
        }
        if descending {
            query.append_pair("order", "desc");
        }
        if self.per_page != DEFAULT_PAGE_SIZE {
            query.append_pair("per_page", &self.per_page.to_string());
        }
        if let Some(after) = after {
            query.append_pair("after", after);
            query.append_pair("start", &start.to_string());
        }
        query.finish()
    }

    /// This page's own query string.
    pub fn to_query(&self) -> String {
        self.to_query_at(
            self.sort,
            self.descending,
            self.after.as_deref(),
            self.start,
        )
    }

    /// The export's query string: the filters and search (its rows come in the natural order).
    pub fn export_query(&self, part: Option<u64>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        self.filter_pairs(&mut query);
        if let Some(part) = part {
            query.append_pair("part", &part.to_string());
        }
        query.finish()
    }

    fn report_of(&self) -> ReportOf {
        self.job.clone().map_or(ReportOf::Scope, ReportOf::Job)
    }

    /// The report query this view asks for.
    pub fn view(&self) -> ReportView {
        ReportView {
            of: self.report_of(),
            resolutions: self.resolutions.clone(),
            kind: self.kind,
            flagged: self.flagged,
            ambiguous: self.ambiguous,
            suggested: self.suggested,
            search: Some(self.search.clone()).filter(|text| !text.trim().is_empty()),
            sort: self.sort,
            descending: self.descending,
        }
    }
}

/// One page of the grid.
#[derive(Debug)]
pub struct ReportPage {
    pub entries: Vec<ReportEntry>,
    /// The next page's cursor; none on the last page.
    pub next: Option<String>,
    /// Rows matching every filter, on all pages.
    pub matching: usize,
    /// Rows per resolution, with every filter but the resolution filter (so the chart shows
    /// what the resolution boxes choose among).
    pub counts: Vec<(Resolution, u64)>,
}

/// The rows of one page (a keyset page of the report query) and the counts.
pub async fn load_page(
    app: &App,
    caller: &Caller,
    scope: &str,
    query: &ReportQuery,
) -> Result<ReportPage, crosswalk_app::AppError> {
    let view = query.view();
    let page = app
        .report_page(caller, scope, &view, query.after.as_deref(), query.per_page)
        .await?;
    let counts = app.report_counts(caller, scope, &view).await?;
    Ok(ReportPage {
        entries: page.rows.into_iter().map(ReportEntry::from).collect(),
        next: page.next,
        matching: usize::try_from(counts.matching).unwrap_or(usize::MAX),
        counts: counts
            .resolutions
            .iter()
            .map(|count| (count.resolution, count.count))
            .collect(),
    })
}

/// Counts per resolution, in the report's order of resolutions.
pub fn count_by_resolution(
    resolutions: impl Iterator<Item = Resolution>,
) -> Vec<(Resolution, u64)> {
    let mut counts: Vec<(Resolution, u64)> = Resolution::ALL.iter().map(|r| (*r, 0)).collect();
    for resolution in resolutions {
        if let Some(slot) = counts.iter_mut().find(|(r, _)| *r == resolution) {
            slot.1 += 1;
        }
    }
    counts
}

/// `/ui/scopes/{scope}/report/export`: the grid's rows as CSV, a download (filters and
/// search as the grid's; `part=N` for a part of a split export).
pub(crate) async fn export(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Response> {
    check_scope(&state, &signed_in, &scope).await?;
    let query = ReportQuery::parse(raw.as_deref())
        .map_err(|message| UiError::page(StatusCode::BAD_REQUEST, message))?;
    let part = url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(key, _)| key == "part")
        .map(|(_, value)| {
            value.trim().parse::<u64>().map_err(|_| {
                UiError::page(
                    StatusCode::BAD_REQUEST,
                    format!("part={value:?} is not a part number (1, 2, …)"),
                )
            })
        })
        .transpose()?
        .unwrap_or(1);
    let caller = signed_in.caller()?;
    Ok(crate::routes::report::export_csv(&state.app, caller, &scope, query.view(), part).await?)
}

/// `/ui/scopes/{scope}/report`: the grid.
pub(crate) async fn report(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let query = ReportQuery::parse(raw.as_deref())
        .map_err(|message| UiError::page(StatusCode::BAD_REQUEST, message))?;
    let caller = signed_in.caller()?;
    let jobs = state.app.jobs(&caller, &scope).await?;
    let page = load_page(&state.app, &caller, &scope, &query).await?;
    let title = match &query.job {
        Some(job) => format!("Report of job {job}"),
        None => format!("Report of scope {scope}"),
    };
    let body = html! {
        h1 { (title) }
        @if jobs.is_empty() {
            p.notice role="status" {
                "This scope has no mappings yet: no job has run in it. Run one with "
                code { "crosswalk run --scope " (scope) " --job wave-1 -s SOURCE -d DESTINATION" }
                ", then reload this page."
            }
        }
        div.report-layout {
            (filter_form(&scope, &query, &jobs, &page.counts))
            div.report-main {
                (bar_chart(&page.counts, "Mappings per resolution"))
                (grid(&scope, &query, &page))
            }
        }
    };
    let mut crumbs = vec![(format!("Scope {scope}"), scope_link(&scope))];
    if let Some(job) = &query.job {
        crumbs.push((format!("Job {job}"), job_link(&scope, job)));
    }
    crumbs.push((
        "Report".to_string(),
        report_link(&scope, query.job.as_deref()),
    ));
    Ok(Page(layout::frame(&title, Some(&signed_in), &crumbs, body)))
}

fn kind_label(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Account => "User",
        IdentityKind::Group => "Group",
    }
}

/// The filters: a plain GET form, so each filtered view has its own address.
fn filter_form(
    scope: &str,
    query: &ReportQuery,
    jobs: &[crosswalk_store::scope::JobRow],
    counts: &[(Resolution, u64)],
) -> Markup {
    let action = format!("/ui/scopes/{}/report", segment(scope));
    html! {
        form.filters #filters method="get" action=(action) aria-label="Filter the report" {
            (search_field(query))
            label for="filter-job" { "Job" }
            select #filter-job name="job" {
                option value="" selected[query.job.is_none()] { "All jobs (current mappings)" }
                @for job in jobs {
                    option value=(job.name) selected[query.job.as_deref() == Some(job.name.as_str())] { (job.name) }
                }
            }
            fieldset.resolutions {
                legend { "Resolution" }
                @for (resolution, count) in counts {
                    @let id = format!("filter-resolution-{}", resolution.as_str().to_ascii_lowercase());
                    div.check {
                        input type="checkbox" id=(id) name="resolution" value=(resolution.as_str())
                            checked[query.resolutions.contains(resolution)];
                        label for=(id) { (resolution.as_str()) " " span.count { "(" (count) ")" } }
                    }
                }
                div.select-all hidden {
                    button type="button" data-check="all" { "All" }
                    button type="button" data-check="none" { "None" }
                }
            }
            label for="filter-type" { "Type" }
            select #filter-type name="type" {
                option value="" selected[query.kind.is_none()] { "Users and groups" }
                option value="account" selected[query.kind == Some(IdentityKind::Account)] { "Users" }
                option value="group" selected[query.kind == Some(IdentityKind::Group)] { "Groups" }
            }
            div.check {
                input #filter-flagged type="checkbox" name="flagged" value="1" checked[query.flagged];
                label for="filter-flagged" { "Flagged only (look-alike, ambiguous…)" }
            }
            div.check {
                input #filter-ambiguous type="checkbox" name="ambiguous" value="1" checked[query.ambiguous];
                label for="filter-ambiguous" { "Ambiguous only (namesakes, none chosen)" }
            }
            div.check {
                input #filter-suggested type="checkbox" name="suggested" value="1" checked[query.suggested];
                label for="filter-suggested" { "Suggestions only (a strong candidate to accept)" }
            }
            label for="filter-sort" { "Sort by" }
            select #filter-sort name="sort" {
                @for column in ReportColumn::ALL {
                    option value=(column.as_str()) selected[query.sort == column] { (column.label()) }
                }
            }
            label for="filter-order" { "Order" }
            select #filter-order name="order" {
                option value="asc" selected[!query.descending] { "Ascending" }
                option value="desc" selected[query.descending] { "Descending" }
            }
            label for="filter-per-page" { "Rows per page" }
            select #filter-per-page name="per_page" {
                @for size in PAGE_SIZES {
                    option value=(size) selected[query.per_page == size] { (size) }
                }
            }
            div.actions {
                button #apply-filters type="submit" { "Apply filters" }
                a href=(report_link(scope, query.job.as_deref())) { "Clear" }
            }
        }
    }
}

/// Free-text search over every source and destination field (any case).
fn search_field(query: &ReportQuery) -> Markup {
    html! {
        label for="filter-search" { "Search" }
        input #filter-search type="search" name="search" value=(query.search)
            placeholder="Name, username, address or id" aria-describedby="filter-search-help";
        p.help #filter-search-help { "Finds the text, in any case, in any source or destination id, username, name, address or display name." }
    }
}

/// A column's heading: a link sorting by `column` (ascending first, then the other way),
/// saying how the grid is sorted now.
fn column_header(
    scope: &str,
    query: &ReportQuery,
    label: &str,
    column: Option<ReportColumn>,
) -> Markup {
    let Some(column) = column else {
        return html! { th scope="col" { (label) } };
    };
    let sorted = query.sort == column;
    let descending = sorted && !query.descending;
    let link = format!(
        "/ui/scopes/{}/report?{}",
        segment(scope),
        query.to_query_at(column, descending, None, 1)
    );
    let state = match (sorted, query.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let arrow = match state {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    html! {
        th scope="col" aria-sort=(state) data-sort=(column.as_str()) {
            a.sort href=(link) { (label) (arrow) span.visually-hidden { ", sort " @if descending { "descending" } @else { "ascending" } } }
        }
    }
}

/// Beside the count, above the grid: the export of the rows these filters and this search
/// match, as a CSV download (split into parts past Excel's row limit).
fn export_actions(scope: &str, query: &ReportQuery, matching: usize) -> Markup {
    let base = format!("/ui/scopes/{}/report/export", segment(scope));
    let parts = ReportParts::of(
        u64::try_from(matching).unwrap_or(u64::MAX),
        crosswalk_app::report_part_rows(),
    );
    let link = |part: Option<u64>| {
        let query = query.export_query(part);
        if query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{query}")
        }
    };
    html! {
        div.grid-actions #grid-actions {
            @if parts.parts == 1 {
                a.button #export-csv href=(link(None)) download { "Export CSV" }
            } @else {
                p #export-parts {
                    "Export CSV in " (parts.parts) " parts (a spreadsheet opens at most 1,048,576 rows): "
                    @for part in 1..=parts.parts {
                        a.button href=(link(Some(part))) download data-part=(part) { "Part " (part) } " "
                    }
                }
            }
        }
    }
}

/// The last cell of a row: the mapping's page.
fn row_actions(scope: &str, entry: &ReportEntry) -> Markup {
    html! { a href=(mapping_link(scope, entry.row.kind, &entry.row.source_id)) { "Details" span.visually-hidden { " of " (entry.row.source_id) } } }
}

pub(crate) fn mapping_link(scope: &str, kind: IdentityKind, key: &str) -> String {
    format!(
        "/ui/scopes/{}/mappings/{}/{}",
        segment(scope),
        kind.as_str(),
        segment(key)
    )
}

/// A side of a row: the display name first, then what else identifies it.
fn side(display_name: &str, name: &str, username: &str) -> Markup {
    html! {
        @if !display_name.is_empty() { span.primary { (display_name) } }
        @if !name.is_empty() { span.secondary { (name) } }
        @if !username.is_empty() && username != name { span.secondary { (username) } }
    }
}

fn grid(scope: &str, query: &ReportQuery, page: &ReportPage) -> Markup {
    let first = query.start;
    let last = first + page.entries.len().saturating_sub(1);
    let pages = page.matching.div_ceil(query.per_page).max(1);
    let number = (query.start - 1) / query.per_page + 1;
    let what = match query.kind {
        Some(IdentityKind::Account) => "users",
        Some(IdentityKind::Group) => "groups",
        None => "users and groups",
    };
    let base = format!("/ui/scopes/{}/report", segment(scope));
    let first_link = {
        let q = query.to_query_at(query.sort, query.descending, None, 1);
        if q.is_empty() {
            base.clone()
        } else {
            format!("{base}?{q}")
        }
    };
    let next_link = page.next.as_deref().map(|next| {
        format!(
            "{base}?{}",
            query.to_query_at(query.sort, query.descending, Some(next), last + 1)
        )
    });
    let header =
        |label: &str, column: Option<ReportColumn>| column_header(scope, query, label, column);
    html! {
        section.grid aria-labelledby="grid-count" {
            div.grid-header {
                p #grid-count role="status" {
                    @if page.matching == 0 { "No " (what) " match these filters." }
                    @else if page.entries.is_empty() { (page.matching) " " (what) " match; this page is past the last row." }
                    @else { (page.matching) " " (what) " match; showing " (first) "–" (last) "." }
                }
                (export_actions(scope, query, page.matching))
            }
            @if !page.entries.is_empty() {
                div.table-scroll {
                    table.data #report-grid {
                        caption.visually-hidden { "User mappings, page " (number) " of " (pages) }
                        thead {
                            tr {
                                (header("Type", Some(ReportColumn::Type))) (header("Source", Some(ReportColumn::SourceDisplayName)))
                                (header("Source ID", Some(ReportColumn::SourceId)))
                                (header("Destination", Some(ReportColumn::DestinationDisplayName)))
                                (header("Destination ID", Some(ReportColumn::DestinationId))) (header("Resolution", Some(ReportColumn::Resolution)))
                                (header("Flags", None)) (header("Message", Some(ReportColumn::Message))) (header("Job", Some(ReportColumn::Job)))
                                th scope="col" { span.visually-hidden { "Actions" } }
                            }
                        }
                        tbody {
                            @for entry in &page.entries {
                                @let row = &entry.row;
                                tr data-source-id=(row.source_id) {
                                    td { (kind_label(row.kind)) }
                                    td { (side(&row.source_display_name, &row.source_name, &row.source_username)) }
                                    td { code { (row.source_id) } }
                                    td { (side(&row.destination_display_name, &row.destination_name, &row.destination_username)) }
                                    td { @if !row.destination_id.is_empty() { code { (row.destination_id) } } }
                                    td { (resolution_badge(row.resolution.as_str())) }
                                    td {
                                        @for flag in &entry.flags { span.flag { (flag.replace('_', " ")) } " " }
                                        @if entry.suggested { span.flag.suggestion { "suggestion" } }
                                    }
                                    td.message { (row.message) }
                                    td { (row.job) }
                                    td { (row_actions(scope, entry)) }
                                }
                            }
                        }
                    }
                }
            }
            @if query.after.is_some() || next_link.is_some() {
                nav.pager aria-label="Pages" {
                    @if query.after.is_some() { a rel="first" href=(first_link) { "First page" } }
                    span { "Page " (number) " of " (pages) }
                    @if let Some(next) = &next_link { a rel="next" href=(next) { "Next page" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_reads_back_what_it_writes() {
        let query = ReportQuery {
            job: Some("wave 1/2".into()),
            resolutions: vec![Resolution::Email, Resolution::Unresolved],
            kind: Some(IdentityKind::Group),
            flagged: true,
            ambiguous: true,
            suggested: true,
            search: "ann & co".into(),
            sort: ReportColumn::DestinationName,
            descending: true,
            after: Some("7b7d".into()),
            start: 51,
            per_page: 25,
        };
        assert_eq!(ReportQuery::parse(Some(&query.to_query())).unwrap(), query);
        assert_eq!(ReportQuery::parse(None).unwrap(), ReportQuery::default());
        assert_eq!(ReportQuery::default().to_query(), "");
        assert_eq!(
            ReportQuery::parse(Some("resolution=email&resolution=Email&later=x"))
                .unwrap()
                .resolutions,
            vec![Resolution::Email]
        );
        // The export keeps the filters and search, not the page or the sort.
        let export = ReportQuery::parse(Some(&query.export_query(Some(2)))).unwrap();
        assert_eq!(
            (
                export.search.as_str(),
                export.suggested,
                export.after,
                export.sort
            ),
            ("ann & co", true, None, ReportColumn::Type)
        );
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_parameter() {
        for (query, parameter) in [
            ("resolution=Fuzzy", "resolution="),
            ("type=robot", "type="),
            ("start=0", "start="),
            ("per_page=7", "per_page="),
            ("sort=colour", "sort="),
            ("order=up", "order="),
        ] {
            let message = ReportQuery::parse(Some(query)).unwrap_err();
            assert!(message.starts_with(parameter), "{query}: {message}");
        }
    }
}
