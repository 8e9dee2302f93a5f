//! The report query: the User Mappings report filtered (resolutions, type, flagged,
//! ambiguous, suggested), searched (every source and destination field, case-insensitive),
//! sorted (any of the 12 columns, either way) and paged by keyset, the same on every backend.
//!
//! It works over [`ScopeRead::report_values_each`], the stored values in the report's natural
//! order (users, then groups, each by source key), so both backends answer alike and no
//! migration is needed. A page keeps at most `limit + 1` rows in a bounded heap whatever the
//! scope's size; counts and the export keep nothing. A page sorted by type ascending (the
//! default) is the natural order, so its read stops as soon as the page is full.
//!
//! "Suggested" is `crosswalk_core::review`'s one definition at its default threshold, with the
//! candidates people rejected (kept by the application) left out.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use crosswalk_core::{
    Confidence, Flag, IdentityKind, ReportRow, Resolution, ReviewCandidate, SUGGESTION_THRESHOLD,
    suggestion,
};
use serde::{Deserialize, Serialize};

use super::error::{ErrorKind, ScopeError, ScopeResult};
use super::model::{IdentityValue, MAX_BATCH, ReportOf};
use super::{ReportSink, ReportValueRef, ScopeRead};

/// The destination ids people rejected per (kind, source key): never suggested again.
pub type Rejections = HashMap<(IdentityKind, String), BTreeSet<String>>;

/// The report's 12 columns, in the export's order, as the query sorts by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportColumn {
    #[default]
    Type,
    Job,
    SourceId,
    SourceUsername,
    SourceName,
    SourceDisplayName,
    DestinationId,
    DestinationUsername,
    DestinationName,
    DestinationDisplayName,
    Resolution,
    Message,
}

impl ReportColumn {
    pub const ALL: [ReportColumn; 12] = [
        ReportColumn::Type,
        ReportColumn::Job,
        ReportColumn::SourceId,
        ReportColumn::SourceUsername,
        ReportColumn::SourceName,
        ReportColumn::SourceDisplayName,
        ReportColumn::DestinationId,
        ReportColumn::DestinationUsername,
        ReportColumn::DestinationName,
        ReportColumn::DestinationDisplayName,
        ReportColumn::Resolution,
        ReportColumn::Message,
    ];

    /// The query's spelling: `type`, `source_id`, `destination_display_name`...
    pub fn as_str(self) -> &'static str {
        match self {
            ReportColumn::Type => "type",
            ReportColumn::Job => "job",
            ReportColumn::SourceId => "source_id",
            ReportColumn::SourceUsername => "source_username",
            ReportColumn::SourceName => "source_name",
            ReportColumn::SourceDisplayName => "source_display_name",
            ReportColumn::DestinationId => "destination_id",
            ReportColumn::DestinationUsername => "destination_username",
            ReportColumn::DestinationName => "destination_name",
            ReportColumn::DestinationDisplayName => "destination_display_name",
            ReportColumn::Resolution => "resolution",
            ReportColumn::Message => "message",
        }
    }

    /// The export header's spelling (`Source Display Name`).
    pub fn label(self) -> &'static str {
        crosswalk_core::report::REPORT_COLUMNS[self as usize]
    }

    /// A column by its query spelling, its header (`Source ID`) or with dashes
    /// (`source-id`), in any case.
    pub fn parse(text: &str) -> Option<ReportColumn> {
        let folded: String = text
            .trim()
            .chars()
            .map(|c| {
                if c == '-' || c == ' ' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        ReportColumn::ALL
            .into_iter()
            .find(|column| column.as_str() == folded)
    }

    /// What a row holds in this column, as the report shows it.
    pub fn value(self, row: &ReportRow) -> &str {
        match self {
            ReportColumn::Type => row.kind.as_str(),
            ReportColumn::Job => &row.job,
            ReportColumn::SourceId => &row.source_id,
            ReportColumn::SourceUsername => &row.source_username,
            ReportColumn::SourceName => &row.source_name,
            ReportColumn::SourceDisplayName => &row.source_display_name,
            ReportColumn::DestinationId => &row.destination_id,
            ReportColumn::DestinationUsername => &row.destination_username,
            ReportColumn::DestinationName => &row.destination_name,
            ReportColumn::DestinationDisplayName => &row.destination_display_name,
            ReportColumn::Resolution => row.resolution.as_str(),
            ReportColumn::Message => &row.message,
        }
    }

    /// The list for an error message.
    pub fn names() -> String {
        ReportColumn::ALL.map(ReportColumn::as_str).join(", ")
    }
}

/// Which rows of the report, and in which order: the same parameters on the page, the API
/// and the CLI. The default is every row of the scope's current mappings, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportView {
    pub of: ReportOf,
    /// Empty: every resolution.
    pub resolutions: Vec<Resolution>,
    pub kind: Option<IdentityKind>,
    /// Only mappings with a flag.
    pub flagged: bool,
    /// Only mappings flagged ambiguous (several destinations fit, none chosen).
    pub ambiguous: bool,
    /// Only suggestions (`crosswalk_core::review`, default threshold).
    pub suggested: bool,
    /// Case-insensitive text every row shown contains in one of its source or destination
    /// fields (id, username, name or any address, display name); blank: no search.
    pub search: Option<String>,
    pub sort: ReportColumn,
    pub descending: bool,
}

impl Default for ReportView {
    fn default() -> ReportView {
        ReportView {
            of: ReportOf::Scope,
            resolutions: Vec::new(),
            kind: None,
            flagged: false,
            ambiguous: false,
            suggested: false,
            search: None,
            sort: ReportColumn::Type,
            descending: false,
        }
    }
}

/// A row of a page, with what the filters looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportItem {
    #[serde(flatten)]
    pub row: ReportRow,
    /// Snake_case, in the engine's order; empty when nothing is odd.
    pub flags: Vec<String>,
    /// Thousandths.
    pub confidence: u16,
    /// Whether the mapping is a suggestion (see [`ReportView::suggested`]).
    pub suggested: bool,
}

/// One keyset page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportPage {
    pub rows: Vec<ReportItem>,
    /// The cursor of the next page (pass it as `after`); none on the last page.
    pub next: Option<String>,
}

/// Rows per resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolutionCount {
    pub resolution: Resolution,
    pub count: u64,
}

/// What a view matches, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportCounts {
    /// Rows matching every filter and the search.
    pub matching: u64,
    /// Per resolution (every one, in the report's order), the rows matching every filter but
    /// the resolution filter, and the search.
    pub resolutions: Vec<ResolutionCount>,
}

/// A stored mapping judged against a view.
struct Judged {
    flags: bool,
    suggested: bool,
}

/// Core's flags back from their stored names (an unknown name counts as a flag that stops a
/// suggestion: never suggest what this version cannot read).
fn flags_of(value: &IdentityValue) -> Vec<Flag> {
    value
        .flags
        .iter()
        .map(|name| {
            serde_json::from_value(serde_json::Value::String(name.clone()))
                .unwrap_or(Flag::LookAlike)
        })
        .collect()
}

/// Whether the stored mapping is a suggestion, by core's one definition and its default
/// threshold, leaving out rejected candidates.
pub fn is_suggestion(
    kind: IdentityKind,
    source_key: &str,
    value: &IdentityValue,
    rejected: &Rejections,
) -> bool {
    let Some(resolution) = Resolution::parse(&value.resolution) else {
        return false;
    };
    if resolution != Resolution::Unresolved || value.candidates.is_empty() {
        return false;
    }
    let none = BTreeSet::new();
    let rejected = rejected
        .get(&(kind, source_key.to_string()))
        .unwrap_or(&none);
    let candidates: Vec<ReviewCandidate<'_>> = value
        .candidates
        .iter()
        .map(|c| ReviewCandidate {
            score: Confidence::from_thousandths(c.score),
            reason: &c.reason,
            rejected: rejected.contains(&c.destination.id),
        })
        .collect();
    suggestion(
        resolution,
        &flags_of(value),
        &candidates,
        SUGGESTION_THRESHOLD,
    )
    .is_some()
}

/// The search text, folded once.
struct Needle {
    ascii: bool,
    folded: String,
}

impl Needle {
    fn new(search: Option<&str>) -> Option<Needle> {
        let text = search?.trim();
        if text.is_empty() {
            return None;
        }
        Some(Needle {
            ascii: text.is_ascii(),
            folded: text.to_lowercase(),
        })
    }

    fn found_in(&self, haystack: &str) -> bool {
        if self.ascii {
            // No allocation for the common case: compare bytes ASCII-case-insensitively.
            let needle = self.folded.as_bytes();
            haystack.len() >= needle.len()
                && haystack
                    .as_bytes()
                    .windows(needle.len())
                    .any(|window| window.eq_ignore_ascii_case(needle))
        } else {
            haystack.to_lowercase().contains(&self.folded)
        }
    }

    fn matches(&self, value: &IdentityValue) -> bool {
        let (s, d) = (&value.source, &value.destination);
        [
            &s.id,
            &s.username,
            &s.name,
            &s.display_name,
            &d.id,
            &d.username,
            &d.name,
            &d.display_name,
        ]
        .into_iter()
        .chain(value.source_emails.iter())
        .any(|field| self.found_in(field))
    }
}

/// The view's filters, ready to apply.
struct Matcher<'a> {
    view: &'a ReportView,
    rejected: &'a Rejections,
    needle: Option<Needle>,
}

impl<'a> Matcher<'a> {
    fn new(view: &'a ReportView, rejected: &'a Rejections) -> Matcher<'a> {
        Matcher {
            view,
            rejected,
            needle: Needle::new(view.search.as_deref()),
        }
    }

    /// Every filter but the resolution one; the row's suggestion state when it passes.
    fn judge(&self, value: &ReportValueRef<'_>) -> Option<Judged> {
        let view = self.view;
        if view.kind.is_some_and(|kind| kind != value.kind) {
            return None;
        }
        let flags = !value.value.flags.is_empty();
        if view.flagged && !flags {
            return None;
        }
        if view.ambiguous && !value.value.flags.iter().any(|flag| flag == "ambiguous") {
            return None;
        }
        if let Some(needle) = &self.needle
            && !needle.matches(value.value)
        {
            return None;
        }
        let suggested = is_suggestion(value.kind, value.source_key, value.value, self.rejected);
        if view.suggested && !suggested {
            return None;
        }
        Some(Judged { flags, suggested })
    }

    fn resolution_ok(&self, resolution: &str) -> bool {
        self.view.resolutions.is_empty()
            || self
                .view
                .resolutions
                .iter()
                .any(|r| r.as_str() == resolution)
    }

    /// The row, when the value passes every filter.
    fn row(&self, value: &ReportValueRef<'_>) -> ScopeResult<Option<(ReportRow, Judged)>> {
        if !self.resolution_ok(&value.value.resolution) {
            return Ok(None);
        }
        let Some(judged) = self.judge(value) else {
            return Ok(None);
        };
        Ok(Some((
            value.value.report_row(value.kind, value.job)?,
            judged,
        )))
    }
}

/// Where a row stands in a view's order: the column's value, then type and source key, so
/// every row has one place (the key is unique per type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SortKey {
    value: String,
    kind: IdentityKind,
    source_key: String,
}

impl SortKey {
    fn of(column: ReportColumn, row: &ReportRow, source_key: &str) -> SortKey {
        SortKey {
            value: column.value(row).to_string(),
            kind: row.kind,
            source_key: source_key.to_string(),
        }
    }

    fn ascending(&self, other: &SortKey) -> Ordering {
        let rank = |kind: IdentityKind| kind == IdentityKind::Group;
        self.value
            .cmp(&other.value)
            .then(rank(self.kind).cmp(&rank(other.kind)))
            .then_with(|| self.source_key.cmp(&other.source_key))
    }
}

/// The opaque cursor: the sort it belongs to and the last row's place, as hex of JSON (hex
/// needs no escaping in a URL).
#[derive(Debug, Serialize, Deserialize)]
struct CursorBody {
    sort: ReportColumn,
    descending: bool,
    key: SortKey,
}

fn encode_cursor(view: &ReportView, key: SortKey) -> String {
    let json = serde_json::to_vec(&CursorBody {
        sort: view.sort,
        descending: view.descending,
        key,
    })
    .unwrap_or_default();
    json.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_cursor(view: &ReportView, text: &str) -> ScopeResult<SortKey> {
    let invalid = || {
        ScopeError::invalid(format!(
            "{text:?} is not a report cursor; pass the `next` a report page gave, or none for the first page"
        ))
    };
    if text.len() % 2 != 0 || !text.is_ascii() {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if body.sort != view.sort || body.descending != view.descending {
        return Err(ScopeError::invalid(format!(
            "this cursor belongs to the report sorted by {} {}, not {} {}; start again from the first page",
            body.sort.as_str(),
            if body.descending { "desc" } else { "asc" },
            view.sort.as_str(),
            if view.descending { "desc" } else { "asc" },
        )));
    }
    Ok(body.key)
}

/// A row in the page's heap, ordered as the view orders rows.
struct Ranked {
    key: SortKey,
    item: ReportItem,
    descending: bool,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        let ascending = self.key.ascending(&other.key);
        if self.descending {
            ascending.reverse()
        } else {
            ascending
        }
    }
}

const PAGE_FULL: &str = "the report page is full";

fn page_full() -> ScopeError {
    ScopeError::new(ErrorKind::Stopped, PAGE_FULL)
}

/// See [`ScopeRead::report_page`].
pub(super) async fn page<S: ScopeRead + ?Sized>(
    store: &S,
    scope: &str,
    view: &ReportView,
    rejected: &Rejections,
    after: Option<&str>,
    limit: usize,
) -> ScopeResult<ReportPage> {
    if limit == 0 || limit > MAX_BATCH {
        return Err(ScopeError::invalid(format!(
            "a report page holds 1 to {MAX_BATCH} rows, not {limit}"
        )));
    }
    let after = after
        .filter(|text| !text.is_empty())
        .map(|text| decode_cursor(view, text))
        .transpose()?;
    let matcher = Matcher::new(view, rejected);
    // The natural order is the default sort's: the first `limit + 1` matches are the page.
    let in_natural_order = view.sort == ReportColumn::Type && !view.descending;
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(limit + 2);
    let mut each = |value: ReportValueRef<'_>| -> ScopeResult<()> {
        let Some((row, judged)) = matcher.row(&value)? else {
            return Ok(());
        };
        let key = SortKey::of(view.sort, &row, value.source_key);
        let candidate = Ranked {
            key,
            item: ReportItem {
                row,
                flags: Vec::new(),
                confidence: value.value.confidence,
                suggested: judged.suggested,
            },
            descending: view.descending,
        };
        if let Some(after) = &after {
            let place = candidate.key.ascending(after);
            let past = if view.descending {
                place == Ordering::Less
            } else {
                place == Ordering::Greater
            };
            if !past {
                return Ok(());
            }
        }
        if heap.len() > limit {
            // Full with one to spare: keep the new row only if it comes before the last kept.
            if heap.peek().is_some_and(|last| candidate >= *last) {
                return Ok(());
            }
            heap.pop();
        }
        let mut candidate = candidate;
        if judged.flags {
            candidate.item.flags = value.value.flags.clone();
        }
        heap.push(candidate);
        if in_natural_order && heap.len() > limit {
            return Err(page_full());
        }
        Ok(())
    };
    match store.report_values_each(scope, &view.of, &mut each).await {
        Ok(_) => {}
        Err(error) if error.kind() == ErrorKind::Stopped && error.message() == PAGE_FULL => {}
        Err(error) => return Err(error),
    }
    let mut ranked = heap.into_sorted_vec();
    let more = ranked.len() > limit;
    ranked.truncate(limit);
    let next = match (more, ranked.last()) {
        (true, Some(last)) => Some(encode_cursor(view, last.key.clone())),
        _ => None,
    };
    Ok(ReportPage {
        rows: ranked.into_iter().map(|ranked| ranked.item).collect(),
        next,
    })
}

/// See [`ScopeRead::report_counts`].
pub(super) async fn counts<S: ScopeRead + ?Sized>(
    store: &S,
    scope: &str,
    view: &ReportView,
    rejected: &Rejections,
) -> ScopeResult<ReportCounts> {
    let matcher = Matcher::new(view, rejected);
    let mut per: Vec<ResolutionCount> = Resolution::ALL
        .iter()
        .map(|r| ResolutionCount {
            resolution: *r,
            count: 0,
        })
        .collect();
    let mut matching = 0u64;
    let mut each = |value: ReportValueRef<'_>| -> ScopeResult<()> {
        if matcher.judge(&value).is_none() {
            return Ok(());
        }
        if let Some(slot) = per
            .iter_mut()
            .find(|slot| slot.resolution.as_str() == value.value.resolution)
        {
            slot.count += 1;
        }
        if matcher.resolution_ok(&value.value.resolution) {
            matching += 1;
        }
        Ok(())
    };
    store.report_values_each(scope, &view.of, &mut each).await?;
    Ok(ReportCounts {
        matching,
        resolutions: per,
    })
}

/// See [`ScopeRead::report_view_each`].
pub(super) async fn each<S: ScopeRead + ?Sized>(
    store: &S,
    scope: &str,
    view: &ReportView,
    rejected: &Rejections,
    skip: u64,
    take: Option<u64>,
    sink: &mut ReportSink<'_>,
) -> ScopeResult<u64> {
    let matcher = Matcher::new(view, rejected);
    let (mut seen, mut handed) = (0u64, 0u64);
    let mut each = |value: ReportValueRef<'_>| -> ScopeResult<()> {
        let Some((row, _)) = matcher.row(&value)? else {
            return Ok(());
        };
        seen += 1;
        if seen <= skip {
            return Ok(());
        }
        if take.is_some_and(|take| handed >= take) {
            return Err(page_full());
        }
        handed += 1;
        sink(row)
    };
    match store.report_values_each(scope, &view.of, &mut each).await {
        Ok(_) => Ok(handed),
        Err(error) if error.kind() == ErrorKind::Stopped && error.message() == PAGE_FULL => {
            Ok(handed)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_read_in_every_spelling() {
        for column in ReportColumn::ALL {
            assert_eq!(ReportColumn::parse(column.as_str()), Some(column));
            assert_eq!(ReportColumn::parse(column.label()), Some(column));
            assert_eq!(
                ReportColumn::parse(&column.as_str().replace('_', "-").to_uppercase()),
                Some(column)
            );
        }
        assert_eq!(ReportColumn::parse("colour"), None);
    }

    #[test]
    fn a_cursor_reads_back_and_refuses_another_sort() {
        let view = ReportView {
            sort: ReportColumn::SourceName,
            descending: true,
            ..ReportView::default()
        };
        let key = SortKey {
            value: "Ann ☃".into(),
            kind: IdentityKind::Group,
            source_key: "g/1".into(),
        };
        let text = encode_cursor(&view, key.clone());
        assert_eq!(decode_cursor(&view, &text).unwrap(), key);
        assert!(text.chars().all(|c| c.is_ascii_hexdigit()));
        let other = ReportView {
            descending: false,
            ..view.clone()
        };
        assert!(
            decode_cursor(&other, &text)
                .unwrap_err()
                .message()
                .contains("start again")
        );
        for bad in ["zz", "abc", "00", "☃☃"] {
            assert_eq!(
                decode_cursor(&view, bad).unwrap_err().kind(),
                ErrorKind::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_search_folds_case_in_ascii_and_beyond() {
        let needle = Needle::new(Some(" ANN ")).unwrap();
        assert!(needle.found_in("joANNa"));
        assert!(!needle.found_in("an"));
        let needle = Needle::new(Some("ÉLO")).unwrap();
        assert!(needle.found_in("Héloïse"));
        assert!(Needle::new(Some("  ")).is_none());
    }
}
