//! The user (and group) mapping files other migration tools import, written from a scope's
//! decisions and read back as exception rules.
//!
//! | `--format` | Tool | Shape |
//! |---|---|---|
//! | `spmt` | SharePoint Migration Tool | no header; `source,target,TRUE/FALSE` (is a group) |
//! | `gwm` | Google Workspace Migrate | no header; `source,destination` (UTF-8) |
//! | `google-dms` | Google data migration service | no header; `source,destination`, users only |
//! | `mover` | Mover.io | `Source User,Destination User`; a blank destination = no permission moved |
//! | `movebot` | Movebot | no header; `source,destination` |
//! | `sharegate` | ShareGate | `SourceValue,DestinationValue` |
//! | `dryviq` | DryvIQ account map | `source_id,source_username,source_name,source_caption,destination_id,...`, every field quoted |
//! | `dryviq-groups` | DryvIQ group map | the same columns, groups |
//! | `jcma` | Atlassian migration assistants' advanced user CSV | `UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType`, users only |
//!
//! Writing: identities without a destination (Unresolved) are left out of the files whose
//! tool has its own rule for unmapped identities (SPMT, Google, Movebot, ShareGate, DryvIQ),
//! and written with an empty destination where the format says that is how to mark them
//! (Mover, the JCMA CSV, whose rows cannot be left out). [`Exported`] lists them for the
//! CLI. Values are made spreadsheet-safe (a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`),
//! and the reader takes that `'` off again.
//!
//! Reading: every row becomes an [`ExceptionRule`]; Mover's domain rows (`corp.a.com,a.com`)
//! and Movebot's wildcard rows (`*@a.com,*@b.com`) become domain transforms instead. Every
//! row is checked and every bad row reported; nothing is returned when any is bad.

use std::io::{Read, Write};

use crosswalk_core::exceptions::{ExceptionRule, FORMER_USER_DESTINATION, IdentityRef};
use crosswalk_core::{IdentityKind, ReportRow, Resolution};

use crate::error::{Diagnostic, Location, quoted};
use crate::report::defuse_formula;

/// A peer tool's mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerFormat {
    Spmt,
    Gwm,
    GoogleDms,
    Mover,
    Movebot,
    ShareGate,
    DryvIq,
    DryvIqGroups,
    Jcma,
}

impl PeerFormat {
    pub const ALL: [PeerFormat; 9] = [
        PeerFormat::Spmt,
        PeerFormat::Gwm,
        PeerFormat::GoogleDms,
        PeerFormat::Mover,
        PeerFormat::Movebot,
        PeerFormat::ShareGate,
        PeerFormat::DryvIq,
        PeerFormat::DryvIqGroups,
        PeerFormat::Jcma,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PeerFormat::Spmt => "spmt",
            PeerFormat::Gwm => "gwm",
            PeerFormat::GoogleDms => "google-dms",
            PeerFormat::Mover => "mover",
            PeerFormat::Movebot => "movebot",
            PeerFormat::ShareGate => "sharegate",
            PeerFormat::DryvIq => "dryviq",
            PeerFormat::DryvIqGroups => "dryviq-groups",
            PeerFormat::Jcma => "jcma",
        }
    }

    pub fn parse(name: &str) -> Option<PeerFormat> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        PeerFormat::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .or(match name.as_str() {
                "google-workspace-migrate" => Some(PeerFormat::Gwm),
                "dms" => Some(PeerFormat::GoogleDms),
                "mover.io" => Some(PeerFormat::Mover),
                "atlassian" | "cma" | "ccma" => Some(PeerFormat::Jcma),
                _ => None,
            })
    }

    /// `spmt, gwm, ...` for messages.
    pub fn names() -> String {
        PeerFormat::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Which identities the format maps.
    fn maps(self, kind: IdentityKind) -> bool {
        match self {
            PeerFormat::GoogleDms | PeerFormat::DryvIq | PeerFormat::Jcma => {
                kind == IdentityKind::Account
            }
            PeerFormat::DryvIqGroups => kind == IdentityKind::Group,
            _ => true,
        }
    }

    /// Whether an identity without a destination is written with an empty one (else left out).
    fn marks_unmapped(self) -> bool {
        matches!(self, PeerFormat::Mover | PeerFormat::Jcma)
    }

    fn header(self) -> Option<&'static [&'static str]> {
        match self {
            PeerFormat::Mover => Some(&["Source User", "Destination User"]),
            PeerFormat::ShareGate => Some(&["SourceValue", "DestinationValue"]),
            PeerFormat::DryvIq | PeerFormat::DryvIqGroups => Some(&DRYVIQ_COLUMNS),
            PeerFormat::Jcma => Some(&JCMA_COLUMNS),
            _ => None,
        }
    }
}

const DRYVIQ_COLUMNS: [&str; 8] = [
    "source_id",
    "source_username",
    "source_name",
    "source_caption",
    "destination_id",
    "destination_username",
    "destination_name",
    "destination_caption",
];
const JCMA_COLUMNS: [&str; 7] = [
    "UserKey",
    "UserName",
    "ErrorType",
    "OldEmail",
    "NewEmail",
    "Tombstone",
    "AccountType",
];

/// An identity the file does not map, and how it was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub kind: IdentityKind,
    /// The source identity as the file would have named it.
    pub source: String,
    pub resolution: Resolution,
    /// `true`: written with an empty destination; `false`: left out of the file.
    pub marked: bool,
}

/// What [`write_peer_map`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// Rows with a destination.
    pub mapped: u64,
    /// Identities without one (Unresolved), marked or left out.
    pub unmapped: Vec<Unmapped>,
    /// Identities of a kind the format does not map (groups in a users-only file).
    pub other_kind: u64,
}

fn first_non_empty<'a>(values: &[&'a str]) -> &'a str {
    values
        .iter()
        .copied()
        .find(|v| !v.trim().is_empty())
        .unwrap_or("")
}

/// The source as the format names it: SPMT and Movebot by login where there is one (file
/// shares and on-premises SharePoint know `DOMAIN\user`), the others by address; groups by name.
fn source_value(format: PeerFormat, row: &ReportRow) -> String {
    match (row.kind, format) {
        (IdentityKind::Group, _) => {
            first_non_empty(&[&row.source_name, &row.source_id]).to_string()
        }
        (IdentityKind::Account, PeerFormat::Spmt) => {
            first_non_empty(&[&row.source_username, &row.source_name, &row.source_id]).to_string()
        }
        (IdentityKind::Account, _) => {
            first_non_empty(&[&row.source_name, &row.source_username, &row.source_id]).to_string()
        }
    }
}

fn destination_value(row: &ReportRow) -> String {
    first_non_empty(&[
        &row.destination_name,
        &row.destination_username,
        &row.destination_id,
    ])
    .to_string()
}

/// Whether the mapping gives the identity a destination.
fn is_mapped(row: &ReportRow) -> bool {
    row.resolution != Resolution::Unresolved && !destination_value(row).is_empty()
}

/// Writes the scope's rows (the 12-column report rows) as `format`'s file.
pub fn write_peer_map(
    format: PeerFormat,
    rows: impl IntoIterator<Item = ReportRow>,
    output: impl Write,
) -> std::io::Result<Exported> {
    let mut writer = csv::WriterBuilder::new()
        .quote_style(
            if matches!(format, PeerFormat::DryvIq | PeerFormat::DryvIqGroups) {
                csv::QuoteStyle::Always
            } else {
                csv::QuoteStyle::Necessary
            },
        )
        .from_writer(output);
    if let Some(header) = format.header() {
        writer.write_record(header)?;
    }
    let mut exported = Exported::default();
    for row in rows {
        if !format.maps(row.kind) {
            exported.other_kind += 1;
            continue;
        }
        let mapped = is_mapped(&row);
        let source = source_value(format, &row);
        if !mapped {
            exported.unmapped.push(Unmapped {
                kind: row.kind,
                source: source.clone(),
                resolution: row.resolution,
                marked: format.marks_unmapped(),
            });
            if !format.marks_unmapped() {
                continue;
            }
        } else {
            exported.mapped += 1;
        }
        let destination = if mapped {
            destination_value(&row)
        } else {
            String::new()
        };
        let is_group = if row.kind == IdentityKind::Group {
            "TRUE"
        } else {
            "FALSE"
        };
        let fields: Vec<String> = match format {
            PeerFormat::Spmt => vec![source, destination, is_group.to_string()],
            PeerFormat::DryvIq | PeerFormat::DryvIqGroups => vec![
                row.source_id.clone(),
                row.source_username.clone(),
                row.source_name.clone(),
                row.source_display_name.clone(),
                if mapped {
                    row.destination_id.clone()
                } else {
                    String::new()
                },
                if mapped {
                    row.destination_username.clone()
                } else {
                    String::new()
                },
                if mapped {
                    row.destination_name.clone()
                } else {
                    String::new()
                },
                if mapped {
                    row.destination_display_name.clone()
                } else {
                    String::new()
                },
            ],
            PeerFormat::Jcma => vec![
                row.source_id.clone(),
                row.source_username.clone(),
                if mapped {
                    String::new()
                } else {
                    "UNMAPPED".to_string()
                },
                row.source_name.clone(),
                destination,
                "false".to_string(),
                row.kind.as_str().to_string(),
            ],
            _ => vec![source, destination],
        };
        writer.write_record(fields.iter().map(|f| defuse_formula(f).into_owned()))?;
    }
    writer.flush()?;
    Ok(exported)
}

/// A domain rewrite read from a wildcard row: `[[transforms]] kind = "domain"` on the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRewrite {
    pub from: String,
    pub to: String,
    /// Where the row was (`mover.csv:4`).
    pub origin: String,
}

impl DomainRewrite {
    /// The policy table for it.
    pub fn to_toml(&self) -> String {
        format!(
            "[[transforms]]          # from {}\nkind = \"domain\"\nside = \"source\"\nfrom = {:?}\nto = {:?}\n",
            self.origin, self.from, self.to
        )
    }
}

/// What a peer's mapping file says, as Crosswalk rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRules {
    pub rules: Vec<ExceptionRule>,
    pub transforms: Vec<DomainRewrite>,
    /// Rows that map nothing (Mover's blank destination, a JCMA row left as it was).
    pub ignored: u64,
}

/// Takes off the `'` [`defuse_formula`] put before a value.
fn undefuse(value: &str) -> &str {
    let value = value.trim();
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

fn looks_like_domain(value: &str) -> bool {
    !value.contains('@')
        && value.contains('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*'))
}

/// Reads `format`'s file as rules. `Err` lists every bad row.
pub fn read_peer_map(
    format: PeerFormat,
    source_name: &str,
    input: impl Read,
) -> Result<PeerRules, Vec<Diagnostic>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut problems = Vec::new();
    let mut out = PeerRules::default();
    let mut seen: std::collections::HashMap<(IdentityKind, String), u64> =
        std::collections::HashMap::new();
    let mut header: Option<Vec<String>> = None;
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let reason = match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "is not valid UTF-8; save the file as UTF-8".to_string()
                    }
                    _ => error.to_string(),
                };
                problems.push(Diagnostic::new(
                    Location::line(source_name, line),
                    None,
                    reason,
                ));
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let cells: Vec<&str> = record.iter().map(undefuse).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let at = |field: Option<&str>, reason: String| {
            Diagnostic::new(Location::line(source_name, line), field, reason)
        };
        // The header: required where the format has one, skipped where a person added one.
        if header.is_none() {
            if let Some(expected) = format.header() {
                let found: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
                let missing: Vec<&str> = expected
                    .iter()
                    .copied()
                    .filter(|e| !found.iter().any(|f| f == &e.to_ascii_lowercase()))
                    .collect();
                if !missing.is_empty() {
                    problems.push(at(
                        None,
                        format!(
                            "the header must name {}; missing: {}",
                            expected.join(","),
                            missing.join(", ")
                        ),
                    ));
                    return Err(problems);
                }
                header = Some(found);
                continue;
            }
            header = Some(Vec::new());
            let first = cells[0].to_ascii_lowercase();
            if [
                "source",
                "source user",
                "sourcevalue",
                "source email",
                "source_email",
            ]
            .contains(&first.as_str())
            {
                continue;
            }
        }
        let column = |name: &str| -> &str {
            header
                .as_ref()
                .and_then(|h| h.iter().position(|c| c == &name.to_ascii_lowercase()))
                .and_then(|i| cells.get(i).copied())
                .unwrap_or("")
        };
        let transforms_before = out.transforms.len();
        let parsed: Result<Option<(IdentityKind, IdentityRef, IdentityRef)>, Diagnostic> = (|| {
            let two = |cells: &[&str]| -> Result<(String, String), Diagnostic> {
                if cells.len() < 2 {
                    return Err(at(
                        None,
                        format!(
                            "expected 2 fields (source, destination), found {}",
                            cells.len()
                        ),
                    ));
                }
                Ok((cells[0].to_string(), cells[1].to_string()))
            };
            match format {
                PeerFormat::Spmt => {
                    if cells.len() != 3 {
                        return Err(at(
                            None,
                            format!(
                                "expected 3 fields (source, target, TRUE/FALSE), found {}",
                                cells.len()
                            ),
                        ));
                    }
                    let kind = match cells[2].to_ascii_lowercase().as_str() {
                        "true" => IdentityKind::Group,
                        "false" | "" => IdentityKind::Account,
                        other => {
                            return Err(at(
                                Some("is group (3rd column)"),
                                format!(
                                    "expected TRUE (a group) or FALSE (a user), found {}",
                                    quoted(other)
                                ),
                            ));
                        }
                    };
                    Ok(Some((kind, any(cells[0]), any(cells[1]))))
                }
                PeerFormat::Gwm | PeerFormat::GoogleDms | PeerFormat::ShareGate => {
                    let (source, destination) = match format {
                        PeerFormat::ShareGate => (
                            column("SourceValue").to_string(),
                            column("DestinationValue").to_string(),
                        ),
                        _ => two(&cells)?,
                    };
                    Ok(Some((
                        IdentityKind::Account,
                        any(&source),
                        any(&destination),
                    )))
                }
                PeerFormat::Mover | PeerFormat::Movebot => {
                    let (mut source, mut destination) = match format {
                        PeerFormat::Mover => (
                            column("Source User").to_string(),
                            column("Destination User").to_string(),
                        ),
                        _ => two(&cells)?,
                    };
                    let mut kind = IdentityKind::Account;
                    for value in [&mut source, &mut destination] {
                        for (prefix, prefix_kind) in [
                            ("user:", IdentityKind::Account),
                            ("group:", IdentityKind::Group),
                        ] {
                            // `get`: a value whose first bytes straddle a character
                            // (`lS\u{8b}`) has no such prefix, and must not panic.
                            if value.len() > prefix.len()
                                && value
                                    .get(..prefix.len())
                                    .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
                            {
                                *value = value[prefix.len()..].trim().to_string();
                                kind = prefix_kind;
                            }
                        }
                    }
                    if destination.is_empty() && format == PeerFormat::Mover {
                        return Ok(None); // Mover: no permission moved for this user
                    }
                    // Wildcards: Movebot `*@a.com,*@b.com`, Mover `corp.a.com,a.com`.
                    let domain = |v: &str| {
                        v.strip_prefix("*@")
                            .map(str::to_string)
                            .or_else(|| looks_like_domain(v).then(|| v.to_string()))
                    };
                    if source.contains('*')
                        || (format == PeerFormat::Mover && looks_like_domain(&source))
                    {
                        let (Some(from), Some(to)) = (domain(&source), domain(&destination)) else {
                            return Err(at(
                                Some("source"),
                                format!(
                                    "{} -> {}: only a domain for a domain becomes a transform (*@a.com,*@b.com or a.com,b.com); map other wildcards with a policy transform",
                                    quoted(&source),
                                    quoted(&destination)
                                ),
                            ));
                        };
                        if from == "*" || to.contains('*') {
                            return Err(at(
                                Some("source"),
                                format!(
                                    "{} -> {}: name the source domain (*@a.com)",
                                    quoted(&source),
                                    quoted(&destination)
                                ),
                            ));
                        }
                        out.transforms.push(DomainRewrite {
                            from,
                            to,
                            origin: format!("{source_name}:{line}"),
                        });
                        return Ok(None);
                    }
                    Ok(Some((kind, any(&source), any(&destination))))
                }
                PeerFormat::DryvIq | PeerFormat::DryvIqGroups => {
                    let kind = if format == PeerFormat::DryvIqGroups {
                        IdentityKind::Group
                    } else {
                        IdentityKind::Account
                    };
                    let side = |prefix: &str| -> IdentityRef {
                        let (id, username, name) = (
                            column(&format!("{prefix}_id")),
                            column(&format!("{prefix}_username")),
                            column(&format!("{prefix}_name")),
                        );
                        if !name.is_empty() {
                            if name.contains('@') && kind == IdentityKind::Account {
                                IdentityRef::Email(name.into())
                            } else {
                                any(name)
                            }
                        } else if !id.is_empty() {
                            IdentityRef::Id(id.into())
                        } else {
                            any(username)
                        }
                    };
                    let (source, destination) = (side("source"), side("destination"));
                    if destination.value().is_empty() {
                        return Ok(None);
                    }
                    Ok(Some((kind, source, destination)))
                }
                PeerFormat::Jcma => {
                    let key = column("UserKey");
                    let tombstone = column("Tombstone");
                    let new_email = column("NewEmail");
                    let tombstone = match tombstone.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" | "" => false,
                        other => {
                            return Err(at(
                                Some("Tombstone"),
                                format!("expected true or false, found {}", quoted(other)),
                            ));
                        }
                    };
                    let destination = if tombstone {
                        IdentityRef::Any(FORMER_USER_DESTINATION.into())
                    } else if new_email.is_empty() {
                        return Ok(None);
                    } else {
                        IdentityRef::Email(new_email.into())
                    };
                    if key.is_empty() {
                        return Err(at(
                            Some("UserKey"),
                            "is required: the source user's key".into(),
                        ));
                    }
                    Ok(Some((
                        IdentityKind::Account,
                        IdentityRef::Id(key.into()),
                        destination,
                    )))
                }
            }
        })(
        );
        match parsed {
            Err(problem) => problems.push(problem),
            Ok(None) if out.transforms.len() == transforms_before => out.ignored += 1,
            Ok(None) => {}
            Ok(Some((kind, source, destination))) => {
                let problem = [("source", &source), ("destination", &destination)]
                    .into_iter()
                    .find_map(|(field, value)| {
                        if value.value().trim().is_empty() {
                            Some((field, "is empty; every row names both sides".to_string()))
                        } else if value.value() == FORMER_USER_DESTINATION {
                            None
                        } else {
                            crosswalk_core::directory::identifier_problem(value.value())
                                .map(|p| (field, p))
                        }
                    });
                if let Some((field, reason)) = problem {
                    problems.push(at(Some(field), reason));
                    continue;
                }
                let key = (kind, source.value().to_lowercase());
                if let Some(first) = seen.get(&key) {
                    problems.push(at(
                        Some("source"),
                        format!("{} {} is already mapped on line {first}; one source maps to one destination", kind, quoted(source.value())),
                    ));
                    continue;
                }
                seen.insert(key, line);
                out.rules.push(ExceptionRule {
                    kind,
                    source,
                    destination,
                    origin: format!("{source_name}:{line}"),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A value the file does not qualify: matched against id, username, then email (and a
/// group's name), as Crosswalk's own exceptions do for a bare value.
fn any(value: &str) -> IdentityRef {
    IdentityRef::Any(value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for format in PeerFormat::ALL {
            assert_eq!(PeerFormat::parse(format.name()), Some(format));
        }
        assert_eq!(PeerFormat::parse("ShareGate"), Some(PeerFormat::ShareGate));
    }

    /// Found by the `peer_map` fuzz target: a value whose fifth byte is inside a character
    /// (`abcdé`: `é` is bytes 4 and 5) was sliced there when checked for a `user:` prefix.
    #[test]
    fn a_value_with_a_character_across_the_prefix_length_reads() {
        let read = read_peer_map(
            PeerFormat::Movebot,
            "m.csv",
            "abcdé@a.com,b@b.com\n".as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(read.rules.len(), 1);
        assert_eq!(read.rules[0].source.value(), "abcdé@a.com");
        // The fuzzer's own input: no panic, whatever the verdict.
        let _ = read_peer_map(PeerFormat::Movebot, "m.csv", &b"\x00\x00lS\xc2\x8b,!"[..]);
        let _ = read_peer_map(
            PeerFormat::Mover,
            "m.csv",
            "Source User,Destination User\ngroué:x,a\n".as_bytes(),
        );
    }

    #[test]
    fn defused_values_come_back() {
        assert_eq!(undefuse("'-admin"), "-admin");
        assert_eq!(undefuse("'quoted"), "'quoted");
    }
}
