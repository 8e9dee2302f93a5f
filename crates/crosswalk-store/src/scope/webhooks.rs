//! Webhook subscriptions, the event outbox and deliveries (issue 21), for both backends.
//!
//! **The outbox.** An event is a row of `webhook_outbox`, written in the transaction of the
//! change it announces, with one delivery row per subscription of the scope that takes its
//! type: a rolled-back change leaves no event, and no committed change goes unannounced.
//! The store does not know the events' shapes (that is `crosswalk-events`, beside it): each
//! write describes what it committed as a [`Committed`] value to the [`Announcer`] the
//! application layer installed (`with_announcer` on either backend), and stores the
//! [`OutboxEvent`]s it returns before committing. A write with no announcer installed
//! announces nothing. Writes that are not a change of their own (a job started or failed)
//! use [`WebhookStore::announce`], one transaction of its own. Another use case that needs
//! an event in its transaction (SCIM group conflicts) builds it the same way: the backend's
//! `write_outbox` takes the transaction, the scope and the events.
//!
//! **Order.** The outbox id is commit order within a scope: every write to a scope holds
//! its write lock (SQLite's file lock, PostgreSQL's scope row lock) while it inserts its
//! events. A subscription receives its scope's events in that order, one at a time: only
//! its oldest pending delivery (its *head*) is ever claimed (the rule of `crosswalk-events`'
//! `order` module, written as SQL so that PostgreSQL can skip rows other workers hold).
//!
//! **Claims.** A worker claims due heads with a lease ([`WebhookStore::claim_deliveries`]):
//! on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two servers never take the same delivery;
//! the lease's end is written as the delivery's due time, so the delivery of a worker that
//! died (`kill -9`) becomes due again when its lease runs out, and a worker records its
//! outcome only while its lease token is still the delivery's
//! ([`WebhookStore::finish_delivery`]). A worker that outlives its lease may therefore
//! send an event a second time: delivery is at least once.
//!
//! **Secrets.** HMAC signs with the key itself, so unlike an API token it cannot be stored
//! as a one-way hash: whoever can sign can forge. The store keeps the `whsec_` text in its
//! own column, which only the worker's claim reads back; listings carry a fingerprint (the
//! first 8 bytes of its SHA-256) so an admin can tell which secret a receiver holds. The
//! secret is shown once, when the subscription is created.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreFuture;
use super::error::{ScopeError, ScopeResult};
use super::model::{ChangeContext, ExceptionRow, PurgeReport, RunRecord, RunRow};

/// The longest webhook URL stored (the events crate's limit).
pub const MAX_URL_LEN: usize = 2048;
/// The most deliveries one listing returns.
pub const MAX_DELIVERY_PAGE: usize = 1000;

/// One event for the outbox, as the application layer made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub message_id: Uuid,
    /// The wire name (`job.completed`); subscriptions filter on it.
    pub event_type: String,
    /// The exact bytes signed and sent (compact JSON).
    pub body: String,
}

/// A batch of revisions one write committed, for `mappings.changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionBatch {
    /// The change feed's position before the batch (exclusive): the changes after it begin
    /// with the batch.
    pub from_revision: i64,
    /// The batch's last revision (inclusive).
    pub to_revision: i64,
    pub changes: u64,
    /// Revisions per namespace.
    pub namespaces: BTreeMap<String, u64>,
    /// Items whose references name a changed identity (by source key or alternate key),
    /// when the scope holds item references.
    pub affected_items: Option<u64>,
}

impl RevisionBatch {
    /// The batch of one revision.
    pub fn single(revision: &super::model::RevisionRow) -> RevisionBatch {
        let id = revision.cursor.revision();
        RevisionBatch {
            from_revision: id - 1,
            to_revision: id,
            changes: 1,
            namespaces: BTreeMap::from([(revision.namespace.as_str().to_owned(), 1)]),
            affected_items: None,
        }
    }
}

/// What a write committed, described for the [`Announcer`].
#[derive(Clone, Copy)]
pub enum Committed<'a> {
    /// A run was recorded; `batch` is its revisions (none when nothing differed).
    RunRecorded {
        run: &'a RunRow,
        record: &'a RunRecord,
        batch: Option<&'a RevisionBatch>,
    },
    /// A caller wrote or removed one app mapping.
    MappingWritten {
        batch: &'a RevisionBatch,
        namespace: &'a str,
        source_key: &'a str,
        value: Option<&'a str>,
        context: &'a ChangeContext,
    },
    /// An exception rule was added (or replaced) or removed: a new version of the rules.
    /// `note` is what the caller passed along ([`ExceptionNote`]), such as a review decision.
    ExceptionChanged {
        version: u32,
        added: bool,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
        note: Option<&'a ExceptionNote>,
    },
    /// Mappings past their retention were purged.
    Purged {
        report: &'a PurgeReport,
        context: &'a ChangeContext,
    },
}

/// What a caller says about an exception change beyond the rule, for its event (the
/// application layer's own value: a review decision). Opaque to the store.
pub type ExceptionNote = dyn Any + Send + Sync;

/// Turns what a write committed into the events announcing it. Called inside the write's
/// transaction; an error rolls the write back.
pub trait Announcer: Send + Sync {
    fn announce(
        &self,
        scope: &str,
        at: OffsetDateTime,
        committed: &Committed<'_>,
    ) -> ScopeResult<Vec<OutboxEvent>>;
}

/// A store's announcer, if one is installed.
#[derive(Clone, Default)]
pub struct AnnouncerSlot(pub(crate) Option<Arc<dyn Announcer>>);

impl fmt::Debug for AnnouncerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Announcer(installed)"
        } else {
            "Announcer(none)"
        })
    }
}

impl AnnouncerSlot {
    pub(crate) fn events(
        &self,
        scope: &str,
        at: OffsetDateTime,
        committed: &Committed<'_>,
    ) -> ScopeResult<Vec<OutboxEvent>> {
        match &self.0 {
            Some(announcer) => announcer.announce(scope, at, committed),
            None => Ok(Vec::new()),
        }
    }
}

/// A subscription to create; the application layer makes the id and the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub id: Uuid,
    pub url: String,
    /// Event type names; empty: every type.
    pub events: Vec<String>,
    /// `whsec_…`: kept to sign (see the module's note on secrets).
    pub secret: String,
    pub secret_fingerprint: String,
}

/// A subscription as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub scope: String,
    pub url: String,
    /// Empty: every type.
    pub events: Vec<String>,
    pub secret_fingerprint: String,
    pub paused: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    /// Deliveries waiting (or being sent), and those marked failed.
    pub pending: u64,
    pub failed: u64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> ScopeResult<DeliveryState> {
        match text {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            other => Err(ScopeError::corrupt(format!(
                "a delivery has an unknown state {other:?}"
            ))),
        }
    }
}

/// One event's delivery to one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription: Uuid,
    pub message_id: Uuid,
    pub event_type: String,
    /// The event's place in its scope's outbox (commit order).
    pub sequence: i64,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When a pending delivery is next tried (or a worker's lease on it ends).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}

/// One event of a scope's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub sequence: i64,
    pub message_id: Uuid,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    pub body: String,
}

/// A delivery a worker holds until `lease_expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    /// The claim's token: the outcome is recorded only while it is still the delivery's.
    pub lease: Uuid,
    pub scope: String,
    pub subscription: Uuid,
    pub url: String,
    /// `whsec_…`.
    pub secret: String,
    pub message_id: Uuid,
    pub body: String,
    /// Attempts before this one.
    pub attempts: u32,
    /// When the first attempt was made (this one, for a first attempt).
    pub first_attempt_at: OffsetDateTime,
    /// When the event was committed to the outbox.
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for ClaimedDelivery {
    // Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedDelivery")
            .field("id", &self.id)
            .field("subscription", &self.subscription)
            .field("message_id", &self.message_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered {
        status: u16,
    },
    /// Failed; try again at `at`.
    Retry {
        at: OffsetDateTime,
        status: Option<u16>,
        error: String,
    },
    /// Failed for good (the retry period is over, or trying again cannot help).
    Failed {
        status: Option<u16>,
        error: String,
    },
}

/// Subscriptions, the outbox and deliveries. Every method but the worker's names its scope.
pub trait WebhookStore: Send + Sync {
    fn add_subscription<'a>(
        &'a self,
        scope: &'a str,
        new: &'a NewSubscription,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, SubscriptionRow>;

    /// The scope's subscriptions, oldest first.
    fn subscriptions<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<SubscriptionRow>>;

    fn subscription<'a>(&'a self, scope: &'a str, id: Uuid) -> StoreFuture<'a, SubscriptionRow>;

    /// Removes a subscription with its deliveries.
    fn remove_subscription<'a>(&'a self, scope: &'a str, id: Uuid) -> StoreFuture<'a, ()>;

    /// A paused subscription keeps collecting deliveries and sends none until resumed.
    fn set_subscription_paused<'a>(
        &'a self,
        scope: &'a str,
        id: Uuid,
        paused: bool,
    ) -> StoreFuture<'a, SubscriptionRow>;

    /// The scope's deliveries (of one subscription, or all; of one state, or all), newest
    /// first, at most `limit` (1 to [`MAX_DELIVERY_PAGE`]).
    fn deliveries<'a>(
        &'a self,
        scope: &'a str,
        subscription: Option<Uuid>,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<DeliveryRow>>;

    /// Makes a delivered or failed delivery pending again, due at once, with a new retry
    /// period; it keeps its place in the order (it is the head again if it is the oldest).
    fn redeliver<'a>(
        &'a self,
        scope: &'a str,
        delivery: i64,
        at: OffsetDateTime,
    ) -> StoreFuture<'a, DeliveryRow>;

    /// Writes events that announce no change of their own (a job started, a job failed) in
    /// a transaction of their own, under the scope's write lock.
    fn announce<'a>(
        &'a self,
        scope: &'a str,
        events: &'a [OutboxEvent],
        at: OffsetDateTime,
    ) -> StoreFuture<'a, ()>;

    /// The scope's outbox after `after` (a sequence), oldest first, at most `limit`.
    fn outbox<'a>(
        &'a self,
        scope: &'a str,
        after: i64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<OutboxRow>>;

    /// Claims at most `limit` due deliveries, each the oldest pending one of an unpaused
    /// subscription, for `lease` from `now`.
    fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ClaimedDelivery>>;

    /// Records an attempt's outcome; `false` (nothing written) when the lease was lost: it
    /// ran out and another worker claimed the delivery.
    fn finish_delivery<'a>(
        &'a self,
        id: i64,
        lease: Uuid,
        at: OffsetDateTime,
        result: &'a AttemptResult,
    ) -> StoreFuture<'a, bool>;

    /// When the next pending delivery of an unpaused subscription is due, if any.
    fn next_due(&self) -> StoreFuture<'_, Option<OffsetDateTime>>;
}

/// Unix milliseconds, as the webhook tables keep times.
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(ms: i64) -> ScopeResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| ScopeError::corrupt(format!("a stored time {ms} ms is out of range")))
}

pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn parse_id(text: &str) -> ScopeResult<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| ScopeError::corrupt(format!("a stored id {text:?} is not a UUID")))
}

pub(crate) fn check_new(new: &NewSubscription) -> ScopeResult<()> {
    if new.url.is_empty() || new.url.len() > MAX_URL_LEN || new.url.chars().any(char::is_control) {
        return Err(ScopeError::invalid(format!(
            "a webhook URL has 1 to {MAX_URL_LEN} characters and no control characters"
        )));
    }
    if new.events.iter().any(|e| e.is_empty() || e.contains(',')) {
        return Err(ScopeError::invalid(
            "an event type is a name such as job.completed, without commas",
        ));
    }
    Ok(())
}

pub(crate) fn check_page(limit: usize) -> ScopeResult<()> {
    if limit == 0 || limit > MAX_DELIVERY_PAGE {
        return Err(ScopeError::invalid(format!(
            "a page holds 1 to {MAX_DELIVERY_PAGE} deliveries, not {limit}"
        )));
    }
    Ok(())
}

pub(crate) fn events_column(events: &[String]) -> String {
    events.join(",")
}

pub(crate) fn events_from_column(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn no_subscription(scope: &str, id: Uuid) -> ScopeError {
    ScopeError::not_found(format!(
        "scope {scope:?} has no webhook subscription {id}; `crosswalk webhook list --scope {scope}` lists them"
    ))
}

pub(crate) fn no_delivery(scope: &str, id: i64) -> ScopeError {
    ScopeError::not_found(format!(
        "scope {scope:?} has no webhook delivery {id}; `crosswalk webhook deliveries --scope {scope}` lists them"
    ))
}

/// The attempt's row values: (state, due_at, status, error, delivered_at).
pub(crate) fn attempt_columns(
    at: OffsetDateTime,
    result: &AttemptResult,
) -> (&'static str, i64, Option<i64>, Option<String>, Option<i64>) {
    match result {
        AttemptResult::Delivered { status } => (
            "delivered",
            millis(at),
            Some(i64::from(*status)),
            None,
            Some(millis(at)),
        ),
        AttemptResult::Retry {
            at: next,
            status,
            error,
        } => (
            "pending",
            millis(*next),
            status.map(i64::from),
            Some(error.clone()),
            None,
        ),
        AttemptResult::Failed { status, error } => (
            "failed",
            millis(at),
            status.map(i64::from),
            Some(error.clone()),
            None,
        ),
    }
}

/// How many items have references naming an identity that the scope's revisions after a
/// cursor changed (parameters: scope id, cursor, scope id, cursor): by source key, or (for accounts) by an alternate key of the changed mapping. The
/// revisions drive the read (`CROSS JOIN` keeps that order in SQLite) and the marks name the
/// indexes ([`crate::scope::items::BY_IDENTITY`]).
pub(crate) const AFFECTED_ITEMS: &str = "SELECT COUNT(*) FROM (\
     SELECT i.container, i.item FROM scope_revisions v \
     CROSS JOIN scope_item_refs i /*refs by identity*/ \
     WHERE i.scope_id = v.scope_id AND i.identity = v.source_key \
     AND i.kind = CASE v.namespace WHEN 'identity:user' THEN 'account' ELSE 'group' END \
     AND v.scope_id = ? AND v.id > ? AND v.namespace IN ('identity:user', 'identity:group') \
     UNION \
     SELECT i.container, i.item FROM scope_revisions v \
     JOIN scope_mappings m ON m.scope_id = v.scope_id AND m.namespace = v.namespace AND m.source_key = v.source_key \
     JOIN scope_mapping_keys k ON k.mapping_id = m.id \
     CROSS JOIN scope_item_refs i /*refs by folded*/ \
     WHERE i.scope_id = v.scope_id AND i.kind = 'account' AND i.identity_folded = k.key \
     AND v.scope_id = ? AND v.id > ? AND v.namespace = 'identity:user') AS affected";

/// SQLite's SQL with PostgreSQL's numbered placeholders: each `?` becomes `$1`, `$2`, …
/// (no `?` appears in the webhook queries but as a placeholder).
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) const SUBSCRIPTION_COLUMNS: &str = "s.id, sc.name, s.url, s.events, s.secret_fingerprint, s.paused, s.created_at, s.created_by, \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending'), \
     (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'failed') \
     FROM webhook_subscriptions s JOIN scopes sc ON sc.id = s.scope_id";

pub(crate) const DELIVERY_COLUMNS: &str = "d.id, d.subscription_id, o.message_id, o.event_type, o.id, d.state, d.attempts, d.due_at, \
     d.last_attempt_at, d.last_status, d.last_error, d.delivered_at \
     FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id JOIN webhook_subscriptions s ON s.id = d.subscription_id";

/// The webhook store over one backend. The backends differ in placeholders (`$sql`), in
/// how a write takes its scope's lock (`$lock`), in how a claim skips rows other workers
/// hold (`$skip`) and in the name of the substring function (`$strpos`); the rest is one
/// text, so the two cannot drift apart.
macro_rules! webhook_store {
    ($store:ty, $row:ty, sql: $sql:path, lock: $lock:ident, skip: $skip:expr, strpos: $strpos:expr) => {
        fn wh_col<'r, T>(row: &'r $row, index: usize) -> ScopeResult<T>
        where
            T: sqlx::Decode<'r, <$row as sqlx::Row>::Database> + sqlx::Type<<$row as sqlx::Row>::Database>,
        {
            sqlx::Row::try_get(row, index).map_err(|error| ScopeError::corrupt(format!("a stored webhook row is unreadable: {error}")))
        }

        fn subscription_row(row: &$row) -> ScopeResult<SubscriptionRow> {
            Ok(SubscriptionRow {
                id: parse_id(&wh_col::<String>(row, 0)?)?,
                scope: wh_col(row, 1)?,
                url: wh_col(row, 2)?,
                events: events_from_column(&wh_col::<String>(row, 3)?),
                secret_fingerprint: wh_col(row, 4)?,
                paused: wh_col(row, 5)?,
                created_at: from_millis(wh_col(row, 6)?)?,
                created_by: wh_col(row, 7)?,
                pending: u64::try_from(wh_col::<i64>(row, 8)?).unwrap_or(0),
                failed: u64::try_from(wh_col::<i64>(row, 9)?).unwrap_or(0),
            })
        }

        fn delivery_row(row: &$row) -> ScopeResult<DeliveryRow> {
            let state = DeliveryState::parse(&wh_col::<String>(row, 5)?)?;
            let optional = |index: usize| -> ScopeResult<Option<OffsetDateTime>> { wh_col::<Option<i64>>(row, index)?.map(from_millis).transpose() };
            Ok(DeliveryRow {
                id: wh_col(row, 0)?,
                subscription: parse_id(&wh_col::<String>(row, 1)?)?,
                message_id: parse_id(&wh_col::<String>(row, 2)?)?,
                event_type: wh_col(row, 3)?,
                sequence: wh_col(row, 4)?,
                state,
                attempts: u32::try_from(wh_col::<i64>(row, 6)?).unwrap_or(u32::MAX),
                next_attempt_at: if state == DeliveryState::Pending { optional(7)? } else { None },
                last_attempt_at: optional(8)?,
                last_status: wh_col::<Option<i64>>(row, 9)?.and_then(|s| u16::try_from(s).ok()),
                last_error: wh_col(row, 10)?,
                delivered_at: optional(11)?,
            })
        }

        impl $store {
            /// Installs the announcer every write of this store (and its clones made
            /// afterwards) calls before committing: see [`crate::scope::webhooks`].
            pub fn with_announcer(mut self, announcer: Arc<dyn Announcer>) -> Self {
                self.announcer = AnnouncerSlot(Some(announcer));
                self
            }

            /// Writes `events` to the scope's outbox in the caller's transaction, with one
            /// delivery per subscription of the scope that takes the event's type. The
            /// caller holds the scope's write lock.
            pub(crate) async fn write_outbox(&self, tx: &mut <<$row as sqlx::Row>::Database as sqlx::Database>::Connection, scope_id: i64, at: OffsetDateTime, events: &[OutboxEvent]) -> ScopeResult<()> {
                for event in events {
                    let outbox_id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                        "INSERT INTO webhook_outbox (scope_id, message_id, event_type, created_at, body) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    )))
                    .bind(scope_id)
                    .bind(event.message_id.to_string())
                    .bind(&event.event_type)
                    .bind(millis(at))
                    .bind(&event.body)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(self.db("write an event to the outbox"))?;
                    // Due at once (0): the worker's clock decides, not the writer's.
                    sqlx::query(sqlx::AssertSqlSafe($sql(&format!(
                        "INSERT INTO webhook_deliveries (outbox_id, subscription_id, state, due_at) \
                         SELECT ?, s.id, 'pending', 0 FROM webhook_subscriptions s \
                         WHERE s.scope_id = ? AND (s.events = '' OR {}(',' || s.events || ',', ',' || ? || ',') > 0)",
                        $strpos
                    ))))
                    .bind(outbox_id)
                    .bind(scope_id)
                    .bind(&event.event_type)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("queue an event's deliveries"))?;
                }
                Ok(())
            }

            /// The last `count` revisions of the scope: what the write holding its lock just
            /// wrote (the scope's newest revisions), with the items they affect when the
            /// scope holds item references. `None` when nothing was written.
            pub(crate) async fn revision_batch(&self, tx: &mut <<$row as sqlx::Row>::Database as sqlx::Database>::Connection, scope_id: i64, count: u64) -> ScopeResult<Option<RevisionBatch>> {
                if count == 0 {
                    return Ok(None);
                }
                let rows = sqlx::query(sqlx::AssertSqlSafe($sql("SELECT id, namespace FROM scope_revisions WHERE scope_id = ? ORDER BY id DESC LIMIT ?")))
                    .bind(scope_id)
                    .bind(i64::try_from(count).unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(self.db("count the run's revisions"))?;
                let mut batch = RevisionBatch { from_revision: i64::MAX, ..RevisionBatch::default() };
                for row in &rows {
                    let id: i64 = wh_col(row, 0)?;
                    batch.from_revision = batch.from_revision.min(id - 1);
                    batch.to_revision = batch.to_revision.max(id);
                    batch.changes += 1;
                    *batch.namespaces.entry(wh_col::<String>(row, 1)?).or_default() += 1;
                }
                let imported: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe($sql("SELECT scope_id FROM scope_item_imports WHERE scope_id = ?")))
                    .bind(scope_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.db("read the item references"))?;
                if imported.is_some() {
                    let affected: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(
                        AFFECTED_ITEMS,
                    )))
                    .bind(scope_id)
                    .bind(batch.from_revision)
                    .bind(scope_id)
                    .bind(batch.from_revision)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(self.db("count the affected items"))?;
                    batch.affected_items = Some(u64::try_from(affected).unwrap_or(0));
                }
                Ok(Some(batch))
            }

            /// Asks the announcer what `committed` announces and writes it to the outbox.
            pub(crate) async fn announce_in(&self, tx: &mut <<$row as sqlx::Row>::Database as sqlx::Database>::Connection, scope_id: i64, scope: &str, at: OffsetDateTime, committed: &Committed<'_>) -> ScopeResult<()> {
                let events = self.announcer.events(scope, at, committed)?;
                self.write_outbox(tx, scope_id, at, &events).await
            }

            async fn subscription_in(&self, conn: &mut <<$row as sqlx::Row>::Database as sqlx::Database>::Connection, scope: &str, scope_id: i64, id: Uuid) -> ScopeResult<SubscriptionRow> {
                let row = sqlx::query(sqlx::AssertSqlSafe($sql(&format!("SELECT {SUBSCRIPTION_COLUMNS} WHERE s.scope_id = ? AND s.id = ?"))))
                    .bind(scope_id)
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(self.db("read a webhook subscription"))?;
                match row {
                    Some(row) => subscription_row(&row),
                    None => Err(no_subscription(scope, id)),
                }
            }

            async fn delivery_in(&self, conn: &mut <<$row as sqlx::Row>::Database as sqlx::Database>::Connection, scope: &str, scope_id: i64, id: i64) -> ScopeResult<DeliveryRow> {
                let row = sqlx::query(sqlx::AssertSqlSafe($sql(&format!("SELECT {DELIVERY_COLUMNS} WHERE s.scope_id = ? AND d.id = ?"))))
                    .bind(scope_id)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(self.db("read a webhook delivery"))?;
                match row {
                    Some(row) => delivery_row(&row),
                    None => Err(no_delivery(scope, id)),
                }
            }
        }

        impl WebhookStore for $store {
            fn add_subscription<'a>(&'a self, scope: &'a str, new: &'a NewSubscription, context: &'a ChangeContext) -> StoreFuture<'a, SubscriptionRow> {
                Box::pin(async move {
                    check_new(new)?;
                    let mut tx = self.begin("add a webhook subscription").await?;
                    let scope_id = self.$lock(&mut tx, scope).await?;
                    sqlx::query(sqlx::AssertSqlSafe($sql(
                        "INSERT INTO webhook_subscriptions (id, scope_id, url, events, secret, secret_fingerprint, paused, created_at, created_by) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )))
                    .bind(new.id.to_string())
                    .bind(scope_id)
                    .bind(&new.url)
                    .bind(events_column(&new.events))
                    .bind(&new.secret)
                    .bind(&new.secret_fingerprint)
                    .bind(false)
                    .bind(millis(context.at))
                    .bind(&context.who)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("add a webhook subscription"))?;
                    let row = self.subscription_in(&mut tx, scope, scope_id, new.id).await?;
                    tx.commit().await.map_err(self.db("add a webhook subscription"))?;
                    Ok(row)
                })
            }

            fn subscriptions<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<SubscriptionRow>> {
                Box::pin(async move {
                    let mut conn = self.pool.acquire().await.map_err(self.db("list webhook subscriptions"))?;
                    let scope_id = self.scope_id(&mut conn, scope).await?;
                    let rows = sqlx::query(sqlx::AssertSqlSafe($sql(&format!("SELECT {SUBSCRIPTION_COLUMNS} WHERE s.scope_id = ? ORDER BY s.created_at, s.id"))))
                        .bind(scope_id)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(self.db("list webhook subscriptions"))?;
                    rows.iter().map(subscription_row).collect()
                })
            }

            fn subscription<'a>(&'a self, scope: &'a str, id: Uuid) -> StoreFuture<'a, SubscriptionRow> {
                Box::pin(async move {
                    let mut conn = self.pool.acquire().await.map_err(self.db("read a webhook subscription"))?;
                    let scope_id = self.scope_id(&mut conn, scope).await?;
                    self.subscription_in(&mut conn, scope, scope_id, id).await
                })
            }

            fn remove_subscription<'a>(&'a self, scope: &'a str, id: Uuid) -> StoreFuture<'a, ()> {
                Box::pin(async move {
                    let mut tx = self.begin("remove a webhook subscription").await?;
                    let scope_id = self.$lock(&mut tx, scope).await?;
                    sqlx::query(sqlx::AssertSqlSafe($sql("DELETE FROM webhook_deliveries WHERE subscription_id = ?")))
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("remove a webhook subscription"))?;
                    let removed = sqlx::query(sqlx::AssertSqlSafe($sql("DELETE FROM webhook_subscriptions WHERE scope_id = ? AND id = ?")))
                        .bind(scope_id)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("remove a webhook subscription"))?
                        .rows_affected();
                    if removed == 0 {
                        return Err(no_subscription(scope, id));
                    }
                    tx.commit().await.map_err(self.db("remove a webhook subscription"))?;
                    Ok(())
                })
            }

            fn set_subscription_paused<'a>(&'a self, scope: &'a str, id: Uuid, paused: bool) -> StoreFuture<'a, SubscriptionRow> {
                Box::pin(async move {
                    let mut tx = self.begin("pause or resume a webhook subscription").await?;
                    let scope_id = self.$lock(&mut tx, scope).await?;
                    sqlx::query(sqlx::AssertSqlSafe($sql("UPDATE webhook_subscriptions SET paused = ? WHERE scope_id = ? AND id = ?")))
                        .bind(paused)
                        .bind(scope_id)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("pause or resume a webhook subscription"))?;
                    let row = self.subscription_in(&mut tx, scope, scope_id, id).await?;
                    tx.commit().await.map_err(self.db("pause or resume a webhook subscription"))?;
                    Ok(row)
                })
            }

            fn deliveries<'a>(&'a self, scope: &'a str, subscription: Option<Uuid>, state: Option<DeliveryState>, limit: usize) -> StoreFuture<'a, Vec<DeliveryRow>> {
                Box::pin(async move {
                    check_page(limit)?;
                    let mut conn = self.pool.acquire().await.map_err(self.db("list webhook deliveries"))?;
                    let scope_id = self.scope_id(&mut conn, scope).await?;
                    let mut sql = format!("SELECT {DELIVERY_COLUMNS} WHERE s.scope_id = ?");
                    if subscription.is_some() {
                        sql.push_str(" AND d.subscription_id = ?");
                    }
                    if state.is_some() {
                        sql.push_str(" AND d.state = ?");
                    }
                    sql.push_str(" ORDER BY d.id DESC LIMIT ?");
                    let mut query = sqlx::query(sqlx::AssertSqlSafe($sql(&sql))).bind(scope_id);
                    if let Some(id) = subscription {
                        query = query.bind(id.to_string());
                    }
                    if let Some(state) = state {
                        query = query.bind(state.as_str());
                    }
                    let rows = query.bind(limit as i64).fetch_all(&mut *conn).await.map_err(self.db("list webhook deliveries"))?;
                    rows.iter().map(delivery_row).collect()
                })
            }

            fn redeliver<'a>(&'a self, scope: &'a str, delivery: i64, at: OffsetDateTime) -> StoreFuture<'a, DeliveryRow> {
                Box::pin(async move {
                    let mut tx = self.begin("redeliver an event").await?;
                    let scope_id = self.$lock(&mut tx, scope).await?;
                    let row = self.delivery_in(&mut tx, scope, scope_id, delivery).await?;
                    if row.state == DeliveryState::Pending {
                        return Err(ScopeError::conflict(format!(
                            "delivery {delivery} is still pending (attempt {} of its retry period); it is sent when due",
                            row.attempts + 1
                        )));
                    }
                    sqlx::query(sqlx::AssertSqlSafe($sql(
                        "UPDATE webhook_deliveries SET state = 'pending', due_at = ?, lease = NULL, first_attempt_at = NULL, delivered_at = NULL WHERE id = ?",
                    )))
                    .bind(millis(at))
                    .bind(delivery)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db("redeliver an event"))?;
                    let row = self.delivery_in(&mut tx, scope, scope_id, delivery).await?;
                    tx.commit().await.map_err(self.db("redeliver an event"))?;
                    Ok(row)
                })
            }

            fn announce<'a>(&'a self, scope: &'a str, events: &'a [OutboxEvent], at: OffsetDateTime) -> StoreFuture<'a, ()> {
                Box::pin(async move {
                    let mut tx = self.begin("announce an event").await?;
                    let scope_id = self.$lock(&mut tx, scope).await?;
                    self.write_outbox(&mut tx, scope_id, at, events).await?;
                    tx.commit().await.map_err(self.db("announce an event"))
                })
            }

            fn outbox<'a>(&'a self, scope: &'a str, after: i64, limit: usize) -> StoreFuture<'a, Vec<OutboxRow>> {
                Box::pin(async move {
                    check_page(limit)?;
                    let mut conn = self.pool.acquire().await.map_err(self.db("read the outbox"))?;
                    let scope_id = self.scope_id(&mut conn, scope).await?;
                    let rows = sqlx::query(sqlx::AssertSqlSafe($sql(
                        "SELECT id, message_id, event_type, created_at, body FROM webhook_outbox WHERE scope_id = ? AND id > ? ORDER BY id LIMIT ?",
                    )))
                    .bind(scope_id)
                    .bind(after)
                    .bind(limit as i64)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(self.db("read the outbox"))?;
                    rows.iter()
                        .map(|row| {
                            Ok(OutboxRow {
                                sequence: wh_col(row, 0)?,
                                message_id: parse_id(&wh_col::<String>(row, 1)?)?,
                                event_type: wh_col(row, 2)?,
                                created_at: from_millis(wh_col(row, 3)?)?,
                                body: wh_col(row, 4)?,
                            })
                        })
                        .collect()
                })
            }

            fn claim_deliveries(&self, now: OffsetDateTime, lease: Duration, limit: usize) -> StoreFuture<'_, Vec<ClaimedDelivery>> {
                Box::pin(async move {
                    let now_ms = millis(now);
                    let mut tx = self.begin("claim webhook deliveries").await?;
                    // Heads only: the oldest pending delivery of each unpaused subscription.
                    let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe($sql(&format!(
                        "SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                         WHERE d.state = 'pending' AND d.due_at <= ? AND s.paused = FALSE \
                         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id \
                                         AND e.state = 'pending' AND e.outbox_id < d.outbox_id) \
                         ORDER BY d.due_at, d.id LIMIT ?{}",
                        $skip
                    ))))
                    .bind(now_ms)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(self.db("claim webhook deliveries"))?;
                    let mut claimed = Vec::with_capacity(ids.len());
                    for id in ids {
                        let token = Uuid::new_v4();
                        sqlx::query(sqlx::AssertSqlSafe($sql(
                            "UPDATE webhook_deliveries SET lease = ?, due_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?",
                        )))
                        .bind(token.to_string())
                        .bind(now_ms.saturating_add(duration_millis(lease)))
                        .bind(now_ms)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db("claim a webhook delivery"))?;
                        let row = sqlx::query(sqlx::AssertSqlSafe($sql(
                            "SELECT d.id, sc.name, s.id, s.url, s.secret, o.message_id, o.body, d.attempts, d.first_attempt_at, o.created_at \
                             FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id \
                             JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN scopes sc ON sc.id = s.scope_id WHERE d.id = ?",
                        )))
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(self.db("claim a webhook delivery"))?;
                        claimed.push(ClaimedDelivery {
                            id: wh_col(&row, 0)?,
                            lease: token,
                            scope: wh_col(&row, 1)?,
                            subscription: parse_id(&wh_col::<String>(&row, 2)?)?,
                            url: wh_col(&row, 3)?,
                            secret: wh_col(&row, 4)?,
                            message_id: parse_id(&wh_col::<String>(&row, 5)?)?,
                            body: wh_col(&row, 6)?,
                            attempts: u32::try_from(wh_col::<i64>(&row, 7)?).unwrap_or(u32::MAX),
                            first_attempt_at: from_millis(wh_col::<Option<i64>>(&row, 8)?.unwrap_or(now_ms))?,
                            created_at: from_millis(wh_col(&row, 9)?)?,
                        });
                    }
                    tx.commit().await.map_err(self.db("claim webhook deliveries"))?;
                    Ok(claimed)
                })
            }

            fn finish_delivery<'a>(&'a self, id: i64, lease: Uuid, at: OffsetDateTime, result: &'a AttemptResult) -> StoreFuture<'a, bool> {
                Box::pin(async move {
                    let (state, due_at, status, error, delivered_at) = attempt_columns(at, result);
                    let written = sqlx::query(sqlx::AssertSqlSafe($sql(
                        "UPDATE webhook_deliveries SET state = ?, due_at = ?, lease = NULL, attempts = attempts + 1, last_attempt_at = ?, \
                         last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND lease = ? AND state = 'pending'",
                    )))
                    .bind(state)
                    .bind(due_at)
                    .bind(millis(at))
                    .bind(status)
                    .bind(error)
                    .bind(delivered_at)
                    .bind(id)
                    .bind(lease.to_string())
                    .execute(&self.pool)
                    .await
                    .map_err(self.db("record a webhook attempt"))?
                    .rows_affected();
                    Ok(written == 1)
                })
            }

            fn next_due(&self) -> StoreFuture<'_, Option<OffsetDateTime>> {
                Box::pin(async move {
                    let due: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(d.due_at) FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                         WHERE d.state = 'pending' AND s.paused = FALSE \
                         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id \
                                         AND e.state = 'pending' AND e.outbox_id < d.outbox_id)",
                    )
                    .fetch_one(&self.pool)
                    .await
                    .map_err(self.db("read when the next delivery is due"))?;
                    due.map(from_millis).transpose()
                })
            }
        }
    };
}

pub(crate) use webhook_store;
