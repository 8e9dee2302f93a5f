//! The webhook store's contract (issue 21), written once and run against each backend
//! (`webhook_tests!(backend, constructor)`): events are written in the transaction of the
//! change they announce (a rolled-back change leaves none), each subscription gets the types
//! it asked for, deliveries go out one at a time in commit order, retries and failures are
//! recorded, a lost lease is claimed again, and two handles never claim one delivery twice.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crosswalk_core::{Directory, IdentityKind, Policy, resolve};
use crosswalk_store::scope::{
    Announcer, AttemptResult, ChangeContext, Committed, DeliveryState, DirectoryContent, ErrorKind,
    ExceptionRow, Namespace, NewChoice, NewScope, NewSubscription, OutboxEvent, PostgresScopeStore,
    Retention, RunChoices, RunRecord, ScopeError, ScopeResult, ScopeWrite, SqliteScopeStore,
    StoredHandling, WebhookStore,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[path = "support/postgres.rs"]
mod postgres_support;

/// Announces each change as one event whose type names the change and whose body says what
/// the store described: enough to check that the right description arrives.
struct TestAnnouncer;

impl Announcer for TestAnnouncer {
    fn announce(
        &self,
        _scope: &str,
        _at: OffsetDateTime,
        committed: &Committed<'_>,
    ) -> ScopeResult<Vec<OutboxEvent>> {
        let (kind, body) = match committed {
            Committed::RunRecorded { run, batch, .. } => (
                "run.recorded",
                match batch {
                    Some(b) => format!(
                        "run {} {}..{} {} {:?} {:?}",
                        run.number,
                        b.from_revision,
                        b.to_revision,
                        b.changes,
                        b.namespaces,
                        b.affected_items
                    ),
                    None => format!("run {} unchanged", run.number),
                },
            ),
            Committed::MappingWritten {
                batch, source_key, ..
            } => (
                "mapping.written",
                format!(
                    "{source_key} {}..{}",
                    batch.from_revision, batch.to_revision
                ),
            ),
            Committed::ExceptionChanged {
                version, context, ..
            } => {
                if context.who == "refuse" {
                    return Err(ScopeError::invalid("the announcer refuses"));
                }
                ("exception.changed", format!("version {version}"))
            }
            Committed::Purged { report, .. } => {
                ("purged", format!("{} removed", report.removed.len()))
            }
        };
        Ok(vec![OutboxEvent {
            message_id: Uuid::new_v4(),
            event_type: kind.to_owned(),
            body,
        }])
    }
}

struct Backend {
    scopes: Arc<dyn ScopeWrite>,
    hooks: Arc<dyn WebhookStore>,
    other_hooks: Arc<dyn WebhookStore>,
    _guard: Box<dyn std::any::Any + Send>,
}

async fn sqlite_store() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scopes.sqlite");
    let store = SqliteScopeStore::open(&path)
        .await
        .unwrap()
        .with_announcer(Arc::new(TestAnnouncer));
    let other = SqliteScopeStore::open(&path).await.unwrap();
    Some(Backend {
        scopes: Arc::new(store.clone()),
        hooks: Arc::new(store),
        other_hooks: Arc::new(other),
        _guard: Box::new(dir),
    })
}

async fn postgres_store() -> Option<Backend> {
    let database = postgres_support::fresh_database().await?;
    let store = PostgresScopeStore::open(&database.url)
        .await
        .unwrap()
        .with_announcer(Arc::new(TestAnnouncer));
    let other = PostgresScopeStore::open(&database.url).await.unwrap();
    Some(Backend {
        scopes: Arc::new(store.clone()),
        hooks: Arc::new(store),
        other_hooks: Arc::new(other),
        _guard: Box::new(database),
    })
}

macro_rules! webhook_tests {
    ($backend:ident, $constructor:ident; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = super::$constructor().await else { return };
                    super::$case(&backend).await;
                }
            )*
        }
    };
}

webhook_tests!(sqlite, sqlite_store;
    each_committed_change_is_announced_in_its_transaction,
    a_rolled_back_change_leaves_no_event,
    deliveries_go_out_one_at_a_time_in_commit_order,
    a_lost_lease_is_claimed_again_and_its_late_outcome_ignored,
    two_handles_never_claim_one_delivery_twice,
    subscriptions_are_kept_per_scope,
);
webhook_tests!(postgres, postgres_store;
    each_committed_change_is_announced_in_its_transaction,
    a_rolled_back_change_leaves_no_event,
    deliveries_go_out_one_at_a_time_in_commit_order,
    a_lost_lease_is_claimed_again_and_its_late_outcome_ignored,
    two_handles_never_claim_one_delivery_twice,
    subscriptions_are_kept_per_scope,
);

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

fn ms(n: i64) -> OffsetDateTime {
    t0() + time::Duration::milliseconds(n)
}

fn context(who: &str) -> ChangeContext {
    ChangeContext {
        at: t0(),
        who: who.into(),
        caller: "cli".into(),
    }
}

async fn create_scope(backend: &Backend, name: &str) {
    let scope = NewScope {
        name: name.into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    backend
        .scopes
        .create_scope(&scope, &context("ada"))
        .await
        .unwrap();
}

async fn subscribe(backend: &Backend, scope: &str, events: &[&str]) -> Uuid {
    let new = NewSubscription {
        id: Uuid::new_v4(),
        url: "https://hooks.example.com/crosswalk".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        secret_fingerprint: "0011223344556677".into(),
    };
    let row = backend
        .hooks
        .add_subscription(scope, &new, &context("ada"))
        .await
        .unwrap();
    assert_eq!((row.id, row.paused, row.pending), (new.id, false, 0));
    new.id
}

fn directories(n: usize) -> (Directory, Directory) {
    let account = |id: String, i: usize| crosswalk_core::Account {
        id: id.into(),
        username: Some(format!("user{i}").into()),
        email: Some(format!("user{i}@acme.example").into()),
        display_name: Some(format!("User {i}").into()),
        active: true,
        email_verified: Some(true),
        ..Default::default()
    };
    let source = Directory::new(
        "server",
        (0..n)
            .map(|i| account(format!("JIRAUSER{i:05}"), i))
            .collect(),
        Vec::new(),
    )
    .unwrap();
    let destination = Directory::new(
        "cloud",
        (0..n)
            .map(|i| account(format!("5b10ac8d{i:04}"), i))
            .collect(),
        Vec::new(),
    )
    .unwrap();
    (source, destination)
}

fn record(scope: &str, job: &str, n: usize) -> RunRecord {
    let (source, destination) = directories(n);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    RunRecord {
        scope: scope.into(),
        job: job.into(),
        started_at: t0(),
        who: "ada".into(),
        policy: "# default\n".into(),
        exceptions_version: 0,
        source: DirectoryContent::from_core(&source),
        destination: DirectoryContent::from_core(&destination),
        identities: crosswalk_store::scope::IdentityMapping::all_from_core(
            &resolved.mappings,
            &source,
            &destination,
        )
        .unwrap(),
        warnings: Vec::new(),
    }
}

async fn outbox(backend: &Backend, scope: &str) -> Vec<(String, String)> {
    backend
        .hooks
        .outbox(scope, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.event_type, row.body))
        .collect()
}

async fn each_committed_change_is_announced_in_its_transaction(backend: &Backend) {
    create_scope(backend, "acme").await;
    let all = subscribe(backend, "acme", &[]).await;
    let runs_only = subscribe(backend, "acme", &["run.recorded"]).await;

    let run = backend
        .scopes
        .record_run(&record("acme", "wave-1", 3))
        .await
        .unwrap();
    assert_eq!(run.counts.added, 3);
    // The batch is the run's revisions: the feed after `from` begins with them.
    let feed = backend
        .scopes
        .changes("acme", crosswalk_store::scope::Cursor::START, 100)
        .await
        .unwrap();
    let first = feed.revisions.first().unwrap().cursor.to_string();
    let last = feed.revisions.last().unwrap().cursor.to_string();
    let (first, last): (i64, i64) = (first[1..].parse().unwrap(), last[1..].parse().unwrap());
    let namespaces = BTreeMap::from([("identity:user".to_owned(), 3u64)]);
    assert_eq!(
        outbox(backend, "acme").await,
        [(
            "run.recorded".to_owned(),
            format!("run 1 {}..{last} 3 {namespaces:?} None", first - 1)
        )]
    );

    // The same inputs again change nothing: still announced (a job completed), without a batch.
    backend
        .scopes
        .record_run(&record("acme", "wave-1", 3))
        .await
        .unwrap();
    let rule = ExceptionRow {
        kind: IdentityKind::Account,
        source: "id:JIRAUSER00001".into(),
        destination: "id:5b10ac8d0002".into(),
    };
    backend
        .scopes
        .add_exception("acme", &rule, &context("ada"))
        .await
        .unwrap();
    let namespace = Namespace::parse("jira:issue").unwrap();
    backend
        .scopes
        .upsert_app("acme", &namespace, "ISSUE-1", "10001", &context("ada"))
        .await
        .unwrap();
    // Writing the same value again is no change, and no event.
    assert!(
        backend
            .scopes
            .upsert_app("acme", &namespace, "ISSUE-1", "10001", &context("ada"))
            .await
            .unwrap()
            .is_none()
    );
    backend
        .scopes
        .delete_app("acme", &namespace, "ISSUE-1", &context("ada"))
        .await
        .unwrap();
    backend
        .scopes
        .set_retention("acme", &namespace, Retention::Days(1), &context("ada"))
        .await
        .unwrap();
    let later = ChangeContext {
        at: t0() + time::Duration::days(3),
        ..context("ada")
    };
    // A dry run writes nothing, so it announces nothing.
    backend
        .scopes
        .purge("acme", &namespace, &later, true)
        .await
        .unwrap();
    backend
        .scopes
        .purge("acme", &namespace, &later, false)
        .await
        .unwrap();

    let kinds: Vec<String> = outbox(backend, "acme")
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "run.recorded",
            "run.recorded",
            "exception.changed",
            "mapping.written",
            "mapping.written",
            "purged"
        ]
    );
    assert_eq!(outbox(backend, "acme").await[1].1, "run 2 unchanged");
    assert_eq!(outbox(backend, "acme").await[5].1, "1 removed");

    // Each subscription got a delivery of each event it takes.
    let pending = |id| async move {
        backend
            .hooks
            .deliveries("acme", Some(id), Some(DeliveryState::Pending), 100)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(pending(all).await, 6);
    assert_eq!(pending(runs_only).await, 2);
    // Made in the same millisecond, they are listed in either order.
    let mut listed = backend.hooks.subscriptions("acme").await.unwrap();
    listed.sort_by_key(|s| s.pending);
    assert_eq!(
        listed.iter().map(|s| (s.id, s.pending)).collect::<Vec<_>>(),
        [(runs_only, 2), (all, 6)]
    );
    assert_eq!(listed[0].events, ["run.recorded"]);
}

async fn a_rolled_back_change_leaves_no_event(backend: &Backend) {
    create_scope(backend, "acme").await;
    subscribe(backend, "acme", &[]).await;
    backend
        .scopes
        .record_run(&record("acme", "wave-1", 2))
        .await
        .unwrap();
    let before = outbox(backend, "acme").await;
    assert_eq!(before.len(), 1);

    // A run refused at its end (the scope's choices moved on): nothing of it, no event.
    let choices = RunChoices {
        version: 99,
        choices: vec![NewChoice {
            source_key: "JIRAUSER00000".into(),
            handling: StoredHandling::Keep,
            forced: false,
        }],
    };
    let error = backend
        .scopes
        .record_run_choosing(&record("acme", "wave-2", 4), Some(&choices))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    // An announcer that fails rolls the change itself back.
    let rule = ExceptionRow {
        kind: IdentityKind::Account,
        source: "id:JIRAUSER00001".into(),
        destination: "id:x".into(),
    };
    assert!(
        backend
            .scopes
            .add_exception("acme", &rule, &context("refuse"))
            .await
            .is_err()
    );

    assert_eq!(outbox(backend, "acme").await, before);
    assert_eq!(backend.scopes.exceptions("acme").await.unwrap().version, 0);
    assert_eq!(backend.scopes.jobs("acme").await.unwrap().len(), 1);
    assert_eq!(
        backend
            .hooks
            .deliveries("acme", None, None, 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Three events on one subscription (a run, an exception, a run).
async fn three_events(backend: &Backend) -> Uuid {
    create_scope(backend, "acme").await;
    let id = subscribe(backend, "acme", &[]).await;
    backend
        .scopes
        .record_run(&record("acme", "wave-1", 2))
        .await
        .unwrap();
    let rule = ExceptionRow {
        kind: IdentityKind::Account,
        source: "id:JIRAUSER00001".into(),
        destination: "id:5b10ac8d0000".into(),
    };
    backend
        .scopes
        .add_exception("acme", &rule, &context("ada"))
        .await
        .unwrap();
    let namespace = Namespace::parse("jira:issue").unwrap();
    backend
        .scopes
        .upsert_app("acme", &namespace, "ISSUE-1", "10001", &context("ada"))
        .await
        .unwrap();
    id
}

const LEASE: Duration = Duration::from_secs(60);

async fn deliveries_go_out_one_at_a_time_in_commit_order(backend: &Backend) {
    let id = three_events(backend).await;
    let hooks = &backend.hooks;
    let events = hooks.outbox("acme", 0, 10).await.unwrap();

    // Only the oldest is claimed; the others wait behind it.
    let claimed = hooks.claim_deliveries(ms(0), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let head = &claimed[0];
    assert_eq!(
        (
            head.message_id,
            head.attempts,
            head.subscription,
            head.scope.as_str()
        ),
        (events[0].message_id, 0, id, "acme")
    );
    assert_eq!(head.body, events[0].body);
    assert_eq!(head.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    // Held: nobody else claims anything of this subscription meanwhile.
    assert!(
        hooks
            .claim_deliveries(ms(10), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // It fails; retried at 500 ms, and nothing overtakes it.
    let retry = AttemptResult::Retry {
        at: ms(500),
        status: Some(503),
        error: "HTTP 503".into(),
    };
    assert!(
        hooks
            .finish_delivery(head.id, head.lease, ms(20), &retry)
            .await
            .unwrap()
    );
    assert!(
        hooks
            .claim_deliveries(ms(100), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(hooks.next_due().await.unwrap(), Some(ms(500)));
    let row = &hooks.deliveries("acme", Some(id), None, 10).await.unwrap()[2];
    assert_eq!(
        (
            row.state,
            row.attempts,
            row.last_status,
            row.last_error.as_deref()
        ),
        (DeliveryState::Pending, 1, Some(503), Some("HTTP 503"))
    );
    assert_eq!(row.next_attempt_at, Some(ms(500)));

    let again = hooks.claim_deliveries(ms(500), LEASE, 10).await.unwrap();
    assert_eq!(
        (again[0].id, again[0].attempts, again[0].first_attempt_at),
        (head.id, 1, ms(0))
    );
    assert!(
        hooks
            .finish_delivery(
                again[0].id,
                again[0].lease,
                ms(510),
                &AttemptResult::Delivered { status: 204 }
            )
            .await
            .unwrap()
    );

    // The second goes next; it fails for good, and the third is not held back by it.
    let second = hooks.claim_deliveries(ms(520), LEASE, 10).await.unwrap();
    assert_eq!(second[0].message_id, events[1].message_id);
    let failed = AttemptResult::Failed {
        status: Some(410),
        error: "HTTP 410 Gone".into(),
    };
    assert!(
        hooks
            .finish_delivery(second[0].id, second[0].lease, ms(530), &failed)
            .await
            .unwrap()
    );
    let third = hooks.claim_deliveries(ms(540), LEASE, 10).await.unwrap();
    assert_eq!(third[0].message_id, events[2].message_id);
    assert!(
        hooks
            .finish_delivery(
                third[0].id,
                third[0].lease,
                ms(550),
                &AttemptResult::Delivered { status: 200 }
            )
            .await
            .unwrap()
    );
    assert_eq!(hooks.next_due().await.unwrap(), None);

    let failed_rows = hooks
        .deliveries("acme", None, Some(DeliveryState::Failed), 10)
        .await
        .unwrap();
    assert_eq!(failed_rows.len(), 1);
    assert_eq!(
        (
            failed_rows[0].attempts,
            failed_rows[0].last_error.as_deref()
        ),
        (1, Some("HTTP 410 Gone"))
    );
    assert_eq!(hooks.subscription("acme", id).await.unwrap().failed, 1);

    // Redelivered, it is pending again and goes out; a pending one cannot be redelivered.
    let redelivered = hooks
        .redeliver("acme", failed_rows[0].id, ms(600))
        .await
        .unwrap();
    assert_eq!(redelivered.state, DeliveryState::Pending);
    assert_eq!(
        hooks
            .redeliver("acme", failed_rows[0].id, ms(600))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    // Paused, the subscription sends nothing; resumed, the redelivery goes.
    hooks
        .set_subscription_paused("acme", id, true)
        .await
        .unwrap();
    assert!(
        hooks
            .claim_deliveries(ms(700), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(hooks.next_due().await.unwrap(), None);
    assert!(hooks.subscription("acme", id).await.unwrap().paused);
    hooks
        .set_subscription_paused("acme", id, false)
        .await
        .unwrap();
    let resent = hooks.claim_deliveries(ms(700), LEASE, 10).await.unwrap();
    assert_eq!(
        (
            resent[0].message_id,
            resent[0].attempts,
            resent[0].first_attempt_at
        ),
        (events[1].message_id, 1, ms(700))
    );

    assert_eq!(
        hooks
            .redeliver("acme", 999_999, ms(0))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    // Removing the subscription removes its deliveries.
    hooks.remove_subscription("acme", id).await.unwrap();
    assert!(
        hooks
            .deliveries("acme", None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        hooks
            .remove_subscription("acme", id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

async fn a_lost_lease_is_claimed_again_and_its_late_outcome_ignored(backend: &Backend) {
    three_events(backend).await;
    let hooks = &backend.hooks;
    let lease = Duration::from_millis(1000);
    let first = hooks
        .claim_deliveries(ms(0), lease, 10)
        .await
        .unwrap()
        .remove(0);
    // The worker dies (kill -9): until its lease ends, nobody takes the delivery...
    assert!(
        backend
            .other_hooks
            .claim_deliveries(ms(999), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // ...then the next worker does.
    let second = backend
        .other_hooks
        .claim_deliveries(ms(1000), lease, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((second.id, second.attempts), (first.id, 0));
    assert_ne!(second.lease, first.lease);
    // A late outcome of the first claim is not recorded; the second's is.
    assert!(
        !hooks
            .finish_delivery(
                first.id,
                first.lease,
                ms(1100),
                &AttemptResult::Delivered { status: 200 }
            )
            .await
            .unwrap()
    );
    assert!(
        backend
            .other_hooks
            .finish_delivery(
                second.id,
                second.lease,
                ms(1200),
                &AttemptResult::Delivered { status: 200 }
            )
            .await
            .unwrap()
    );
    let rows = hooks
        .deliveries("acme", None, Some(DeliveryState::Delivered), 10)
        .await
        .unwrap();
    assert_eq!(
        (rows.len(), rows[0].attempts, rows[0].delivered_at),
        (1, 1, Some(ms(1200)))
    );
}

async fn two_handles_never_claim_one_delivery_twice(backend: &Backend) {
    create_scope(backend, "acme").await;
    // Several subscriptions, so that many heads are due at once.
    let mut subscriptions = Vec::new();
    for _ in 0..4 {
        subscriptions.push(subscribe(backend, "acme", &[]).await);
    }
    let namespace = Namespace::parse("jira:issue").unwrap();
    for i in 0..10 {
        backend
            .scopes
            .upsert_app(
                "acme",
                &namespace,
                &format!("ISSUE-{i}"),
                "v",
                &context("ada"),
            )
            .await
            .unwrap();
    }
    // Every claim is logged before its outcome is recorded: the next delivery of a
    // subscription can only be claimed after that, so the log is each subscription's order.
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let worker = |hooks: Arc<dyn WebhookStore>, log: Arc<std::sync::Mutex<Vec<(Uuid, Uuid)>>>| async move {
        loop {
            let claimed = hooks
                .claim_deliveries(OffsetDateTime::now_utc(), LEASE, 3)
                .await
                .unwrap();
            if claimed.is_empty() {
                if hooks.next_due().await.unwrap().is_none() {
                    return;
                }
                tokio::task::yield_now().await;
                continue;
            }
            for claim in claimed {
                log.lock()
                    .unwrap()
                    .push((claim.subscription, claim.message_id));
                let recorded = hooks
                    .finish_delivery(
                        claim.id,
                        claim.lease,
                        OffsetDateTime::now_utc(),
                        &AttemptResult::Delivered { status: 200 },
                    )
                    .await
                    .unwrap();
                assert!(recorded, "a lease of a minute was lost");
            }
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(worker(backend.hooks.clone(), log.clone())),
        tokio::spawn(worker(backend.other_hooks.clone(), log.clone()))
    );
    a.unwrap();
    b.unwrap();
    let all = log.lock().unwrap().clone();
    let distinct: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 40, "every delivery sent");
    assert_eq!(distinct.len(), 40, "no delivery sent twice");
    // Each subscription received its events in commit order, whoever sent them.
    let order: Vec<Uuid> = backend
        .hooks
        .outbox("acme", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.message_id)
        .collect();
    for subscription in subscriptions {
        let got: Vec<Uuid> = all
            .iter()
            .filter(|(s, _)| *s == subscription)
            .map(|(_, m)| *m)
            .collect();
        assert_eq!(got, order, "subscription {subscription}");
    }
}

async fn subscriptions_are_kept_per_scope(backend: &Backend) {
    create_scope(backend, "acme").await;
    create_scope(backend, "globex").await;
    let id = subscribe(backend, "acme", &[]).await;
    backend
        .scopes
        .record_run(&record("globex", "wave-1", 1))
        .await
        .unwrap();
    // globex's event goes to no acme subscription.
    assert!(
        backend
            .hooks
            .deliveries("acme", None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        backend.hooks.outbox("globex", 0, 10).await.unwrap().len(),
        1
    );
    assert!(
        backend
            .hooks
            .outbox("acme", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // acme's subscription is not globex's, to read or to change.
    assert_eq!(
        backend
            .hooks
            .subscription("globex", id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        backend
            .hooks
            .set_subscription_paused("globex", id, true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        backend
            .hooks
            .remove_subscription("globex", id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert!(
        backend
            .hooks
            .subscriptions("globex")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        backend
            .hooks
            .subscriptions("nobody")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}
