//! Duplicate handling across waves. A migration runs in waves; each wave's fixes say how it
//! handles the identities it was given a fix for (merged into whom, migrated as a former
//! user, given which new email, excluded). A later wave that handles the same person
//! differently would make a second destination account for them (merged into A before, into
//! B now: both A and B exist; a tombstone before, a new email now: two accounts). Such a
//! switch is refused unless forced; what a wave records is computed here, as values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fixes::Fix;

/// How a wave handles one source identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "handling")]
pub enum Handling {
    /// Migrated as its own account: the survivor of a merge, or an identity without a fix.
    Keep,
    /// Merged into another source account.
    Merge { into: String },
    /// Migrated as a former user (no email, inactive).
    Tombstone,
    /// Migrated with this email.
    NewEmail { email: String },
    /// Not migrated.
    Exclude,
}

/// The destination account an identity becomes under a handling; two different ones for
/// one identity in two waves are two accounts for one person.
#[derive(Debug, PartialEq, Eq)]
enum Becomes {
    Itself,
    Other(String),
    FormerUser,
    WithEmail(String),
}

impl Handling {
    pub fn of_fix(fix: &Fix) -> Handling {
        match fix {
            Fix::Merge { into } => Handling::Merge { into: into.clone() },
            Fix::Tombstone => Handling::Tombstone,
            Fix::NewEmail { email } => Handling::NewEmail {
                email: email.trim().to_string(),
            },
            Fix::Exclude => Handling::Exclude,
        }
    }

    fn becomes(&self) -> Option<Becomes> {
        match self {
            Handling::Keep => Some(Becomes::Itself),
            Handling::Merge { into } => Some(Becomes::Other(into.clone())),
            Handling::Tombstone => Some(Becomes::FormerUser),
            // Addresses compare as the destination compares them: case does not count.
            Handling::NewEmail { email } => Some(Becomes::WithEmail(email.trim().to_lowercase())),
            Handling::Exclude => None,
        }
    }
}

impl std::fmt::Display for Handling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handling::Keep => f.write_str("kept as its own account"),
            Handling::Merge { into } => write!(f, "merged into {into}"),
            Handling::Tombstone => f.write_str("migrated as a former user"),
            Handling::NewEmail { email } => write!(f, "given the new email {email}"),
            Handling::Exclude => f.write_str("excluded"),
        }
    }
}

/// The handling a wave's fixes choose: each fix, and each merge survivor (without a fix of
/// its own) kept as its own account, so a later wave merging the survivor away is caught.
pub fn handling_of_fixes(fixes: &BTreeMap<String, Fix>) -> BTreeMap<String, Handling> {
    let mut handling: BTreeMap<String, Handling> = fixes
        .iter()
        .map(|(key, fix)| (key.clone(), Handling::of_fix(fix)))
        .collect();
    for fix in fixes.values() {
        if let Fix::Merge { into } = fix {
            handling.entry(into.clone()).or_insert(Handling::Keep);
        }
    }
    handling
}

/// One identity a wave would handle differently from an earlier one, making a second account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switch {
    pub source_key: String,
    pub before: Handling,
    pub now: Handling,
}

impl std::fmt::Display for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} before, {} now",
            self.source_key, self.before, self.now
        )
    }
}

/// What a wave records, and the switches it must be refused for unless forced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveChoices {
    /// The handling to record, by source key (the store writes only what differs).
    pub record: BTreeMap<String, Handling>,
    /// Switches that would make a second account for one identity, by source key.
    pub refused: Vec<Switch>,
}

/// Judges a wave's handling (`now`, from [`handling_of_fixes`]) against the scope's recorded
/// handling (`before`). An identity of the wave's source without a fix (`in_wave`) is
/// handled as [`Handling::Keep`]; an identity absent from the wave is not judged. A switch
/// is refused when the identity becomes an account both times and not the same one;
/// switching to or from exclusion makes no second account and is recorded like any choice.
pub fn judge_wave(
    before: &BTreeMap<String, Handling>,
    now: &BTreeMap<String, Handling>,
    in_wave: impl Fn(&str) -> bool,
) -> WaveChoices {
    let mut record = now.clone();
    for (key, earlier) in before {
        if !now.contains_key(key) && in_wave(key) && *earlier != Handling::Keep {
            record.insert(key.clone(), Handling::Keep);
        }
    }
    let refused = record
        .iter()
        .filter_map(|(key, handling)| {
            let earlier = before.get(key)?;
            match (earlier.becomes(), handling.becomes()) {
                (Some(a), Some(b)) if a != b => Some(Switch {
                    source_key: key.clone(),
                    before: earlier.clone(),
                    now: handling.clone(),
                }),
                _ => None,
            }
        })
        .collect();
    WaveChoices { record, refused }
}
