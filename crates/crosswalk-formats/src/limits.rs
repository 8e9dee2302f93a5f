//! Sizes no honest input reaches, enforced while reading, so that a file with no line breaks
//! (`/dev/zero`, a huge newline-free file) or one enormous value is refused with a located
//! error instead of exhausting memory. `docs/formats.md` documents them.
//!
//! The readers that meet a limit are the csv crate and serde_json, which only speak
//! `std::io`: a limit is raised as an `io::Error` carrying [`TooLong`], and the reader's own
//! error mapping turns it into a located [`FormatError`] ([`located`]).

use std::cell::Cell;
use std::fmt;
use std::io;
use std::rc::Rc;

use crate::error::{FormatError, Location};

/// One CSV record (a row, with any line breaks inside quoted values): directory and
/// exceptions CSV.
pub const MAX_CSV_RECORD_BYTES: u64 = 1 << 20;
/// One value: a CSV cell, or a string of a SCIM resource (ids, names, addresses...).
pub const MAX_FIELD_BYTES: usize = 64 << 10;
/// One SCIM resource of a JSON document (a group lists its members inside it, so a group of
/// a million members must fit), and one line of JSON Lines (which may be a whole page).
pub const MAX_SCIM_RESOURCE_BYTES: u64 = 64 << 20;
/// The policy file, read whole.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;

/// What went over its limit, carried inside an `io::Error` of kind `InvalidData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong {
    /// `"a CSV record"`, `"a SCIM resource"`...
    pub(crate) what: &'static str,
    pub(crate) limit: u64,
}

impl TooLong {
    pub(crate) fn error(what: &'static str, limit: u64) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, TooLong { what, limit })
    }

    /// The [`TooLong`] an I/O error carries, if it is one.
    pub(crate) fn of(error: &io::Error) -> Option<TooLong> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TooLong>())
            .copied()
    }
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} longer than {}, the most Crosswalk reads; is this the right file (it may have no line breaks), \
             or is a quote left open?",
            self.what,
            size(self.limit)
        )
    }
}

impl std::error::Error for TooLong {}

/// `1 MiB`, `64 KiB`.
pub(crate) fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// An I/O error of a read as ours: a limit met is put at `location`; anything else names the
/// file.
pub(crate) fn located(
    file: &str,
    location: impl FnOnce() -> Location,
    error: io::Error,
) -> FormatError {
    match TooLong::of(&error) {
        Some(too_long) => FormatError::invalid(location(), None, too_long.to_string()),
        None => FormatError::io(file, error),
    }
}

/// Bytes read since a mark, shared between a reader (which spends) and the parser that knows
/// where records start (which marks).
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    spent: Rc<Cell<u64>>,
    limit: u64,
    what: &'static str,
}

impl Budget {
    pub(crate) fn new(what: &'static str, limit: u64) -> Budget {
        Budget {
            spent: Rc::new(Cell::new(0)),
            limit,
            what,
        }
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// A new record starts here.
    pub(crate) fn mark(&self) {
        self.spent.set(0);
    }

    /// `bytes` more were read; an error once the record has gone over its limit.
    pub(crate) fn spend(&self, bytes: usize) -> io::Result<()> {
        let spent = self.spent.get().saturating_add(bytes as u64);
        self.spent.set(spent);
        if spent > self.limit {
            return Err(TooLong::error(self.what, self.limit));
        }
        Ok(())
    }
}

/// The first value of `values` longer than [`MAX_FIELD_BYTES`], with its index.
pub(crate) fn first_too_long<'v>(values: impl IntoIterator<Item = &'v str>) -> Option<usize> {
    values
        .into_iter()
        .position(|value| value.len() > MAX_FIELD_BYTES)
}

/// The message for a value over [`MAX_FIELD_BYTES`].
pub(crate) fn field_too_long() -> String {
    format!(
        "is longer than {}, the most a value may be",
        size(MAX_FIELD_BYTES as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadOptions;

    /// The SCIM reader's limits, at a size a test reads quickly: a resource of a streamed
    /// document and a line of JSON Lines over the limit are refused where they are.
    #[test]
    fn scim_resources_and_lines_are_limited() {
        let long = "a".repeat(5000);
        let resource = |id: &str| {
            format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"{id}"}}"#)
        };
        let document = format!(
            r#"{{"Resources":[{},{}]}}"#,
            resource("u1"),
            resource(&long)
        );
        let error = crate::scim::read_scim_within(
            "u.json",
            document.as_bytes(),
            ReadOptions::default(),
            4096,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string().split(": a SCIM").next(),
            Some("u.json:1: /Resources/1"),
            "{error}"
        );
        assert!(error.to_string().contains("longer than 4 KiB"), "{error}");
        let lines = format!("{}\n\n{}\n", resource("u1"), resource(&long));
        let error = crate::scim::read_scim_within(
            "u.jsonl",
            lines.as_bytes(),
            ReadOptions::default(),
            4096,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("u.jsonl:3: a line of JSON Lines longer than 4 KiB"),
            "{error}"
        );
        // Within the limit, both read.
        let short = format!("{}\n{}\n", resource("u1"), resource("u2"));
        assert_eq!(
            crate::scim::read_scim_within(
                "u.jsonl",
                short.as_bytes(),
                ReadOptions::default(),
                4096
            )
            .unwrap()
            .directory
            .accounts
            .len(),
            2
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(MAX_CSV_RECORD_BYTES), "1 MiB");
        assert_eq!(size(MAX_FIELD_BYTES as u64), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn a_budget_is_spent_per_record() {
        let budget = Budget::new("a record", 10);
        budget.spend(6).unwrap();
        let error = budget.spend(6).unwrap_err();
        assert_eq!(
            TooLong::of(&error),
            Some(TooLong {
                what: "a record",
                limit: 10
            })
        );
        budget.mark();
        budget.spend(10).unwrap();
    }
}
