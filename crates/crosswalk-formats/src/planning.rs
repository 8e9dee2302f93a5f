//! The planning files: content references (items CSV), the findings CSV an admin edits,
//! and the same CSV read back as fixes.
//!
//! Items CSV (header required, any order, any case; `item` may be empty for a permission;
//! `container_type`, `item_type`, `title` and `permissions` optional; JSON Lines in `items`):
//!
//! ```text
//! container,item,role,type,identity,item_type,title,permissions
//! ENG,page-1,creator,account,u-ana,page,Runbook,
//! ENG,,permission,group,g-confluence-users,,,3
//! ```
//!
//! Findings CSV: its first seven columns are exactly those migration admins know from the
//! Atlassian tools, `UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType`,
//! then ours: `Exclude,MergeInto,Severity,Detail,SuggestedFix`. It is written with the
//! suggested fixes filled in; the admin edits `NewEmail`, `Tombstone`, `Exclude` or
//! `MergeInto` and imports it. On import every row is checked and every bad row reported;
//! nothing is applied when any row is bad.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use csv::StringRecord;

use crosswalk_plan::{Finding, Fix, Reference};

use crate::csv_lines;
use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::report::defuse_formula;

/// The columns of the items CSV: one identity reference a row. The first five are
/// required; the item's details and the permission count may be left out.
pub const ITEMS_COLUMNS: [&str; 9] = [
    "container",
    "item",
    "role",
    "type",
    "identity",
    "container_type",
    "item_type",
    "title",
    "permissions",
];

/// The columns of the findings CSV: the seven admins know, then Crosswalk's.
pub const FINDINGS_COLUMNS: [&str; 12] = [
    "UserKey",
    "UserName",
    "ErrorType",
    "OldEmail",
    "NewEmail",
    "Tombstone",
    "AccountType",
    "Exclude",
    "MergeInto",
    "Severity",
    "Detail",
    "SuggestedFix",
];

/// Reads the items CSV. The first bad row fails the read, naming its line and field.
pub fn read_items_csv(source_name: &str, input: impl Read) -> Result<Vec<Reference>, FormatError> {
    let mut references = Vec::new();
    read_rows(
        source_name,
        input,
        &ITEMS_COLUMNS,
        &[0, 2, 3, 4],
        |line, cell| {
            let at = |field: &str, reason: String| {
                FormatError::invalid(Location::line(source_name, line), Some(field), reason)
            };
            let fields = crate::items::ReferenceFields {
                container: cell(0),
                item: cell(1),
                role: cell(2),
                kind: cell(3),
                identity: cell(4),
                container_type: cell(5),
                item_type: cell(6),
                title: cell(7),
                permissions: crate::items::Permissions::Text(cell(8)),
            };
            references.push(
                fields
                    .check()
                    .map_err(|(field, reason)| at(field, reason))?,
            );
            Ok(())
        },
    )?;
    Ok(references)
}

/// [`read_items_csv`] on a file, named by its path.
pub fn read_items_csv_file(path: impl AsRef<Path>) -> Result<Vec<Reference>, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_items_csv(&name, reader)
}

/// Writes the findings, one row per identity and finding, with `suggested` fixes filled in
/// (on the identity's first row).
/// Values a spreadsheet would run as formulas are prefixed with `'` (undone on import).
pub fn write_findings_csv(
    findings: &[Finding],
    suggested: &BTreeMap<String, Fix>,
    output: impl Write,
) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    writer.write_record(FINDINGS_COLUMNS)?;
    // An identity in several findings gets its fix on its first row only, so that editing
    // that row is enough (two rows asking for different fixes would be refused on import).
    let mut fix_written = std::collections::BTreeSet::new();
    for finding in findings {
        for row in &finding.rows {
            let fix = suggested
                .get(&row.user_key)
                .filter(|_| fix_written.insert(row.user_key.as_str()));
            let new_email = match fix {
                Some(Fix::NewEmail { email }) => email.as_str(),
                _ => "",
            };
            let merge_into = match fix {
                Some(Fix::Merge { into }) => into.as_str(),
                _ => "",
            };
            let severity = match finding.severity {
                crosswalk_plan::Severity::Blocker => "blocker",
                crosswalk_plan::Severity::Warning => "warning",
            };
            let fields = [
                row.user_key.as_str(),
                &row.user_name,
                finding.kind.as_str(),
                &row.old_email,
                new_email,
                if matches!(fix, Some(Fix::Tombstone)) {
                    "true"
                } else {
                    "false"
                },
                row.kind.as_str(),
                if matches!(fix, Some(Fix::Exclude)) {
                    "true"
                } else {
                    "false"
                },
                merge_into,
                severity,
                &row.detail,
                finding.suggested_fix,
            ];
            writer.write_record(
                fields
                    .iter()
                    .map(|f| defuse_formula(f))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|f| f.as_bytes()),
            )?;
        }
    }
    writer.flush()
}

/// One fix read from an edited findings CSV, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixRow {
    pub line: u64,
    pub user_key: String,
    pub fix: Fix,
}

/// Reads an edited findings CSV back as fixes, one per identity. Rows that ask for nothing
/// (no new email, not tombstoned, not excluded, no merge) are skipped. Every bad row is
/// reported (line and column); when any is, no fix is returned. Only `UserKey`, `NewEmail`
/// and `Tombstone` are required; other columns (the admin's notes too) are ignored.
pub fn read_fixes_csv(source_name: &str, input: impl Read) -> Result<Vec<FixRow>, Vec<Diagnostic>> {
    const COLUMNS: [&str; 5] = ["UserKey", "NewEmail", "Tombstone", "Exclude", "MergeInto"];
    let mut fixes: BTreeMap<String, FixRow> = BTreeMap::new();
    let mut problems: Vec<Diagnostic> = Vec::new();
    let read = read_rows_lenient(source_name, input, &COLUMNS, &[0, 1, 2], |line, cell| {
        let mut problem = |field: &str, reason: String| {
            problems.push(Diagnostic::new(
                Location::line(source_name, line),
                Some(field),
                reason,
            ));
        };
        let text = |column: usize| undo_defuse(cell(column).trim());
        let user_key = text(0);
        if user_key.is_empty() {
            problem("UserKey", "is required".into());
            return;
        }
        let mut flag = |column: usize| match crate::directory_csv::parse_bool(text(column)) {
            Ok(value) => value.unwrap_or(false),
            Err(()) => {
                problem(
                    COLUMNS[column],
                    format!("expected true or false, found {}", quoted(text(column))),
                );
                false
            }
        };
        let (tombstone, exclude) = (flag(2), flag(3));
        let (new_email, merge_into) = (text(1), text(4));
        let mut chosen = Vec::new();
        if !new_email.is_empty() {
            chosen.push((
                "NewEmail",
                Fix::NewEmail {
                    email: new_email.to_string(),
                },
            ));
        }
        if tombstone {
            chosen.push(("Tombstone", Fix::Tombstone));
        }
        if exclude {
            chosen.push(("Exclude", Fix::Exclude));
        }
        if !merge_into.is_empty() {
            chosen.push((
                "MergeInto",
                Fix::Merge {
                    into: merge_into.to_string(),
                },
            ));
        }
        match chosen.len() {
            0 => {}
            1 => {
                let fix = chosen.remove(0).1;
                match fixes.get(user_key) {
                    Some(earlier) if earlier.fix != fix => problem(
                        chosen_field(&fix),
                        format!(
                            "{user_key} already has another fix on line {}; one identity gets one fix",
                            earlier.line
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        fixes.insert(
                            user_key.to_string(),
                            FixRow {
                                line,
                                user_key: user_key.to_string(),
                                fix,
                            },
                        );
                    }
                }
            }
            _ => {
                let names: Vec<&str> = chosen.iter().map(|(name, _)| *name).collect();
                problem(
                    names[1],
                    format!(
                        "{} are all set; choose one fix per row",
                        names.join(" and ")
                    ),
                );
            }
        }
    });
    if let Err(error) = read {
        problems.push(match error {
            FormatError::Invalid(diagnostic) => *diagnostic,
            FormatError::Io { file, cause } => {
                Diagnostic::new(Location::file(file), None, cause.to_string())
            }
        });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.location.line);
        return Err(problems);
    }
    let mut rows: Vec<FixRow> = fixes.into_values().collect();
    rows.sort_by_key(|row| row.line);
    Ok(rows)
}

/// [`read_fixes_csv`] on a file, named by its path.
pub fn read_fixes_csv_file(path: impl AsRef<Path>) -> Result<Vec<FixRow>, Vec<Diagnostic>> {
    let (name, reader) = crate::open(path.as_ref())
        .map_err(|error| vec![Diagnostic::new(error.location(), None, error.to_string())])?;
    read_fixes_csv(&name, reader)
}

fn chosen_field(fix: &Fix) -> &'static str {
    match fix {
        Fix::NewEmail { .. } => "NewEmail",
        Fix::Tombstone => "Tombstone",
        Fix::Exclude => "Exclude",
        Fix::Merge { .. } => "MergeInto",
    }
}

/// Removes the `'` [`defuse_formula`] put before a value a spreadsheet would run.
fn undo_defuse(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest)
            if matches!(
                rest.as_bytes().first(),
                Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
            ) =>
        {
            rest
        }
        _ => value,
    }
}

/// Reads a headed CSV (header any order and case, blank lines skipped, extra columns
/// ignored), calling `row(line, cell)` for each data row; the first error `row` returns ends it.
fn read_rows(
    source_name: &str,
    input: impl Read,
    columns: &[&str],
    required: &[usize],
    mut row: impl for<'a> FnMut(u64, &'a dyn Fn(usize) -> &'a str) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut first_error = None;
    read_rows_lenient(source_name, input, columns, required, |line, cell| {
        if first_error.is_none()
            && let Err(error) = row(line, cell)
        {
            first_error = Some(error);
        }
    })?;
    first_error.map_or(Ok(()), Err)
}

fn read_rows_lenient(
    source_name: &str,
    input: impl Read,
    columns: &[&str],
    required: &[usize],
    mut row: impl for<'a> FnMut(u64, &'a dyn Fn(usize) -> &'a str),
) -> Result<(), FormatError> {
    let (input, lines) = csv_lines::tee(input, None);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let at = |line: u64, field: Option<&str>, reason: String| {
        FormatError::invalid(Location::line(source_name, line), field, reason)
    };
    let mut record = StringRecord::new();
    let next = |reader: &mut csv::Reader<_>, record: &mut StringRecord| {
        reader
            .read_record(record)
            .map_err(|error| match error.kind() {
                csv::ErrorKind::Utf8 { err, .. } => at(
                    lines.current_record_line(),
                    None,
                    format!(
                        "column {} is not valid UTF-8; save the file as UTF-8",
                        err.field() + 1
                    ),
                ),
                _ => crate::directory_csv::csv_error(source_name, error, || {
                    lines.current_record_line()
                }),
            })
    };
    let is_blank = |record: &StringRecord| record.iter().all(|field| field.trim().is_empty());

    let positions: Vec<Option<usize>> = loop {
        if !next(&mut reader, &mut record)? {
            return Err(at(
                1,
                None,
                format!(
                    "the file is empty; it needs the header {}",
                    columns.join(",")
                ),
            ));
        }
        lines.release(reader.position());
        if is_blank(&record) {
            continue;
        }
        let line = record.position().map_or(1, |p| lines.start_line(p));
        let mut positions = vec![None; columns.len()];
        for (index, name) in record.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            if let Some(column) = columns.iter().position(|c| c.eq_ignore_ascii_case(name)) {
                if positions[column].is_some() {
                    return Err(at(line, Some(name), "column appears twice".to_string()));
                }
                positions[column] = Some(index);
            }
        }
        if let Some(&missing) = required.iter().find(|&&c| positions[c].is_none()) {
            return Err(at(
                line,
                Some(columns[missing]),
                format!(
                    "required column is missing; the header needs {}",
                    columns.join(",")
                ),
            ));
        }
        break positions;
    };
    while next(&mut reader, &mut record)? {
        let line = record.position().map_or(0, |p| lines.start_line(p));
        lines.release(reader.position());
        if is_blank(&record) {
            continue;
        }
        if let Some(index) = crate::limits::first_too_long(record.iter()) {
            return Err(at(
                line,
                Some(&format!("column {}", index + 1)),
                crate::limits::field_too_long(),
            ));
        }
        let cell = |column: usize| {
            positions[column]
                .and_then(|at| record.get(at))
                .unwrap_or_default()
        };
        row(line, &cell);
    }
    Ok(())
}
