//! The scope store's own row types. Core's types are not the storage format: every value
//! that reaches the database is one of these, built by an explicit conversion, so renaming a
//! field in crosswalk-core cannot silently change what is stored or how it is compared.

use std::fmt;

use crosswalk_core::{Directory, IdentityKind, Mapping, ReportRow, Resolution, Target};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{ScopeError, ScopeResult};

/// The longest scope, job or caller name accepted.
pub const MAX_NAME_LEN: usize = 200;
/// The most keys one batch look-up, and the most mappings one page, may hold.
pub const MAX_BATCH: usize = 10_000;

/// Checks a scope, job or caller name: not blank, no control characters, not too long.
pub fn check_name(what: &str, name: &str) -> ScopeResult<()> {
    if name.trim().is_empty() {
        return Err(ScopeError::invalid(format!(
            "the {what} name is empty; give it a name"
        )));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ScopeError::invalid(format!(
            "the {what} name is longer than {MAX_NAME_LEN} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ScopeError::invalid(format!(
            "the {what} name {name:?} holds a control character"
        )));
    }
    Ok(())
}

/// The platform a scope migrates from, read from its source label. It decides which
/// platform-prefixed key forms (`jira.userkey/…`) a look-up understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourcePlatform {
    Jira,
    Confluence,
    Other,
}

impl SourcePlatform {
    /// The label's first word decides: `jira-server https://…` is Jira, `confluence-dc …`
    /// Confluence; anything else is Other (which understands `email/…` only).
    pub fn from_label(label: &str) -> SourcePlatform {
        let first = label
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if first.starts_with("jira") {
            SourcePlatform::Jira
        } else if first.starts_with("confluence") {
            SourcePlatform::Confluence
        } else {
            SourcePlatform::Other
        }
    }
}

/// What creating a scope needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScope {
    pub name: String,
    /// The source instance, e.g. `jira-server https://jira.acme.local`.
    pub source_label: String,
    /// The destination instance, e.g. `atlassian-cloud https://acme.atlassian.net`.
    pub destination_label: String,
}

/// A scope: one source instance paired with one destination instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRow {
    pub name: String,
    pub source_label: String,
    pub source_platform: SourcePlatform,
    pub destination_label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// A job (a transfer): unique by name within its scope, known outside by its transfer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub scope: String,
    pub name: String,
    pub transfer_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// How many runs it has had.
    pub runs: u32,
}

/// What a run changed in its scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub added: u64,
    pub changed: u64,
    /// Mappings whose source identity is gone, marked removed (never deleted).
    pub removed: u64,
    pub unchanged: u64,
}

impl RunCounts {
    /// How many revisions the run recorded.
    pub fn revisions(&self) -> u64 {
        self.added + self.changed + self.removed
    }
}

/// One execution of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub scope: String,
    pub job: String,
    pub transfer_id: Uuid,
    /// 1 for the job's first run, 2 for the next...
    pub number: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub who: String,
    pub counts: RunCounts,
    /// The scope's policy version and exceptions version the run resolved with.
    pub policy_version: u32,
    pub exceptions_version: u32,
    /// Content hashes of the two directories it resolved.
    pub source_content: String,
    pub destination_content: String,
    /// Problems that belong to no single mapping (an exception naming nobody...).
    pub warnings: Vec<String>,
}

/// A mapping namespace: `identity:user`, `identity:group` (written by resolution), or an
/// app's `product:entity` (`confluence:page`, `jira:issue`), written by callers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Namespace(String);

impl Namespace {
    pub const IDENTITY_USER: &'static str = "identity:user";
    pub const IDENTITY_GROUP: &'static str = "identity:group";
    const MAX_PART_LEN: usize = 64;

    pub fn identity_user() -> Namespace {
        Namespace(Self::IDENTITY_USER.to_string())
    }

    pub fn identity_group() -> Namespace {
        Namespace(Self::IDENTITY_GROUP.to_string())
    }

    /// The identity namespace of a kind of identity.
    pub fn identity(kind: IdentityKind) -> Namespace {
        match kind {
            IdentityKind::Account => Namespace::identity_user(),
            IdentityKind::Group => Namespace::identity_group(),
        }
    }

    /// Reads `product:entity`: two parts of lowercase ASCII letters, digits, `_`, `-` or `.`,
    /// each starting with a letter, at most 64 characters. `identity:` holds only `user` and
    /// `group`.
    pub fn parse(text: &str) -> ScopeResult<Namespace> {
        let refuse = |why: &str| {
            ScopeError::invalid(format!(
                "namespace {text:?} {why}; write product:entity, e.g. identity:user, confluence:page, jira:issue"
            ))
        };
        let Some((product, entity)) = text.split_once(':') else {
            return Err(refuse("has no ':'"));
        };
        for part in [product, entity] {
            let mut chars = part.chars();
            match chars.next() {
                None => return Err(refuse("has an empty part")),
                Some(c) if !c.is_ascii_lowercase() => {
                    return Err(refuse(
                        "has a part that does not start with a lowercase letter",
                    ));
                }
                Some(_) => {}
            }
            if part.len() > Self::MAX_PART_LEN {
                return Err(refuse("has a part longer than 64 characters"));
            }
            if !chars.all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            }) {
                return Err(refuse(
                    "holds a character other than a-z, 0-9, '_', '-' and '.'",
                ));
            }
        }
        if product == "identity" && !matches!(entity, "user" | "group") {
            return Err(refuse(
                "is not one of the identity namespaces (identity:user, identity:group)",
            ));
        }
        Ok(Namespace(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Written by resolution (a run), not by callers.
    pub fn is_identity(&self) -> bool {
        self.0.starts_with("identity:")
    }

    /// The kind of identity an identity namespace holds.
    pub fn identity_kind(&self) -> Option<IdentityKind> {
        match self.0.as_str() {
            Self::IDENTITY_USER => Some(IdentityKind::Account),
            Self::IDENTITY_GROUP => Some(IdentityKind::Group),
            _ => None,
        }
    }
}

impl TryFrom<String> for Namespace {
    type Error = ScopeError;
    fn try_from(text: String) -> ScopeResult<Namespace> {
        Namespace::parse(&text)
    }
}

impl From<Namespace> for String {
    fn from(namespace: Namespace) -> String {
        namespace.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest source key or app value accepted.
pub const MAX_KEY_LEN: usize = 1024;
pub const MAX_APP_VALUE_LEN: usize = 16 * 1024;

/// Checks a source key (or an app value): not empty, no control characters, not too long.
pub fn check_key(what: &str, key: &str, max: usize) -> ScopeResult<()> {
    if key.is_empty() {
        return Err(ScopeError::invalid(format!("the {what} is empty")));
    }
    if key.len() > max {
        return Err(ScopeError::invalid(format!(
            "the {what} is longer than {max} bytes"
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(ScopeError::invalid(format!(
            "the {what} {key:?} holds a control character"
        )));
    }
    Ok(())
}

/// One side of an identity as the report shows it: for accounts `name` is the email, for
/// groups the group name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub display_name: String,
}

/// A piece of evidence, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub method: String,
    pub source_field: String,
    pub destination_field: String,
    pub key: String,
    pub note: String,
}

/// A candidate, as stored: it names the destination identity by its id and fields, not by
/// an index into one import of the destination directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateRow {
    pub destination: SideRow,
    pub method: String,
    pub reason: String,
    /// Thousandths, as core's confidence.
    pub score: u16,
}

/// The value of an identity mapping: where the source identity goes and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityValue {
    pub source: SideRow,
    /// Every address of the source account (primary first, then aliases): alternate keys.
    pub source_emails: Vec<String>,
    pub destination: SideRow,
    /// The report's spelling (`Email`, `ID`, `Exception`...).
    pub resolution: String,
    /// How the target was chosen: `existing`, `provision`, `passthrough`, `external`,
    /// `named`, `former_user`, or empty when there is none.
    pub target: String,
    pub message: String,
    pub evidence: Vec<EvidenceRow>,
    pub candidates: Vec<CandidateRow>,
    /// Flag names, snake_case.
    pub flags: Vec<String>,
    /// Thousandths, as core's confidence.
    pub confidence: u16,
}

impl IdentityValue {
    /// [`MappingValue::digest_of_json`] of this value stored as a `MappingValue::Identity`:
    /// the digest a run compares it by, without cloning the value into a `MappingValue`.
    pub fn digest(&self) -> [u8; 16] {
        #[derive(Serialize)]
        #[serde(tag = "type", content = "value", rename_all = "snake_case")]
        enum Borrowed<'a> {
            Identity(&'a IdentityValue),
        }
        // A value of plain strings, numbers and vectors always serialises.
        MappingValue::digest_of_json(
            &serde_json::to_string(&Borrowed::Identity(self)).unwrap_or_default(),
        )
    }

    /// The mapping as a row of the 12-column report, under `job`.
    pub fn report_row(&self, kind: IdentityKind, job: &str) -> ScopeResult<ReportRow> {
        let resolution = Resolution::parse(&self.resolution).ok_or_else(|| {
            ScopeError::corrupt(format!(
                "mapping {:?} has an unknown resolution {:?}",
                self.source.id, self.resolution
            ))
        })?;
        Ok(ReportRow {
            kind,
            job: job.to_string(),
            source_id: self.source.id.clone(),
            source_username: self.source.username.clone(),
            source_name: self.source.name.clone(),
            source_display_name: self.source.display_name.clone(),
            destination_id: self.destination.id.clone(),
            destination_username: self.destination.username.clone(),
            destination_name: self.destination.name.clone(),
            destination_display_name: self.destination.display_name.clone(),
            resolution,
            message: self.message.clone(),
        })
    }

    /// Whether the resolution came from an exception rule (a revision's reason).
    pub fn is_exception(&self) -> bool {
        self.resolution == Resolution::Exception.as_str()
    }
}

/// A mapping's value: an identity decision, or an app's string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum MappingValue {
    Identity(Box<IdentityValue>),
    App(String),
}

impl MappingValue {
    /// The stored form. Comparing these is how a run decides what changed.
    pub fn to_json(&self) -> String {
        // A value of plain strings, numbers and vectors always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The first 16 bytes of the SHA-256 of [`MappingValue::to_json`]: equal values, equal
    /// digests; what a run compares.
    pub fn digest_of_json(json: &str) -> [u8; 16] {
        let digest = Sha256::digest(json.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        first
    }

    pub fn from_json(text: &str) -> ScopeResult<MappingValue> {
        serde_json::from_str(text).map_err(|error| {
            ScopeError::corrupt(format!("a stored mapping value is unreadable: {error}"))
        })
    }

    pub fn as_identity(&self) -> Option<&IdentityValue> {
        match self {
            MappingValue::Identity(value) => Some(value),
            MappingValue::App(_) => None,
        }
    }
}

/// A mapping as it stands in its scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub namespace: Namespace,
    pub source_key: String,
    pub value: MappingValue,
    /// Marked removed: its source identity is gone (or the caller deleted it). Kept, with
    /// its history, until a purge says otherwise.
    pub removed: bool,
    /// The revision that made it what it is.
    pub revision: Cursor,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The job whose run last wrote it, if a run did.
    pub job: Option<String>,
}

/// Why a revision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A run resolved it (added or changed).
    Resolution,
    /// A run resolved it by an exception rule (or away from one).
    Exception,
    /// A caller set or deleted it.
    Manual,
    /// A run found its source identity gone and marked it removed.
    Removal,
    /// A purge removed it for good.
    Purge,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Resolution => "resolution",
            Reason::Exception => "exception",
            Reason::Manual => "manual",
            Reason::Removal => "removal",
            Reason::Purge => "purge",
        }
    }

    pub fn parse(text: &str) -> Option<Reason> {
        [
            Reason::Resolution,
            Reason::Exception,
            Reason::Manual,
            Reason::Removal,
            Reason::Purge,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// Who made a revision: a run of a job, or a caller (an app, the CLI, a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ChangeOrigin {
    Run {
        job: String,
        transfer_id: Uuid,
        run: u32,
    },
    Caller {
        caller: String,
    },
}

/// One change of one mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub cursor: Cursor,
    pub namespace: Namespace,
    pub source_key: String,
    /// `None` when the mapping did not exist (or was removed) before.
    pub old_value: Option<MappingValue>,
    /// `None` when the revision removed it.
    pub new_value: Option<MappingValue>,
    pub origin: ChangeOrigin,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub who: String,
    pub reason: Reason,
}

/// A position in a scope's change feed. Opaque to callers: hand back what the store gave.
/// Revisions are numbered in commit order, so "after this cursor" never skips one that
/// committed earlier.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct Cursor(i64);

impl Cursor {
    /// Before every revision.
    pub const START: Cursor = Cursor(0);

    pub(crate) fn from_revision(id: i64) -> Cursor {
        Cursor(id)
    }

    pub(crate) fn revision(self) -> i64 {
        self.0
    }

    /// Reads a cursor given back by a caller.
    pub fn parse(text: &str) -> ScopeResult<Cursor> {
        let refuse = || {
            ScopeError::invalid(format!(
                "{text:?} is not a change feed cursor; pass one the store returned, or none to start"
            ))
        };
        let digits = text.strip_prefix('r').ok_or_else(refuse)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        digits.parse::<i64>().map(Cursor).map_err(|_| refuse())
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl From<Cursor> for String {
    fn from(cursor: Cursor) -> String {
        cursor.to_string()
    }
}

impl TryFrom<String> for Cursor {
    type Error = ScopeError;
    fn try_from(text: String) -> ScopeResult<Cursor> {
        Cursor::parse(&text)
    }
}

/// How long a namespace's removed mappings are kept. Nothing expires on its own: a purge
/// applies this when someone runs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keep", content = "days", rename_all = "snake_case")]
pub enum Retention {
    #[default]
    Forever,
    /// Mappings marked removed longer ago than this many days may be purged.
    Days(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRow {
    pub namespace: Namespace,
    pub retention: Retention,
    #[serde(with = "time::serde::rfc3339")]
    pub set_at: OffsetDateTime,
    pub set_by: String,
}

/// What a purge removed (or, before it runs, would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub namespace: Namespace,
    pub retention: Retention,
    /// The source keys of the mappings removed for good, in key order.
    pub removed: Vec<String>,
    /// The revision recording each removal, in the same order.
    pub revisions: Vec<Cursor>,
}

/// An exception rule as the scope keeps it: the raw sides (`id:42`, `email:x@y`, a bare
/// value), read with core's `IdentityRef::parse` by the caller that resolves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExceptionRow {
    pub kind: IdentityKind,
    pub source: String,
    pub destination: String,
}

/// The scope's exception rules at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionSet {
    /// 0 before any rule was added; each add or remove makes the next version.
    pub version: u32,
    pub rules: Vec<ExceptionRow>,
}

/// One add or remove of an exception rule: the version it made, and who made it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionChange {
    pub version: u32,
    /// `true` for an add (or a replacement of the rule's destination), `false` for a remove.
    pub added: bool,
    /// The rule added, or the rule as it was when removed.
    pub rule: ExceptionRow,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub who: String,
    pub caller: String,
}

/// Who and when, for a change a caller makes (not a run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeContext {
    pub at: OffsetDateTime,
    /// The person or service account.
    pub who: String,
    /// The program that asked: `cli`, an app key, `api`...
    pub caller: String,
}

/// A page of a namespace's mappings, in source-key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingPage {
    pub mappings: Vec<MappingRow>,
    /// Pass back as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
    pub last_page: bool,
}

/// Which form of a key found a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyForm {
    /// The mapping's own source key (the source id).
    SourceKey,
    Username,
    Email,
    /// A platform-prefixed form (`jira.userkey/…`), naming the prefix and what it names.
    Prefixed {
        prefix: String,
        names: Box<KeyForm>,
    },
}

/// The answer for one key of a batch look-up: with the whole mapping (`M` = [`MappingRow`],
/// evidence and candidates included) or only what a look-up needs ([`MappingBrief`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FindOutcome<M = MappingRow> {
    Found {
        by: KeyForm,
        mapping: Box<M>,
    },
    NotFound,
    /// The key belongs to several mappings (live ones, or, when none is live, removed ones);
    /// none is chosen.
    Ambiguous {
        by: KeyForm,
        source_keys: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindAnswer<M = MappingRow> {
    pub key: String,
    #[serde(flatten)]
    pub outcome: FindOutcome<M>,
}

/// What a batch look-up answers by default: where a mapping goes and how it was decided,
/// read from the store without its evidence, candidates and history (about 100 bytes of
/// JSON where the whole mapping is about 800; docs/performance.md, "The mapping API").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingBrief {
    pub source_key: String,
    /// Identity namespaces: the destination id (empty when the mapping goes nowhere, e.g.
    /// unresolved or to be provisioned). App namespaces: the stored value.
    pub destination_id: String,
    /// Identity namespaces: the resolution in the report's spelling (`Email`, `ID`,
    /// `Exception`, `Unresolved`...); absent in app namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Marked removed (its source identity is gone); found only when no live mapping has the key.
    pub removed: bool,
}

impl MappingBrief {
    /// The brief of a whole mapping: what the store's brief look-up reads for it.
    pub fn of(mapping: &MappingRow) -> MappingBrief {
        let (destination_id, resolution) = match &mapping.value {
            MappingValue::Identity(value) => (
                value.destination.id.clone(),
                Some(value.resolution.clone()),
            ),
            MappingValue::App(value) => (value.clone(), None),
        };
        MappingBrief {
            source_key: mapping.source_key.clone(),
            destination_id,
            resolution,
            removed: mapping.removed,
        }
    }
}

/// What batch find needs of a row to choose among candidates.
pub trait FoundRow: Clone {
    fn source_key(&self) -> &str;
    fn removed(&self) -> bool;
}

impl FoundRow for MappingRow {
    fn source_key(&self) -> &str {
        &self.source_key
    }
    fn removed(&self) -> bool {
        self.removed
    }
}

impl FoundRow for MappingBrief {
    fn source_key(&self) -> &str {
        &self.source_key
    }
    fn removed(&self) -> bool {
        self.removed
    }
}

/// One mapping with its history, oldest revision first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingHistory {
    pub mapping: MappingRow,
    pub revisions: Vec<RevisionRow>,
}

/// A page of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    pub revisions: Vec<RevisionRow>,
    /// Where to continue from (the last revision's cursor, or the one given).
    pub cursor: Cursor,
    pub last_page: bool,
}

/// Which report: the scope's current state, or what one job's latest run resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOf {
    Scope,
    Job(String),
}

// ---------------------------------------------------------------------------------------
// Directory contents, stored once per content hash.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub alias_emails: Vec<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: bool,
    pub source_directory: Option<String>,
    pub email_verified: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub members: Vec<String>,
}

/// A directory's identities as stored: what the report, explanations and later planning
/// read. Its hash is its identity: importing the same contents again stores nothing new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryContent {
    pub accounts: Vec<AccountRow>,
    pub groups: Vec<GroupRow>,
}

impl DirectoryContent {
    pub fn from_core(directory: &Directory) -> DirectoryContent {
        let text = |s: &Option<crosswalk_core::CompactString>| s.as_ref().map(|s| s.to_string());
        DirectoryContent {
            accounts: directory
                .accounts
                .iter()
                .map(|a| AccountRow {
                    id: a.id.to_string(),
                    username: text(&a.username),
                    email: text(&a.email),
                    alias_emails: a.alias_emails.iter().map(|e| e.to_string()).collect(),
                    display_name: text(&a.display_name),
                    given_name: text(&a.given_name),
                    family_name: text(&a.family_name),
                    active: a.active,
                    source_directory: text(&a.source_directory),
                    email_verified: a.email_verified,
                })
                .collect(),
            groups: directory
                .groups
                .iter()
                .map(|g| GroupRow {
                    id: g.id.to_string(),
                    name: g.name.to_string(),
                    display_name: text(&g.display_name),
                    members: g.members.iter().map(|m| m.to_string()).collect(),
                })
                .collect(),
        }
    }

    /// The directory again, as core's value named `name`, for resolving a job once more
    /// from what its run stored. Refuses contents that no longer pass core's checks.
    pub fn to_core(&self, name: &str) -> ScopeResult<Directory> {
        let text = |s: &Option<String>| s.as_deref().map(crosswalk_core::CompactString::from);
        let accounts = self
            .accounts
            .iter()
            .map(|a| crosswalk_core::Account {
                id: a.id.as_str().into(),
                username: text(&a.username),
                email: text(&a.email),
                alias_emails: a.alias_emails.iter().map(|e| e.as_str().into()).collect(),
                display_name: text(&a.display_name),
                given_name: text(&a.given_name),
                family_name: text(&a.family_name),
                active: a.active,
                source_directory: text(&a.source_directory),
                email_verified: a.email_verified,
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .map(|g| crosswalk_core::Group {
                id: g.id.as_str().into(),
                name: g.name.as_str().into(),
                display_name: text(&g.display_name),
                members: g.members.iter().map(|m| m.as_str().into()).collect(),
            })
            .collect();
        Directory::new(name, accounts, groups).map_err(|error| {
            ScopeError::corrupt(format!(
                "the stored directory {name:?} no longer passes its checks: {error}"
            ))
        })
    }

    /// The stored form and its SHA-256 (hex): same contents, same hash, whatever the
    /// directory was called or where it was read from.
    pub fn encode(&self) -> (String, String) {
        let json = serde_json::to_string(self).unwrap_or_default();
        (content_hash(json.as_bytes()), json)
    }
}

pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

// ---------------------------------------------------------------------------------------
// A run's input, converted from core's values.

/// One identity mapping a run resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMapping {
    pub namespace: Namespace,
    pub source_key: String,
    pub value: IdentityValue,
}

/// Everything a run records. The resolution is the whole of the identity namespaces: what
/// the run does not mention is gone from the source and is marked removed.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub scope: String,
    pub job: String,
    pub started_at: OffsetDateTime,
    pub who: String,
    /// The policy text the run resolved with; a new text makes a new policy version.
    pub policy: String,
    /// The exceptions version the run resolved with (from [`ExceptionSet::version`]).
    pub exceptions_version: u32,
    pub source: DirectoryContent,
    pub destination: DirectoryContent,
    pub identities: Vec<IdentityMapping>,
    /// Problems that belong to no single mapping, kept with the run.
    pub warnings: Vec<String>,
}

fn side_row(directory: &Directory, kind: IdentityKind, index: u32) -> Option<SideRow> {
    match kind {
        IdentityKind::Account => directory.accounts.get(index as usize).map(|a| SideRow {
            id: a.id.to_string(),
            username: a.username.as_deref().unwrap_or_default().to_string(),
            name: a.email.as_deref().unwrap_or_default().to_string(),
            display_name: a.display_name.as_deref().unwrap_or_default().to_string(),
        }),
        IdentityKind::Group => directory.groups.get(index as usize).map(|g| SideRow {
            id: g.id.to_string(),
            username: String::new(),
            name: g.name.to_string(),
            display_name: g.display_name.as_deref().unwrap_or(&g.name).to_string(),
        }),
    }
}

impl IdentityMapping {
    /// Converts one of core's mappings, field by field. Refuses (never panics on) indexes
    /// outside the directories; `position` is the mapping's place in the run's list.
    pub fn from_core(
        position: usize,
        mapping: &Mapping,
        source: &Directory,
        destination: &Directory,
    ) -> ScopeResult<IdentityMapping> {
        let kind = mapping.kind;
        let out_of_range = |side: &str, index: u32| {
            ScopeError::invalid(format!(
                "mapping {position}: {side} {kind} index {index} is outside its directory"
            ))
        };
        let source_side = side_row(source, kind, mapping.source)
            .ok_or_else(|| out_of_range("source", mapping.source))?;
        let source_emails = match kind {
            IdentityKind::Account => {
                let account = &source.accounts[mapping.source as usize];
                account
                    .email
                    .iter()
                    .chain(account.alias_emails.iter())
                    .map(|e| e.to_string())
                    .collect()
            }
            IdentityKind::Group => Vec::new(),
        };
        let (target, destination_side) = match &mapping.target {
            None => ("", SideRow::default()),
            Some(Target::Existing { index }) => (
                "existing",
                side_row(destination, kind, *index)
                    .ok_or_else(|| out_of_range("target", *index))?,
            ),
            // What the destination will get, from the source; no existing destination id.
            Some(Target::Provision) => (
                "provision",
                SideRow {
                    id: String::new(),
                    ..source_side.clone()
                },
            ),
            Some(Target::Passthrough) => (
                "passthrough",
                SideRow {
                    id: String::new(),
                    ..source_side.clone()
                },
            ),
            Some(Target::External) => (
                "external",
                SideRow {
                    id: String::new(),
                    ..source_side.clone()
                },
            ),
            Some(Target::FormerUser) => (
                "former_user",
                SideRow {
                    id: String::new(),
                    ..source_side.clone()
                },
            ),
            Some(Target::Named { id }) => (
                "named",
                SideRow {
                    id: id.clone(),
                    ..SideRow::default()
                },
            ),
        };
        let mut candidates = Vec::with_capacity(mapping.candidates.len());
        for candidate in &mapping.candidates {
            candidates.push(CandidateRow {
                destination: side_row(destination, kind, candidate.index)
                    .ok_or_else(|| out_of_range("candidate", candidate.index))?,
                method: candidate.method.as_str().to_string(),
                reason: candidate.reason.to_string(),
                score: confidence_thousandths(candidate.score),
            });
        }
        let flags = mapping
            .flags
            .iter()
            .map(|flag| {
                serde_json::to_value(flag)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect();
        Ok(IdentityMapping {
            namespace: Namespace::identity(kind),
            source_key: source_side.id.clone(),
            value: IdentityValue {
                source: source_side,
                source_emails,
                destination: destination_side,
                resolution: mapping.resolution.as_str().to_string(),
                target: target.to_string(),
                message: mapping.message.clone(),
                evidence: mapping
                    .evidence
                    .iter()
                    .map(|e| EvidenceRow {
                        method: e.method.as_str().to_string(),
                        source_field: e.source_field.to_string(),
                        destination_field: e.destination_field.to_string(),
                        key: e.key.to_string(),
                        note: e.note.to_string(),
                    })
                    .collect(),
                candidates,
                flags,
                confidence: confidence_thousandths(mapping.confidence),
            },
        })
    }

    /// Converts a whole run's mappings, refusing two mappings of one source identity.
    pub fn all_from_core(
        mappings: &[Mapping],
        source: &Directory,
        destination: &Directory,
    ) -> ScopeResult<Vec<IdentityMapping>> {
        let mut rows = Vec::with_capacity(mappings.len());
        let mut seen = std::collections::HashSet::with_capacity(mappings.len());
        for (position, mapping) in mappings.iter().enumerate() {
            let row = IdentityMapping::from_core(position, mapping, source, destination)?;
            if !seen.insert((row.namespace.clone(), row.source_key.clone())) {
                return Err(ScopeError::invalid(format!(
                    "mapping {position}: a second mapping for {} {:?}; a run holds one mapping per source identity",
                    row.namespace, row.source_key
                )));
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

fn confidence_thousandths(confidence: crosswalk_core::Confidence) -> u16 {
    (confidence.as_f64() * 1000.0).round() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_product_colon_entity() {
        for good in [
            "identity:user",
            "identity:group",
            "confluence:page",
            "jira:issue",
            "my-app:thing_2",
        ] {
            assert_eq!(Namespace::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "identity",
            "identity:",
            ":page",
            "Confluence:page",
            "jira:Issue",
            "jira:is sue",
            "identity:robot",
            "a:b:c",
            "1ra:x",
        ] {
            let error = Namespace::parse(bad).unwrap_err();
            assert_eq!(
                error.kind(),
                super::super::error::ErrorKind::Invalid,
                "{bad}"
            );
            assert!(error.message().contains("product:entity"), "{error}");
        }
    }

    #[test]
    fn cursors_read_back_what_they_print_and_refuse_anything_else() {
        let cursor = Cursor::from_revision(42);
        assert_eq!(Cursor::parse(&cursor.to_string()).unwrap(), cursor);
        for bad in ["", "r", "42", "r-1", "r4x", "r99999999999999999999999"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_source_label_names_the_platform() {
        assert_eq!(
            SourcePlatform::from_label("jira-server https://jira.acme.local"),
            SourcePlatform::Jira
        );
        assert_eq!(
            SourcePlatform::from_label("Confluence-DC https://wiki"),
            SourcePlatform::Confluence
        );
        assert_eq!(
            SourcePlatform::from_label("entra tenant"),
            SourcePlatform::Other
        );
        assert_eq!(SourcePlatform::from_label(""), SourcePlatform::Other);
    }

    #[test]
    fn the_same_contents_hash_the_same() {
        let content = DirectoryContent {
            accounts: Vec::new(),
            groups: Vec::new(),
        };
        let (first, _) = content.encode();
        assert_eq!(first, content.encode().0);
        assert_eq!(first.len(), 64);
    }
}

/// How a run handled one source identity it was given a fix for (issue 18): kept as its own
/// account (the survivor of a merge), merged into another source account, migrated as a
/// former user, given a new email, or left out. Kept per scope so a later wave cannot switch
/// it silently: two waves handling one person differently would make two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "handling")]
pub enum StoredHandling {
    Keep,
    Merge { into: String },
    Tombstone,
    NewEmail { email: String },
    Exclude,
}

impl StoredHandling {
    /// The two columns it is stored as: a kind and its target (the account merged into, the
    /// new email; empty otherwise).
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            StoredHandling::Keep => ("keep", ""),
            StoredHandling::Merge { into } => ("merge", into),
            StoredHandling::Tombstone => ("tombstone", ""),
            StoredHandling::NewEmail { email } => ("new_email", email),
            StoredHandling::Exclude => ("exclude", ""),
        }
    }

    pub fn from_parts(kind: &str, target: &str) -> ScopeResult<StoredHandling> {
        Ok(match kind {
            "keep" => StoredHandling::Keep,
            "merge" => StoredHandling::Merge {
                into: target.to_string(),
            },
            "tombstone" => StoredHandling::Tombstone,
            "new_email" => StoredHandling::NewEmail {
                email: target.to_string(),
            },
            "exclude" => StoredHandling::Exclude,
            other => {
                return Err(ScopeError::corrupt(format!(
                    "a stored identity choice has an unknown kind {other:?}"
                )));
            }
        })
    }
}

/// The choice in force for one source identity, and the run that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceRow {
    pub source_key: String,
    pub handling: StoredHandling,
    pub job: String,
    pub run: u32,
    pub who: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The scope's identity choices, by source key, and their version (bumped by every run
/// that changes one; a run checked against an older version is refused as a conflict).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceSet {
    pub version: u32,
    pub choices: Vec<ChoiceRow>,
}

/// A choice a run replaced: before, after, whether the run was forced past a refusal, and
/// the run (job, number, who, when) that did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceSwitchRow {
    pub source_key: String,
    pub before: StoredHandling,
    pub after: StoredHandling,
    pub forced: bool,
    pub job: String,
    pub run: u32,
    pub who: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A choice a run records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChoice {
    pub source_key: String,
    pub handling: StoredHandling,
    /// The run was forced past the refusal of this switch.
    pub forced: bool,
}

/// The choices a run records, checked against the version they were judged with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunChoices {
    /// [`ChoiceSet::version`] as the run read it.
    pub version: u32,
    pub choices: Vec<NewChoice>,
}
