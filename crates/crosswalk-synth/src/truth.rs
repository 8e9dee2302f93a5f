//! The truth file (`type,source_id,destination_id,category,linkable`) and what `linkable`
//! means.
//!
//! **`linkable`** says whether *anything in the data* links a source identity to the
//! destination identity the truth names: the two records share an identifier once
//! normalised. For accounts ([`accounts_share_evidence`]): the same id; an address (primary
//! or alias) with the same key (case folded, IDNA, and the data set's own domain
//! equivalences, such as a company rename, which are facts about the data, not a matching
//! rule); the same folded username; or the same name key (display name, or given + family
//! name). For groups ([`groups_share_evidence`]): the same id or the same folded name.
//!
//! It is deliberately independent of any resolver's rules: uniqueness, activity, verified
//! addresses, organisation domains or a second agreeing field are conditions a resolver may
//! impose, and a person it refuses to link under them still counts against it (missed, or a
//! duplicate). Only the people nothing in the data can link are set apart as unlinkable.
//! `crosswalk-eval` uses the same functions, so both crates mean the same thing.

use std::io::{Read, Write};

use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::{Account, Group, IdentityKind};

use crate::TruthRow;

/// Whether anything in the data links the two accounts: the same id, an address key in
/// common (primary or alias, under `aliases`: pass the data set's own domain equivalences,
/// or `DomainAliases::default()` for none), the same folded username, or a name key in
/// common ([`Account::name_keys`]). No condition of any resolver applies: see the module docs.
pub fn accounts_share_evidence(
    source: &Account,
    destination: &Account,
    aliases: &DomainAliases,
) -> bool {
    if source.id == destination.id {
        return true;
    }
    let email_keys = |a: &Account| -> Vec<String> {
        a.all_emails()
            .filter_map(|e| normalize::email_key(e, aliases).ok())
            .map(|k| k.key)
            .collect()
    };
    let ours = email_keys(source);
    if !ours.is_empty() && email_keys(destination).iter().any(|k| ours.contains(k)) {
        return true;
    }
    let username = |a: &Account| {
        a.username
            .as_deref()
            .map(|u| normalize::fold(u).into_owned())
            .filter(|u| !u.is_empty())
    };
    if let (Some(a), Some(b)) = (username(source), username(destination))
        && a == b
    {
        return true;
    }
    let ours = source.name_keys();
    !ours.is_empty() && destination.name_keys().iter().any(|k| ours.contains(k))
}

/// Whether anything in the data links the two groups: the same id or the same folded name.
pub fn groups_share_evidence(source: &Group, destination: &Group) -> bool {
    source.id == destination.id || {
        let name = normalize::fold(&source.name);
        !name.is_empty() && name == normalize::fold(&destination.name)
    }
}

/// The truth file's header, in order.
pub const TRUTH_COLUMNS: [&str; 5] = [
    "type",
    "source_id",
    "destination_id",
    "category",
    "linkable",
];

/// The longest line a truth file may have: a row is a type, two ids, a category and a flag.
pub const MAX_TRUTH_LINE_BYTES: u64 = 64 << 10;

/// Why a truth file could not be read. The messages say the line but not the file, which
/// the caller knows: [`TruthCsvError::located`] puts the two together as `file:line`.
#[derive(Debug)]
pub enum TruthCsvError {
    Io(std::io::Error),
    /// Something wrong on a line (the header is line 1).
    Invalid {
        line: u64,
        problem: String,
    },
    /// Writing failed.
    Write(csv::Error),
}

impl TruthCsvError {
    /// The 1-based line the problem is on, when it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            TruthCsvError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The message with the file in front: `truth.csv:3: linkable "maybe" is not true or false`.
    pub fn located(&self, file: &str) -> String {
        match self {
            TruthCsvError::Invalid { line, problem } => format!("{file}:{line}: {problem}"),
            TruthCsvError::Io(e) => format!("{file}: {e}"),
            TruthCsvError::Write(e) => format!("{file}: {e}"),
        }
    }
}

impl std::fmt::Display for TruthCsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TruthCsvError::Io(e) => write!(f, "truth CSV: {e}"),
            TruthCsvError::Invalid { line, problem } => {
                write!(f, "truth CSV line {line}: {problem}")
            }
            TruthCsvError::Write(e) => write!(f, "truth CSV: {e}"),
        }
    }
}

// The cause is part of each message, so it is deliberately not also a `source()`: a reporter
// that prints the chain would say it twice.
impl std::error::Error for TruthCsvError {}

impl From<csv::Error> for TruthCsvError {
    fn from(e: csv::Error) -> Self {
        TruthCsvError::Write(e)
    }
}

impl From<std::io::Error> for TruthCsvError {
    fn from(e: std::io::Error) -> Self {
        TruthCsvError::Io(e)
    }
}

/// A line over [`MAX_TRUTH_LINE_BYTES`], carried in an `io::Error` through the csv crate.
#[derive(Debug)]
struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a line longer than {} KiB", MAX_TRUTH_LINE_BYTES >> 10)
    }
}

impl std::error::Error for LineTooLong {}

/// Passes reads through, counting lines, and refuses a line over [`MAX_TRUTH_LINE_BYTES`]:
/// a file with no line breaks would otherwise be read whole into one record. It also notes
/// what the csv crate passes over between records without counting it in the line it gives
/// the next one (empty lines, and the `\n` of a `\r\n`), so [`Lines::of`] can say the line a
/// person sees.
struct LineLimit<R> {
    inner: R,
    lines: std::rc::Rc<std::cell::RefCell<Lines>>,
}

#[derive(Default)]
struct Lines {
    /// 1-based line of the next byte.
    next: u64,
    /// Offset of the next byte, and where its line started.
    offset: u64,
    line_start: u64,
    /// `(offset, length with its line break)` of the empty lines not yet passed.
    empty: std::collections::VecDeque<(u64, u64)>,
    /// Offsets of the `\n`s that follow a `\r`, not yet passed.
    crlf: std::collections::VecDeque<u64>,
    /// The byte before the next.
    previous: u8,
}

impl Lines {
    /// The line a record csv placed at `position` is on; positions must come in file order
    /// (what is before one is forgotten).
    fn of(&mut self, position: &csv::Position) -> u64 {
        let (mut line, mut at) = (position.line(), position.byte());
        while self.crlf.front().is_some_and(|&offset| offset < at) {
            self.crlf.pop_front();
        }
        while self.empty.front().is_some_and(|&(offset, _)| offset < at) {
            self.empty.pop_front();
        }
        if self.crlf.front() == Some(&at) {
            line += 1;
            at += 1;
        }
        while let Some(&(offset, length)) = self.empty.front() {
            if offset != at {
                break;
            }
            line += 1;
            at += length;
            self.empty.pop_front();
        }
        line
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        let mut lines = self.lines.borrow_mut();
        for (i, &byte) in buffer[..n].iter().enumerate() {
            let offset = lines.offset + i as u64;
            if byte == b'\n' {
                if lines.previous == b'\r' {
                    lines.crlf.push_back(offset);
                }
                // Empty: nothing before the line break but, for `\r\n`, its `\r`.
                let length = offset + 1 - lines.line_start;
                if length == 1 || length == 2 && lines.previous == b'\r' {
                    let start = lines.line_start;
                    lines.empty.push_back((start, length));
                }
                lines.next += 1;
                lines.line_start = offset + 1;
            } else if offset - lines.line_start >= MAX_TRUTH_LINE_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    LineTooLong,
                ));
            }
            lines.previous = byte;
        }
        lines.offset += n as u64;
        Ok(n)
    }
}

/// Writes the rows with the [`TRUTH_COLUMNS`] header. `destination_id` is empty when `None`;
/// `linkable` is `true` or `false`.
pub fn write_truth_csv(rows: &[TruthRow], writer: impl Write) -> Result<(), TruthCsvError> {
    let mut out = csv::Writer::from_writer(writer);
    out.write_record(TRUTH_COLUMNS)?;
    for row in rows {
        out.write_record([
            row.kind.as_str(),
            row.source_id.as_str(),
            row.destination_id.as_deref().unwrap_or(""),
            row.category.as_str(),
            if row.linkable { "true" } else { "false" },
        ])?;
    }
    out.flush()?;
    Ok(())
}

/// Reads a truth file. Columns are found by name (any order, case-insensitive; extra
/// columns are ignored); `type` accepts what [`IdentityKind::parse`] accepts; `linkable`
/// accepts true/false, yes/no, 1/0 and defaults to false when empty.
pub fn read_truth_csv(reader: impl Read) -> Result<Vec<TruthRow>, TruthCsvError> {
    Ok(read_truth_csv_lines(reader)?
        .into_iter()
        .map(|(_, row)| row)
        .collect())
}

/// [`read_truth_csv`], with the 1-based line each row is on, for messages about a row.
pub fn read_truth_csv_lines(reader: impl Read) -> Result<Vec<(u64, TruthRow)>, TruthCsvError> {
    let lines = std::rc::Rc::new(std::cell::RefCell::new(Lines {
        next: 1,
        ..Lines::default()
    }));
    let limited = LineLimit {
        inner: reader,
        lines: std::rc::Rc::clone(&lines),
    };
    let mut input = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(limited);
    let line_of = |position: &csv::Position| lines.borrow_mut().of(position);
    // A csv error as a located one: the csv crate counts records ("record 2") where a
    // person counts lines.
    let located = |error: csv::Error| {
        let at = error
            .position()
            .map_or_else(|| lines.borrow().next, line_of);
        match error.into_kind() {
            csv::ErrorKind::Io(io)
                if io.get_ref().is_some_and(|inner| inner.is::<LineTooLong>()) =>
            {
                TruthCsvError::Invalid {
                    line: lines.borrow().next,
                    problem: format!("{LineTooLong}; is this a truth file?"),
                }
            }
            csv::ErrorKind::Io(io) => TruthCsvError::Io(io),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => TruthCsvError::Invalid {
                line: at,
                problem: format!(
                    "{len} fields, where the header has {expected_len}; the columns are {}",
                    TRUTH_COLUMNS.join(",")
                ),
            },
            csv::ErrorKind::Utf8 { .. } => TruthCsvError::Invalid {
                line: at,
                problem: "not valid UTF-8; save the file as UTF-8".into(),
            },
            other => TruthCsvError::Invalid {
                line: at,
                problem: format!("unreadable CSV ({other:?})"),
            },
        }
    };
    let headers = input.headers().map_err(located)?.clone();
    let column = |name: &'static str| -> Result<usize, TruthCsvError> {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
            .ok_or_else(|| TruthCsvError::Invalid {
                line: 1,
                problem: format!(
                    "no `{name}` column; the header needs {}",
                    TRUTH_COLUMNS.join(",")
                ),
            })
    };
    let [kind_at, source_at, destination_at, category_at, linkable_at] = [
        column("type")?,
        column("source_id")?,
        column("destination_id")?,
        column("category")?,
        column("linkable")?,
    ];
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while input.read_record(&mut record).map_err(located)? {
        let line = record.position().map_or(0, line_of);
        let field = |at: usize| record.get(at).unwrap_or("");
        let bad = |problem: String| TruthCsvError::Invalid { line, problem };
        let kind = IdentityKind::parse(field(kind_at)).ok_or_else(|| {
            bad(format!(
                "type {:?} is neither account nor group",
                field(kind_at)
            ))
        })?;
        let source_id = field(source_at);
        if source_id.is_empty() {
            return Err(bad("source_id is empty".into()));
        }
        let destination_id = Some(field(destination_at))
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        let linkable = match field(linkable_at).to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "y" => true,
            "false" | "no" | "0" | "n" | "" => false,
            other => return Err(bad(format!("linkable {other:?} is not true or false"))),
        };
        rows.push((
            line,
            TruthRow {
                kind,
                source_id: source_id.to_string(),
                destination_id,
                category: field(category_at).to_string(),
                linkable,
            },
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let rows = vec![
            TruthRow {
                kind: IdentityKind::Account,
                source_id: "JIRAUSER10001".into(),
                destination_id: Some("5b10ac8d82e05b22cc7d4ef5".into()),
                category: "exact".into(),
                linkable: true,
            },
            TruthRow {
                kind: IdentityKind::Group,
                source_id: "10000".into(),
                destination_id: None,
                category: "group_new".into(),
                linkable: false,
            },
            TruthRow {
                kind: IdentityKind::Account,
                source_id: "o'brien, \"x\"".into(),
                destination_id: None,
                category: "shared_mailbox".into(),
                linkable: false,
            },
        ];
        let mut buf = Vec::new();
        write_truth_csv(&rows, &mut buf).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with("type,source_id,destination_id,category,linkable\n"));
        assert!(text.contains("group,10000,,group_new,false\n"));
        assert_eq!(read_truth_csv(buf.as_slice()).unwrap(), rows);
    }

    /// Errors name the line a person sees in an editor, never the csv crate's record number,
    /// and a file without line breaks is refused at its first long line.
    #[test]
    fn errors_name_lines_and_long_lines_are_refused() {
        let header = "type,source_id,destination_id,category,linkable\n";
        let error = |text: &str| read_truth_csv(text.as_bytes()).unwrap_err();
        let short = error(&format!(
            "{header}account,s1,d1,exact,true\n\naccount,s2,d2\n"
        ));
        assert_eq!(
            short.located("truth.csv"),
            "truth.csv:4: 3 fields, where the header has 5; the columns are type,source_id,destination_id,category,linkable"
        );
        let bad = error(&format!("{header}account,s1,d1,exact,maybe\n"));
        assert_eq!(
            bad.located("truth.csv"),
            "truth.csv:2: linkable \"maybe\" is not true or false"
        );
        assert_eq!(
            error("type,source_id\n").located("t.csv"),
            "t.csv:1: no `destination_id` column; the header needs type,source_id,destination_id,category,linkable"
        );
        let endless = format!(
            "{header}account,{}",
            "x".repeat(MAX_TRUTH_LINE_BYTES as usize + 1)
        );
        assert!(
            error(&endless)
                .located("t.csv")
                .starts_with("t.csv:2: a line longer than 64 KiB"),
            "{}",
            error(&endless).located("t.csv")
        );
        let lines = read_truth_csv_lines(
            format!("{header}\naccount,s1,,x,false\r\n\r\n\naccount,s2,,x,false\n").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            lines.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [3, 6]
        );
    }

    proptest::proptest! {
        /// Each row is said to be on the line an editor shows it on, whatever the line
        /// breaks (`\n`, `\r\n`) and however many empty lines come before it.
        #[test]
        fn rows_are_on_the_lines_an_editor_shows(rows in proptest::collection::vec((0..3usize, proptest::bool::ANY), 1..20)) {
            let mut text = String::from("type,source_id,destination_id,category,linkable\n");
            let mut expected = Vec::new();
            let mut line = 2;
            for (i, (empty_before, crlf)) in rows.iter().enumerate() {
                let newline = if *crlf { "\r\n" } else { "\n" };
                for _ in 0..*empty_before {
                    text.push_str(newline);
                    line += 1;
                }
                text.push_str(&format!("account,s{i},,x,false{newline}"));
                expected.push(line);
                line += 1;
            }
            let found: Vec<u64> = read_truth_csv_lines(text.as_bytes()).unwrap().into_iter().map(|(line, _)| line).collect();
            proptest::prop_assert_eq!(found, expected);
        }

        /// No input makes the reader panic.
        #[test]
        fn any_bytes_read_without_panicking(bytes in proptest::collection::vec(proptest::prop_oneof![proptest::num::u8::ANY, proptest::strategy::Just(b'\n'), proptest::strategy::Just(b'\r'), proptest::strategy::Just(b',')], 0..200)) {
            let mut text = b"type,source_id,destination_id,category,linkable\n".to_vec();
            text.extend_from_slice(&bytes);
            let _ = read_truth_csv(text.as_slice());
            let _ = read_truth_csv(bytes.as_slice());
        }
    }

    #[test]
    fn linkable_is_evidence_in_the_data_not_the_engine_rules() {
        let person = |id: &str, email: &str, name: &str| Account {
            id: id.into(),
            email: Some(email.into()),
            display_name: Some(name.into()),
            active: true,
            ..Account::default()
        };
        let renamed = crate::data_domain_aliases();
        let none = DomainAliases::default();
        let src = person("s1", "jo.ray@acme-corp.com", "Jo Ray");
        // Unverified, inactive: the engine would not link them, the data still does.
        let mut dst = Account {
            email_verified: Some(false),
            active: false,
            ..person("d1", "JO.RAY@acme.com", "X")
        };
        assert!(accounts_share_evidence(&src, &dst, &renamed));
        assert!(
            !accounts_share_evidence(&src, &dst, &none),
            "no rename known: the addresses differ"
        );
        dst.display_name = Some("ray, jo".into());
        assert!(
            accounts_share_evidence(&src, &dst, &none),
            "a name key in common is evidence too"
        );
        let mut other = person("d2", "someone@acme.com", "Someone Else");
        assert!(!accounts_share_evidence(&src, &other, &renamed));
        other.username = Some("JoRay".into());
        let mut src = src;
        src.username = Some("joray".into());
        assert!(accounts_share_evidence(&src, &other, &none));
        assert!(accounts_share_evidence(
            &person("x", "a@b.com", "A"),
            &person("x", "c@d.com", "C"),
            &none
        ));

        let group = |id: &str, name: &str| Group {
            id: id.into(),
            name: name.into(),
            ..Group::default()
        };
        assert!(groups_share_evidence(
            &group("1", "Devs"),
            &group("2", "DEVS")
        ));
        assert!(!groups_share_evidence(
            &group("1", "Devs"),
            &group("2", "Ops")
        ));
    }

    #[test]
    fn lenient_reading_and_errors() {
        let text = "Linkable,Category,Type,Source_ID,Destination_ID,extra\nyes,exact,user,a,b,x\n,new_person,account,c,,\n";
        let rows = read_truth_csv(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].linkable && !rows[1].linkable);
        assert_eq!(rows[0].kind, IdentityKind::Account);
        assert_eq!(rows[1].destination_id, None);
        let missing = read_truth_csv("type,source_id\n".as_bytes()).unwrap_err();
        assert!(
            matches!(&missing, TruthCsvError::Invalid { line: 1, problem } if problem.contains("`destination_id`")),
            "{missing}"
        );
        let bad = read_truth_csv(
            "type,source_id,destination_id,category,linkable\nrobot,a,,x,true\n".as_bytes(),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("line 2"), "{bad}");
    }
}
