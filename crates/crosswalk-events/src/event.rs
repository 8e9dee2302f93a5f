//! The events Crosswalk announces, and their JSON.
//!
//! An event is an envelope (`messageId`, `type`, `scope`, `time`) around a payload in
//! `data`, the shape Standard Webhooks recommends. Field names are part of the protocol:
//! receivers read them, so they never change; new fields may be added, and receivers must
//! ignore fields they do not know. `docs/webhooks.md` shows one example of each type.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One event: something committed in a scope.
///
/// ```json
/// {"messageId":"5f0c…","type":"job.completed","scope":"acme-cloud",
///  "time":"2026-05-04T10:15:00Z","data":{…}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique per event and the same on every delivery attempt of it (it is also the
    /// `webhook-id` header): a receiver that remembers the ids it processed sees each
    /// event once.
    pub message_id: Uuid,
    /// The scope's name.
    pub scope: String,
    /// When the change was committed (RFC 3339, UTC). A retry keeps this time; the
    /// attempt's own time is the `webhook-timestamp` header.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The event's type (`type`) and its payload (`data`).
    #[serde(flatten)]
    pub payload: EventPayload,
}

impl Event {
    /// A new event with a fresh random `messageId`. The caller (the application layer,
    /// which owns the clock) gives the commit time; it is kept in UTC.
    pub fn new(scope: impl Into<String>, time: OffsetDateTime, payload: EventPayload) -> Event {
        Event {
            message_id: Uuid::new_v4(),
            scope: scope.into(),
            time: time.to_offset(time::UtcOffset::UTC),
            payload,
        }
    }

    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// The exact bytes that are stored in the outbox, signed and sent: compact JSON.
    /// Fails only for a time RFC 3339 cannot write (a year outside 0000–9999).
    pub fn to_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Reads an event back from its body (a receiver's or a test's view).
    pub fn from_body(body: &[u8]) -> Result<Event, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// The payload of each event type; `type` names the variant, `data` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventPayload {
    /// A job's run began.
    #[serde(rename = "job.started")]
    JobStarted(JobStarted),
    /// A job's run finished and its mappings are committed.
    #[serde(rename = "job.completed")]
    JobCompleted(JobCompleted),
    /// A job's run stopped with an error; nothing of it was committed.
    #[serde(rename = "job.failed")]
    JobFailed(JobFailed),
    /// A batch of mapping revisions was committed (a run, a caller's write, a decision).
    #[serde(rename = "mappings.changed")]
    MappingsChanged(MappingsChanged),
    /// The scope's exception rules changed.
    #[serde(rename = "exception.recorded")]
    ExceptionRecorded(ExceptionRecorded),
    /// An admin decided a mapping under review.
    #[serde(rename = "review.decided")]
    ReviewDecided(ReviewDecided),
    /// A provider's group change was held because it conflicts with a migrated group.
    #[serde(rename = "scim.group_conflict.held")]
    ScimGroupConflictHeld(ScimGroupConflict),
    /// An admin accepted a held group change: it is applied.
    #[serde(rename = "scim.group_conflict.accepted")]
    ScimGroupConflictAccepted(ScimGroupConflict),
    /// An admin rejected a held group change: the migrated group stays as it was.
    #[serde(rename = "scim.group_conflict.rejected")]
    ScimGroupConflictRejected(ScimGroupConflict),
    /// Revisions and removed mappings older than their namespace's retention were purged.
    #[serde(rename = "retention.purged")]
    RetentionPurged(RetentionPurged),
}

impl EventPayload {
    pub fn event_type(&self) -> EventType {
        match self {
            EventPayload::JobStarted(_) => EventType::JobStarted,
            EventPayload::JobCompleted(_) => EventType::JobCompleted,
            EventPayload::JobFailed(_) => EventType::JobFailed,
            EventPayload::MappingsChanged(_) => EventType::MappingsChanged,
            EventPayload::ExceptionRecorded(_) => EventType::ExceptionRecorded,
            EventPayload::ReviewDecided(_) => EventType::ReviewDecided,
            EventPayload::ScimGroupConflictHeld(_) => EventType::ScimGroupConflictHeld,
            EventPayload::ScimGroupConflictAccepted(_) => EventType::ScimGroupConflictAccepted,
            EventPayload::ScimGroupConflictRejected(_) => EventType::ScimGroupConflictRejected,
            EventPayload::RetentionPurged(_) => EventType::RetentionPurged,
        }
    }
}

/// The event types, for subscriptions' filters (`--events job.completed,mappings.changed`).
/// Serialised as the wire name; [`EventType::as_str`] gives the same text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum EventType {
    #[serde(rename = "job.started")]
    JobStarted,
    #[serde(rename = "job.completed")]
    JobCompleted,
    #[serde(rename = "job.failed")]
    JobFailed,
    #[serde(rename = "mappings.changed")]
    MappingsChanged,
    #[serde(rename = "exception.recorded")]
    ExceptionRecorded,
    #[serde(rename = "review.decided")]
    ReviewDecided,
    #[serde(rename = "scim.group_conflict.held")]
    ScimGroupConflictHeld,
    #[serde(rename = "scim.group_conflict.accepted")]
    ScimGroupConflictAccepted,
    #[serde(rename = "scim.group_conflict.rejected")]
    ScimGroupConflictRejected,
    #[serde(rename = "retention.purged")]
    RetentionPurged,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::JobStarted,
        EventType::JobCompleted,
        EventType::JobFailed,
        EventType::MappingsChanged,
        EventType::ExceptionRecorded,
        EventType::ReviewDecided,
        EventType::ScimGroupConflictHeld,
        EventType::ScimGroupConflictAccepted,
        EventType::ScimGroupConflictRejected,
        EventType::RetentionPurged,
    ];

    /// The name on the wire (the event's `type`), e.g. `job.completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::JobStarted => "job.started",
            EventType::JobCompleted => "job.completed",
            EventType::JobFailed => "job.failed",
            EventType::MappingsChanged => "mappings.changed",
            EventType::ExceptionRecorded => "exception.recorded",
            EventType::ReviewDecided => "review.decided",
            EventType::ScimGroupConflictHeld => "scim.group_conflict.held",
            EventType::ScimGroupConflictAccepted => "scim.group_conflict.accepted",
            EventType::ScimGroupConflictRejected => "scim.group_conflict.rejected",
            EventType::RetentionPurged => "retention.purged",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event type name that is not one of [`EventType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{name}`; the event types are: {}", EventType::ALL.map(EventType::as_str).join(", "))]
pub struct UnknownEventType {
    pub name: String,
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<EventType, UnknownEventType> {
        EventType::ALL
            .into_iter()
            .find(|event_type| event_type.as_str() == name)
            .ok_or_else(|| UnknownEventType {
                name: name.to_owned(),
            })
    }
}

/// Which event types a subscription receives: all, or those listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct EventFilter(
    /// Empty: every type, including types added in later versions.
    Vec<EventType>,
);

impl EventFilter {
    pub fn all() -> EventFilter {
        EventFilter::default()
    }

    /// Only the types given (sorted, each once); an empty list means all.
    pub fn only(types: impl IntoIterator<Item = EventType>) -> EventFilter {
        let mut types: Vec<EventType> = types.into_iter().collect();
        types.sort_unstable();
        types.dedup();
        EventFilter(types)
    }

    /// Reads a comma-separated list such as `job.completed,mappings.changed` (blanks
    /// around names ignored); an empty text means all.
    pub fn parse(list: &str) -> Result<EventFilter, UnknownEventType> {
        let types = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<EventType>, _>>()?;
        Ok(EventFilter::only(types))
    }

    pub fn accepts(&self, event_type: EventType) -> bool {
        self.0.is_empty() || self.0.contains(&event_type)
    }

    /// The types listed; empty when the filter accepts all.
    pub fn types(&self) -> &[EventType] {
        &self.0
    }
}

impl fmt::Display for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("all");
        }
        for (i, event_type) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(event_type.as_str())?;
        }
        Ok(())
    }
}

/// `job.started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStarted {
    /// The job's name, unique within the scope.
    pub job: String,
    /// The job's transfer id: any transfer id of a scope reads all its mappings.
    pub transfer_id: Uuid,
    /// The run's number within the job: 1, 2, 3…
    pub run: u32,
    /// Who started it (a token's name, `cli`, …).
    pub actor: String,
}

/// `job.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobCompleted {
    pub job: String,
    pub transfer_id: Uuid,
    pub run: u32,
    pub actor: String,
    /// What the run decided, over every identity it resolved.
    pub summary: JobSummary,
    /// What the run changed in the scope's mappings (its revisions).
    pub changes: ChangeCounts,
    /// The change feed's position once the run committed: its revisions are the ones
    /// after the cursor the feed stood at before, up to and including this one.
    pub cursor: i64,
}

/// A run's decisions, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    /// Source accounts resolved.
    pub accounts: u64,
    /// Source groups resolved.
    pub groups: u64,
    /// Identities linked to an existing destination identity (by exception, id, email,
    /// username, name or an external identity).
    pub linked: u64,
    /// Identities the destination will create (resolution Provision).
    pub created: u64,
    /// Identities left unresolved (ambiguous ones included).
    pub unresolved: u64,
    /// Unresolved because more than one candidate fitted.
    pub ambiguous: u64,
    /// Identities with at least one flag (a look-alike address, a shared mailbox, …).
    pub flagged: u64,
}

/// Revisions written, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCounts {
    /// Mappings that did not exist before.
    pub created: u64,
    /// Mappings whose value changed.
    pub changed: u64,
    /// Mappings whose source identity is gone (marked removed, kept in history).
    pub removed: u64,
}

/// `job.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobFailed {
    pub job: String,
    pub transfer_id: Uuid,
    /// The run's number, when the run got one before it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
    pub actor: String,
    /// What went wrong, as the CLI or API would have said it.
    pub error: String,
}

/// `mappings.changed`: one committed batch of revisions.
///
/// A receiver reads the revisions themselves from the change feed: asking for the
/// changes after `fromCursor` returns this batch first, ending at `toCursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingsChanged {
    /// The feed's cursor before the batch (exclusive).
    pub from_cursor: i64,
    /// The batch's last revision (inclusive).
    pub to_cursor: i64,
    /// Revisions in the batch.
    pub changes: u64,
    /// Revisions per namespace (`identity:user`, `jira:issue`, …).
    pub namespaces: BTreeMap<String, u64>,
    /// Items (issues, pages, attachments…) whose references name a changed identity, when
    /// the scope holds item references; absent when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_items: Option<u64>,
    /// The job whose run wrote the batch; absent for callers' writes and decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
    pub actor: String,
}

/// `exception.recorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionRecorded {
    /// The new version of the scope's exception rules (1, 2, 3…); the next run applies it.
    pub version: u32,
    /// What changed from the version before, in words.
    pub change: String,
    pub actor: String,
}

/// `review.decided`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDecided {
    /// `identity:user` or `identity:group`.
    pub namespace: String,
    /// The source identity decided on.
    pub source_key: String,
    pub decision: ReviewDecision,
    /// The destination identity chosen, for `accepted` and `resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Items whose references the decision re-attributes, when the scope holds item
    /// references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_items: Option<u64>,
    pub actor: String,
}

/// What an admin decided for a mapping under review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The suggested candidate was accepted.
    Accepted,
    /// The suggestion was rejected; the mapping stays unresolved.
    Rejected,
    /// The admin chose a destination identity.
    Resolved,
    /// To be created on the destination.
    Provision,
    /// To be migrated as a former (deactivated) user.
    FormerUser,
}

/// `scim.group_conflict.held`, `.accepted` and `.rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroupConflict {
    /// The conflict's id, as the API and CLI list it.
    pub conflict_id: String,
    /// The group's display name.
    pub group: String,
    /// The migrated group's id on the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Members the provider's change adds.
    pub members_added: u64,
    /// Members the provider's change removes.
    pub members_removed: u64,
    /// The admin who accepted or rejected it; absent when it was held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// `retention.purged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPurged {
    /// What was removed, per namespace.
    pub namespaces: Vec<PurgedNamespace>,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgedNamespace {
    pub namespace: String,
    pub retention_days: u32,
    /// Revisions superseded, and mappings removed, before this time were purged.
    #[serde(with = "time::serde::rfc3339")]
    pub cutoff: OffsetDateTime,
    /// Superseded revisions purged.
    pub revisions: u64,
    /// Removed mappings purged, with all their revisions.
    pub mappings: u64,
}
