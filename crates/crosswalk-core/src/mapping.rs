//! What the engine decides for one source identity, and why.

use std::borrow::Cow;
use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::directory::IdentityKind;

/// How a source identity was resolved: exactly the ten values of the User Mappings report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Resolution {
    Exception,
    Email,
    #[serde(rename = "ID")]
    Id,
    Username,
    Name,
    Provision,
    Passthrough,
    External,
    Default,
    Unresolved,
}

impl Resolution {
    pub const ALL: [Resolution; 10] = [
        Resolution::Exception,
        Resolution::Email,
        Resolution::Id,
        Resolution::Username,
        Resolution::Name,
        Resolution::Provision,
        Resolution::Passthrough,
        Resolution::External,
        Resolution::Default,
        Resolution::Unresolved,
    ];

    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Exception => "Exception",
            Resolution::Email => "Email",
            Resolution::Id => "ID",
            Resolution::Username => "Username",
            Resolution::Name => "Name",
            Resolution::Provision => "Provision",
            Resolution::Passthrough => "Passthrough",
            Resolution::External => "External",
            Resolution::Default => "Default",
            Resolution::Unresolved => "Unresolved",
        }
    }

    /// Case-insensitive parse of the report's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether the destination is an identity that already existed there.
    pub fn links_existing(self) -> bool {
        matches!(
            self,
            Resolution::Exception
                | Resolution::Email
                | Resolution::Id
                | Resolution::Username
                | Resolution::Name
                | Resolution::Default
        )
    }
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a source identity goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// An identity that exists in the destination directory, by its index there.
    Existing { index: u32 },
    /// A new destination identity to be created from the source's attributes.
    Provision,
    /// The source identity is used as-is on the destination.
    Passthrough,
    /// Kept as an external (guest) identity under its own address.
    External,
    /// A fixed destination named by the policy that is not in the destination directory.
    Named { id: String },
    /// Migrated as a former (deactivated) user: the content keeps the person's name, and no
    /// live destination account is linked or created. Only an exception rule decides it.
    FormerUser,
}

/// A fact that made a decision: which normalised key matched which fields on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub method: Resolution,
    /// The source field the key came from, e.g. `email`, `alias_emails[1]`, `display_name`.
    /// A small string: field names fit inline, so evidence allocates nothing for them.
    pub source_field: CompactString,
    pub destination_field: CompactString,
    /// The normalised key both sides share (inline when short, as most are).
    pub key: CompactString,
    /// What normalisation did to get there (case fold, domain alias...), empty if nothing.
    /// Usually one of a few fixed phrases, borrowed.
    pub note: Cow<'static, str>,
}

/// How sure the engine is, from 0 to 1, kept in thousandths so that the same inputs give
/// bit-for-bit the same mappings (and mappings stay `Eq`).
///
/// On a link it is how strongly the evidence says the two are one person; on a candidate,
/// the same for that pair; on a mapping that links nothing, how sure the engine is that no
/// destination identity is this one (one minus the best candidate's score).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(into = "f64", try_from = "f64")]
pub struct Confidence(u16);

impl Confidence {
    pub const NONE: Confidence = Confidence(0);
    pub const CERTAIN: Confidence = Confidence(1000);

    /// Exactly `thousandths` / 1000, at most 1.
    pub const fn from_thousandths(thousandths: u16) -> Confidence {
        Confidence(if thousandths > 1000 {
            1000
        } else {
            thousandths
        })
    }

    pub const fn thousandths(self) -> u16 {
        self.0
    }

    /// The nearest thousandth of `p`, clamped to 0..=1 (NaN is 0).
    pub fn from_probability(p: f64) -> Confidence {
        if p.is_nan() {
            Confidence(0)
        } else {
            Confidence((p.clamp(0.0, 1.0) * 1000.0).round() as u16)
        }
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1000.0
    }

    /// One minus this: how sure the engine is that the candidate is *not* the one.
    pub fn complement(self) -> Confidence {
        Confidence(1000 - self.0.min(1000))
    }
}

impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.as_f64()
    }
}

impl TryFrom<f64> for Confidence {
    type Error = String;
    fn try_from(p: f64) -> Result<Confidence, String> {
        if (0.0..=1.0).contains(&p) {
            Ok(Confidence::from_probability(p))
        } else {
            Err(format!("confidence {p} is not between 0 and 1"))
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Two decimals, rounded half up, with integers: this runs once per review candidate.
        let hundredths = (self.0 + 5) / 10;
        write!(f, "{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// A destination identity the engine considered but would not choose on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Index in the destination directory (accounts or groups, by the mapping's kind).
    pub index: u32,
    pub method: Resolution,
    /// Why it was considered. Fixed phrases are borrowed: a run can record a million
    /// candidates, and most of their reasons are one of a few sentences.
    pub reason: Cow<'static, str>,
    /// How strongly the evidence says this candidate is the same identity; candidates are
    /// listed best first.
    #[serde(default)]
    pub score: Confidence,
}

/// Something odd the reviewer should see, whatever the resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// More than one destination identity fit; nothing was chosen.
    Ambiguous,
    /// Several source identities claim the same destination identity.
    SharedDestination,
    /// A destination address differs from a source address only by confusable characters.
    LookAlike,
    /// An email address could not be used as a key.
    InvalidEmail,
    /// The matching destination address is not verified.
    UnverifiedEmail,
    /// The destination group is reserved by the platform and is never merged into.
    ReservedGroup,
    /// An exception rule named an identity that does not exist, or was ambiguous.
    BadException,
    /// The source or destination account is deactivated.
    Inactive,
}

/// A mapping's flags, in [`Flag`] order once the engine has finished. Held inline: there are
/// only eight kinds, and a heap allocation per flagged mapping is what a million would cost.
pub type Flags = SmallVec<[Flag; 8]>;

/// The engine's decision for one source identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub kind: IdentityKind,
    /// Index in the source directory (accounts or groups, by `kind`).
    pub source: u32,
    pub resolution: Resolution,
    pub target: Option<Target>,
    /// Why it was decided, skipped or flagged; empty when there is nothing to say.
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub candidates: Vec<Candidate>,
    pub flags: Flags,
    /// How sure the engine is of this decision (see [`Confidence`]).
    #[serde(default)]
    pub confidence: Confidence,
}

impl Mapping {
    pub fn is_ambiguous(&self) -> bool {
        self.flags.contains(&Flag::Ambiguous) || self.flags.contains(&Flag::SharedDestination)
    }

    pub fn is_flagged(&self) -> bool {
        !self.flags.is_empty()
    }

    /// Why the engine decided what it decided, in one paragraph for a reviewer: the
    /// resolution and its confidence, each piece of evidence, the candidates and the message.
    pub fn explanation(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let links = self.destination_index().is_some() && self.resolution != Resolution::Default;
        if links {
            parts.push(format!(
                "Linked by {} with confidence {}",
                self.resolution, self.confidence
            ));
        } else {
            parts.push(format!(
                "{} with confidence {} that no destination {} found is this one",
                self.resolution, self.confidence, self.kind
            ));
        }
        for evidence in &self.evidence {
            let mut sentence = if evidence.source_field == evidence.destination_field {
                format!(
                    "both sides' {} give {:?}",
                    evidence.source_field, evidence.key
                )
            } else {
                format!(
                    "the source's {} and the destination's {} give {:?}",
                    evidence.source_field, evidence.destination_field, evidence.key
                )
            };
            if !evidence.note.is_empty() {
                sentence.push_str(&format!(" ({})", evidence.note));
            }
            parts.push(sentence);
        }
        match self.candidates.as_slice() {
            [] => {}
            [one] => parts.push(format!(
                "one candidate for review, scored {}: {}",
                one.score, one.reason
            )),
            [best, ..] => parts.push(format!(
                "{} candidates for review, best scored {}: {}",
                self.candidates.len(),
                best.score,
                best.reason
            )),
        }
        if !self.message.is_empty() {
            parts.push(self.message.clone());
        }
        parts.join("; ")
    }

    /// The destination index when the target is an existing identity.
    pub fn destination_index(&self) -> Option<u32> {
        match self.target {
            Some(Target::Existing { index }) => Some(index),
            _ => None,
        }
    }
}

/// Counts for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub accounts: usize,
    pub groups: usize,
    /// Count per resolution, in report order, including zeros.
    pub by_resolution: Vec<(Resolution, usize)>,
    pub ambiguous: usize,
    pub flagged: usize,
    pub look_alikes: usize,
}

impl Summary {
    pub fn of(mappings: &[Mapping]) -> Summary {
        let mut counts = [0usize; 10];
        let mut summary = Summary::default();
        for mapping in mappings {
            counts[Resolution::ALL
                .iter()
                .position(|r| *r == mapping.resolution)
                .unwrap_or(9)] += 1;
            match mapping.kind {
                IdentityKind::Account => summary.accounts += 1,
                IdentityKind::Group => summary.groups += 1,
            }
            if mapping.is_ambiguous() {
                summary.ambiguous += 1;
            }
            if mapping.is_flagged() {
                summary.flagged += 1;
            }
            if mapping.flags.contains(&Flag::LookAlike) {
                summary.look_alikes += 1;
            }
        }
        summary.by_resolution = Resolution::ALL.into_iter().zip(counts).collect();
        summary
    }

    pub fn count(&self, resolution: Resolution) -> usize {
        self.by_resolution
            .iter()
            .find(|(r, _)| *r == resolution)
            .map_or(0, |(_, n)| *n)
    }
}
