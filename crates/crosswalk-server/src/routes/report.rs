//! The report query on the API: keyset pages of the User Mappings report as JSON, counts per
//! resolution, and the CSV export streamed in constant memory, split into parts Excel can
//! open. One set of query parameters for all three (and the web UI's grid).

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crosswalk_app::{App, Caller, ReportEntry, ReportParts, ReportStop};
use crosswalk_core::{IdentityKind, Resolution};
use crosswalk_store::scope::{ReportColumn, ReportCounts, ReportOf, ReportView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::limits::DEFAULT_PAGE_SIZE;
use crate::routes::native::{check_page_size, visible_scope};
use crate::{Principal, ServerState};

/// The report's filters, search, sort and paging, as query parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportParams {
    /// Only the source identities this job's latest run resolved; none: the scope's current
    /// mappings, whichever job made them (each row says its job).
    job: Option<String>,
    /// Only these resolutions, comma-separated (`Email,Name`; any case): Exception, Email,
    /// ID, Username, Name, Provision, Passthrough, External, Default, Unresolved.
    resolution: Option<String>,
    /// Only `account` (users) or `group`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only mappings with a flag (look-alike, ambiguous, shared destination...).
    flagged: Option<bool>,
    /// Only mappings flagged ambiguous: several destinations fit, none was chosen.
    ambiguous: Option<bool>,
    /// Only suggestions: Unresolved with a strong, clear candidate (the review queue's rule).
    suggested: Option<bool>,
    /// Only rows containing this text, any case, in a source or destination field (id,
    /// username, name or any address, display name).
    search: Option<String>,
    /// The column to sort pages by: type (default), job, source_id, source_username,
    /// source_name, source_display_name, destination_id, destination_username,
    /// destination_name, destination_display_name, resolution, message.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
    /// Pages only: rows per page, 1 to 10,000 (default 5,000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
    /// Pages only: the previous page's `next` (opaque); none for the first page. Keep the
    /// sort the same between pages.
    after: Option<String>,
    /// Export only: which part, from 1 (default 1). See `X-Report-Parts`.
    #[param(minimum = 1)]
    part: Option<u64>,
}

fn yes(flag: Option<bool>) -> bool {
    flag.unwrap_or(false)
}

impl ReportParams {
    /// The view these parameters ask for; a bad value is refused naming its parameter.
    pub(crate) fn view(&self) -> ApiResult<ReportView> {
        let mut resolutions = Vec::new();
        for text in self
            .resolution
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let resolution = Resolution::parse(text).ok_or_else(|| {
                let known: Vec<&str> = Resolution::ALL.iter().map(|r| r.as_str()).collect();
                ApiError::invalid(format!(
                    "resolution {text:?} is not a resolution; use one or more of {}",
                    known.join(", ")
                ))
            })?;
            if !resolutions.contains(&resolution) {
                resolutions.push(resolution);
            }
        }
        let kind = match self
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(text) => Some(IdentityKind::parse(text).ok_or_else(|| {
                ApiError::invalid(format!("type {text:?} is not a type; use account or group"))
            })?),
        };
        let sort = match self
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => ReportColumn::Type,
            Some(text) => ReportColumn::parse(text).ok_or_else(|| {
                ApiError::invalid(format!(
                    "sort {text:?} is not a column; use one of {}",
                    ReportColumn::names()
                ))
            })?,
        };
        let descending = match self
            .order
            .as_deref()
            .map(str::trim)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "order {other:?} is not an order; use asc or desc"
                )));
            }
        };
        Ok(ReportView {
            of: self
                .job
                .clone()
                .filter(|job| !job.trim().is_empty())
                .map_or(ReportOf::Scope, ReportOf::Job),
            resolutions,
            kind,
            flagged: yes(self.flagged),
            ambiguous: yes(self.ambiguous),
            suggested: yes(self.suggested),
            search: self.search.clone().filter(|text| !text.trim().is_empty()),
            sort,
            descending,
        })
    }
}

/// One page of the report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportPageBody {
    /// The 12 columns (snake_case) of each row, with its flags, confidence and whether it is
    /// a suggestion.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<ReportEntry>,
    /// Pass as `after` for the next page (same filters and sort); null on the last page.
    next: Option<String>,
}

/// The counts under the filters, and how the export splits.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportCountsBody {
    /// `matching`: rows matching every filter and the search; `resolutions`: per resolution,
    /// the rows matching every filter but the resolution filter.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    counts: ReportCounts,
    /// How many CSV parts the export of these rows has (`part=1` to `parts`).
    parts: u64,
    /// Data rows per part (each part adds its header line; Excel opens 1,048,576 lines).
    part_rows: u64,
}

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str =
    "No such scope (or job) for this token (a scope of another token reads the same)";

/// A keyset page of the User Mappings report under the filters, search and sort. Continue
/// with `after=next` until `next` is null; a cursor stays valid while the scope changes (it
/// is a place in the order, not an offset).
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/report", tag = "report", security(("token" = [])),
    params(("scope" = String, Path), ReportParams),
    responses((status = 200, body = ReportPageBody), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn report_page(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<ApiJson<ReportPageBody>> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(limit, "limit")?;
    let view = params.view()?;
    visible_scope(&state, &principal, &scope).await?;
    let page = state
        .app
        .report_page(
            &principal.caller()?,
            &scope,
            &view,
            params.after.as_deref(),
            limit,
        )
        .await?;
    Ok(ApiJson(ReportPageBody {
        rows: page.rows.into_iter().map(ReportEntry::from).collect(),
        next: page.next,
    }))
}

/// How many rows the filters and search match, per resolution (every filter but the
/// resolution one: what the resolution filter chooses among), and how many CSV parts the
/// export has.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/report/counts", tag = "report", security(("token" = [])),
    params(("scope" = String, Path), ReportParams),
    responses((status = 200, body = ReportCountsBody), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn report_counts(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<ApiJson<ReportCountsBody>> {
    let view = params.view()?;
    visible_scope(&state, &principal, &scope).await?;
    let counts = state
        .app
        .report_counts(&principal.caller()?, &scope, &view)
        .await?;
    let parts = ReportParts::of(counts.matching, crosswalk_app::report_part_rows());
    Ok(ApiJson(ReportCountsBody {
        counts,
        parts: parts.parts,
        part_rows: parts.part_rows,
    }))
}

/// The report as CSV: the 12 columns in the seed's order, every cell a spreadsheet would run
/// as a formula (starting `=`, `+`, `-`, `@`, tab or CR) prefixed with `'`, the rows the
/// filters and search match in the natural order (users, then groups, by source id; `sort`
/// applies to pages), streamed. Past Excel's 1,048,576 lines the export is split into parts
/// of at most 1,048,575 rows, each with its header: `X-Report-Parts` says how many (so does
/// `/report/counts`), fetch each with `part=N`.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/report/export", tag = "report", security(("token" = [])),
    params(("scope" = String, Path), ReportParams),
    responses((status = 200, content_type = "text/csv", body = String,
            headers(("X-Report-Parts" = u64, description = "How many parts the export has"), ("X-Report-Part" = u64, description = "Which part this is"),
                ("X-Report-Rows" = u64, description = "Rows of the whole export, all parts"))),
        (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn report_export(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let view = params.view()?;
    visible_scope(&state, &principal, &scope).await?;
    export_csv(
        &state.app,
        principal.caller()?,
        &scope,
        view,
        params.part.unwrap_or(1),
    )
    .await
}

/// The CSV export's response, for the API and the web UI: the rows are counted first (so the
/// parts are known before the first byte), then part `part` streams from the store through a
/// writer thread, a chunk at a time, in constant memory.
pub(crate) async fn export_csv(
    app: &App,
    caller: Caller,
    scope: &str,
    view: ReportView,
    part: u64,
) -> ApiResult<Response> {
    let counts = app.report_counts(&caller, scope, &view).await?;
    let parts = ReportParts::of(counts.matching, crosswalk_app::report_part_rows());
    let (skip, take) = parts.range(part)?;
    let (chunks, body_chunks) = std::sync::mpsc::sync_channel::<std::io::Result<Bytes>>(8);
    let (rows, rows_received) = std::sync::mpsc::sync_channel::<crosswalk_core::ReportRow>(4096);
    // The writer: rows in, CSV chunks out.
    let writer_chunks = chunks.clone();
    tokio::task::spawn_blocking(move || {
        let mut output = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            chunks: writer_chunks,
        };
        let written = crosswalk_formats::write_report_csv(rows_received, &mut output)
            .and_then(|()| output.send());
        if let Err(error) = written
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            tracing::warn!(%error, "the report export could not be written");
        }
    });
    // The reader: the store's rows into the writer, on a blocking thread so a full channel
    // waits without holding up the server's workers.
    let (app, scope_name) = (app.clone(), scope.to_string());
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut sink = move |row: crosswalk_core::ReportRow| {
            rows.send(row)
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        };
        let read = handle.block_on(app.report_view_each(
            &caller,
            &scope_name,
            &view,
            skip,
            Some(take),
            &mut sink,
        ));
        if let Err(ReportStop::App(error)) = read {
            tracing::warn!(error = %error.message(), "the report export stopped");
            // Ends the body with an error: the client sees a broken download, not a short file.
            let _ = chunks.send(Err(std::io::Error::other(error.message().to_string())));
        }
    });
    let stream = futures_util::stream::unfold(Some(body_chunks), |receiver| async move {
        let receiver = receiver?;
        let (receiver, next) = tokio::task::spawn_blocking(move || {
            let next = receiver.recv();
            (receiver, next)
        })
        .await
        .ok()?;
        match next {
            Ok(Ok(chunk)) => Some((Ok(chunk), Some(receiver))),
            Ok(Err(error)) => Some((Err(error), None)),
            Err(_) => None,
        }
    });
    let file = match (parts.parts, view_job(scope)) {
        (1, name) => format!("{name}.csv"),
        (_, name) => format!("{name}-{part}.csv"),
    };
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert("x-report-parts", HeaderValue::from(parts.parts));
    headers.insert("x-report-part", HeaderValue::from(part));
    headers.insert("x-report-rows", HeaderValue::from(parts.rows));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

/// The download's file name: `report-SCOPE`, with only characters safe in a header and a
/// file name.
fn view_job(scope: &str) -> String {
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
    format!("report-{safe}")
}

const CHUNK: usize = 64 * 1024;

/// Collects CSV bytes and hands them on in chunks of about 64 KiB.
struct ChunkWriter {
    buffer: Vec<u8>,
    chunks: std::sync::mpsc::SyncSender<std::io::Result<Bytes>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.chunks
            .send(Ok(Bytes::from(chunk)))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
