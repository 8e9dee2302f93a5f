//! Readers and writers for Crosswalk's file formats: SCIM 2.0 JSON, directory CSV, policy
//! TOML, exceptions CSV and the report.
//!
//! Every reader takes the name to quote in messages (`source_name`, usually the path) and
//! the content (`impl Read` or `&str`), so it works on files, pipes and test strings alike;
//! `read_*_file(path)` wrappers open the file and use its path as the name. Every error
//! names the file, the line or JSON pointer, and the field (see [`error`]).
//!
//! The readers stream: a million-row CSV or a million-resource SCIM export is read
//! record by record with reused buffers, never held as one string or one JSON tree.
//! See `docs/formats.md` for the file formats themselves.

mod builder;
mod csv_lines;
pub mod directory_csv;
pub mod error;
pub mod exceptions;
pub mod exports;
pub mod items;
pub mod ldif;
pub mod limits;
pub mod peer_maps;
pub mod planning;
pub mod policy;
pub mod report;
pub mod scim;
pub mod text;

use std::io::Read;
use std::path::Path;

use crosswalk_core::Directory;

pub use directory_csv::{
    DIRECTORY_CSV_COLUMNS, read_directory_csv, read_directory_csv_file, write_directory_csv,
};
pub use error::{Diagnostic, FormatError, Location, SkippedRecord};
pub use exceptions::{EXCEPTIONS_COLUMNS, read_exceptions, read_exceptions_file};
pub use items::{
    ItemsFormat, SafeCsvWriter, read_items, read_items_file, read_items_jsonl, write_safe_csv,
};
pub use ldif::{read_ldif, read_ldif_file, write_ldif};
pub use planning::{
    FINDINGS_COLUMNS, FixRow, ITEMS_COLUMNS, read_fixes_csv, read_fixes_csv_file, read_items_csv,
    read_items_csv_file, write_findings_csv,
};
pub use policy::{locate_policy_error, locate_policy_file_error, read_policy, read_policy_file};
pub use report::{write_report_csv, write_report_json, write_report_jsonl};
pub use scim::{read_scim, read_scim_file, write_scim_jsonl, write_scim_list_response};

/// How strict a directory read is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// `false` (the default): the first invalid row or resource fails the whole read, so
    /// nothing half-read reaches the engine. `true`: invalid records are left out and
    /// listed in [`Imported::skipped`], for exports known to contain junk. Problems with
    /// the file as a whole (unreadable header, broken JSON structure, I/O) fail either way.
    pub skip_invalid: bool,
}

impl ReadOptions {
    /// Options that skip invalid records instead of failing.
    pub fn skipping_invalid() -> ReadOptions {
        ReadOptions { skip_invalid: true }
    }
}

/// A directory read from a file, with the records that were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Passes [`Directory::check`]. Its `name` is the file name without directories or
    /// extension (`exports/jira-users.csv` gives `jira-users`); callers may rename it.
    pub directory: Directory,
    /// Empty unless [`ReadOptions::skip_invalid`] was set; in file order, except that
    /// memberships are checked (and so listed) after every identity has been read.
    pub skipped: Vec<SkippedRecord>,
    /// Values a platform export mangled beyond repair (a .NET type name instead of a list,
    /// `?` for every accented letter), one per column, naming the first line; they were left
    /// out rather than used as data. Empty for Crosswalk's own formats.
    pub warnings: Vec<Diagnostic>,
}

/// Which reader a directory file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryFormat {
    Csv,
    Scim,
    /// LDIF (RFC 2849): `.ldif`/`.ldf`, or content starting with `dn:` or `version:`.
    Ldif,
}

impl DirectoryFormat {
    /// By extension: `.csv` is CSV; `.json`, `.jsonl` and `.ndjson` are SCIM. `None` for
    /// anything else, so the caller can sniff the content.
    pub fn from_path(path: &Path) -> Option<DirectoryFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(DirectoryFormat::Csv),
            "json" | "jsonl" | "ndjson" => Some(DirectoryFormat::Scim),
            "ldif" | "ldf" => Some(DirectoryFormat::Ldif),
            _ => None,
        }
    }

    /// By content: JSON starts with `{` or `[` (after whitespace and a UTF-8 byte order
    /// mark); everything else is taken for CSV, whose header starts with a column name.
    pub fn sniff(start: &[u8]) -> DirectoryFormat {
        let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
        if crate::ldif::looks_like_ldif(start) {
            return DirectoryFormat::Ldif;
        }
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => DirectoryFormat::Scim,
            _ => DirectoryFormat::Csv,
        }
    }
}

/// Reads a directory file in whichever format it is: by extension (see
/// [`DirectoryFormat::from_path`]), else by its first bytes.
pub fn read_directory_file(
    path: impl AsRef<Path>,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    // Platform exports (`exports`): a `FORMAT[+ENCODING]:PATH` hint, a folder of Jira
    // tables, or a CSV whose header names the platform; CSV of any kind goes through
    // `exports::read_csv_directory`, the one place CSV inputs are told apart.
    let (hint, path) = exports::SourceHint::split(path.as_ref()).map_err(|message| {
        FormatError::invalid(
            Location::file(path.as_ref().display().to_string()),
            None,
            message,
        )
    })?;
    let path = path.as_path();
    if path.is_dir() || hint.format.is_some() {
        return exports::read_export_path(path, hint, options);
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(&name, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let format = match DirectoryFormat::from_path(path) {
        Some(format) => format,
        None => {
            let start =
                std::io::BufRead::fill_buf(&mut reader).map_err(|e| FormatError::io(&name, e))?;
            DirectoryFormat::sniff(start)
        }
    };
    match format {
        DirectoryFormat::Csv if exports::is_jira_table(path) => {
            exports::read_export_path(path, hint, options)
        }
        DirectoryFormat::Csv => exports::read_csv_directory(&name, reader, hint, options),
        DirectoryFormat::Scim => {
            // An Okta Users or Groups list is JSON too: told apart by its first object.
            let start =
                std::io::BufRead::fill_buf(&mut reader).map_err(|e| FormatError::io(&name, e))?;
            if exports::okta::looks_like_okta(start) {
                exports::okta::read_okta(&name, reader, options)
            } else {
                read_scim(&name, reader, options)
            }
        }
        DirectoryFormat::Ldif => read_ldif(&name, reader, options),
    }
}

/// Opens a file for a `read_*_file` function, naming it in the error if that fails.
pub(crate) fn open(
    path: &Path,
) -> Result<(String, std::io::BufReader<std::fs::File>), FormatError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(&name, e))?;
    Ok((name, std::io::BufReader::with_capacity(1 << 16, file)))
}

/// Reads a whole small file (policy) as UTF-8, naming it in the error; one longer than
/// [`limits::MAX_POLICY_BYTES`] is refused at the line where it goes over.
pub(crate) fn read_to_string(name: &str, reader: impl Read) -> Result<String, FormatError> {
    let mut bytes = Vec::new();
    reader
        .take(limits::MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FormatError::io(name, e))?;
    if bytes.len() as u64 > limits::MAX_POLICY_BYTES {
        let line = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        return Err(FormatError::invalid(
            Location::line(name, line),
            None,
            format!(
                "the file goes on past {}, the most a policy may be (one is a few hundred lines); is this the policy file?",
                limits::size(limits::MAX_POLICY_BYTES)
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        FormatError::invalid(
            Location::line(name, line),
            None,
            "the file is not valid UTF-8; save it as UTF-8 and try again",
        )
    })
}

/// The directory name a file gives: its name without directories or extension.
pub(crate) fn directory_name(source_name: &str) -> String {
    Path::new(source_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(source_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_format_by_extension_then_content() {
        assert_eq!(
            DirectoryFormat::from_path(Path::new("a/B.CSV")),
            Some(DirectoryFormat::Csv)
        );
        assert_eq!(
            DirectoryFormat::from_path(Path::new("u.ndjson")),
            Some(DirectoryFormat::Scim)
        );
        assert_eq!(DirectoryFormat::from_path(Path::new("export.txt")), None);
        assert_eq!(
            DirectoryFormat::sniff(b"\xEF\xBB\xBF  \n{\"id\":1}"),
            DirectoryFormat::Scim
        );
        assert_eq!(DirectoryFormat::sniff(b"[]"), DirectoryFormat::Scim);
        assert_eq!(DirectoryFormat::sniff(b"type,id\n"), DirectoryFormat::Csv);
        assert_eq!(DirectoryFormat::sniff(b""), DirectoryFormat::Csv);
    }

    #[test]
    fn directory_is_named_after_the_file() {
        assert_eq!(directory_name("exports/jira-users.csv"), "jira-users");
        assert_eq!(directory_name("users"), "users");
        assert_eq!(directory_name("-"), "-");
    }
}
