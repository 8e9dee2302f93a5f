//! Outgoing events and webhooks (issue 21): what each committed change announces, the
//! subscriptions' use cases, and one round of deliveries for the server's worker.
//!
//! [`EventAnnouncer`] is installed on the store when the application opens it: every write
//! describes what it committed, and the announcer turns that into `crosswalk-events` events,
//! which the store writes to its outbox in the same transaction. Events that announce no
//! change of their own (a job's run started or failed) are written by [`App::announce`], in
//! a transaction of their own; so is any event another use case wants to send without a
//! store write (the SCIM service's group conflicts go through the same call, or through the
//! store's outbox in its own transaction).

use std::sync::Arc;
use std::time::Duration;

use crosswalk_events::{
    Attempt, ChangeCounts, Deliverer, DeliveryOutcome, Event, EventFilter, EventPayload, EventType,
    ExceptionRecorded, FailureKind, JobCompleted, JobFailed, JobStarted, JobSummary,
    MappingsChanged, NextAttempt, PurgedNamespace, RetentionPurged, RetrySchedule, ReviewDecided,
    ReviewDecision, TargetPolicy, WebhookSecret,
};
use crosswalk_store::scope::{
    Announcer, AttemptResult, ClaimedDelivery, Committed, DeliveryRow, DeliveryState,
    NewSubscription, OutboxEvent, Retention, RunRecord, ScopeError, ScopeResult, SubscriptionRow,
    WebhookStore,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::App;
use crate::access::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::read::scope_error;
use crate::review::REJECTIONS_NAMESPACE;

/// Turns what the store committed into events (see the module's note).
pub struct EventAnnouncer {
    clock: Arc<dyn Clock>,
}

impl EventAnnouncer {
    pub fn new(clock: Arc<dyn Clock>) -> EventAnnouncer {
        EventAnnouncer { clock }
    }
}

/// A review decision, passed with the exception rule that records it
/// ([`crosswalk_store::scope::ScopeWrite::add_exception_noting`]): its event is
/// `review.decided` as well as `exception.recorded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNote {
    pub namespace: String,
    pub source_key: String,
    pub decision: ReviewDecision,
    pub destination: Option<String>,
}

/// The outbox form of an event.
pub fn outbox_event(event: &Event) -> ScopeResult<OutboxEvent> {
    let body = event
        .to_body()
        .map_err(|error| ScopeError::invalid(format!("an event cannot be written: {error}")))?;
    Ok(OutboxEvent {
        message_id: event.message_id,
        event_type: event.event_type().as_str().to_owned(),
        body,
    })
}

impl Announcer for EventAnnouncer {
    fn announce(
        &self,
        scope: &str,
        _at: OffsetDateTime,
        committed: &Committed<'_>,
    ) -> ScopeResult<Vec<OutboxEvent>> {
        let now = self.clock.now();
        let event = |payload: EventPayload| Event::new(scope, now, payload);
        let mut events = Vec::new();
        match committed {
            Committed::RunRecorded { run, record, batch } => {
                if run.number == 1 {
                    // The job is made by its first run, in this transaction: before it there
                    // was no transfer id to announce a start with.
                    events.push(event(EventPayload::JobStarted(JobStarted {
                        job: run.job.clone(),
                        transfer_id: run.transfer_id,
                        run: run.number,
                        actor: run.who.clone(),
                    })));
                }
                if let Some(batch) = batch {
                    events.push(event(EventPayload::MappingsChanged(MappingsChanged {
                        from_cursor: batch.from_revision,
                        to_cursor: batch.to_revision,
                        changes: batch.changes,
                        namespaces: batch.namespaces.clone(),
                        affected_items: batch.affected_items,
                        job: Some(run.job.clone()),
                        run: Some(run.number),
                        actor: run.who.clone(),
                    })));
                }
                events.push(event(EventPayload::JobCompleted(JobCompleted {
                    job: run.job.clone(),
                    transfer_id: run.transfer_id,
                    run: run.number,
                    actor: run.who.clone(),
                    summary: summary_of(record),
                    changes: ChangeCounts {
                        created: run.counts.added,
                        changed: run.counts.changed,
                        removed: run.counts.removed,
                    },
                    cursor: batch.map_or(0, |b| b.to_revision),
                })));
            }
            Committed::MappingWritten {
                batch,
                namespace,
                source_key,
                value,
                context,
            } => {
                events.push(event(EventPayload::MappingsChanged(MappingsChanged {
                    from_cursor: batch.from_revision,
                    to_cursor: batch.to_revision,
                    changes: batch.changes,
                    namespaces: batch.namespaces.clone(),
                    affected_items: batch.affected_items,
                    job: None,
                    run: None,
                    actor: context.who.clone(),
                })));
                if *namespace == REJECTIONS_NAMESPACE && value.is_some() {
                    let (kind, key) = source_key.split_once('/').unwrap_or(("user", source_key));
                    events.push(event(EventPayload::ReviewDecided(ReviewDecided {
                        namespace: format!("identity:{kind}"),
                        source_key: key.to_owned(),
                        decision: ReviewDecision::Rejected,
                        destination: None,
                        affected_items: None,
                        actor: context.who.clone(),
                    })));
                }
            }
            Committed::ExceptionChanged {
                version,
                added,
                rule,
                context,
                note,
            } => {
                let change = if *added {
                    format!(
                        "added {} {} -> {}",
                        rule.kind, rule.source, rule.destination
                    )
                } else {
                    format!(
                        "removed {} {} -> {}",
                        rule.kind, rule.source, rule.destination
                    )
                };
                events.push(event(EventPayload::ExceptionRecorded(ExceptionRecorded {
                    version: *version,
                    change,
                    actor: context.who.clone(),
                })));
                if let Some(decision) = note.and_then(|note| note.downcast_ref::<DecisionNote>()) {
                    events.push(event(EventPayload::ReviewDecided(ReviewDecided {
                        namespace: decision.namespace.clone(),
                        source_key: decision.source_key.clone(),
                        decision: decision.decision,
                        destination: decision.destination.clone(),
                        affected_items: None,
                        actor: context.who.clone(),
                    })));
                }
            }
            Committed::Purged { report, context } => {
                if !report.removed.is_empty() {
                    let days = match report.retention {
                        Retention::Days(days) => days,
                        Retention::Forever => 0,
                    };
                    let cutoff = context.at - time::Duration::days(i64::from(days));
                    events.push(event(EventPayload::RetentionPurged(RetentionPurged {
                        namespaces: vec![PurgedNamespace {
                            namespace: report.namespace.as_str().to_owned(),
                            retention_days: days,
                            cutoff,
                            revisions: report.revisions.len() as u64,
                            mappings: report.removed.len() as u64,
                        }],
                        actor: context.who.clone(),
                    })));
                }
            }
        }
        events.iter().map(outbox_event).collect()
    }
}

/// A run's decisions, counted from what it records.
fn summary_of(record: &RunRecord) -> JobSummary {
    let mut summary = JobSummary::default();
    for identity in &record.identities {
        let value = &identity.value;
        if identity.namespace.as_str() == crosswalk_store::scope::Namespace::IDENTITY_GROUP {
            summary.groups += 1;
        } else {
            summary.accounts += 1;
        }
        match (value.resolution.as_str(), value.target.as_str()) {
            ("Unresolved", _) => {
                summary.unresolved += 1;
                if value.candidates.len() > 1 {
                    summary.ambiguous += 1;
                }
            }
            ("Provision", _) | (_, "provision") => summary.created += 1,
            (_, "existing" | "external" | "named") => summary.linked += 1,
            _ => {}
        }
        if !value.flags.is_empty() {
            summary.flagged += 1;
        }
    }
    summary
}

/// A subscription just made, with its secret: shown once, never again.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewWebhook {
    #[serde(flatten)]
    pub subscription: SubscriptionRow,
    /// `whsec_…`: the receiver's key for checking signatures.
    pub secret: String,
}

/// How the worker delivers: the retry schedule and how long a claim holds a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    pub schedule: RetrySchedule,
    /// A claim's lease: longer than an attempt's timeout, so a live worker keeps it.
    pub lease: Duration,
    /// Deliveries claimed per round (at most one per subscription is due at a time).
    pub batch: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            schedule: RetrySchedule::default(),
            lease: Duration::from_secs(60),
            batch: 32,
        }
    }
}

/// What one round of deliveries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
    /// Outcomes not recorded because the lease had run out (another worker has it).
    pub lost: usize,
}

impl App {
    fn webhook_store(&self) -> AppResult<&Arc<dyn WebhookStore>> {
        self.webhooks.as_ref().ok_or_else(|| {
            AppError::invalid("this store keeps no webhooks; open it with App::open")
        })
    }

    /// Writes events that announce no store change of their own, in a transaction of their
    /// own (a job's run started or failed; another service's events).
    pub async fn announce(&self, scope: &str, events: &[Event]) -> AppResult<()> {
        let Some(store) = &self.webhooks else {
            return Ok(());
        };
        let rows = events
            .iter()
            .map(outbox_event)
            .collect::<ScopeResult<Vec<_>>>()?;
        store
            .announce(scope, &rows, self.clock.now())
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// `job.started` for a run of a job that exists; a new job's first run announces its
    /// start with its completion (the transfer id is made by the run).
    pub(crate) async fn announce_start(&self, scope: &str, job: &str, who: &str) -> AppResult<()> {
        if self.webhooks.is_none() {
            return Ok(());
        }
        let jobs = self.store.jobs(scope).await?;
        if let Some(row) = jobs.iter().find(|row| row.name == job) {
            let event = Event::new(
                scope,
                self.clock.now(),
                EventPayload::JobStarted(JobStarted {
                    job: row.name.clone(),
                    transfer_id: row.transfer_id,
                    run: row.runs + 1,
                    actor: who.to_owned(),
                }),
            );
            self.announce(scope, &[event]).await?;
        }
        Ok(())
    }

    /// `job.failed` for a job that exists (a job whose first run fails was never made, and
    /// has no transfer id to announce). Best effort: the run's own error is what the caller
    /// gets.
    pub(crate) async fn announce_failure(
        &self,
        scope: &str,
        job: &str,
        who: &str,
        error: &AppError,
    ) {
        if self.webhooks.is_none() {
            return;
        }
        let Ok(jobs) = self.store.jobs(scope).await else {
            return;
        };
        if let Some(row) = jobs.iter().find(|row| row.name == job) {
            let event = Event::new(
                scope,
                self.clock.now(),
                EventPayload::JobFailed(JobFailed {
                    job: row.name.clone(),
                    transfer_id: row.transfer_id,
                    run: Some(row.runs + 1),
                    actor: who.to_owned(),
                    error: error.to_string(),
                }),
            );
            let _ = self.announce(scope, &[event]).await;
        }
    }

    /// Subscribes `url` to the scope's events (those `events` accepts). The URL is checked
    /// against `policy` now, and again on every connection. The secret is returned once.
    pub async fn add_webhook(
        &self,
        caller: &Caller,
        scope: &str,
        url: &str,
        events: &EventFilter,
        policy: &TargetPolicy,
    ) -> AppResult<NewWebhook> {
        caller.check_write(scope)?;
        let store = self.webhook_store()?;
        let checked = policy.check_url(url).map_err(|error| {
            AppError::invalid(format!("{error}; webhook targets are http(s) URLs the server may reach (see --webhook-allow)"))
        })?;
        // A host name is checked when it is resolved, at each delivery.
        let secret = WebhookSecret::generate().map_err(|error| {
            AppError::invalid(format!("no random secret could be made: {error}"))
        })?;
        let whsec = secret.to_whsec();
        let new = NewSubscription {
            id: Uuid::new_v4(),
            url: checked.as_str().to_owned(),
            events: events
                .types()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            secret_fingerprint: fingerprint(&whsec),
            secret: whsec.clone(),
        };
        let context = caller.context(self.clock.now());
        let subscription = store
            .add_subscription(scope, &new, &context)
            .await
            .map_err(|e| scope_error(scope, e))?;
        Ok(NewWebhook {
            subscription,
            secret: whsec,
        })
    }

    pub async fn webhooks(&self, caller: &Caller, scope: &str) -> AppResult<Vec<SubscriptionRow>> {
        caller.check_read(scope)?;
        self.webhook_store()?
            .subscriptions(scope)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    pub async fn webhook(
        &self,
        caller: &Caller,
        scope: &str,
        id: Uuid,
    ) -> AppResult<SubscriptionRow> {
        caller.check_read(scope)?;
        self.webhook_store()?
            .subscription(scope, id)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    pub async fn remove_webhook(&self, caller: &Caller, scope: &str, id: Uuid) -> AppResult<()> {
        caller.check_write(scope)?;
        self.webhook_store()?
            .remove_subscription(scope, id)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Pauses (or resumes) a subscription: paused, it collects its events and sends none.
    pub async fn pause_webhook(
        &self,
        caller: &Caller,
        scope: &str,
        id: Uuid,
        paused: bool,
    ) -> AppResult<SubscriptionRow> {
        caller.check_write(scope)?;
        self.webhook_store()?
            .set_subscription_paused(scope, id, paused)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// The scope's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        scope: &str,
        subscription: Option<Uuid>,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> AppResult<Vec<DeliveryRow>> {
        caller.check_read(scope)?;
        self.webhook_store()?
            .deliveries(scope, subscription, state, limit)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Sends a delivered or failed event again, at its place in the order.
    pub async fn redeliver(
        &self,
        caller: &Caller,
        scope: &str,
        delivery: i64,
    ) -> AppResult<DeliveryRow> {
        caller.check_write(scope)?;
        self.webhook_store()?
            .redeliver(scope, delivery, OffsetDateTime::now_utc())
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// One round of the delivery worker: claims the due deliveries (each the oldest pending
    /// one of its subscription), sends them at once, and records each outcome, scheduling
    /// retries. `now` is the wall clock to the millisecond (the app's clock keeps seconds).
    pub async fn deliver_due(
        &self,
        deliverer: &Deliverer,
        settings: &DeliverySettings,
        now: OffsetDateTime,
    ) -> AppResult<DeliveryRound> {
        let store = self.webhook_store()?;
        let claimed = store
            .claim_deliveries(now, settings.lease, settings.batch)
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len(),
            ..DeliveryRound::default()
        };
        let sends = claimed
            .iter()
            .map(|claim| deliver_one(store.as_ref(), deliverer, settings, claim));
        for outcome in futures_util::future::join_all(sends).await {
            match outcome? {
                (false, _) => round.lost += 1,
                (true, AttemptResult::Delivered { .. }) => round.delivered += 1,
                (true, AttemptResult::Retry { .. }) => round.retried += 1,
                (true, AttemptResult::Failed { .. }) => round.failed += 1,
            }
        }
        Ok(round)
    }

    /// When the next pending delivery is due, if any.
    pub async fn next_delivery_due(&self) -> AppResult<Option<OffsetDateTime>> {
        Ok(self.webhook_store()?.next_due().await?)
    }

    /// The scope's outbox after `after`, oldest first (tests and tools: the events as
    /// committed, whether or not delivered).
    pub async fn outbox(
        &self,
        caller: &Caller,
        scope: &str,
        after: i64,
        limit: usize,
    ) -> AppResult<Vec<crosswalk_store::scope::OutboxRow>> {
        caller.check_read(scope)?;
        self.webhook_store()?
            .outbox(scope, after, limit)
            .await
            .map_err(|e| scope_error(scope, e))
    }
}

async fn deliver_one(
    store: &dyn WebhookStore,
    deliverer: &Deliverer,
    settings: &DeliverySettings,
    claim: &ClaimedDelivery,
) -> AppResult<(bool, AttemptResult)> {
    let result = match WebhookSecret::parse(&claim.secret) {
        Err(error) => AttemptResult::Failed {
            status: None,
            error: format!("the subscription's stored secret is unusable: {error}"),
        },
        Ok(secret) => {
            let message_id = claim.message_id.to_string();
            let attempt = Attempt {
                url: &claim.url,
                message_id: &message_id,
                body: claim.body.as_bytes(),
                secrets: &[&secret],
                timestamp: OffsetDateTime::now_utc().unix_timestamp(),
            };
            match deliverer.deliver(attempt).await {
                DeliveryOutcome::Delivered { status, .. } => AttemptResult::Delivered { status },
                DeliveryOutcome::Failed(failure) if !failure.retryable => {
                    let error = match failure.kind {
                        FailureKind::Refused => format!(
                            "{}; allow the range with `crosswalk serve --webhook-allow CIDR`, then redeliver",
                            failure.error
                        ),
                        _ => failure.error,
                    };
                    AttemptResult::Failed {
                        status: failure.status,
                        error,
                    }
                }
                DeliveryOutcome::Failed(failure) => {
                    let failed_at = OffsetDateTime::now_utc();
                    let mut rng = rand::rng();
                    match settings.schedule.next_attempt(
                        claim.first_attempt_at,
                        claim.attempts + 1,
                        failed_at,
                        failure.retry_after,
                        &mut rng,
                    ) {
                        NextAttempt::RetryAt(at) => AttemptResult::Retry {
                            at,
                            status: failure.status,
                            error: failure.error,
                        },
                        NextAttempt::GiveUp => AttemptResult::Failed {
                            status: failure.status,
                            error: format!(
                                "{} (gave up after {} attempts)",
                                failure.error,
                                claim.attempts + 1
                            ),
                        },
                    }
                }
            }
        }
    };
    let recorded = store
        .finish_delivery(claim.id, claim.lease, OffsetDateTime::now_utc(), &result)
        .await?;
    Ok((recorded, result))
}

/// The first 8 bytes of the secret's SHA-256, hex: names a secret without revealing it.
pub fn fingerprint(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every event type, for help texts.
pub fn event_types() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}
