//! The FEBRL4 labelled set as a directory pair with truth.
//!
//! FEBRL4 (shipped in `testdata/febrl4/`, from the `recordlinkage` Python package) holds
//! 5,000 original person records (`dataset4a.csv`, ids `rec-N-org`) and one corrupted
//! duplicate of each (`dataset4b.csv`, ids `rec-N-dup-0`). The duplicates carry typos,
//! missing and swapped name parts. There are no addresses, so this set measures the Name
//! tier alone:
//!
//! - source accounts (4a) have no email at all;
//! - destination accounts (4b) get `user<hash of rec_id>@org.example`, so they sit in an
//!   organisation domain (the Name tier's condition, with a policy whose
//!   `name.organisation_domains = ["org.example"]`) while no address can ever match across
//!   the sides, and the address says nothing about the name;
//! - ids differ across the sides (`-org` / `-dup-0`), so the ID tier never links either.
//!
//! Truth: each `rec-N-org` is `rec-N-dup-0`. Its category says what separates the two
//! names once normalised, and `linkable` is false when they share no name key: no
//! exact-key method can link those, and the report counts them apart.

use std::path::Path;

use crosswalk_core::{Account, Directory, IdentityKind};

use crate::error::EvalError;
use crate::truth::{Truth, shares_a_key};

/// The organisation domain of FEBRL4's destination addresses.
pub const FEBRL4_ORG_DOMAIN: &str = "org.example";

/// Category of a truth row whose names have the same key on both sides.
pub const CATEGORY_SAME_NAME: &str = "name_same";
/// The name keys differ and one side lacks a given name or a surname.
pub const CATEGORY_NAME_PART_MISSING: &str = "name_part_missing";
/// Both sides have both name parts, but the keys differ (typo, nickname, OCR error...).
pub const CATEGORY_NAME_DIFFERS: &str = "name_differs";
/// The original has no counterpart in the other file (does not happen in FEBRL4).
pub const CATEGORY_NO_COUNTERPART: &str = "no_counterpart";

/// A source and a destination directory with the truth about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledPair {
    pub source: Directory,
    pub destination: Directory,
    pub truth: Vec<Truth>,
}

impl From<crosswalk_synth::GeneratedPair> for LabelledPair {
    fn from(pair: crosswalk_synth::GeneratedPair) -> LabelledPair {
        LabelledPair {
            source: pair.source,
            destination: pair.destination,
            truth: pair.truth.into_iter().map(Truth::from).collect(),
        }
    }
}

/// One FEBRL record: only the fields an account can hold are kept.
struct Record {
    rec_id: String,
    given: String,
    surname: String,
}

/// Builds the pair from the text of `dataset4a.csv` (the source) and `dataset4b.csv`
/// (the destination). Pure: no file system.
pub fn febrl4_pair(a_csv: &str, b_csv: &str) -> Result<LabelledPair, EvalError> {
    let a = read_records(a_csv, "dataset4a.csv")?;
    let b = read_records(b_csv, "dataset4b.csv")?;

    let source_accounts: Vec<Account> = a.iter().map(|r| account(r, None)).collect();
    let mut destination_accounts = Vec::with_capacity(b.len());
    let mut seen_emails = std::collections::HashSet::with_capacity(b.len());
    for record in &b {
        let email = format!(
            "user{:016x}@{FEBRL4_ORG_DOMAIN}",
            fnv1a64(record.rec_id.as_bytes())
        );
        if !seen_emails.insert(email.clone()) {
            return Err(EvalError::Csv {
                file: "dataset4b.csv".into(),
                line: None,
                problem: format!(
                    "the address derived for {} collides with another record's",
                    record.rec_id
                ),
            });
        }
        destination_accounts.push(account(record, Some(email)));
    }
    let source = Directory::new("febrl4a", source_accounts, vec![]).map_err(|source| {
        EvalError::Directory {
            file: "dataset4a.csv".into(),
            cause: source,
        }
    })?;
    let destination =
        Directory::new("febrl4b", destination_accounts, vec![]).map_err(|source| {
            EvalError::Directory {
                file: "dataset4b.csv".into(),
                cause: source,
            }
        })?;

    // Entity number -> destination index; FEBRL4 has exactly one duplicate per original.
    let mut by_entity: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, record) in b.iter().enumerate() {
        by_entity
            .entry(entity_of(&record.rec_id))
            .or_default()
            .push(i);
    }
    let mut truth = Vec::with_capacity(a.len());
    for (i, record) in a.iter().enumerate() {
        let matches = by_entity
            .get(entity_of(&record.rec_id))
            .map_or(&[][..], Vec::as_slice);
        let row = match matches {
            [] => Truth {
                kind: IdentityKind::Account,
                source_id: record.rec_id.clone(),
                destination_id: None,
                category: CATEGORY_NO_COUNTERPART.into(),
                linkable: false,
            },
            [j] => {
                let (ours, theirs) = (&source.accounts[i], &destination.accounts[*j]);
                let linkable = shares_a_key(ours, theirs);
                let category = if linkable {
                    CATEGORY_SAME_NAME
                } else if [&record.given, &record.surname, &b[*j].given, &b[*j].surname]
                    .iter()
                    .any(|part| part.is_empty())
                {
                    CATEGORY_NAME_PART_MISSING
                } else {
                    CATEGORY_NAME_DIFFERS
                };
                debug_assert_eq!(
                    linkable,
                    ours.name_keys()
                        .iter()
                        .any(|k| theirs.name_keys().contains(k))
                );
                Truth {
                    kind: IdentityKind::Account,
                    source_id: record.rec_id.clone(),
                    destination_id: Some(theirs.id.to_string()),
                    category: category.into(),
                    linkable,
                }
            }
            _ => {
                return Err(EvalError::Csv {
                    file: "dataset4b.csv".into(),
                    line: None,
                    problem: format!(
                        "{} has more than one duplicate; FEBRL4 has exactly one",
                        record.rec_id
                    ),
                });
            }
        };
        truth.push(row);
    }
    Ok(LabelledPair {
        source,
        destination,
        truth,
    })
}

/// The largest FEBRL file read: the real ones are about 0.5 MB each.
pub const MAX_FEBRL_FILE_BYTES: u64 = 64 << 20;

/// Reads `dataset4a.csv` and `dataset4b.csv` from `dir` (normally `testdata/febrl4`).
/// Errors name the files by their paths.
pub fn load_febrl4(dir: &Path) -> Result<LabelledPair, EvalError> {
    use std::io::Read;
    let read = |name: &str| {
        let path = dir.join(name);
        let io = |cause| EvalError::Io {
            path: path.display().to_string(),
            cause,
        };
        let mut text = String::new();
        std::fs::File::open(&path)
            .map_err(io)?
            .take(MAX_FEBRL_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_FEBRL_FILE_BYTES {
            return Err(EvalError::Csv {
                file: path.display().to_string(),
                line: None,
                problem: format!(
                    "longer than {} MiB; FEBRL4's files are about 0.5 MB",
                    MAX_FEBRL_FILE_BYTES >> 20
                ),
            });
        }
        Ok(text)
    };
    febrl4_pair(&read("dataset4a.csv")?, &read("dataset4b.csv")?).map_err(|error| match error {
        EvalError::Csv {
            file,
            line,
            problem,
        } => EvalError::Csv {
            file: dir.join(file).display().to_string(),
            line,
            problem,
        },
        EvalError::Directory { file, cause } => EvalError::Directory {
            file: dir.join(file).display().to_string(),
            cause,
        },
        other => other,
    })
}

fn account(record: &Record, email: Option<String>) -> Account {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.into());
    let display = [record.given.as_str(), record.surname.as_str()]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    Account {
        id: record.rec_id.as_str().into(),
        username: None,
        email: email.map(Into::into),
        alias_emails: vec![],
        display_name: non_empty(&display),
        given_name: non_empty(&record.given),
        family_name: non_empty(&record.surname),
        active: true,
        source_directory: None,
        email_verified: None,
    }
}

/// `rec-123-org` and `rec-123-dup-0` are both entity `123`.
fn entity_of(rec_id: &str) -> &str {
    let rest = rec_id.strip_prefix("rec-").unwrap_or(rec_id);
    rest.split('-').next().unwrap_or(rest)
}

fn read_records(text: &str, file: &str) -> Result<Vec<Record>, EvalError> {
    let csv_error = |problem: String| EvalError::Csv {
        file: file.into(),
        line: None,
        problem,
    };
    // The csv crate's own message counts records ("record 2"); a person counts lines.
    let located = |error: csv::Error| EvalError::Csv {
        file: file.into(),
        line: error.position().map(csv::Position::line),
        problem: match error.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => {
                format!("{len} fields, where the header has {expected_len}")
            }
            _ => error.to_string(),
        },
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(located)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| csv_error(format!("no `{name}` column")))
    };
    let (id_col, given_col, surname_col) =
        (column("rec_id")?, column("given_name")?, column("surname")?);
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(located)?;
        let field = |i: usize| row.get(i).unwrap_or_default().to_string();
        let rec_id = field(id_col);
        if rec_id.is_empty() {
            return Err(EvalError::Csv {
                file: file.into(),
                line: row.position().map(csv::Position::line),
                problem: "empty rec_id".into(),
            });
        }
        records.push(Record {
            rec_id,
            given: field(given_col),
            surname: field(surname_col),
        });
    }
    Ok(records)
}

/// FNV-1a, 64 bits: a stable hash (unlike `std`'s, which may change between releases).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "rec_id, given_name, surname, street_number\n\
        rec-1-org, john, smith, 1\n\
        rec-2-org, mary, jones, 2\n\
        rec-3-org, , brown, 3\n";
    const B: &str = "rec_id, given_name, surname, street_number\n\
        rec-2-dup-0, mary, jomes, 2\n\
        rec-1-dup-0, smith, john, 1\n\
        rec-3-dup-0, kate, brown, 3\n";

    /// Errors about a FEBRL file name it as `file:line`, the line an editor shows.
    #[test]
    fn errors_name_the_file_and_line() {
        let no_id = "rec_id, given_name, surname\nrec-1-org, john, smith\n, mary, jones\n";
        assert_eq!(
            febrl4_pair(no_id, B).unwrap_err().to_string(),
            "dataset4a.csv:3: empty rec_id"
        );
        let short = "rec_id, given_name, surname\nrec-1-org, john\n";
        assert_eq!(
            febrl4_pair(short, B).unwrap_err().to_string(),
            "dataset4a.csv:2: 2 fields, where the header has 3"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dataset4a.csv"), no_id).unwrap();
        std::fs::write(dir.path().join("dataset4b.csv"), B).unwrap();
        let error = load_febrl4(dir.path()).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{}:3: empty rec_id",
                dir.path().join("dataset4a.csv").display()
            )
        );
    }

    #[test]
    fn builds_accounts_and_truth() {
        let pair = febrl4_pair(A, B).unwrap();
        assert_eq!(pair.source.accounts.len(), 3);
        assert_eq!(pair.destination.accounts.len(), 3);
        let s = &pair.source.accounts[2];
        assert_eq!(s.display_name.as_deref(), Some("brown"));
        assert_eq!(s.given_name, None);
        assert_eq!(s.email, None);
        let d = &pair.destination.accounts[0];
        assert_eq!(d.display_name.as_deref(), Some("mary jomes"));
        assert!(d.email.as_deref().unwrap().ends_with("@org.example"));
        assert!(!d.email.as_deref().unwrap().contains("mary"));

        let t: Vec<(&str, Option<&str>, &str, bool)> = pair
            .truth
            .iter()
            .map(|t| {
                (
                    t.source_id.as_str(),
                    t.destination_id.as_deref(),
                    t.category.as_str(),
                    t.linkable,
                )
            })
            .collect();
        assert_eq!(
            t,
            [
                ("rec-1-org", Some("rec-1-dup-0"), CATEGORY_SAME_NAME, true),
                (
                    "rec-2-org",
                    Some("rec-2-dup-0"),
                    CATEGORY_NAME_DIFFERS,
                    false
                ),
                (
                    "rec-3-org",
                    Some("rec-3-dup-0"),
                    CATEGORY_NAME_PART_MISSING,
                    false
                ),
            ]
        );
    }

    #[test]
    fn refuses_files_without_the_columns() {
        assert!(matches!(
            febrl4_pair("id,name\n1,x\n", B),
            Err(EvalError::Csv { .. })
        ));
    }
}
