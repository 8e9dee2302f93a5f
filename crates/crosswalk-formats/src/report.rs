//! The User Mappings report, as CSV (the export's 12 columns), a JSON array, or JSON Lines.
//!
//! The CSV is made to be opened in a spreadsheet, so it is defended against formula
//! injection: a value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! leading `'` (OWASP's advice), because display names and usernames come from whoever
//! created the account. The JSON forms are for programs and carry values unchanged, with
//! the snake_case keys of [`ReportRow`].
//!
//! All three stream: rows are written as the iterator yields them.

use std::borrow::Cow;
use std::io::{BufWriter, Write};

use crosswalk_core::ReportRow;
use crosswalk_core::report::REPORT_COLUMNS;
use serde::Serialize;

/// Writes the header ([`REPORT_COLUMNS`]) and one line per row, all 12 columns in order.
pub fn write_report_csv(
    rows: impl IntoIterator<Item = ReportRow>,
    output: impl Write,
) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    writer.write_record(REPORT_COLUMNS)?;
    for row in rows {
        let fields = row.fields().map(defuse_formula);
        writer.write_record(fields.iter().map(|field| field.as_bytes()))?;
    }
    writer.flush()
}

/// Prefixes `'` to a value a spreadsheet would run as a formula.
pub fn defuse_formula(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Writes a JSON array of row objects, one per line, without building it in memory. A row is
/// a [`ReportRow`], or anything that serialises as one with more keys (the store's report
/// entries add each row's flags and confidence).
pub fn write_report_json<T: Serialize>(
    rows: impl IntoIterator<Item = T>,
    output: impl Write,
) -> std::io::Result<()> {
    let mut output = BufWriter::with_capacity(1 << 16, output);
    output.write_all(b"[")?;
    let mut separator = &b"\n"[..];
    for row in rows {
        output.write_all(separator)?;
        separator = b",\n";
        serde_json::to_writer(&mut output, &row)?;
    }
    output.write_all(b"\n]\n")?;
    output.flush()
}

/// Writes one row object per line (JSON Lines); rows as [`write_report_json`] takes them.
pub fn write_report_jsonl<T: Serialize>(
    rows: impl IntoIterator<Item = T>,
    output: impl Write,
) -> std::io::Result<()> {
    let mut output = BufWriter::with_capacity(1 << 16, output);
    for row in rows {
        serde_json::to_writer(&mut output, &row)?;
        output.write_all(b"\n")?;
    }
    output.flush()
}
