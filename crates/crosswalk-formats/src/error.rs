//! The one error type of this crate, and the location vocabulary it shares with
//! [`SkippedRecord`](crate::SkippedRecord).
//!
//! Every message starts with where the problem is, in the form editors and `grep -n`
//! understand (`accounts.csv:7`), or with a JSON pointer for JSON documents
//! (`users.json: /Resources/3/emails/0/value`), then names the field, then says what was
//! expected, so the person reading it can go and fix the file without a debugger:
//!
//! ```text
//! accounts.csv:7: field "active": expected true or false (also yes/no, 1/0), found "yes please"
//! users.json: /Resources/3/emails/0/value: expected a string, found a number
//! users.jsonl:4: /emails/0/value: expected a string, found a number
//! policy.toml:12: field "email.require_verified": invalid type: string "yes", expected a boolean
//! ```

use std::fmt;

/// Where something is in an input file: the file, and a line, a JSON pointer, or both
/// (JSON Lines: the line, then the pointer inside that line's document).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The name the caller gave the input, usually its path.
    pub file: String,
    /// 1-based line number (CSV, JSON Lines, TOML, JSON syntax errors).
    pub line: Option<u64>,
    /// RFC 6901 JSON pointer (`/Resources/3/emails/0/value`); `None` outside JSON.
    pub pointer: Option<String>,
}

impl Location {
    /// The whole file, for problems that belong to no line.
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            line: None,
            pointer: None,
        }
    }

    pub fn line(file: impl Into<String>, line: u64) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
            pointer: None,
        }
    }

    pub fn pointer(file: impl Into<String>, pointer: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            line: None,
            pointer: Some(pointer.into()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match &self.pointer {
            // The empty pointer is the whole document, which the file name already says.
            Some(pointer) if !pointer.is_empty() => write!(f, ": {pointer}"),
            _ => Ok(()),
        }
    }
}

/// One problem in one record of an input: where, which field, and why.
///
/// It is the payload of [`FormatError::Invalid`] when a read fails, and the entry of
/// [`Imported::skipped`](crate::Imported::skipped) when `skip_invalid` lets the read go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    /// The column (CSV), attribute (SCIM) or key path (TOML) at fault, when there is one.
    /// For JSON the pointer already ends with it, so it is not repeated in the message.
    pub field: Option<String>,
    /// What is wrong and, where it helps, what would be right.
    pub reason: String,
}

/// A record left out of a read made with [`ReadOptions::skip_invalid`](crate::ReadOptions).
pub type SkippedRecord = Diagnostic;

impl Diagnostic {
    pub fn new(location: Location, field: Option<&str>, reason: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location,
            field: field.map(str::to_string),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        let pointer_names_field = self
            .location
            .pointer
            .as_deref()
            .is_some_and(|p| !p.is_empty());
        if let (Some(field), false) = (&self.field, pointer_names_field) {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Why a file could not be read (or a document could not be written).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be opened or read at all. The I/O error is part of the message and
    /// deliberately not also a `source()`: a reporter that prints the chain would say it twice.
    #[error("{file}: {cause}")]
    Io { file: String, cause: std::io::Error },
    /// The content is wrong somewhere; the diagnostic says where and how.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

impl FormatError {
    pub(crate) fn io(file: &str, cause: std::io::Error) -> FormatError {
        FormatError::Io {
            file: file.to_string(),
            cause,
        }
    }

    pub(crate) fn invalid(
        location: Location,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> FormatError {
        FormatError::Invalid(Box::new(Diagnostic::new(location, field, reason)))
    }

    /// Where the problem is (for I/O errors, just the file).
    pub fn location(&self) -> Location {
        match self {
            FormatError::Io { file, .. } => Location::file(file.clone()),
            FormatError::Invalid(diagnostic) => diagnostic.location.clone(),
        }
    }

    /// The field at fault, if the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            FormatError::Io { .. } => None,
            FormatError::Invalid(diagnostic) => diagnostic.field.as_deref(),
        }
    }

    /// The diagnostic of an invalid-content error.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            FormatError::Io { .. } => None,
            FormatError::Invalid(diagnostic) => Some(diagnostic),
        }
    }
}

impl From<Diagnostic> for FormatError {
    fn from(diagnostic: Diagnostic) -> FormatError {
        FormatError::Invalid(Box::new(diagnostic))
    }
}

/// Quotes a value for a message, shortened so a 2 MB field does not become a 2 MB error.
pub(crate) fn quoted(value: &str) -> String {
    const MAX: usize = 80;
    if value.len() <= MAX {
        return format!("{value:?}");
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}...", &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_put_location_then_field_then_reason() {
        let csv = Diagnostic::new(
            Location::line("accounts.csv", 7),
            Some("active"),
            "expected true or false, found \"yes please\"",
        );
        assert_eq!(
            csv.to_string(),
            r#"accounts.csv:7: field "active": expected true or false, found "yes please""#
        );
        let json = Diagnostic::new(
            Location::pointer("users.json", "/Resources/3/emails/0/value"),
            Some("emails"),
            "expected a string",
        );
        assert_eq!(
            json.to_string(),
            "users.json: /Resources/3/emails/0/value: expected a string"
        );
        let jsonl = Diagnostic::new(
            Location {
                file: "u.jsonl".into(),
                line: Some(4),
                pointer: Some("/id".into()),
            },
            Some("id"),
            "is required",
        );
        assert_eq!(jsonl.to_string(), "u.jsonl:4: /id: is required");
        assert_eq!(FormatError::from(jsonl).field(), Some("id"));
    }

    #[test]
    fn long_values_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(100);
        let shown = quoted(&long);
        assert!(shown.len() < 100);
        assert!(shown.ends_with("..."));
    }
}
