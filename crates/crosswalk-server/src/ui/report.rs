//! The report grid: the 12-column User Mappings report of a scope (or one job), filtered by
//! resolution (several at once), type and flagged, a page at a time, with the counts per
//! resolution as a bar chart.
//!
//! The query lives in the URL (`?job=…&resolution=Email&resolution=Name&type=account&
//! flagged=1&page=2&per_page=50`), so a filtered page can be bookmarked and the form is a
//! plain GET. Rows come from [`load_page`], which reads the report through the application
//! layer as `crosswalk report` does; the report query API (search, sort, keyset paging,
//! export) replaces it, and its buttons go in the places marked below ([`search_field`],
//! [`column_header`], [`export_actions`], [`row_actions`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use crosswalk_app::{App, Caller, ReportEntry, ReportFilter};
use crosswalk_core::{IdentityKind, Resolution};
use crosswalk_store::scope::ReportOf;
use maud::{Markup, html};

use super::layout::{self, bar_chart, resolution_badge, segment};
use super::scopes::{check_scope, job_link, report_link, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// The page sizes offered.
pub const PAGE_SIZES: [usize; 4] = [25, 50, 100, 250];
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// What the grid shows: the report's filters and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// One job's latest run; none: the scope's current mappings, whichever job made them.
    pub job: Option<String>,
    /// Empty: every resolution.
    pub resolutions: Vec<Resolution>,
    pub kind: Option<IdentityKind>,
    pub flagged: bool,
    /// From 1.
    pub page: usize,
    pub per_page: usize,
}

impl Default for ReportQuery {
    fn default() -> ReportQuery {
        ReportQuery { job: None, resolutions: Vec::new(), kind: None, flagged: false, page: 1, per_page: DEFAULT_PAGE_SIZE }
    }
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
                        format!("resolution={value:?} is not a resolution; use one of {}", known.join(", "))
                    })?;
                    if !parsed.resolutions.contains(&resolution) {
                        parsed.resolutions.push(resolution);
                    }
                }
                "type" if !value.is_empty() => {
                    parsed.kind = Some(IdentityKind::parse(value).ok_or_else(|| format!("type={value:?} is not a type; use account or group"))?);
                }
                "flagged" => parsed.flagged = matches!(value, "1" | "true" | "on" | "yes"),
                "page" if !value.is_empty() => {
                    parsed.page = value.parse().ok().filter(|page| *page >= 1).ok_or_else(|| format!("page={value:?} is not a page number (1, 2, …)"))?;
                }
                "per_page" if !value.is_empty() => {
                    parsed.per_page = value
                        .parse()
                        .ok()
                        .filter(|size| PAGE_SIZES.contains(size))
                        .ok_or_else(|| format!("per_page={value:?} is not one of the page sizes {PAGE_SIZES:?}"))?;
                }
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// The query string of this query at `page` (empty parts left out).
    pub fn to_query(&self, page: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(job) = &self.job {
            query.append_pair("job", job);
        }
        for resolution in &self.resolutions {
            query.append_pair("resolution", resolution.as_str());
        }
        if let Some(kind) = self.kind {
            query.append_pair("type", kind.as_str());
        }
        if self.flagged {
            query.append_pair("flagged", "1");
        }
        if self.per_page != DEFAULT_PAGE_SIZE {
            query.append_pair("per_page", &self.per_page.to_string());
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        query.finish()
    }

    fn report_of(&self) -> ReportOf {
        self.job.clone().map_or(ReportOf::Scope, ReportOf::Job)
    }
}

/// One page of the grid.
#[derive(Debug)]
pub struct ReportPage {
    pub entries: Vec<ReportEntry>,
    /// Rows matching every filter, on all pages.
    pub matching: usize,
    /// Rows per resolution, with the type and flagged filters but not the resolution filter
    /// (so the chart shows what the resolution boxes choose among).
    pub counts: Vec<(Resolution, u64)>,
}

/// Counts per resolution, in the report's order of resolutions.
pub fn count_by_resolution(resolutions: impl Iterator<Item = Resolution>) -> Vec<(Resolution, u64)> {
    let mut counts: Vec<(Resolution, u64)> = Resolution::ALL.iter().map(|r| (*r, 0)).collect();
    for resolution in resolutions {
        if let Some(slot) = counts.iter_mut().find(|(r, _)| *r == resolution) {
            slot.1 += 1;
        }
    }
    counts
}

/// The rows of one page, as today's report gives them: the whole filtered report is read
/// (with flags, as the JSON report has them) and one page kept. The report query API's
/// keyset pages take its place.
pub async fn load_page(app: &App, caller: &Caller, scope: &str, query: &ReportQuery) -> Result<ReportPage, crosswalk_app::AppError> {
    let filter = ReportFilter { resolutions: Vec::new(), kind: query.kind, flagged: query.flagged };
    let entries = app.report_entries(caller, scope, &query.report_of(), &filter).await?;
    let counts = count_by_resolution(entries.iter().map(|entry| entry.row.resolution));
    let matching: Vec<ReportEntry> =
        entries.into_iter().filter(|entry| query.resolutions.is_empty() || query.resolutions.contains(&entry.row.resolution)).collect();
    let total = matching.len();
    let entries = matching.into_iter().skip((query.page - 1).saturating_mul(query.per_page)).take(query.per_page).collect();
    Ok(ReportPage { entries, matching: total, counts })
}

/// `/ui/scopes/{scope}/report`: the grid.
pub(crate) async fn report(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let query = ReportQuery::parse(raw.as_deref()).map_err(|message| UiError::page(StatusCode::BAD_REQUEST, message))?;
    let caller = signed_in.caller()?;
    let jobs = state.app.jobs(&caller, &scope).await?;
    let page = load_page(&state.app, &caller, &scope, &query).await?;
    let pages = page.matching.div_ceil(query.per_page).max(1);
    if query.page > pages {
        return Err(UiError::page(
            StatusCode::NOT_FOUND,
            format!("There is no page {} of this report: it has {pages}. Go back to page 1.", query.page),
        ));
    }
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
                (grid(&scope, &query, &page, pages))
            }
        }
    };
    let mut crumbs = vec![(format!("Scope {scope}"), scope_link(&scope))];
    if let Some(job) = &query.job {
        crumbs.push((format!("Job {job}"), job_link(&scope, job)));
    }
    crumbs.push(("Report".to_string(), report_link(&scope, query.job.as_deref())));
    Ok(Page(layout::frame(&title, Some(&signed_in), &crumbs, body)))
}

fn kind_label(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Account => "User",
        IdentityKind::Group => "Group",
    }
}

/// The filters: a plain GET form, so each filtered view has its own address.
fn filter_form(scope: &str, query: &ReportQuery, jobs: &[crosswalk_store::scope::JobRow], counts: &[(Resolution, u64)]) -> Markup {
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

/// The place for free-text search over every source and destination field; the report
/// query API fills it.
fn search_field(_query: &ReportQuery) -> Markup {
    html! {}
}

/// A column's heading; the report query API makes it a sort link.
fn column_header(label: &str) -> Markup {
    html! { th scope="col" { (label) } }
}

/// Beside the count, above the grid: the export this report's filters would give. Until
/// the report's export API is served, it says the command that writes it.
fn export_actions(scope: &str, query: &ReportQuery) -> Markup {
    let mut command = format!("crosswalk report --scope {scope}");
    if let Some(job) = &query.job {
        command.push_str(&format!(" --job {job}"));
    }
    for resolution in &query.resolutions {
        command.push_str(&format!(" -r {}", resolution.as_str().to_ascii_lowercase()));
    }
    if let Some(kind) = query.kind {
        command.push_str(&format!(" -t {kind}"));
    }
    if query.flagged {
        command.push_str(" --flagged");
    }
    html! {
        div.grid-actions #grid-actions {
            details.export {
                summary { "Export" }
                p { "The same rows as CSV (12 columns, safe to open in a spreadsheet): " code { (command) } }
            }
        }
    }
}

/// The last cell of a row: the mapping's page; later, its affected items and review actions.
fn row_actions(scope: &str, entry: &ReportEntry) -> Markup {
    html! { a href=(mapping_link(scope, entry.row.kind, &entry.row.source_id)) { "Details" span.visually-hidden { " of " (entry.row.source_id) } } }
}

pub(crate) fn mapping_link(scope: &str, kind: IdentityKind, key: &str) -> String {
    format!("/ui/scopes/{}/mappings/{}/{}", segment(scope), kind.as_str(), segment(key))
}

/// A side of a row: the display name first, then what else identifies it.
fn side(display_name: &str, name: &str, username: &str) -> Markup {
    html! {
        @if !display_name.is_empty() { span.primary { (display_name) } }
        @if !name.is_empty() { span.secondary { (name) } }
        @if !username.is_empty() && username != name { span.secondary { (username) } }
    }
}

fn grid(scope: &str, query: &ReportQuery, page: &ReportPage, pages: usize) -> Markup {
    let first = (query.page - 1) * query.per_page + 1;
    let last = first + page.entries.len().saturating_sub(1);
    let what = match query.kind {
        Some(IdentityKind::Account) => "users",
        Some(IdentityKind::Group) => "groups",
        None => "users and groups",
    };
    let base = format!("/ui/scopes/{}/report", segment(scope));
    let link = |page: usize| {
        let query = query.to_query(page);
        if query.is_empty() { base.clone() } else { format!("{base}?{query}") }
    };
    html! {
        section.grid aria-labelledby="grid-count" {
            div.grid-header {
                p #grid-count role="status" {
                    @if page.matching == 0 { "No " (what) " match these filters." }
                    @else { (page.matching) " " (what) " match; showing " (first) "–" (last) "." }
                }
                (export_actions(scope, query))
            }
            @if !page.entries.is_empty() {
                div.table-scroll {
                    table.data #report-grid {
                        caption.visually-hidden { "User mappings, page " (query.page) " of " (pages) }
                        thead {
                            tr {
                                (column_header("Type")) (column_header("Source")) (column_header("Source ID"))
                                (column_header("Destination")) (column_header("Destination ID")) (column_header("Resolution"))
                                (column_header("Flags")) (column_header("Message")) (column_header("Job"))
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
                                    td { @for flag in &entry.flags { span.flag { (flag.replace('_', " ")) } " " } }
                                    td.message { (row.message) }
                                    td { (row.job) }
                                    td { (row_actions(scope, entry)) }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pager aria-label="Pages" {
                    @if query.page > 1 { a rel="prev" href=(link(query.page - 1)) { "Previous page" } }
                    span { "Page " (query.page) " of " (pages) }
                    @if query.page < pages { a rel="next" href=(link(query.page + 1)) { "Next page" } }
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
            page: 3,
            per_page: 25,
        };
        assert_eq!(ReportQuery::parse(Some(&query.to_query(3))).unwrap(), query);
        assert_eq!(ReportQuery::parse(None).unwrap(), ReportQuery::default());
        assert_eq!(ReportQuery::default().to_query(1), "");
        assert_eq!(ReportQuery::parse(Some("resolution=email&resolution=Email&search=x")).unwrap().resolutions, vec![Resolution::Email]);
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_parameter() {
        for (query, parameter) in [("resolution=Fuzzy", "resolution="), ("type=robot", "type="), ("page=0", "page="), ("per_page=7", "per_page=")] {
            let message = ReportQuery::parse(Some(query)).unwrap_err();
            assert!(message.starts_with(parameter), "{query}: {message}");
        }
    }
}
