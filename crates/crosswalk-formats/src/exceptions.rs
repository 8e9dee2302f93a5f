//! The exceptions file: explicit `type,source,destination` rules that beat every method.
//!
//! ```text
//! # Shared mailbox: map it to the team account, not to whoever shares the address.
//! type,source,destination
//! account,email:support@acme.com,username:support-team
//! group,name:jira-devs,name:developers
//! ```
//!
//! The header is required (any case, any order). `source` and `destination` are parsed by
//! [`IdentityRef::parse`]: `id:`, `username:`, `email:` or `name:` say what the value is; a
//! bare value may be any of them. Lines starting with `#` and blank lines are skipped. Each
//! rule keeps its `file:line` as its origin, which the engine quotes.
//!
//! Two rules for the same source are an error, not "last one wins": an exceptions file is
//! reviewed by people, and a silent override is exactly what a review would miss. Sources
//! are compared the way the engine matches them (ids exactly, names and addresses caseless).

use std::io::Read;
use std::path::Path;

use csv::StringRecord;
use rustc_hash::FxHashMap;

use crosswalk_core::normalize::fold;
use crosswalk_core::{ExceptionRule, IdentityKind, IdentityRef};

use crate::csv_lines;
use crate::error::{FormatError, Location, quoted};

/// The columns of the exceptions CSV.
pub const EXCEPTIONS_COLUMNS: [&str; 3] = ["type", "source", "destination"];

/// Reads exception rules. `source_name` is used in messages and in each rule's origin.
pub fn read_exceptions(
    source_name: &str,
    input: impl Read,
) -> Result<Vec<ExceptionRule>, FormatError> {
    let (input, lines) = csv_lines::tee(input, Some(b'#'));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(input);
    let at = |line: u64, field: Option<&str>, reason: String| {
        FormatError::invalid(Location::line(source_name, line), field, reason)
    };
    let mut record = StringRecord::new();

    // The header: the first line that is neither blank nor a comment.
    let positions = loop {
        if !read(&mut reader, &mut record, source_name, &lines)? {
            return Err(at(
                1,
                None,
                format!(
                    "the file is empty; it needs the header {}",
                    EXCEPTIONS_COLUMNS.join(",")
                ),
            ));
        }
        lines.release(reader.position());
        if is_blank(&record) {
            continue;
        }
        let line = record.position().map_or(1, |p| lines.start_line(p));
        let mut positions = [None::<usize>; 3];
        for (index, name) in record.iter().enumerate() {
            let name = name.trim();
            let Some(column) = EXCEPTIONS_COLUMNS
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
            else {
                return Err(at(
                    line,
                    Some(name),
                    format!(
                        "unknown column; the header must be {}",
                        EXCEPTIONS_COLUMNS.join(",")
                    ),
                ));
            };
            if positions[column].is_some() {
                return Err(at(line, Some(name), "column appears twice".to_string()));
            }
            positions[column] = Some(index);
        }
        let mut found = [0usize; 3];
        for (column, position) in positions.iter().enumerate() {
            match position {
                Some(index) => found[column] = *index,
                None => {
                    return Err(at(
                        line,
                        Some(EXCEPTIONS_COLUMNS[column]),
                        format!(
                            "required column is missing; the header must be {}",
                            EXCEPTIONS_COLUMNS.join(",")
                        ),
                    ));
                }
            }
        }
        break found;
    };
    let width = positions.iter().max().map_or(0, |m| m + 1);

    let mut rules = Vec::new();
    // (kind, folded source) -> line of the rule that claimed it.
    let mut seen: FxHashMap<(IdentityKind, SourceKey), u64> = FxHashMap::default();
    while read(&mut reader, &mut record, source_name, &lines)? {
        let line = record.position().map_or(0, |p| lines.start_line(p));
        lines.release(reader.position());
        if is_blank(&record) {
            continue;
        }
        if record.len() != width {
            return Err(at(
                line,
                None,
                format!(
                    "expected {width} fields like the header, found {}; put values containing commas in double quotes",
                    record.len()
                ),
            ));
        }
        if let Some(column) = crate::limits::first_too_long(
            positions
                .iter()
                .map(|&at| record.get(at).unwrap_or_default()),
        ) {
            return Err(at(
                line,
                Some(EXCEPTIONS_COLUMNS[column]),
                crate::limits::field_too_long(),
            ));
        }
        let cell = |column: usize| record.get(positions[column]).unwrap_or_default();
        let kind_text = cell(0);
        let kind = IdentityKind::parse(kind_text).ok_or_else(|| {
            at(
                line,
                Some("type"),
                format!("expected account or group, found {}", quoted(kind_text)),
            )
        })?;
        let source = parse_ref(cell(1)).map_err(|reason| at(line, Some("source"), reason))?;
        let destination =
            parse_ref(cell(2)).map_err(|reason| at(line, Some("destination"), reason))?;
        if let Some(first) = seen.insert((kind, SourceKey::of(&source)), line) {
            return Err(at(
                line,
                Some("source"),
                format!("{kind} {source} already has a rule on line {first}; keep one of the two"),
            ));
        }
        rules.push(ExceptionRule {
            kind,
            source,
            destination,
            origin: format!("{source_name}:{line}"),
        });
    }
    Ok(rules)
}

/// [`read_exceptions`] on a file, named by its path.
pub fn read_exceptions_file(path: impl AsRef<Path>) -> Result<Vec<ExceptionRule>, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_exceptions(&name, reader)
}

fn read<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut StringRecord,
    source_name: &str,
    lines: &csv_lines::LineFinder,
) -> Result<bool, FormatError> {
    reader.read_record(record).map_err(|error| {
        // Invalid UTF-8 is the one content error a flexible reader reports. Its line is the
        // record's own: csv's counts from before the blank and comment lines it skipped.
        match error.kind() {
            csv::ErrorKind::Utf8 { err, .. } => FormatError::invalid(
                Location::line(source_name, lines.current_record_line()),
                None,
                format!(
                    "column {} is not valid UTF-8; save the file as UTF-8",
                    err.field() + 1
                ),
            ),
            _ => {
                crate::directory_csv::csv_error(source_name, error, || lines.current_record_line())
            }
        }
    })
}

fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}

fn parse_ref(text: &str) -> Result<IdentityRef, String> {
    if text.trim().is_empty() {
        return Err(
            "is required: an id, username, email or name (e.g. email:jo@acme.com)".to_string(),
        );
    }
    let parsed = IdentityRef::parse(text);
    if parsed.value().is_empty() {
        return Err(format!(
            "{} has a prefix but no value after it",
            quoted(text.trim())
        ));
    }
    Ok(parsed)
}

/// A source as the engine will match it: ids exactly, everything else caseless.
#[derive(Debug, PartialEq, Eq, Hash)]
enum SourceKey {
    Id(String),
    Username(String),
    Email(String),
    Any(String),
}

impl SourceKey {
    fn of(source: &IdentityRef) -> SourceKey {
        match source {
            IdentityRef::Id(v) => SourceKey::Id(v.clone()),
            IdentityRef::Username(v) => SourceKey::Username(fold(v).into_owned()),
            IdentityRef::Email(v) => SourceKey::Email(fold(v).into_owned()),
            IdentityRef::Any(v) => SourceKey::Any(fold(v).into_owned()),
        }
    }
}
