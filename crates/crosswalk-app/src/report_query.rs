//! The report query for the page, the API and the CLI alike: one keyset page, the counts per
//! resolution, or the filtered rows streamed for an export (split into parts a spreadsheet
//! can open). The filters, search, sort and cursor are the store's
//! ([`crosswalk_store::scope::ReportView`]); this layer checks the caller and the scope and
//! supplies the candidates people rejected, so "suggested" is exactly the review queue's.

use crosswalk_core::ReportRow;
use crosswalk_store::scope::{MAX_BATCH, ReportCounts, ReportPage, ReportView};
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::read::{ReportStop, scope_error};
use crate::{App, Caller};

/// Excel's row limit (header included): a sheet shows no more.
pub const EXCEL_MAX_ROWS: u64 = 1_048_576;

/// The environment variable that lowers the rows per export part, so a test of the split runs
/// fast. Undocumented for users on purpose: a part holds what Excel opens, no more.
pub const PART_ROWS_VARIABLE: &str = "CROSSWALK_REPORT_PART_ROWS";

/// Data rows per export part: Excel's limit less the header, or what
/// [`PART_ROWS_VARIABLE`] says (a positive number, at most that).
pub fn report_part_rows() -> u64 {
    let most = EXCEL_MAX_ROWS - 1;
    std::env::var(PART_ROWS_VARIABLE)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|rows| (1..=most).contains(rows))
        .unwrap_or(most)
}

/// How an export of `rows` rows splits into parts of `part_rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportParts {
    pub rows: u64,
    pub part_rows: u64,
    /// At least 1 (an empty export is one part with its header).
    pub parts: u64,
}

impl ReportParts {
    pub fn of(rows: u64, part_rows: u64) -> ReportParts {
        ReportParts {
            rows,
            part_rows,
            parts: rows.div_ceil(part_rows.max(1)).max(1),
        }
    }

    /// Rows to skip and to take for part `part` (from 1); an error past the last part.
    pub fn range(&self, part: u64) -> AppResult<(u64, u64)> {
        if part == 0 || part > self.parts {
            return Err(AppError::invalid(format!(
                "this export has {} part{} ({} rows, at most {} a part); ask for part 1 to {}",
                self.parts,
                if self.parts == 1 { "" } else { "s" },
                self.rows,
                self.part_rows,
                self.parts
            )));
        }
        Ok(((part - 1) * self.part_rows, self.part_rows))
    }
}

impl App {
    /// One keyset page of the report under `view`: at most `limit` (1 to 10,000) rows after
    /// `after` (a page's `next`).
    pub async fn report_page(
        &self,
        caller: &Caller,
        scope: &str,
        view: &ReportView,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<ReportPage> {
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "a report page holds 1 to {MAX_BATCH} rows, not {limit}"
            )));
        }
        self.check_report(caller, scope, &view.of).await?;
        let rejected = self.rejections(scope).await?;
        self.store
            .report_page(scope, view, &rejected, after, limit)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// How many rows `view` matches, and per resolution how many match every other filter.
    pub async fn report_counts(
        &self,
        caller: &Caller,
        scope: &str,
        view: &ReportView,
    ) -> AppResult<ReportCounts> {
        self.check_report(caller, scope, &view.of).await?;
        let rejected = self.rejections(scope).await?;
        self.store
            .report_counts(scope, view, &rejected)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// The rows `view` matches in the report's natural order (users, then groups, each by
    /// source id), skipping `skip`, at most `take`, handed to `sink` as they are read: an
    /// export in constant memory. A sink error stops the read and comes back as it was.
    pub async fn report_view_each(
        &self,
        caller: &Caller,
        scope: &str,
        view: &ReportView,
        skip: u64,
        take: Option<u64>,
        sink: &mut (dyn FnMut(ReportRow) -> std::io::Result<()> + Send),
    ) -> Result<u64, ReportStop> {
        self.check_report(caller, scope, &view.of)
            .await
            .map_err(ReportStop::App)?;
        let rejected = self.rejections(scope).await.map_err(ReportStop::App)?;
        let mut sink_error: Option<std::io::Error> = None;
        let mut rows = |row: ReportRow| {
            sink(row).map_err(|error| {
                let stop = crosswalk_store::scope::ScopeError::stopped(std::io::Error::new(
                    error.kind(),
                    error.to_string(),
                ));
                sink_error = Some(error);
                stop
            })
        };
        let read = self
            .store
            .report_view_each(scope, view, &rejected, skip, take, &mut rows)
            .await;
        match (read, sink_error) {
            (_, Some(error)) => Err(ReportStop::Sink(error)),
            (Ok(count), None) => Ok(count),
            (Err(error), None) => Err(ReportStop::App(error.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_row_once() {
        let parts = ReportParts::of(7, 3);
        assert_eq!(parts.parts, 3);
        assert_eq!(
            (parts.range(1).unwrap(), parts.range(3).unwrap()),
            ((0, 3), (6, 3))
        );
        assert!(
            parts
                .range(4)
                .unwrap_err()
                .to_string()
                .contains("part 1 to 3")
        );
        assert_eq!(ReportParts::of(0, 3).parts, 1);
        assert_eq!(ReportParts::of(6, 3).parts, 2);
    }
}
