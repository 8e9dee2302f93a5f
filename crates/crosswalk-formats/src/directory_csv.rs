//! A whole directory in one CSV file: one row per account, per group and per membership.
//!
//! ```text
//! type,id,name,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,group,member
//! account,u1,,jdoe,john.doe@acme.com,SMTP:john.doe@acme.com;smtp:jd@acme.com,John Doe,John,Doe,true,ldap,true,,
//! group,g1,developers,,,,Developers,,,,,,,
//! member,,,,,,,,,,,,g1,u1
//! ```
//!
//! Header names are case-insensitive and may come in any order; only `type` and `id` are
//! required, and a column that is absent reads as empty. An unknown column is an error
//! rather than ignored, because a misspelt `emial` column silently dropping every address
//! would only show up later as a wrong mapping. For the same reason a row that fills a
//! column its type does not use (an `email` on a group row) is an error.
//!
//! Values are kept as written (no trimming) except `type`, `active` and `email_verified`,
//! which are keywords. An empty cell is an absent value.

use std::io::{Read, Write};
use std::path::Path;

use csv::ByteRecord;

use crosswalk_core::{Account, CompactString, Directory, Group};

use crate::builder::{Builder, Layout, Spot};
use crate::csv_lines;
use crate::error::{FormatError, Location, quoted};
use crate::{Imported, ReadOptions};

/// The columns of the directory CSV, in the order [`write_directory_csv`] writes them.
pub const DIRECTORY_CSV_COLUMNS: [&str; 14] = [
    "type",
    "id",
    "name",
    "username",
    "email",
    "aliases",
    "display_name",
    "given_name",
    "family_name",
    "active",
    "source_directory",
    "email_verified",
    "group",
    "member",
];

/// Indexes into [`DIRECTORY_CSV_COLUMNS`].
mod col {
    pub(super) const TYPE: usize = 0;
    pub(super) const ID: usize = 1;
    pub(super) const NAME: usize = 2;
    pub(super) const USERNAME: usize = 3;
    pub(super) const EMAIL: usize = 4;
    pub(super) const ALIASES: usize = 5;
    pub(super) const DISPLAY_NAME: usize = 6;
    pub(super) const GIVEN_NAME: usize = 7;
    pub(super) const FAMILY_NAME: usize = 8;
    pub(super) const ACTIVE: usize = 9;
    pub(super) const SOURCE_DIRECTORY: usize = 10;
    pub(super) const EMAIL_VERIFIED: usize = 11;
    pub(super) const GROUP: usize = 12;
    pub(super) const MEMBER: usize = 13;
}

/// Which columns each row type may fill, as a bit set over [`DIRECTORY_CSV_COLUMNS`].
const fn columns(list: &[usize]) -> u16 {
    let mut bits = 0u16;
    let mut i = 0;
    while i < list.len() {
        bits |= 1 << list[i];
        i += 1;
    }
    bits
}
const ACCOUNT_COLUMNS: u16 = columns(&[
    col::TYPE,
    col::ID,
    col::USERNAME,
    col::EMAIL,
    col::ALIASES,
    col::DISPLAY_NAME,
    col::GIVEN_NAME,
    col::FAMILY_NAME,
    col::ACTIVE,
    col::SOURCE_DIRECTORY,
    col::EMAIL_VERIFIED,
]);
const GROUP_COLUMNS: u16 = columns(&[col::TYPE, col::ID, col::NAME, col::DISPLAY_NAME]);
const MEMBER_COLUMNS: u16 = columns(&[col::TYPE, col::GROUP, col::MEMBER]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowType {
    Account,
    Group,
    Member,
}

impl RowType {
    fn parse(text: &str) -> Option<RowType> {
        let text = text.trim();
        let is = |word: &str| text.eq_ignore_ascii_case(word);
        if is("account") || is("user") {
            Some(RowType::Account)
        } else if is("group") {
            Some(RowType::Group)
        } else if is("member") || is("membership") {
            Some(RowType::Member)
        } else {
            None
        }
    }

    fn allowed(self) -> u16 {
        match self {
            RowType::Account => ACCOUNT_COLUMNS,
            RowType::Group => GROUP_COLUMNS,
            RowType::Member => MEMBER_COLUMNS,
        }
    }

    fn plural(self) -> &'static str {
        match self {
            RowType::Account => "account rows",
            RowType::Group => "group rows",
            RowType::Member => "member rows",
        }
    }
}

/// Where each known column is in the file's header.
struct Header {
    /// `positions[col::X]` is the index of column X in a record, if the file has it.
    positions: [Option<usize>; 14],
    /// The header's own spelling of each column, for messages.
    names: [String; 14],
    len: usize,
}

impl Header {
    fn parse(file: &str, line: u64, record: &ByteRecord) -> Result<Header, FormatError> {
        let at_header = |field: Option<&str>, reason: String| {
            FormatError::invalid(Location::line(file, line), field, reason)
        };
        let mut positions = [None; 14];
        let mut names: [String; 14] = Default::default();
        if record.is_empty() || (record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace))
        {
            return Err(at_header(
                None,
                format!(
                    "the file is empty; it needs a header line: {}",
                    DIRECTORY_CSV_COLUMNS.join(",")
                ),
            ));
        }
        for (index, raw) in record.iter().enumerate() {
            let Ok(name) = std::str::from_utf8(raw) else {
                return Err(at_header(
                    None,
                    format!(
                        "column {} of the header is not valid UTF-8; save the file as UTF-8",
                        index + 1
                    ),
                ));
            };
            let trimmed = name.trim();
            if trimmed.is_empty() {
                return Err(at_header(
                    None,
                    format!(
                        "column {} of the header has no name (a trailing comma?)",
                        index + 1
                    ),
                ));
            }
            let Some(column) = DIRECTORY_CSV_COLUMNS
                .iter()
                .position(|c| c.eq_ignore_ascii_case(trimmed))
            else {
                return Err(at_header(
                    Some(trimmed),
                    format!(
                        "unknown column; the columns are {}",
                        DIRECTORY_CSV_COLUMNS.join(", ")
                    ),
                ));
            };
            if let Some(first) = positions[column] {
                return Err(at_header(
                    Some(trimmed),
                    format!(
                        "column appears twice (columns {} and {})",
                        first + 1,
                        index + 1
                    ),
                ));
            }
            positions[column] = Some(index);
            names[column] = trimmed.to_string();
        }
        for required in [col::TYPE, col::ID] {
            if positions[required].is_none() {
                return Err(at_header(
                    Some(DIRECTORY_CSV_COLUMNS[required]),
                    "required column is missing from the header".to_string(),
                ));
            }
        }
        Ok(Header {
            positions,
            names,
            len: record.len(),
        })
    }

    fn name(&self, column: usize) -> &str {
        match self.names[column].as_str() {
            "" => DIRECTORY_CSV_COLUMNS[column],
            name => name,
        }
    }
}

/// A problem with one row, before it is given a location.
struct RowError {
    column: Option<usize>,
    reason: String,
}

fn row_error(column: usize, reason: impl Into<String>) -> RowError {
    RowError {
        column: Some(column),
        reason: reason.into(),
    }
}

/// One record seen through the header.
struct Row<'a> {
    header: &'a Header,
    record: &'a ByteRecord,
}

impl<'a> Row<'a> {
    /// The cell of a column; empty when the file has no such column.
    fn get(&self, column: usize) -> Result<&'a str, RowError> {
        let Some(index) = self.header.positions[column] else {
            return Ok("");
        };
        let raw = self.record.get(index).unwrap_or_default();
        std::str::from_utf8(raw)
            .map_err(|_| row_error(column, "is not valid UTF-8; save the file as UTF-8"))
    }

    /// The cell as an optional value: blank is absent.
    fn optional<T: for<'s> From<&'s str>>(&self, column: usize) -> Result<Option<T>, RowError> {
        let value = self.get(column)?;
        Ok(if value.trim().is_empty() {
            None
        } else {
            Some(T::from(value))
        })
    }

    fn required<T: for<'s> From<&'s str>>(&self, column: usize, what: &str) -> Result<T, RowError> {
        match self.optional(column)? {
            Some(value) => Ok(value),
            None => Err(row_error(column, format!("is required: {what}"))),
        }
    }

    fn boolean(&self, column: usize) -> Result<Option<bool>, RowError> {
        let value = self.get(column)?;
        parse_bool(value).map_err(|()| {
            row_error(
                column,
                format!(
                    "expected true or false (also yes/no, 1/0), found {}",
                    quoted(value)
                ),
            )
        })
    }
}

/// `true/false/yes/no/1/0` in any case; blank is `None`.
pub(crate) fn parse_bool(text: &str) -> Result<Option<bool>, ()> {
    let text = text.trim();
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if text.is_empty() {
        Ok(None)
    } else if is("true") || is("yes") || text == "1" {
        Ok(Some(true))
    } else if is("false") || is("no") || text == "0" {
        Ok(Some(false))
    } else {
        Err(())
    }
}

/// What one row says.
enum Parsed {
    Account(Account),
    Group(Group),
    Member {
        group: CompactString,
        member: CompactString,
    },
}

fn parse_row(row: &Row<'_>) -> Result<Parsed, RowError> {
    let type_text = row.get(col::TYPE)?;
    let Some(row_type) = RowType::parse(type_text) else {
        let reason = if type_text.trim().is_empty() {
            "is required: account, group or member".to_string()
        } else {
            format!(
                "expected account, group or member, found {}",
                quoted(type_text)
            )
        };
        return Err(row_error(col::TYPE, reason));
    };
    // A column the row type does not use must be blank: data there is a mistake somewhere.
    let stray = !row_type.allowed();
    for column in 0..DIRECTORY_CSV_COLUMNS.len() {
        if stray & (1 << column) != 0 && !row.get(column)?.trim().is_empty() {
            return Err(row_error(
                column,
                format!("is not used by {}; leave it empty", row_type.plural()),
            ));
        }
    }
    match row_type {
        RowType::Account => {
            let id = row.required(col::ID, "every account needs an id")?;
            let alias_emails = row
                .get(col::ALIASES)?
                .split(';')
                .map(str::trim)
                .filter(|alias| !alias.is_empty())
                .map(CompactString::from)
                .collect();
            Ok(Parsed::Account(Account {
                id,
                username: row.optional(col::USERNAME)?,
                email: row.optional(col::EMAIL)?,
                alias_emails,
                display_name: row.optional(col::DISPLAY_NAME)?,
                given_name: row.optional(col::GIVEN_NAME)?,
                family_name: row.optional(col::FAMILY_NAME)?,
                active: row.boolean(col::ACTIVE)?.unwrap_or(true),
                source_directory: row.optional(col::SOURCE_DIRECTORY)?,
                email_verified: row.boolean(col::EMAIL_VERIFIED)?,
            }))
        }
        RowType::Group => Ok(Parsed::Group(Group {
            id: row.required(col::ID, "every group needs an id")?,
            name: row.required(col::NAME, "every group needs a name")?,
            display_name: row.optional(col::DISPLAY_NAME)?,
            members: Vec::new(),
        })),
        RowType::Member => Ok(Parsed::Member {
            group: row.required(col::GROUP, "the id of the group")?,
            member: row.required(
                col::MEMBER,
                "the id of the account or group that belongs to it",
            )?,
        }),
    }
}

/// Reads a directory from the CSV format described in the [module docs](self).
///
/// `source_name` is only used in messages and to name the directory.
pub fn read_directory_csv(
    source_name: &str,
    input: impl Read,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let (input, lines) = csv_lines::tee(input, None);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked here, to say more than the csv crate would.
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let mut builder = Builder::new(source_name, Layout::Csv, options);
    let mut record = ByteRecord::new();

    let has_header = read_record(&mut reader, &mut record, source_name, &lines)?;
    if !has_header {
        return Err(FormatError::invalid(
            Location::line(source_name, 1),
            None,
            format!(
                "the file is empty; it needs a header line: {}",
                DIRECTORY_CSV_COLUMNS.join(",")
            ),
        ));
    }
    let header_line = record.position().map_or(1, |p| lines.start_line(p));
    let header = Header::parse(source_name, header_line, &record)?;
    lines.release(reader.position());

    while read_record(&mut reader, &mut record, source_name, &lines)? {
        let line = record.position().map_or(0, |p| lines.start_line(p));
        lines.release(reader.position());
        let spot = Spot::line(line);
        if record.len() != header.len {
            let mut reason = format!(
                "expected {} fields like the header, found {}",
                header.len,
                record.len()
            );
            if record.iter().any(|field| field.contains(&b'\n')) {
                reason.push_str("; a quote opened on this line seems never to be closed");
            } else {
                reason.push_str("; put values containing commas in double quotes, and double any quote inside them");
            }
            builder.reject(spot, "", None, reason)?;
            continue;
        }
        let row = Row {
            header: &header,
            record: &record,
        };
        match parse_row(&row) {
            Ok(Parsed::Account(account)) => builder.add_account(account, spot)?,
            Ok(Parsed::Group(group)) => {
                builder.add_group(group, spot)?;
            }
            Ok(Parsed::Member { group, member }) => builder.add_member(group, member, spot, 0),
            Err(error) => {
                if let Ok(id) = row.get(col::ID) {
                    builder.forget(id, spot);
                }
                let field = error.column.map(|column| header.name(column));
                builder.reject(spot, "", field, error.reason)?;
            }
        }
    }
    builder.finish()
}

/// Reads one record; `Ok(false)` at the end. Only I/O failures are errors here, because
/// the reader is flexible and every byte sequence is otherwise some CSV.
fn read_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
    source_name: &str,
    lines: &csv_lines::LineFinder,
) -> Result<bool, FormatError> {
    reader
        .read_byte_record(record)
        .map_err(|error| csv_error(source_name, error, || lines.current_record_line()))
}

/// A csv crate error as ours: I/O errors name the file, a record over its size limit the
/// line it starts on (`record_line`), anything else the line too.
pub(crate) fn csv_error(
    source_name: &str,
    error: csv::Error,
    record_line: impl FnOnce() -> u64,
) -> FormatError {
    let line = error.position().map(csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(io) => crate::limits::located(
            source_name,
            || Location::line(source_name, record_line()),
            io,
        ),
        _ => FormatError::invalid(
            Location {
                file: source_name.to_string(),
                line,
                pointer: None,
            },
            None,
            format!("unreadable CSV: {message}"),
        ),
    }
}

/// [`read_directory_csv`] on a file, named by its path.
pub fn read_directory_csv_file(
    path: impl AsRef<Path>,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    read_directory_csv(&name, reader, options)
}

fn text(value: &Option<CompactString>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// Writes a directory in the format [`read_directory_csv`] reads: the header with every
/// column, then accounts, groups, and one `member` row per membership.
///
/// Reading the output gives the same directory, except that blank optional values read
/// back as absent. Aliases are joined with `;`, so an alias that contains `;`, is blank,
/// or has surrounding spaces cannot be written and is an `InvalidInput` error.
pub fn write_directory_csv(directory: &Directory, output: impl Write) -> std::io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    writer.write_record(DIRECTORY_CSV_COLUMNS)?;
    let mut aliases = String::new();
    for account in &directory.accounts {
        aliases.clear();
        for (i, alias) in account.alias_emails.iter().enumerate() {
            if alias.contains(';') || alias.trim().is_empty() || alias.trim() != alias {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "account {}: alias {} cannot be written to the directory CSV \
                         (aliases are separated by ';' and trimmed)",
                        quoted(&account.id),
                        quoted(alias)
                    ),
                ));
            }
            if i > 0 {
                aliases.push(';');
            }
            aliases.push_str(alias);
        }
        let email_verified = match account.email_verified {
            None => "",
            Some(true) => "true",
            Some(false) => "false",
        };
        writer.write_record([
            "account",
            &account.id,
            "",
            text(&account.username),
            text(&account.email),
            &aliases,
            text(&account.display_name),
            text(&account.given_name),
            text(&account.family_name),
            if account.active { "true" } else { "false" },
            text(&account.source_directory),
            email_verified,
            "",
            "",
        ])?;
    }
    for group in &directory.groups {
        let display_name = group.display_name.as_deref().unwrap_or_default();
        writer.write_record([
            "group",
            &group.id,
            &group.name,
            "",
            "",
            "",
            display_name,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ])?;
    }
    for group in &directory.groups {
        for member in &group.members {
            writer.write_record([
                "member", "", "", "", "", "", "", "", "", "", "", "", &group.id, member,
            ])?;
        }
    }
    writer.flush()
}
