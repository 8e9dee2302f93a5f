//! The one-file CSV exports (every format but Jira's tables), read through their column
//! table in [`profiles`](super::profiles).

use std::io::Read;

use csv::ByteRecord;

use crosswalk_core::{Account, CompactString, Group};

use super::mangled::{Warnings, mangling};
use super::profiles::{ActiveStyle, ListStyle, Role, columns};
use super::{ExportFormat, Prepared, normalize_header};
use crate::builder::{Builder, Layout, Spot};
use crate::directory_csv::parse_bool;
use crate::error::{FormatError, Location, quoted};
use crate::{Imported, ReadOptions, csv_lines};

/// Where each field is in this file.
struct Bound {
    role: Role,
    index: usize,
    /// The header as the file spells it, for messages.
    header: String,
}

/// Reads a prepared (decoded, header found) export of `format`.
pub(crate) fn read_export_csv<R: Read>(
    name: &str,
    prepared: Prepared<R>,
    format: ExportFormat,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let Prepared {
        rest,
        header_cells,
        delimiter,
        lines_before,
    } = prepared;
    let normalized: Vec<String> = header_cells.iter().map(|h| normalize_header(h)).collect();
    let mut bound = Vec::new();
    for column in columns(format) {
        if let Some(index) = column
            .names
            .iter()
            .find_map(|n| normalized.iter().position(|h| h == n))
        {
            bound.push(Bound {
                role: column.role,
                index,
                header: header_cells[index].trim().to_string(),
            });
        }
    }
    let header_line = lines_before + 1;
    let Some(id_column) = bound.iter().find(|b| b.role == Role::Id).map(|b| b.index) else {
        let wanted = columns(format)
            .iter()
            .find(|c| c.role == Role::Id)
            .map(|c| c.names.join(" or "))
            .unwrap_or_default();
        return Err(FormatError::invalid(
            Location::line(name, header_line),
            None,
            format!(
                "this {} has no id column ({wanted}); export it with that column",
                format.title()
            ),
        ));
    };

    let (input, lines) = csv_lines::tee(rest, None);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let mut builder = Builder::new(name, Layout::Csv, options);
    for b in &bound {
        builder.rename_column(b.role.crosswalk_column(), &b.header);
    }
    let mut warnings = Warnings::default();
    let mut record = ByteRecord::new();
    let mut groups_seen: rustc_hash::FxHashSet<CompactString> = Default::default();
    let mut first = true;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            crate::directory_csv::csv_error(name, e, || lines.current_record_line() + lines_before)
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| lines.start_line(p)) + lines_before;
        lines.release(reader.position());
        if std::mem::take(&mut first) {
            continue; // the header, replayed
        }
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue; // Excel's trailing empty rows (`;;;;`)
        }
        let spot = Spot::line(line);
        if record.len() != header_cells.len() {
            let reason = format!(
                "expected {} fields like the header, found {}; the delimiter here is {}",
                header_cells.len(),
                record.len(),
                match delimiter {
                    b';' => "';'",
                    b'\t' => "a tab",
                    _ => "','",
                }
            );
            builder.reject(spot, "", None, reason)?;
            continue;
        }
        match parse_row(&record, &bound, id_column, line, &mut warnings) {
            Ok((account, groups)) => {
                let id = account.id.clone();
                builder.add_account(account, spot)?;
                for (group_id, group_name) in groups {
                    if groups_seen.insert(group_id.clone()) {
                        let group = Group {
                            id: group_id.clone(),
                            name: group_name,
                            display_name: None,
                            members: Vec::new(),
                        };
                        builder.add_group(group, spot)?;
                    }
                    builder.add_member(group_id, id.clone(), spot, 0);
                }
            }
            Err((field, reason)) => {
                if let Some(Ok(id)) = record.get(id_column).map(std::str::from_utf8) {
                    builder.forget(id, spot);
                }
                builder.reject(spot, "", field.as_deref(), reason)?;
            }
        }
    }
    let mut imported = builder.finish()?;
    imported.warnings = warnings.into_diagnostics(name);
    Ok(imported)
}

type RowError = (Option<String>, String);

/// One row as an account and the groups (id, name) it belongs to.
fn parse_row(
    record: &ByteRecord,
    bound: &[Bound],
    id_column: usize,
    line: u64,
    warnings: &mut Warnings,
) -> Result<(Account, Vec<(CompactString, CompactString)>), RowError> {
    let mut account = Account {
        active: true,
        ..Account::default()
    };
    let mut groups = Vec::new();
    let mut primary_from_proxies = None;
    for b in bound {
        let raw = record.get(b.index).unwrap_or_default();
        let Ok(value) = std::str::from_utf8(raw) else {
            return Err((
                Some(b.header.clone()),
                "is not valid UTF-8; if the file was saved in an ANSI code page, read it with --encoding windows-1252".into(),
            ));
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let is_list = matches!(b.role, Role::Aliases(_) | Role::Groups(_));
        // An id is kept whatever it looks like: it is the platform's key, not a name.
        if b.role != Role::Id
            && let Some(kind) = mangling(value, is_list)
        {
            warnings.note(&b.header, kind, line, value);
            continue;
        }
        let text = || Some(CompactString::from(value));
        match b.role {
            Role::Id => account.id = value.into(),
            Role::Username => account.username = text(),
            Role::Email => account.email = text(),
            Role::DisplayName => account.display_name = text(),
            Role::GivenName => account.given_name = text(),
            Role::FamilyName => account.family_name = text(),
            Role::Active(style) => {
                account.active =
                    parse_active(value, style).map_err(|reason| (Some(b.header.clone()), reason))?
            }
            Role::Aliases(_) => {
                for (address, primary) in proxy_addresses(value) {
                    if primary && primary_from_proxies.is_none() {
                        primary_from_proxies = Some(CompactString::from(address));
                    }
                    if !account
                        .alias_emails
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(address))
                    {
                        account.alias_emails.push(address.into());
                    }
                }
            }
            Role::Groups(style) => groups.extend(group_list(value, style)),
        }
    }
    if account.id.is_empty() {
        let header = bound
            .iter()
            .find(|b| b.index == id_column)
            .map(|b| b.header.clone());
        return Err((header, "is required: every account needs an id".into()));
    }
    if account.email.is_none() {
        account.email = primary_from_proxies;
    }
    // The primary address is not also an alias of itself.
    if let Some(email) = &account.email {
        account
            .alias_emails
            .retain(|a| !a.eq_ignore_ascii_case(email));
    }
    Ok((account, groups))
}

fn parse_active(value: &str, style: ActiveStyle) -> Result<bool, String> {
    let lower = value.to_ascii_lowercase();
    match style {
        ActiveStyle::Boolean => match parse_bool(value) {
            Ok(Some(active)) => Ok(active),
            _ => Err(format!("expected True or False, found {}", quoted(value))),
        },
        ActiveStyle::Status => {
            if lower == "active" || lower == "enabled" {
                Ok(true)
            } else if [
                "suspend",
                "deactivat",
                "inactive",
                "archived",
                "disabled",
                "closed",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                Ok(false)
            } else {
                Err(format!(
                    "expected Active, Suspended, Deactivated or Archived, found {}",
                    quoted(value)
                ))
            }
        }
        ActiveStyle::SlackStatus => Ok(!lower.contains("deactivated")),
    }
}

/// The SMTP addresses of a proxy list, each with whether it is the primary (`SMTP:`).
pub(crate) fn proxy_addresses(value: &str) -> Vec<(&str, bool)> {
    value
        .split(|c: char| matches!(c, ';' | ',' | '|') || c.is_whitespace())
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| match entry.split_once(':') {
            Some((prefix, address)) if prefix.eq_ignore_ascii_case("smtp") => {
                Some((address.trim(), prefix == "SMTP")).filter(|(a, _)| !a.is_empty())
            }
            // X500:, SIP:, X400:, EUM:... are not mail addresses.
            Some(_) => None,
            None => Some((entry, false)).filter(|(a, _)| a.contains('@')),
        })
        .collect()
}

fn group_list(value: &str, style: ListStyle) -> Vec<(CompactString, CompactString)> {
    match style {
        ListStyle::Names | ListStyle::ProxyAddresses => value
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(|g| (CompactString::from(g), CompactString::from(g)))
            .collect(),
        ListStyle::DistinguishedNames => value
            .split(';')
            .map(str::trim)
            .filter(|dn| !dn.is_empty())
            .map(|dn| {
                let first = dn.split(',').next().unwrap_or(dn);
                let name = first.split_once('=').map_or(first, |(_, v)| v).trim();
                (CompactString::from(dn), CompactString::from(name))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_addresses_keep_smtp_only_and_mark_the_primary() {
        let list = proxy_addresses(
            "SMTP:zoe@acme.com;smtp:zoe.muller@acme.com X500:/o=Acme/cn=zoe;sip:zoe@acme.com",
        );
        assert_eq!(
            list,
            [("zoe@acme.com", true), ("zoe.muller@acme.com", false)]
        );
        assert_eq!(proxy_addresses("a@b.c|nothing"), [("a@b.c", false)]);
    }

    #[test]
    fn member_of_dns_become_groups_named_by_their_cn() {
        let groups = group_list(
            "CN=Sales,OU=Groups,DC=acme,DC=com;CN=All Staff,DC=acme,DC=com",
            ListStyle::DistinguishedNames,
        );
        assert_eq!(groups[0].1, "Sales");
        assert_eq!(groups[1].0, "CN=All Staff,DC=acme,DC=com");
    }
}
