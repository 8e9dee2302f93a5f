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
pub fn accounts_share_evidence(source: &Account, destination: &Account, aliases: &DomainAliases) -> bool {
    if source.id == destination.id {
        return true;
    }
    let email_keys = |a: &Account| -> Vec<String> {
        a.all_emails().filter_map(|e| normalize::email_key(e, aliases).ok()).map(|k| k.key).collect()
    };
    let ours = email_keys(source);
    if !ours.is_empty() && email_keys(destination).iter().any(|k| ours.contains(k)) {
        return true;
    }
    let username = |a: &Account| {
        a.username.as_deref().map(|u| normalize::fold(u).into_owned()).filter(|u| !u.is_empty())
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
pub const TRUTH_COLUMNS: [&str; 5] = ["type", "source_id", "destination_id", "category", "linkable"];

#[derive(Debug)]
pub enum TruthCsvError {
    Csv(csv::Error),
    Io(std::io::Error),
    MissingColumn(&'static str),
    /// `line` is the 1-based line in the file (the header is line 1).
    BadRow {
        line: u64,
        problem: String,
    },
}

impl std::fmt::Display for TruthCsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TruthCsvError::Csv(e) => write!(f, "truth CSV: {e}"),
            TruthCsvError::Io(e) => write!(f, "truth CSV: {e}"),
            TruthCsvError::MissingColumn(c) => write!(f, "truth CSV has no `{c}` column"),
            TruthCsvError::BadRow { line, problem } => write!(f, "truth CSV line {line}: {problem}"),
        }
    }
}

impl std::error::Error for TruthCsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TruthCsvError::Csv(e) => Some(e),
            TruthCsvError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<csv::Error> for TruthCsvError {
    fn from(e: csv::Error) -> Self {
        TruthCsvError::Csv(e)
    }
}

impl From<std::io::Error> for TruthCsvError {
    fn from(e: std::io::Error) -> Self {
        TruthCsvError::Io(e)
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
    let mut input = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let headers = input.headers()?.clone();
    let column = |name: &'static str| -> Result<usize, TruthCsvError> {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
            .ok_or(TruthCsvError::MissingColumn(name))
    };
    let [kind_at, source_at, destination_at, category_at, linkable_at] =
        [column("type")?, column("source_id")?, column("destination_id")?, column("category")?, column("linkable")?];
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while input.read_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        let field = |at: usize| record.get(at).unwrap_or("");
        let bad = |problem: String| TruthCsvError::BadRow { line, problem };
        let kind = IdentityKind::parse(field(kind_at))
            .ok_or_else(|| bad(format!("type {:?} is neither account nor group", field(kind_at))))?;
        let source_id = field(source_at);
        if source_id.is_empty() {
            return Err(bad("source_id is empty".into()));
        }
        let destination_id = Some(field(destination_at)).filter(|d| !d.is_empty()).map(str::to_string);
        let linkable = match field(linkable_at).to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "y" => true,
            "false" | "no" | "0" | "n" | "" => false,
            other => return Err(bad(format!("linkable {other:?} is not true or false"))),
        };
        rows.push(TruthRow {
            kind,
            source_id: source_id.to_string(),
            destination_id,
            category: field(category_at).to_string(),
            linkable,
        });
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
        let mut dst = Account { email_verified: Some(false), active: false, ..person("d1", "JO.RAY@acme.com", "X") };
        assert!(accounts_share_evidence(&src, &dst, &renamed));
        assert!(!accounts_share_evidence(&src, &dst, &none), "no rename known: the addresses differ");
        dst.display_name = Some("ray, jo".into());
        assert!(accounts_share_evidence(&src, &dst, &none), "a name key in common is evidence too");
        let mut other = person("d2", "someone@acme.com", "Someone Else");
        assert!(!accounts_share_evidence(&src, &other, &renamed));
        other.username = Some("JoRay".into());
        let mut src = src;
        src.username = Some("joray".into());
        assert!(accounts_share_evidence(&src, &other, &none));
        assert!(accounts_share_evidence(&person("x", "a@b.com", "A"), &person("x", "c@d.com", "C"), &none));

        let group = |id: &str, name: &str| Group { id: id.into(), name: name.into(), ..Group::default() };
        assert!(groups_share_evidence(&group("1", "Devs"), &group("2", "DEVS")));
        assert!(!groups_share_evidence(&group("1", "Devs"), &group("2", "Ops")));
    }

    #[test]
    fn lenient_reading_and_errors() {
        let text =
            "Linkable,Category,Type,Source_ID,Destination_ID,extra\nyes,exact,user,a,b,x\n,new_person,account,c,,\n";
        let rows = read_truth_csv(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].linkable && !rows[1].linkable);
        assert_eq!(rows[0].kind, IdentityKind::Account);
        assert_eq!(rows[1].destination_id, None);
        let missing = read_truth_csv("type,source_id\n".as_bytes()).unwrap_err();
        assert!(matches!(missing, TruthCsvError::MissingColumn("destination_id")));
        let bad = read_truth_csv("type,source_id,destination_id,category,linkable\nrobot,a,,x,true\n".as_bytes())
            .unwrap_err();
        assert!(bad.to_string().contains("line 2"), "{bad}");
    }
}
