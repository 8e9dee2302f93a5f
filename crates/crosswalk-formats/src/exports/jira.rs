//! Jira and Confluence Server/Data Center users from their database tables, exported to CSV
//! one file per table (`COPY cwd_user TO ... CSV HEADER`, or a SQL client's "export as CSV"),
//! all in one folder:
//!
//! - `cwd_user.csv` (required): `id, directory_id, user_name, lower_user_name, active,
//!   first_name, last_name, display_name, email_address`...
//! - `app_user.csv`: `id, user_key, lower_user_name`: the user key (`JIRAUSER10000` for
//!   users created since Jira 8.4, the old username before) that issues and permissions
//!   store, so it is the account id. Without it the lower-case username stands in, with a warning.
//! - `cwd_directory.csv`: `id, directory_name, active, directory_position`: the order of
//!   the user directories. A username in several directories is, for Jira, the user of the
//!   first active directory in that order; the others are shadowed and left out.
//! - `cwd_group.csv`: `id, group_name, lower_group_name, directory_id`.
//! - `cwd_membership.csv`: `parent_id, child_id, membership_type` (`GROUP_USER` or
//!   `GROUP_GROUP`), `parent_name`, `lower_parent_name`, `child_name`, `lower_child_name`,
//!   `directory_id`. Group-to-group rows are nested groups.
//!
//! Column names are matched in any case (database tools write `USER_NAME` as often as
//! `user_name`). The shape is Atlassian's "Database – User and Group tables" page.

use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};

use crosswalk_core::{Account, CompactString, Group};

use super::mangled::{Warnings, mangling};
use super::prepare;
use crate::builder::{Builder, Layout, Spot};
use crate::directory_csv::parse_bool;
use crate::error::{Diagnostic, FormatError, Location, quoted};
use crate::text::Encoding;
use crate::{Imported, ReadOptions};

/// One table: its normalised header and its rows with their lines.
struct Table {
    file: String,
    header: Vec<String>,
    header_line: u64,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h == n))
    }

    fn require(&self, names: &[&str]) -> Result<usize, FormatError> {
        self.column(names).ok_or_else(|| {
            FormatError::invalid(
                Location::line(&self.file, self.header_line),
                Some(names[0]),
                format!("required column is missing from the header (the table's columns are named as in the database: {})", names[0]),
            )
        })
    }
}

fn cell(row: &[String], index: Option<usize>) -> &str {
    index.and_then(|i| row.get(i)).map_or("", |v| v.trim())
}

fn read_table(
    path: &Path,
    encoding: Option<Encoding>,
    skipped: &mut Vec<Diagnostic>,
    options: ReadOptions,
) -> Result<Table, FormatError> {
    let (file, reader) = crate::open(path)?;
    let prepared = prepare(&file, reader, encoding)?;
    let header: Vec<String> = prepared
        .header_cells
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let header_line = prepared.lines_before + 1;
    let (input, lines) = crate::csv_lines::tee(prepared.rest, None);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(prepared.delimiter)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut rows = Vec::new();
    let mut first = true;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            crate::directory_csv::csv_error(&file, e, || {
                lines.current_record_line() + prepared.lines_before
            })
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| lines.start_line(p)) + prepared.lines_before;
        lines.release(reader.position());
        if std::mem::take(&mut first)
            || record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        let problem = if record.len() != header.len() {
            Some(format!(
                "expected {} fields like the header, found {}",
                header.len(),
                record.len()
            ))
        } else if record.iter().any(|f| std::str::from_utf8(f).is_err()) {
            Some("is not valid UTF-8; if the file was saved in an ANSI code page, read it with --encoding windows-1252".into())
        } else {
            None
        };
        if let Some(reason) = problem {
            let diagnostic = Diagnostic::new(Location::line(&file, line), None, reason);
            if options.skip_invalid {
                skipped.push(diagnostic);
                continue;
            }
            return Err(diagnostic.into());
        }
        rows.push((
            line,
            record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        ));
    }
    Ok(Table {
        file,
        header,
        header_line,
        rows,
    })
}

/// The file `name` in `folder`, in any case.
fn find(folder: &Path, name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(folder).ok()?;
    entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
        p.is_file()
            && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                let n = n.to_ascii_lowercase();
                n == format!("{name}.csv")
                    || n == format!("{name}.tsv")
                    || n == format!("{name}.txt")
            })
    })
}

struct Directory {
    name: String,
    position: i64,
    active: bool,
}

/// Reads a folder of Jira/Confluence `cwd_*` tables (see the module docs).
pub fn read_jira_cwd(
    folder: &Path,
    encoding: Option<Encoding>,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let folder_name = folder.display().to_string();
    let Some(user_path) = find(folder, "cwd_user") else {
        return Err(FormatError::invalid(
            Location::file(&folder_name),
            None,
            "no cwd_user.csv in this folder; export the cwd_user table (and app_user, cwd_directory, cwd_group, cwd_membership) to CSV files here",
        ));
    };
    let mut skipped = Vec::new();
    let mut notes = Vec::new();

    // Directory order.
    let mut directories: FxHashMap<String, Directory> = FxHashMap::default();
    if let Some(path) = find(folder, "cwd_directory") {
        let table = read_table(&path, encoding, &mut skipped, options)?;
        let id = table.require(&["id"])?;
        let name = table.column(&["directory_name"]);
        let position = table.column(&["directory_position"]);
        let active = table.column(&["active"]);
        for (index, (_, row)) in table.rows.iter().enumerate() {
            let directory = Directory {
                name: cell(row, name).to_string(),
                position: cell(row, position)
                    .parse()
                    .unwrap_or(i64::try_from(index).unwrap_or(i64::MAX)),
                active: !matches!(parse_flag(cell(row, active)), Some(false)),
            };
            directories.insert(cell(row, Some(id)).to_string(), directory);
        }
    }

    // Users: the first directory in order wins.
    let users = read_table(&user_path, encoding, &mut skipped, options)?;
    let u_directory = users.require(&["directory_id"])?;
    let u_name = users.require(&["user_name"])?;
    let u_lower = users.column(&["lower_user_name"]);
    let u_active = users.column(&["active"]);
    let u_first = users.column(&["first_name"]);
    let u_last = users.column(&["last_name"]);
    let u_display = users.column(&["display_name"]);
    let u_email = users.column(&["email_address"]);
    let order = |directory_id: &str, row: usize| -> (bool, i64, usize) {
        match directories.get(directory_id) {
            Some(d) => (!d.active, d.position, row),
            // Without cwd_directory.csv the lower id is older, usually the internal directory.
            None => (false, directory_id.parse().unwrap_or(i64::MAX), row),
        }
    };
    let mut effective: FxHashMap<String, usize> = FxHashMap::default();
    let mut shadowed = 0u64;
    let mut shadowed_example = None;
    for (index, (_, row)) in users.rows.iter().enumerate() {
        let lower = lower_name(row, u_lower, u_name);
        match effective.get(&lower) {
            Some(&other) => {
                shadowed += 1;
                let other_row = &users.rows[other].1;
                let (winner, loser) = if order(cell(row, Some(u_directory)), index)
                    < order(cell(other_row, Some(u_directory)), other)
                {
                    effective.insert(lower.clone(), index);
                    (index, other)
                } else {
                    (other, index)
                };
                shadowed_example.get_or_insert((
                    users.rows[loser].0,
                    lower,
                    users.rows[winner].1[u_directory].clone(),
                ));
            }
            None => {
                effective.insert(lower, index);
            }
        }
    }
    if let Some((line, name, winner)) = shadowed_example {
        notes.push(Diagnostic::new(
            Location::line(&users.file, line),
            Some("directory_id"),
            format!(
                "{shadowed} users are in more than one user directory (first {}); as in Jira, the first active directory in cwd_directory order (here {}) wins and the others are left out",
                quoted(&name),
                quoted(&directory_label(&directories, &winner))
            ),
        ));
    }

    // User keys.
    let mut keys: FxHashMap<String, String> = FxHashMap::default();
    match find(folder, "app_user") {
        Some(path) => {
            let table = read_table(&path, encoding, &mut skipped, options)?;
            let key = table.require(&["user_key"])?;
            let lower = table.require(&["lower_user_name"])?;
            for (_, row) in &table.rows {
                keys.insert(cell(row, Some(lower)).to_lowercase(), cell(row, Some(key)).to_string());
            }
        }
        None => notes.push(Diagnostic::new(
            Location::file(&folder_name),
            None,
            "no app_user.csv: accounts are keyed by lower_user_name, not by Jira's user key (JIRAUSER10000...); export app_user too so the ids match what issues and permissions store",
        )),
    }

    let mut builder = Builder::new(&users.file, Layout::Csv, options);
    for (column, header) in [
        ("id", "user_key"),
        ("username", "user_name"),
        ("email", "email_address"),
        ("display_name", "display_name"),
        ("given_name", "first_name"),
        ("family_name", "last_name"),
        ("source_directory", "directory_id"),
    ] {
        builder.rename_column(column, header);
    }
    for diagnostic in skipped {
        builder.skip(diagnostic);
    }
    let mut warnings = Warnings::default();
    // lower user name -> (account id, directory id) of the effective user.
    let mut accounts: FxHashMap<String, (CompactString, String)> = FxHashMap::default();
    for (index, (line, row)) in users.rows.iter().enumerate() {
        let lower = lower_name(row, u_lower, u_name);
        if effective.get(&lower) != Some(&index) {
            continue;
        }
        let spot = Spot::line(*line);
        let active = match parse_flag(cell(row, u_active)) {
            Some(active) => active,
            None if cell(row, u_active).is_empty() => true,
            None => {
                builder.reject(
                    spot,
                    "",
                    Some("active"),
                    format!("expected 1 or 0, found {}", quoted(cell(row, u_active))),
                )?;
                continue;
            }
        };
        let mut text = |column: Option<usize>, header: &str| -> Option<CompactString> {
            let value = cell(row, column);
            if value.is_empty() {
                return None;
            }
            if let Some(kind) = mangling(value, false) {
                warnings.note(header, kind, *line, value);
                return None;
            }
            Some(value.into())
        };
        let directory_id = cell(row, Some(u_directory)).to_string();
        let id: CompactString = keys
            .get(&lower)
            .map_or_else(|| lower.as_str().into(), |k| k.as_str().into());
        let account = Account {
            id: id.clone(),
            username: text(Some(u_name), "user_name"),
            email: text(u_email, "email_address"),
            alias_emails: Vec::new(),
            display_name: text(u_display, "display_name"),
            given_name: text(u_first, "first_name"),
            family_name: text(u_last, "last_name"),
            active,
            source_directory: Some(directory_label(&directories, &directory_id).into()),
            email_verified: None,
        };
        builder.add_account(account, spot)?;
        accounts.insert(lower, (id, directory_id));
    }

    // Groups, named once across directories (Jira lists a group by name).
    let mut groups: FxHashSet<String> = FxHashSet::default();
    if let Some(path) = find(folder, "cwd_group") {
        let mut skipped = Vec::new();
        let table = read_table(&path, encoding, &mut skipped, options)?;
        builder.set_file(&table.file);
        builder.rename_column("name", "group_name");
        for diagnostic in skipped {
            builder.skip(diagnostic);
        }
        let name = table.require(&["group_name"])?;
        let lower = table.column(&["lower_group_name"]);
        let directory = table.column(&["directory_id"]);
        let mut rows: Vec<(usize, &(u64, Vec<String>))> = table.rows.iter().enumerate().collect();
        rows.sort_by_key(|(index, (_, row))| order(cell(row, directory), *index));
        for (_, (line, row)) in rows {
            let group_name = cell(row, Some(name));
            let id = match cell(row, lower) {
                "" => group_name.to_lowercase(),
                lower => lower.to_string(),
            };
            if groups.contains(&id) {
                continue;
            }
            let group = Group {
                id: id.as_str().into(),
                name: group_name.into(),
                display_name: None,
                members: Vec::new(),
            };
            if builder.add_group(group, Spot::line(*line))? {
                groups.insert(id);
            }
        }
    }

    if let Some(path) = find(folder, "cwd_membership") {
        let mut skipped = Vec::new();
        let table = read_table(&path, encoding, &mut skipped, options)?;
        builder.set_file(&table.file);
        builder.rename_column("group", "parent_name");
        builder.rename_column("member", "child_name");
        for diagnostic in skipped {
            builder.skip(diagnostic);
        }
        let kind = table.require(&["membership_type"])?;
        let parent = table.require(&["lower_parent_name", "parent_name"])?;
        let child = table.require(&["lower_child_name", "child_name"])?;
        let directory = table.column(&["directory_id"]);
        let mut seen: FxHashSet<(String, CompactString)> = FxHashSet::default();
        for (line, row) in &table.rows {
            let spot = Spot::line(*line);
            let group = cell(row, Some(parent)).to_lowercase();
            let child_name = cell(row, Some(child)).to_lowercase();
            let member: CompactString = match cell(row, Some(kind)).to_ascii_uppercase().as_str() {
                "GROUP_USER" => match accounts.get(&child_name) {
                    // A membership of a shadowed copy of the user is not the user's.
                    Some((id, user_directory))
                        if directory.is_none_or(|_| cell(row, directory) == user_directory) =>
                    {
                        id.clone()
                    }
                    Some(_) => continue,
                    None if effective.contains_key(&child_name) => continue, // skipped as invalid
                    None => {
                        let reason = format!(
                            "user {} is not in cwd_user.csv; export both tables at the same time",
                            quoted(&child_name)
                        );
                        builder.reject(spot, "", Some("child_name"), reason)?;
                        continue;
                    }
                },
                "GROUP_GROUP" => child_name.as_str().into(),
                other => {
                    let reason = format!(
                        "expected GROUP_USER or GROUP_GROUP, found {}",
                        quoted(other)
                    );
                    builder.reject(spot, "", Some("membership_type"), reason)?;
                    continue;
                }
            };
            if !groups.contains(&group) {
                // No cwd_group.csv: groups are known by the memberships that name them.
                let group_record = Group {
                    id: group.as_str().into(),
                    name: cell(row, Some(parent)).into(),
                    display_name: None,
                    members: Vec::new(),
                };
                if !builder.add_group(group_record, spot)? {
                    continue;
                }
                groups.insert(group.clone());
            }
            if seen.insert((group.clone(), member.clone())) {
                builder.add_member(group.as_str().into(), member, spot, 0);
            }
        }
    }

    let mut imported = builder.finish()?;
    imported.directory.name = crate::directory_name(&folder_name);
    let mut all_warnings = warnings.into_diagnostics(&users.file);
    all_warnings.extend(notes);
    imported.warnings = all_warnings;
    Ok(imported)
}

fn lower_name(row: &[String], lower: Option<usize>, name: usize) -> String {
    match cell(row, lower) {
        "" => cell(row, Some(name)).to_lowercase(),
        lower => lower.to_lowercase(),
    }
}

/// `1`/`0`, `true`/`false`, `t`/`f` (PostgreSQL), `Y`/`N`.
fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "t" | "y" => Some(true),
        "f" | "n" => Some(false),
        other => parse_bool(other).ok().flatten(),
    }
}

fn directory_label(directories: &FxHashMap<String, Directory>, id: &str) -> String {
    match directories.get(id) {
        Some(d) if !d.name.is_empty() => d.name.clone(),
        _ => id.to_string(),
    }
}
