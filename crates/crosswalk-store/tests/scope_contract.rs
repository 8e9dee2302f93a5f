//! The scope store's contract: what every backend must do, written once and run against
//! each (`contract_tests!(backend, constructor)`). Runs resolve real directories with the
//! real engine, so the stored values are the ones a user's run would store.

use std::collections::HashMap;
use std::sync::Arc;

use crosswalk_core::{
    Account, Directory, ExceptionRule, Group, IdentityKind, IdentityRef, Policy, resolve,
};
use crosswalk_store::scope::reconcile::{Change, Current, apply, reconcile};
use crosswalk_store::scope::{
    ChangeContext, ChangeOrigin, Cursor, DirectoryContent, ErrorKind, ExceptionRow, FindAnswer,
    FindOutcome, MappingBrief,
    IdentityMapping, IdentityValue, ItemFilter, ItemReferenceRow, KeyForm, MappingValue, Namespace,
    NewChoice, NewScope, Reason, ReportOf, Retention, RunChoices, RunRecord, RunRow, ScopeError,
    ScopeRead, ScopeWrite, SideRow, StoredHandling,
};
use time::{Duration, OffsetDateTime};

#[path = "support/backends.rs"]
mod backends;
use backends::{postgres_store, sqlite_store};

macro_rules! contract_tests {
    ($backend:ident, $constructor:ident) => {
        mod $backend {
            contract_tests!(@cases $constructor;
                a_second_job_reads_the_first_jobs_mappings_through_its_own_transfer_id,
                rerunning_the_same_inputs_records_no_revision,
                a_changed_input_records_exactly_the_changed_mappings,
                a_wave_removes_only_its_own_jobs_mappings,
                the_change_feed_pages_in_commit_order_after_a_cursor,
                scopes_never_see_each_other,
                keyset_pages_are_stable_while_others_write,
                batch_find_answers_every_key,
                a_batch_answers_each_key_as_asking_it_alone_does,
                app_namespace_upserts_and_deletes_make_revisions,
                purge_says_what_it_removed_and_records_it,
                nothing_expires_silently,
                exceptions_are_versioned_and_runs_record_the_version,
                a_batch_of_exceptions_is_stored_whole_or_not_at_all,
                the_report_reads_the_scope_or_one_job,
                bad_requests_are_refused_with_their_kind,
                a_writer_hands_out_a_read_only_view,
                item_references_find_their_mappings_by_any_key,
                item_references_are_replaced_whole_and_kept_per_scope,
                identity_choices_are_kept_per_scope_and_switches_logged,
                a_run_can_be_resolved_again_from_what_the_store_holds,
                exception_decisions_to_create_or_keep_a_former_user_are_stored,
            );
        }
    };
    (@cases $constructor:ident; $($case:ident),* $(,)?) => {
        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, ..Default::default() })]
            #[test]
            fn the_stored_state_follows_the_reconcile_model(runs in super::run_sequence()) {
                let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
                runtime.block_on(async {
                    let Some(backend) = super::$constructor().await else { return };
                    super::the_stored_state_follows_the_reconcile_model(backend.store.clone(), runs).await;
                });
            }
        }
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(backend) = super::$constructor().await else { return };
                super::$case(backend.store.clone()).await;
            }
        )*
    };
}

contract_tests!(sqlite, sqlite_store);
contract_tests!(postgres, postgres_store);

// ---------------------------------------------------------------------------------------
// Fixtures.

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

fn context(minutes: i64) -> ChangeContext {
    ChangeContext {
        at: t0() + Duration::minutes(minutes),
        who: "ada@acme.example".into(),
        caller: "cli".into(),
    }
}

fn account(id: &str, username: &str, email: &str, display: &str) -> Account {
    Account {
        id: id.into(),
        username: Some(username.into()),
        email: Some(email.into()),
        display_name: Some(display.into()),
        active: true,
        email_verified: Some(true),
        ..Default::default()
    }
}

/// Jira Server users and their Cloud accounts (same addresses, Cloud ids).
fn source(n: usize) -> Directory {
    let accounts = (0..n)
        .map(|i| {
            account(
                &format!("JIRAUSER{:05}", 10000 + i),
                &format!("user{i}"),
                &format!("user{i}@acme.example"),
                &format!("User {i}"),
            )
        })
        .collect();
    let groups = vec![Group {
        id: "g-devs".into(),
        name: "developers".into(),
        display_name: None,
        members: vec!["JIRAUSER10000".into()],
    }];
    Directory::new("server", accounts, groups).unwrap()
}

fn destination(n: usize) -> Directory {
    let accounts = (0..n)
        .map(|i| {
            account(
                &format!("5b10ac8d82e05b22cc7d{i:04}"),
                &format!("user{i}"),
                &format!("user{i}@acme.example"),
                &format!("User {i}"),
            )
        })
        .collect();
    let groups = vec![Group {
        id: "cloud-devs".into(),
        name: "developers".into(),
        display_name: None,
        members: Vec::new(),
    }];
    Directory::new("cloud", accounts, groups).unwrap()
}

async fn create_scope(store: &dyn ScopeWrite, name: &str) {
    let scope = NewScope {
        name: name.into(),
        source_label: "jira-server https://jira.acme.local".into(),
        destination_label: "atlassian-cloud https://acme.atlassian.net".into(),
    };
    let row = store.create_scope(&scope, &context(0)).await.unwrap();
    assert_eq!(row.name, name);
}

/// Resolves the pair with the scope's exception rules and records the run, as the
/// application layer does.
async fn run(
    store: &dyn ScopeWrite,
    scope: &str,
    job: &str,
    source: &Directory,
    destination: &Directory,
    minutes: i64,
) -> RunRow {
    let exceptions = store.exceptions(scope).await.unwrap();
    let rules: Vec<ExceptionRule> = exceptions
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| ExceptionRule {
            kind: rule.kind,
            source: IdentityRef::parse(&rule.source),
            destination: IdentityRef::parse(&rule.destination),
            origin: format!("exception {i}"),
        })
        .collect();
    let resolved = resolve(source, destination, &Policy::default(), &rules);
    let record = RunRecord {
        scope: scope.into(),
        job: job.into(),
        started_at: t0() + Duration::minutes(minutes),
        who: "ada@acme.example".into(),
        policy: "# default policy\n".into(),
        exceptions_version: exceptions.version,
        source: DirectoryContent::from_core(source),
        destination: DirectoryContent::from_core(destination),
        identities: IdentityMapping::all_from_core(&resolved.mappings, source, destination)
            .unwrap(),
        warnings: resolved.warnings.clone(),
    };
    store.record_run(&record).await.unwrap()
}

fn users() -> Namespace {
    Namespace::identity_user()
}

fn destination_id(value: &MappingValue) -> String {
    value.as_identity().unwrap().destination.id.clone()
}

async fn all_changes(
    store: &dyn ScopeRead,
    scope: &str,
    after: Cursor,
) -> Vec<crosswalk_store::scope::RevisionRow> {
    let page = store.changes(scope, after, 10_000).await.unwrap();
    assert!(page.last_page);
    page.revisions
}

async fn last_cursor(store: &dyn ScopeRead, scope: &str) -> Cursor {
    let page = store.changes(scope, Cursor::START, 10_000).await.unwrap();
    page.cursor
}

// ---------------------------------------------------------------------------------------
// The contract.

/// A few runs, each by one of two jobs (waves) resolving some of twelve users to one of
/// three values.
fn run_sequence() -> impl proptest::strategy::Strategy<Value = Vec<(u8, HashMap<u8, u8>)>> {
    use proptest::prelude::*;
    prop::collection::vec(
        (0u8..2, prop::collection::hash_map(0u8..12, 0u8..3, 0..12)),
        1..6,
    )
}

fn synthetic(key: u8, variant: u8) -> IdentityMapping {
    let source = SideRow {
        id: format!("u{key:02}"),
        username: format!("user{key}"),
        name: format!("u{key}@x.example"),
        display_name: format!("v{variant}"),
    };
    IdentityMapping {
        namespace: users(),
        source_key: source.id.clone(),
        value: IdentityValue {
            source_emails: vec![source.name.clone()],
            destination: SideRow {
                id: format!("d{variant}-{key}"),
                ..source.clone()
            },
            source,
            resolution: "Email".into(),
            target: "existing".into(),
            message: String::new(),
            evidence: Vec::new(),
            candidates: Vec::new(),
            flags: Vec::new(),
            confidence: 1000,
        },
    }
}

/// Whatever the sequence of runs and jobs, the store holds what the pure reconcile step
/// says, each run counts what it says, and the feed holds one revision per counted change.
async fn the_stored_state_follows_the_reconcile_model(
    store: Arc<dyn ScopeWrite>,
    runs: Vec<(u8, HashMap<u8, u8>)>,
) {
    let store = &*store;
    create_scope(store, "acme").await;
    // Each key's value, whether it is marked removed, and the job that wrote it last.
    let mut model: HashMap<u8, (u8, bool, u8)> = HashMap::new();
    let mut revisions = 0;
    for (i, (job, resolution)) in runs.iter().enumerate() {
        let view: HashMap<u8, Current<u8>> = model
            .iter()
            .map(|(k, (value, removed, writer))| {
                (
                    *k,
                    Current {
                        value: *value,
                        removed: *removed,
                        ours: writer == job,
                    },
                )
            })
            .collect();
        let diff = reconcile(&view, resolution);
        let record = RunRecord {
            scope: "acme".into(),
            job: format!("wave-{job}"),
            started_at: t0() + Duration::minutes(i as i64),
            who: "ada".into(),
            policy: String::new(),
            exceptions_version: 0,
            source: DirectoryContent {
                accounts: Vec::new(),
                groups: Vec::new(),
            },
            destination: DirectoryContent {
                accounts: Vec::new(),
                groups: Vec::new(),
            },
            identities: resolution.iter().map(|(k, v)| synthetic(*k, *v)).collect(),
            warnings: Vec::new(),
        };
        let row = store.record_run(&record).await.unwrap();
        let expected = (
            diff.count(|c| matches!(c, Change::Added { .. })),
            diff.count(|c| matches!(c, Change::Changed { .. })),
            diff.count(|c| matches!(c, Change::Removed { .. })),
            diff.unchanged,
        );
        assert_eq!(
            (
                row.counts.added,
                row.counts.changed,
                row.counts.removed,
                row.counts.unchanged
            ),
            expected,
            "run {i}"
        );
        let mut after = view;
        apply(&mut after, &diff);
        for (key, now) in after {
            let writer = if diff.changes.iter().any(|c| *c.key() == key) {
                *job
            } else {
                model[&key].2
            };
            model.insert(key, (now.value, now.removed, writer));
        }
        revisions += diff.changes.len();

        let page = store
            .mappings_page("acme", &users(), None, 100)
            .await
            .unwrap();
        let stored: HashMap<u8, (u8, bool, u8)> = page
            .mappings
            .iter()
            .map(|m| {
                let key: u8 = m.source_key[1..].parse().unwrap();
                let variant: u8 = m.value.as_identity().unwrap().source.display_name[1..]
                    .parse()
                    .unwrap();
                let writer: u8 = m.job.as_deref().unwrap()["wave-".len()..].parse().unwrap();
                (key, (variant, m.removed, writer))
            })
            .collect();
        assert_eq!(stored, model, "after run {i}");
        assert_eq!(
            all_changes(store, "acme", Cursor::START).await.len(),
            revisions
        );
    }
}

async fn a_second_job_reads_the_first_jobs_mappings_through_its_own_transfer_id(
    store: Arc<dyn ScopeWrite>,
) {
    let store = &*store;
    create_scope(store, "acme").await;
    let first = run(store, "acme", "wave-1", &source(3), &destination(3), 1).await;
    assert_eq!(first.counts.added, 4, "three users and a group");
    // A new transfer that has made no mapping of its own.
    let second = store.job("acme", "app-data", &context(5)).await.unwrap();
    assert_ne!(second.transfer_id, first.transfer_id);

    // The app reaches the scope through the second transfer id only.
    let (scope, job) = store.job_by_transfer(second.transfer_id).await.unwrap();
    assert_eq!(
        (scope.name.as_str(), job.name.as_str()),
        ("acme", "app-data")
    );
    let page = store
        .mappings_page(&scope.name, &users(), None, 100)
        .await
        .unwrap();
    assert_eq!(page.mappings.len(), 3);
    assert!(page.last_page);
    let answers = store
        .find(
            &scope.name,
            &users(),
            &["jira.userkey/JIRAUSER10001".to_string()],
        )
        .await
        .unwrap();
    match &answers[0].outcome {
        FindOutcome::Found { mapping, .. } => {
            assert_eq!(destination_id(&mapping.value), "5b10ac8d82e05b22cc7d0001");
            assert_eq!(mapping.job.as_deref(), Some("wave-1"));
        }
        other => panic!("expected the first job's mapping, got {other:?}"),
    }
    // And a re-run of the first job does not hide them either.
    run(store, "acme", "wave-1", &source(3), &destination(3), 10).await;
    assert_eq!(
        store
            .mappings_page("acme", &users(), None, 100)
            .await
            .unwrap()
            .mappings
            .len(),
        3
    );
    let jobs: Vec<String> = store
        .jobs("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.name)
        .collect();
    assert_eq!(jobs, ["app-data", "wave-1"]);
}

async fn rerunning_the_same_inputs_records_no_revision(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let first = run(store, "acme", "wave-1", &source(20), &destination(20), 1).await;
    assert_eq!(first.counts.added, 21);
    let cursor = last_cursor(store, "acme").await;
    let again = run(store, "acme", "wave-1", &source(20), &destination(20), 2).await;
    assert_eq!(again.number, 2);
    assert_eq!(again.counts.revisions(), 0, "{:?}", again.counts);
    assert_eq!(again.counts.unchanged, 21);
    assert!(all_changes(store, "acme", cursor).await.is_empty());
    // The same contents were resolved: the same stored contents and policy version.
    assert_eq!(again.source_content, first.source_content);
    assert_eq!(again.destination_content, first.destination_content);
    assert_eq!(again.policy_version, first.policy_version);
    assert_eq!(
        store.runs("acme", Some("wave-1")).await.unwrap(),
        [first.clone(), again.clone()]
    );
    // Another job of the scope with the same inputs changes nothing either.
    let other = run(store, "acme", "wave-2", &source(20), &destination(20), 3).await;
    assert_eq!(other.counts.revisions(), 0);
    assert_eq!(other.number, 1);
}

async fn a_changed_input_records_exactly_the_changed_mappings(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    run(store, "acme", "wave-1", &source(10), &destination(10), 1).await;
    let cursor = last_cursor(store, "acme").await;

    // user3 moves to a new address on both sides (same destination, changed value), user7
    // leaves the source, and a new user joins.
    let mut changed_source = source(10);
    changed_source.accounts[3].email = Some("u3.new@acme.example".into());
    changed_source.accounts.remove(7);
    changed_source.accounts.push(account(
        "JIRAUSER19999",
        "newbie",
        "newbie@acme.example",
        "New Bie",
    ));
    let changed_source =
        Directory::new("server", changed_source.accounts, changed_source.groups).unwrap();
    let mut changed_destination = destination(10);
    changed_destination.accounts[3].email = Some("u3.new@acme.example".into());
    changed_destination.accounts.push(account(
        "5b10ac8d82e05b22cc7d9999",
        "newbie",
        "newbie@acme.example",
        "New Bie",
    ));
    let changed_destination = Directory::new(
        "cloud",
        changed_destination.accounts,
        changed_destination.groups,
    )
    .unwrap();

    let second = run(
        store,
        "acme",
        "wave-1",
        &changed_source,
        &changed_destination,
        2,
    )
    .await;
    assert_eq!(
        (
            second.counts.added,
            second.counts.changed,
            second.counts.removed
        ),
        (1, 1, 1),
        "{:?}",
        second.counts
    );
    assert_eq!(second.counts.unchanged, 9);
    assert_ne!(second.source_content, run_hash_of(&source(10)));

    let changes = all_changes(store, "acme", cursor).await;
    let summary: Vec<(String, Reason, bool, bool)> = changes
        .iter()
        .map(|r| {
            (
                r.source_key.clone(),
                r.reason,
                r.old_value.is_some(),
                r.new_value.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("JIRAUSER10003".to_string(), Reason::Resolution, true, true),
            ("JIRAUSER10007".to_string(), Reason::Removal, true, false),
            ("JIRAUSER19999".to_string(), Reason::Resolution, false, true),
        ]
    );
    for revision in &changes {
        assert_eq!(
            revision.origin,
            ChangeOrigin::Run {
                job: "wave-1".into(),
                transfer_id: second.transfer_id,
                run: 2
            }
        );
        assert_eq!(revision.at, t0() + Duration::minutes(2));
    }
    // The removed mapping is kept, marked, with its last value, and still found by its keys.
    let history = store
        .mapping("acme", &users(), "JIRAUSER10007")
        .await
        .unwrap();
    assert!(history.mapping.removed);
    assert_eq!(
        destination_id(&history.mapping.value),
        "5b10ac8d82e05b22cc7d0007"
    );
    assert_eq!(history.revisions.len(), 2);
    let answers = store
        .find(
            "acme",
            &users(),
            &[
                "JIRAUSER10007".to_string(),
                "user7@acme.example".to_string(),
            ],
        )
        .await
        .unwrap();
    for answer in &answers {
        match &answer.outcome {
            FindOutcome::Found { mapping, .. } => assert!(
                mapping.removed && destination_id(&mapping.value) == "5b10ac8d82e05b22cc7d0007"
            ),
            other => panic!("{}: {other:?}", answer.key),
        }
    }
    // The changed mapping is found by its new address and no longer by its old one.
    let answers = store
        .find(
            "acme",
            &users(),
            &[
                "u3.new@acme.example".to_string(),
                "user3@acme.example".to_string(),
            ],
        )
        .await
        .unwrap();
    assert!(
        matches!(
            &answers[0].outcome,
            FindOutcome::Found {
                by: KeyForm::Email,
                ..
            }
        ),
        "{answers:?}"
    );
    assert_eq!(answers[1].outcome, FindOutcome::NotFound);

    // Back to the first inputs: user7 is added back, user3 changes back, the newcomer goes.
    let third = run(store, "acme", "wave-1", &source(10), &destination(10), 3).await;
    assert_eq!(
        (
            third.counts.added,
            third.counts.changed,
            third.counts.removed
        ),
        (1, 1, 1)
    );
}

/// Waves: each job migrates its own slice of the source. A wave's run marks removed only
/// mappings its own job wrote last; the other wave's stay live and untouched.
async fn a_wave_removes_only_its_own_jobs_mappings(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let wave1 = source(6);
    let first = run(store, "acme", "wave-1", &wave1, &destination(10), 1).await;
    assert_eq!(first.counts.added, 7, "six users and a group");
    let slice = |from: usize, to: usize| {
        let accounts = (from..to)
            .map(|i| {
                account(
                    &format!("JIRAUSER{:05}", 10000 + i),
                    &format!("user{i}"),
                    &format!("user{i}@acme.example"),
                    &format!("User {i}"),
                )
            })
            .collect();
        Directory::new("server", accounts, Vec::new()).unwrap()
    };
    let cursor = last_cursor(store, "acme").await;
    // A disjoint second wave: its users added, nothing of wave-1 removed.
    let second = run(store, "acme", "wave-2", &slice(6, 10), &destination(10), 2).await;
    assert_eq!(
        (
            second.counts.added,
            second.counts.changed,
            second.counts.removed
        ),
        (4, 0, 0),
        "{:?}",
        second.counts
    );
    assert!(
        all_changes(store, "acme", cursor)
            .await
            .iter()
            .all(|r| r.reason != Reason::Removal)
    );
    let page = store
        .mappings_page("acme", &users(), None, 100)
        .await
        .unwrap();
    assert_eq!(page.mappings.len(), 10);
    assert!(
        page.mappings.iter().all(|m| !m.removed),
        "{:?}",
        page.mappings
    );
    assert_eq!(
        store
            .mapping("acme", &users(), "JIRAUSER10000")
            .await
            .unwrap()
            .mapping
            .job
            .as_deref(),
        Some("wave-1")
    );

    // Wave-2 again without user9: its own mapping is removed, wave-1's stay.
    let third = run(store, "acme", "wave-2", &slice(6, 9), &destination(10), 3).await;
    assert_eq!(
        (
            third.counts.added,
            third.counts.changed,
            third.counts.removed,
            third.counts.unchanged
        ),
        (0, 0, 1, 3)
    );
    assert!(
        store
            .mapping("acme", &users(), "JIRAUSER10009")
            .await
            .unwrap()
            .mapping
            .removed
    );
    // Wave-1 again without user0: removed; wave-2's users (absent from wave-1's source) stay.
    let fourth = run(store, "acme", "wave-1", &slice(1, 6), &destination(10), 4).await;
    // user0 and the group (gone from this source) are wave-1's, so both are removed.
    assert_eq!(
        (fourth.counts.added, fourth.counts.removed),
        (0, 2),
        "{:?}",
        fourth.counts
    );
    let live: Vec<String> = store
        .mappings_page("acme", &users(), None, 100)
        .await
        .unwrap()
        .mappings
        .into_iter()
        .filter(|m| !m.removed)
        .map(|m| m.source_key)
        .collect();
    assert_eq!(
        live,
        (1..9)
            .map(|i| format!("JIRAUSER{:05}", 10000 + i))
            .collect::<Vec<_>>()
    );
}

fn run_hash_of(directory: &Directory) -> String {
    DirectoryContent::from_core(directory).encode().0
}

async fn the_change_feed_pages_in_commit_order_after_a_cursor(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    run(store, "acme", "wave-1", &source(5), &destination(5), 1).await;
    let page = store
        .upsert_app(
            "acme",
            &Namespace::parse("confluence:page").unwrap(),
            "100",
            "200",
            &context(2),
        )
        .await
        .unwrap();
    assert!(page.is_some());
    // Read one at a time: every revision exactly once, in increasing order.
    let mut cursor = Cursor::START;
    let mut seen = Vec::new();
    loop {
        let page = store.changes("acme", cursor, 1).await.unwrap();
        seen.extend(page.revisions.iter().map(|r| r.cursor));
        cursor = page.cursor;
        if page.last_page {
            break;
        }
    }
    assert_eq!(seen.len(), 7, "5 users, a group, a page");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // A cursor survives being printed and read back, as an API client would hold it.
    let reread = Cursor::parse(&seen[3].to_string()).unwrap();
    assert_eq!(all_changes(store, "acme", reread).await.len(), 3);
    // After the last one: nothing, and the cursor stays.
    let tail = store.changes("acme", cursor, 10).await.unwrap();
    assert!(tail.revisions.is_empty() && tail.last_page);
    assert_eq!(tail.cursor, cursor);
}

async fn scopes_never_see_each_other(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    create_scope(store, "globex").await;
    let acme = run(store, "acme", "wave-1", &source(4), &destination(4), 1).await;
    // Globex has the same source ids but no destination accounts.
    let globex = run(
        store,
        "globex",
        "wave-1",
        &source(4),
        &Directory::new("empty", Vec::new(), Vec::new()).unwrap(),
        2,
    )
    .await;
    assert_ne!(
        acme.transfer_id, globex.transfer_id,
        "job names are unique per scope, transfer ids everywhere"
    );
    assert_eq!(
        globex.counts.added, 5,
        "globex's run is not diffed against acme's mappings"
    );

    let acme_user = store
        .find("acme", &users(), &["JIRAUSER10000".to_string()])
        .await
        .unwrap();
    let globex_user = store
        .find("globex", &users(), &["JIRAUSER10000".to_string()])
        .await
        .unwrap();
    let value = |answers: &[crosswalk_store::scope::FindAnswer]| match &answers[0].outcome {
        FindOutcome::Found { mapping, .. } => destination_id(&mapping.value),
        other => panic!("{other:?}"),
    };
    assert_eq!(value(&acme_user), "5b10ac8d82e05b22cc7d0000");
    assert_eq!(value(&globex_user), "");

    // Each scope's feed, history and app mappings are its own.
    store
        .upsert_app(
            "globex",
            &Namespace::parse("jira:issue").unwrap(),
            "ACME-1",
            "GLX-1",
            &context(3),
        )
        .await
        .unwrap();
    assert!(
        all_changes(store, "acme", Cursor::START)
            .await
            .iter()
            .all(|r| r.namespace.is_identity())
    );
    assert_eq!(all_changes(store, "globex", Cursor::START).await.len(), 6);
    assert_eq!(
        store
            .mapping("acme", &users(), "JIRAUSER10000")
            .await
            .unwrap()
            .revisions
            .len(),
        1
    );
    let issue = store
        .mapping("acme", &Namespace::parse("jira:issue").unwrap(), "ACME-1")
        .await
        .unwrap_err();
    assert_eq!(issue.kind(), ErrorKind::NotFound);
    assert_eq!(
        store
            .job_by_transfer(globex.transfer_id)
            .await
            .unwrap()
            .0
            .name,
        "globex"
    );
    // Another scope's cursor does not open this scope's feed past its own revisions.
    let globex_last = last_cursor(store, "globex").await;
    assert!(all_changes(store, "acme", globex_last).await.is_empty());
}

async fn keyset_pages_are_stable_while_others_write(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let pages = Namespace::parse("confluence:page").unwrap();
    for i in 0..250 {
        store
            .upsert_app("acme", &pages, &format!("{:04}", i * 2), "x", &context(1))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut round = 0;
    loop {
        let page = store
            .mappings_page("acme", &pages, after.as_deref(), 100)
            .await
            .unwrap();
        seen.extend(page.mappings.iter().map(|m| m.source_key.clone()));
        // Between pages, others write: new keys before and after the position, and changes.
        for i in 0..5 {
            let key = format!("{:04}", round * 10 + i * 2 + 1);
            store
                .upsert_app("acme", &pages, &key, "new", &context(2))
                .await
                .unwrap();
            store
                .upsert_app(
                    "acme",
                    &pages,
                    &format!("{:04}", (round * 97 + i * 2) % 500),
                    "changed",
                    &context(2),
                )
                .await
                .unwrap();
        }
        round += 1;
        if page.last_page {
            assert!(page.next.is_none());
            break;
        }
        after = page.next;
        assert!(round < 20);
    }
    // No repeats, in order, and every key that was there throughout was seen.
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "keys repeat or go back"
    );
    for i in 0..250 {
        assert!(seen.contains(&format!("{:04}", i * 2)));
    }
    // A full page that ends the namespace is the last page.
    let total = store
        .mappings_page("acme", &pages, None, 10_000)
        .await
        .unwrap();
    assert!(total.last_page);
    let exact = store
        .mappings_page("acme", &pages, None, total.mappings.len())
        .await
        .unwrap();
    assert!(exact.last_page);
    let short = store
        .mappings_page("acme", &pages, None, total.mappings.len() - 1)
        .await
        .unwrap();
    assert!(!short.last_page);
}

async fn batch_find_answers_every_key(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let mut server = source(5);
    // Two accounts that share an alias address: that address names no one.
    server.accounts[1].alias_emails = vec!["team@acme.example".into()];
    server.accounts[2].alias_emails = vec!["Team@Acme.example".into()];
    run(store, "acme", "wave-1", &server, &destination(5), 1).await;
    let keys: Vec<String> = [
        "JIRAUSER10000",
        "user1",
        "USER2@ACME.EXAMPLE",
        "jira.userkey/JIRAUSER10003",
        "jira.username/User4",
        "email/user0@acme.example",
        "team@acme.example",
        "nobody",
        "confluence.userkey/JIRAUSER10000",
        "jira.userkey/user1",
    ]
    .map(String::from)
    .to_vec();
    let answers = store.find("acme", &users(), &keys).await.unwrap();
    assert_eq!(
        answers.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
        keys.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let found = |i: usize| match &answers[i].outcome {
        FindOutcome::Found { by, mapping } => (by.clone(), mapping.source_key.clone()),
        other => panic!("{}: {other:?}", keys[i]),
    };
    assert_eq!(found(0), (KeyForm::SourceKey, "JIRAUSER10000".into()));
    assert_eq!(found(1), (KeyForm::Username, "JIRAUSER10001".into()));
    assert_eq!(found(2), (KeyForm::Email, "JIRAUSER10002".into()));
    assert_eq!(
        found(3),
        (
            KeyForm::Prefixed {
                prefix: "jira.userkey".into(),
                names: Box::new(KeyForm::SourceKey)
            },
            "JIRAUSER10003".into()
        )
    );
    assert_eq!(
        found(4),
        (
            KeyForm::Prefixed {
                prefix: "jira.username".into(),
                names: Box::new(KeyForm::Username)
            },
            "JIRAUSER10004".into()
        )
    );
    assert_eq!(
        found(5),
        (
            KeyForm::Prefixed {
                prefix: "email".into(),
                names: Box::new(KeyForm::Email)
            },
            "JIRAUSER10000".into()
        )
    );
    assert_eq!(
        answers[6].outcome,
        FindOutcome::Ambiguous {
            by: KeyForm::Email,
            source_keys: vec!["JIRAUSER10001".into(), "JIRAUSER10002".into()]
        }
    );
    assert_eq!(answers[7].outcome, FindOutcome::NotFound);
    // A Jira scope does not read Confluence's prefix, and a user key is not a username.
    assert_eq!(answers[8].outcome, FindOutcome::NotFound);
    assert_eq!(answers[9].outcome, FindOutcome::NotFound);

    // Ten thousand keys are answered, one more is refused.
    let many: Vec<String> = (0..10_000)
        .map(|i| format!("JIRAUSER{}", 10000 + i % 7))
        .collect();
    let answers = store.find("acme", &users(), &many).await.unwrap();
    assert_eq!(answers.len(), 10_000);
    assert_eq!(
        answers
            .iter()
            .filter(|a| matches!(a.outcome, FindOutcome::Found { .. }))
            .count(),
        (0..10_000).filter(|i| i % 7 < 5).count()
    );
    let mut too_many = many;
    too_many.push("one more".into());
    assert_eq!(
        store
            .find("acme", &users(), &too_many)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
}

/// Batch find answers by key kind, not key by key (a speed tactic): any mix of keys, repeats
/// included, gets for each key exactly what asking that key alone gets.
async fn a_batch_answers_each_key_as_asking_it_alone_does(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let mut server = source(8);
    server.accounts[1].alias_emails = vec!["team@acme.example".into()];
    server.accounts[2].alias_emails = vec!["Team@Acme.example".into()];
    // A username that is another account's source key: the source key wins.
    server.accounts[5].username = Some("JIRAUSER10003".into());
    run(store, "acme", "wave-1", &server, &destination(8), 1).await;
    // The last account leaves: its mapping is kept, marked removed.
    let mut fewer = server.clone();
    fewer.accounts.pop();
    let fewer = Directory::new("server", fewer.accounts, fewer.groups).unwrap();
    run(store, "acme", "wave-1", &fewer, &destination(8), 2).await;
    let issues = Namespace::parse("jira:issue").unwrap();
    for key in ["10001", "10002"] {
        store
            .upsert_app("acme", &issues, key, &format!("2{key}"), &context(3))
            .await
            .unwrap();
    }
    store
        .delete_app("acme", &issues, "10002", &context(4))
        .await
        .unwrap();

    let mut pool: Vec<String> = Vec::new();
    for i in 0..8 {
        pool.extend([
            format!("JIRAUSER{}", 10000 + i),
            format!("user{i}"),
            format!("USER{i}@ACME.EXAMPLE"),
            format!("jira.userkey/JIRAUSER{}", 10000 + i),
        ]);
    }
    pool.extend(
        [
            "team@acme.example",
            "email/TEAM@acme.example",
            "jira.username/JIRAUSER10003",
            "  User3 ",
            "nobody",
            "jira.userkey/nobody",
            "",
            "10001",
            "10002",
            "10003",
        ]
        .map(String::from),
    );
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for namespace in [users(), issues] {
        let mut alone = HashMap::new();
        for key in &pool {
            let answer = store
                .find("acme", &namespace, std::slice::from_ref(key))
                .await
                .unwrap();
            let answer = answer.into_iter().next().unwrap();
            // The brief answer is the whole answer's brief: the same outcome, form and
            // mapping, read without the evidence.
            let brief = store
                .find_brief("acme", &namespace, std::slice::from_ref(key))
                .await
                .unwrap();
            assert_eq!(brief, vec![brief_of(&answer)], "{namespace:?} {key:?}");
            alone.insert(key.clone(), answer);
        }
        // The pool holds every kind of answer.
        let removed_found = |key: &str| matches!(&alone[key].outcome, FindOutcome::Found { mapping, .. } if mapping.removed);
        if namespace == users() {
            assert!(matches!(
                alone["team@acme.example"].outcome,
                FindOutcome::Ambiguous { .. }
            ));
            assert!(removed_found("JIRAUSER10007"));
            assert!(matches!(
                &alone["JIRAUSER10003"].outcome,
                FindOutcome::Found {
                    by: KeyForm::SourceKey,
                    ..
                }
            ));
        } else {
            assert!(removed_found("10002"));
            assert_eq!(alone["10003"].outcome, FindOutcome::NotFound);
        }
        for _ in 0..100 {
            let batch: Vec<String> = (0..1 + next(40))
                .map(|_| pool[next(pool.len())].clone())
                .collect();
            let answers = store.find("acme", &namespace, &batch).await.unwrap();
            let expected: Vec<_> = batch.iter().map(|key| alone[key].clone()).collect();
            assert_eq!(answers, expected, "{namespace:?} {batch:?}");
            let briefs = store.find_brief("acme", &namespace, &batch).await.unwrap();
            let expected: Vec<_> = expected.iter().map(brief_of).collect();
            assert_eq!(briefs, expected, "{namespace:?} {batch:?}");
        }
    }
}

/// A whole answer as its brief.
fn brief_of(answer: &FindAnswer) -> FindAnswer<MappingBrief> {
    FindAnswer {
        key: answer.key.clone(),
        outcome: match &answer.outcome {
            FindOutcome::Found { by, mapping } => FindOutcome::Found {
                by: by.clone(),
                mapping: Box::new(MappingBrief::of(mapping)),
            },
            FindOutcome::NotFound => FindOutcome::NotFound,
            FindOutcome::Ambiguous { by, source_keys } => FindOutcome::Ambiguous {
                by: by.clone(),
                source_keys: source_keys.clone(),
            },
        },
    }
}

async fn app_namespace_upserts_and_deletes_make_revisions(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let pages = Namespace::parse("confluence:page").unwrap();
    let first = store
        .upsert_app("acme", &pages, "65538", "1001", &context(1))
        .await
        .unwrap()
        .expect("a new mapping is a revision");
    assert_eq!(
        (
            first.reason,
            first.old_value.clone(),
            first.new_value.clone()
        ),
        (Reason::Manual, None, Some(MappingValue::App("1001".into())))
    );
    assert_eq!(
        first.origin,
        ChangeOrigin::Caller {
            caller: "cli".into()
        }
    );
    assert!(
        store
            .upsert_app("acme", &pages, "65538", "1001", &context(2))
            .await
            .unwrap()
            .is_none(),
        "the same value is no change"
    );
    let second = store
        .upsert_app("acme", &pages, "65538", "1002", &context(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.old_value, Some(MappingValue::App("1001".into())));
    let deleted = store
        .delete_app("acme", &pages, "65538", &context(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (deleted.old_value, deleted.new_value),
        (Some(MappingValue::App("1002".into())), None)
    );
    assert!(
        store
            .delete_app("acme", &pages, "65538", &context(5))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .delete_app("acme", &pages, "never-there", &context(5))
            .await
            .unwrap()
            .is_none()
    );
    let history = store.mapping("acme", &pages, "65538").await.unwrap();
    assert!(history.mapping.removed);
    assert_eq!(history.revisions.len(), 3);
    match &store
        .find("acme", &pages, &["65538".to_string()])
        .await
        .unwrap()[0]
        .outcome
    {
        FindOutcome::Found { mapping, .. } => assert!(mapping.removed),
        other => panic!("{other:?}"),
    }
    // Set again after the delete: back, with no old value.
    let back = store
        .upsert_app("acme", &pages, "65538", "1003", &context(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.old_value, None);
    // Identity namespaces belong to runs.
    let refused = store
        .upsert_app("acme", &users(), "JIRAUSER10000", "x", &context(7))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    assert!(refused.to_string().contains("written by runs"), "{refused}");
}

async fn purge_says_what_it_removed_and_records_it(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    run(store, "acme", "wave-1", &source(6), &destination(6), 0).await;
    // Two users leave the source.
    let fewer = Directory::new(
        "server",
        source(6).accounts.into_iter().take(4).collect(),
        source(6).groups,
    )
    .unwrap();
    run(store, "acme", "wave-1", &fewer, &destination(6), 1).await;
    let later = ChangeContext {
        at: t0() + Duration::days(40),
        ..context(0)
    };

    // Keep forever (the default): a purge removes nothing, whatever the age.
    let report = store.purge("acme", &users(), &later, false).await.unwrap();
    assert_eq!(
        (report.retention, report.removed.len()),
        (Retention::Forever, 0)
    );

    store
        .set_retention("acme", &users(), Retention::Days(30), &context(2))
        .await
        .unwrap();
    assert_eq!(
        store.retention("acme").await.unwrap()[0].retention,
        Retention::Days(30)
    );
    // Not yet old enough.
    let early = ChangeContext {
        at: t0() + Duration::days(10),
        ..context(0)
    };
    assert!(
        store
            .purge("acme", &users(), &early, false)
            .await
            .unwrap()
            .removed
            .is_empty()
    );
    // A dry run says what would go and removes nothing.
    let cursor = last_cursor(store, "acme").await;
    let dry = store.purge("acme", &users(), &later, true).await.unwrap();
    assert_eq!(dry.removed, ["JIRAUSER10004", "JIRAUSER10005"]);
    assert!(dry.revisions.is_empty());
    assert!(
        store
            .mapping("acme", &users(), "JIRAUSER10004")
            .await
            .is_ok()
    );
    assert!(all_changes(store, "acme", cursor).await.is_empty());

    let report = store.purge("acme", &users(), &later, false).await.unwrap();
    assert_eq!(report.removed, ["JIRAUSER10004", "JIRAUSER10005"]);
    let recorded = all_changes(store, "acme", cursor).await;
    assert_eq!(
        recorded.iter().map(|r| r.cursor).collect::<Vec<_>>(),
        report.revisions
    );
    assert!(recorded.iter().all(|r| r.reason == Reason::Purge
        && r.new_value.is_none()
        && r.who == "ada@acme.example"));
    assert_eq!(
        store
            .mapping("acme", &users(), "JIRAUSER10004")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    // Live mappings are never purged, however old.
    let live = store
        .mappings_page("acme", &users(), None, 100)
        .await
        .unwrap();
    assert_eq!(live.mappings.len(), 4);
    // The next run of the same inputs still changes nothing.
    assert_eq!(
        run(
            store,
            "acme",
            "wave-1",
            &fewer,
            &destination(6),
            60 * 24 * 41
        )
        .await
        .counts
        .revisions(),
        0
    );
}

async fn nothing_expires_silently(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    run(store, "acme", "wave-1", &source(3), &destination(3), 0).await;
    let fewer = Directory::new(
        "server",
        source(3).accounts.into_iter().take(2).collect(),
        source(3).groups,
    )
    .unwrap();
    run(store, "acme", "wave-1", &fewer, &destination(3), 1).await;
    // A year later, a new transfer of an app: everything is still there, the removed one
    // marked and with its last value.
    let job = store
        .job(
            "acme",
            "app-migration",
            &ChangeContext {
                at: t0() + Duration::days(365),
                ..context(0)
            },
        )
        .await
        .unwrap();
    let (scope, _) = store.job_by_transfer(job.transfer_id).await.unwrap();
    let page = store
        .mappings_page(&scope.name, &users(), None, 100)
        .await
        .unwrap();
    let states: Vec<(String, bool)> = page
        .mappings
        .iter()
        .map(|m| (m.source_key.clone(), m.removed))
        .collect();
    assert_eq!(
        states,
        [
            ("JIRAUSER10000".into(), false),
            ("JIRAUSER10001".into(), false),
            ("JIRAUSER10002".into(), true)
        ]
    );
    let identical = run(
        store,
        "acme",
        "wave-1",
        &fewer,
        &destination(3),
        60 * 24 * 366,
    )
    .await;
    assert_eq!(identical.counts.revisions(), 0);
    assert!(
        store.retention("acme").await.unwrap().is_empty(),
        "no retention unless someone sets one"
    );
}

async fn a_batch_of_exceptions_is_stored_whole_or_not_at_all(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let rule = |source: &str, destination: &str| ExceptionRow {
        kind: IdentityKind::Account,
        source: source.into(),
        destination: destination.into(),
    };
    let bad = [
        rule("id:JIRAUSER10000", "id:a"),
        rule("id:JIRAUSER10001", &"x".repeat(2000)),
    ];
    assert!(
        store
            .add_exceptions("acme", &bad, &context(1))
            .await
            .is_err()
    );
    let set = store.exceptions("acme").await.unwrap();
    assert_eq!(
        (set.version, set.rules.len()),
        (0, 0),
        "a bad last rule stores none"
    );
    let good = [
        rule("id:JIRAUSER10000", "id:a"),
        rule("id:JIRAUSER10001", "id:b"),
    ];
    let set = store
        .add_exceptions("acme", &good, &context(2))
        .await
        .unwrap();
    assert_eq!(
        (set.version, set.rules.len()),
        (2, 2),
        "each rule is a version"
    );
    assert_eq!(set, store.exceptions("acme").await.unwrap());
}

async fn exceptions_are_versioned_and_runs_record_the_version(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let first = run(store, "acme", "wave-1", &source(3), &destination(4), 0).await;
    assert_eq!(first.exceptions_version, 0);
    // The fourth destination account is nobody's by email: the rule takes it from no one.
    let rule = ExceptionRow {
        kind: IdentityKind::Account,
        source: "id:JIRAUSER10000".into(),
        destination: "id:5b10ac8d82e05b22cc7d0003".into(),
    };
    let set = store
        .add_exception("acme", &rule, &context(1))
        .await
        .unwrap();
    assert_eq!((set.version, set.rules.len()), (1, 1));
    // Adding the same rule again is no new version.
    assert_eq!(
        store
            .add_exception("acme", &rule, &context(2))
            .await
            .unwrap()
            .version,
        1
    );

    let cursor = last_cursor(store, "acme").await;
    let second = run(store, "acme", "wave-1", &source(3), &destination(4), 3).await;
    assert_eq!(second.exceptions_version, 1);
    let changes = all_changes(store, "acme", cursor).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].source_key.as_str(), changes[0].reason),
        ("JIRAUSER10000", Reason::Exception)
    );
    assert_eq!(
        destination_id(changes[0].new_value.as_ref().unwrap()),
        "5b10ac8d82e05b22cc7d0003"
    );

    // A run resolved with an older version is refused: its exceptions changed under it.
    let stale = RunRecord {
        scope: "acme".into(),
        job: "wave-1".into(),
        started_at: t0(),
        who: "ada".into(),
        policy: String::new(),
        exceptions_version: 0,
        source: DirectoryContent::from_core(&source(1)),
        destination: DirectoryContent::from_core(&destination(1)),
        identities: Vec::new(),
        warnings: Vec::new(),
    };
    assert_eq!(
        store.record_run(&stale).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );

    let removed = store
        .remove_exception("acme", &rule, &context(4))
        .await
        .unwrap();
    assert_eq!((removed.version, removed.rules.len()), (2, 0));
    assert_eq!(
        store
            .remove_exception("acme", &rule, &context(5))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let history = store.exception_changes("acme").await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|c| (c.version, c.added, c.at))
            .collect::<Vec<_>>(),
        [(1, true, context(1).at), (2, false, context(4).at)]
    );
    assert!(
        history
            .iter()
            .all(|c| c.rule == rule && c.who == "ada@acme.example" && c.caller == "cli")
    );
    let third = run(store, "acme", "wave-1", &source(3), &destination(4), 6).await;
    assert_eq!((third.exceptions_version, third.counts.changed), (2, 1));
    // A different policy text is a new policy version; the same text reuses its version.
    assert_eq!(third.policy_version, first.policy_version);
}

async fn the_report_reads_the_scope_or_one_job(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    run(store, "acme", "wave-1", &source(4), &destination(6), 0).await;
    // A second wave migrates users 4 and 5 only.
    let wave2 = Directory::new(
        "server",
        vec![
            account("JIRAUSER10004", "user4", "user4@acme.example", "User 4"),
            account("JIRAUSER10005", "user5", "user5@acme.example", "User 5"),
        ],
        Vec::new(),
    )
    .unwrap();
    run(store, "acme", "wave-2", &wave2, &destination(6), 1).await;

    let job = store
        .report("acme", &ReportOf::Job("wave-2".into()))
        .await
        .unwrap();
    assert_eq!(
        job.iter().map(|r| r.source_id.as_str()).collect::<Vec<_>>(),
        ["JIRAUSER10004", "JIRAUSER10005"]
    );
    assert!(
        job.iter()
            .all(|r| r.job == "wave-2" && r.destination_id.starts_with("5b10ac8d"))
    );
    // The scope's current state: both waves' users are live, each under the job that wrote
    // it (a wave never removes another wave's mappings).
    let scope = store.report("acme", &ReportOf::Scope).await.unwrap();
    let live: Vec<(&str, &str)> = scope
        .iter()
        .map(|r| (r.source_id.as_str(), r.job.as_str()))
        .collect();
    assert_eq!(
        live,
        [
            ("JIRAUSER10000", "wave-1"),
            ("JIRAUSER10001", "wave-1"),
            ("JIRAUSER10002", "wave-1"),
            ("JIRAUSER10003", "wave-1"),
            ("JIRAUSER10004", "wave-2"),
            ("JIRAUSER10005", "wave-2"),
            ("g-devs", "wave-1"),
        ]
    );
    assert_eq!(
        store
            .report("acme", &ReportOf::Job("wave-3".into()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // Streamed: the rows one at a time, and a sink's error stops the read and comes back.
    let mut streamed = Vec::new();
    let mut keep = |row: crosswalk_core::ReportRow| {
        streamed.push(row);
        Ok(())
    };
    assert_eq!(
        store
            .report_each("acme", &ReportOf::Scope, &mut keep)
            .await
            .unwrap(),
        7
    );
    assert_eq!(streamed, scope);
    let mut refuse = |_row: crosswalk_core::ReportRow| {
        Err(ScopeError::stopped(std::io::Error::from(
            std::io::ErrorKind::BrokenPipe,
        )))
    };
    let stopped = store
        .report_each("acme", &ReportOf::Scope, &mut refuse)
        .await
        .unwrap_err();
    assert_eq!(stopped.kind(), ErrorKind::Stopped);
    let io = std::error::Error::source(&stopped)
        .and_then(|e| e.downcast_ref::<std::io::Error>())
        .unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
}

async fn bad_requests_are_refused_with_their_kind(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    let again = NewScope {
        name: "acme".into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    let error = store.create_scope(&again, &context(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(error.to_string().contains("already exists"), "{error}");
    let missing = store
        .mappings_page("nope", &users(), None, 10)
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(
        missing.to_string().contains("acme"),
        "the error lists the scopes there are: {missing}"
    );
    assert_eq!(
        store
            .mappings_page("acme", &users(), None, 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .mappings_page("acme", &users(), None, 10_001)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .changes("acme", Cursor::START, 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store.job("acme", "", &context(1)).await.unwrap_err().kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .job_by_transfer(uuid::Uuid::nil())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let pages = Namespace::parse("confluence:page").unwrap();
    assert_eq!(
        store
            .upsert_app("acme", &pages, "", "x", &context(1))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .upsert_app("acme", &pages, "k", "a\u{0}b", &context(1))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
}

async fn a_writer_hands_out_a_read_only_view(store: Arc<dyn ScopeWrite>) {
    create_scope(&*store, "acme").await;
    // What a server keeps as shared state, and what it hands to read-only callers.
    let read_only: Arc<dyn ScopeRead> = store.clone();
    let shared = read_only.clone();
    let task = tokio::spawn(async move { shared.scopes().await.unwrap().len() });
    assert_eq!(task.await.unwrap(), 1);
    assert_eq!(
        read_only.scope("acme").await.unwrap().source_platform,
        crosswalk_store::scope::SourcePlatform::Jira
    );
}

// ---------------------------------------------------------------------------------------
// Item references.

fn reference(
    container: &str,
    item: &str,
    role: &str,
    kind: IdentityKind,
    identity: &str,
    permissions: u32,
) -> ItemReferenceRow {
    ItemReferenceRow {
        container: container.into(),
        container_type: "space".into(),
        item: item.into(),
        item_type: if item.is_empty() {
            String::new()
        } else {
            "page".into()
        },
        title: format!("Title of {item}"),
        role: role.into(),
        kind,
        identity: identity.into(),
        permissions,
    }
}

fn references() -> Vec<ItemReferenceRow> {
    use IdentityKind::{Account, Group};
    vec![
        reference("ENG", "page-1", "creator", Account, "JIRAUSER10000", 0),
        reference("ENG", "page-1", "creator", Account, "JIRAUSER10000", 0),
        reference("ENG", "page-1", "mentioned", Account, "user0", 0),
        reference(
            "ENG",
            "page-2",
            "commenter",
            Account,
            "USER0@acme.example",
            0,
        ),
        reference(
            "ENG",
            "",
            "permission",
            Account,
            "jira.userkey/JIRAUSER10000",
            4,
        ),
        reference("ENG", "page-3", "creator", Account, "JIRAUSER10001", 0),
        reference("OPS", "", "permission", Group, "g-devs", 2),
        reference("OPS", "issue-9", "assignee", Account, "nobody-we-know", 0),
    ]
}

async fn item_references_find_their_mappings_by_any_key(store: Arc<dyn ScopeWrite>) {
    create_scope(&*store, "acme").await;
    // Imported before the run: references are matched when read.
    let state = store
        .replace_item_references("acme", &references(), &context(1))
        .await
        .unwrap();
    assert_eq!(
        (state.references, state.items),
        (7, 6),
        "the exact repeat is kept once"
    );
    run(&*store, "acme", "wave-1", &source(3), &destination(3), 2).await;
    assert_eq!(store.item_references("acme").await.unwrap(), state);

    let all = ItemFilter::default();
    let page = store
        .affected_items("acme", &users(), "JIRAUSER10000", &all, None, 100)
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = page
        .items
        .iter()
        .map(|i| (i.container.as_str(), i.item.as_str(), i.role.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("ENG", "", "permission"),
            ("ENG", "page-1", "creator"),
            ("ENG", "page-1", "mentioned"),
            ("ENG", "page-2", "commenter")
        ],
        "by source key, username, address (any case) and prefixed form, in (container, item, role) order"
    );
    assert_eq!(page.items[1].title, "Title of page-1");
    assert!(page.last_page && page.next.is_none());

    // Keyset pages: two then two, nothing repeated or skipped.
    let first = store
        .affected_items("acme", &users(), "JIRAUSER10000", &all, None, 2)
        .await
        .unwrap();
    assert_eq!((first.items.len(), first.last_page), (2, false));
    let second = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10000",
            &all,
            first.next.as_deref(),
            2,
        )
        .await
        .unwrap();
    assert!(second.last_page);
    assert_eq!([first.items, second.items].concat(), page.items);

    let only = |role: Option<&str>, container: Option<&str>, item_type: Option<&str>| ItemFilter {
        role: role.map(Into::into),
        container: container.map(Into::into),
        item_type: item_type.map(Into::into),
    };
    let creators = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10000",
            &only(Some("creator"), None, None),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(creators.items.len(), 1);
    let pages = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10000",
            &only(None, Some("ENG"), Some("page")),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(pages.items.len(), 3);
    let elsewhere = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10000",
            &only(None, Some("OPS"), None),
            None,
            100,
        )
        .await
        .unwrap();
    assert!(elsewhere.items.is_empty() && elsewhere.last_page);

    let keys = vec![
        "JIRAUSER10000".to_string(),
        "JIRAUSER10001".to_string(),
        "JIRAUSER10002".to_string(),
        "no-such-key".to_string(),
    ];
    let counts = store.item_counts("acme", &users(), &keys).await.unwrap();
    assert_eq!(counts.len(), 4);
    assert_eq!(
        (counts[0].references, counts[0].items, counts[0].permissions),
        (4, 3, 4)
    );
    assert_eq!(counts[0].by_role.get("permission"), Some(&1));
    assert_eq!(counts[0].by_role.get("creator"), Some(&1));
    assert_eq!((counts[1].references, counts[1].permissions), (1, 0));
    assert_eq!(counts[2], Default::default());
    assert_eq!(counts[3], Default::default());

    let groups = Namespace::identity_group();
    let group = store
        .affected_items("acme", &groups, "g-devs", &all, None, 10)
        .await
        .unwrap();
    assert_eq!((group.items.len(), group.items[0].permissions), (1, 2));
    assert_eq!(
        store
            .item_counts("acme", &groups, &["g-devs".to_string()])
            .await
            .unwrap()[0]
            .permissions,
        2
    );

    let missing = store
        .affected_items("acme", &users(), "JIRAUSER99999", &all, None, 10)
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    let bad_cursor = store
        .affected_items("acme", &users(), "JIRAUSER10000", &all, Some("r12"), 10)
        .await
        .unwrap_err();
    assert_eq!(bad_cursor.kind(), ErrorKind::Invalid, "{bad_cursor}");
    let bad_limit = store
        .affected_items("acme", &users(), "JIRAUSER10000", &all, None, 0)
        .await
        .unwrap_err();
    assert_eq!(bad_limit.kind(), ErrorKind::Invalid, "{bad_limit}");
}

async fn item_references_are_replaced_whole_and_kept_per_scope(store: Arc<dyn ScopeWrite>) {
    create_scope(&*store, "acme").await;
    create_scope(&*store, "other").await;
    run(&*store, "acme", "wave-1", &source(2), &destination(2), 1).await;
    run(&*store, "other", "wave-1", &source(2), &destination(2), 1).await;
    assert_eq!(store.item_references("acme").await.unwrap().references, 0);
    store
        .replace_item_references("acme", &references(), &context(2))
        .await
        .unwrap();

    // The other scope has the same mappings and none of the references.
    assert_eq!(store.item_references("other").await.unwrap().references, 0);
    let other = store
        .affected_items(
            "other",
            &users(),
            "JIRAUSER10000",
            &ItemFilter::default(),
            None,
            10,
        )
        .await
        .unwrap();
    assert!(other.items.is_empty());

    // A bad reference stores nothing: the earlier set stays.
    let mut bad = references();
    bad.push(reference(
        "",
        "page-9",
        "creator",
        IdentityKind::Account,
        "JIRAUSER10000",
        0,
    ));
    let refused = store
        .replace_item_references("acme", &bad, &context(3))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid, "{refused}");
    assert_eq!(store.item_references("acme").await.unwrap().references, 7);

    // A new import replaces the whole set.
    let fewer = vec![reference(
        "ENG",
        "page-7",
        "owner",
        IdentityKind::Account,
        "JIRAUSER10001",
        0,
    )];
    let state = store
        .replace_item_references("acme", &fewer, &context(4))
        .await
        .unwrap();
    assert_eq!(
        (state.references, state.items, state.imported_at),
        (1, 1, Some(context(4).at))
    );
    let gone = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10000",
            &ItemFilter::default(),
            None,
            10,
        )
        .await
        .unwrap();
    assert!(gone.items.is_empty());
    let kept = store
        .affected_items(
            "acme",
            &users(),
            "JIRAUSER10001",
            &ItemFilter::default(),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(kept.items[0].role, "owner");

    let unknown = store
        .replace_item_references("nope", &fewer, &context(5))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
}

/// A run recording choices: the empty record of `wave` at `minutes` with these choices.
async fn run_choosing(
    store: &dyn ScopeWrite,
    scope: &str,
    job: &str,
    minutes: i64,
    version: u32,
    choices: Vec<NewChoice>,
) -> Result<RunRow, ScopeError> {
    let record = RunRecord {
        scope: scope.into(),
        job: job.into(),
        started_at: t0() + Duration::minutes(minutes),
        who: format!("{job}-admin"),
        policy: String::new(),
        exceptions_version: 0,
        source: DirectoryContent::from_core(&source(1)),
        destination: DirectoryContent::from_core(&destination(1)),
        identities: Vec::new(),
        warnings: Vec::new(),
    };
    store
        .record_run_choosing(&record, Some(&RunChoices { version, choices }))
        .await
}

fn choice(key: &str, handling: StoredHandling, forced: bool) -> NewChoice {
    NewChoice {
        source_key: key.into(),
        handling,
        forced,
    }
}

async fn identity_choices_are_kept_per_scope_and_switches_logged(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    create_scope(store, "globex").await;
    assert_eq!(store.choices("acme").await.unwrap().version, 0);
    let merge_into_a = StoredHandling::Merge { into: "A".into() };
    run_choosing(
        store,
        "acme",
        "wave-1",
        1,
        0,
        vec![
            choice("A", StoredHandling::Keep, false),
            choice("B", merge_into_a.clone(), false),
        ],
    )
    .await
    .unwrap();
    let set = store.choices("acme").await.unwrap();
    assert_eq!(set.version, 1);
    let got: Vec<(&str, &StoredHandling, &str, u32, &str)> = set
        .choices
        .iter()
        .map(|c| {
            (
                c.source_key.as_str(),
                &c.handling,
                c.job.as_str(),
                c.run,
                c.who.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("A", &StoredHandling::Keep, "wave-1", 1, "wave-1-admin"),
            ("B", &merge_into_a, "wave-1", 1, "wave-1-admin")
        ]
    );
    assert_eq!(set.choices[0].at, t0() + Duration::minutes(1));
    assert!(
        store.choices("globex").await.unwrap().choices.is_empty(),
        "choices belong to their scope"
    );

    // The same choices again change nothing: no new version, no switch.
    run_choosing(
        store,
        "acme",
        "wave-2",
        2,
        1,
        vec![choice("B", merge_into_a.clone(), false)],
    )
    .await
    .unwrap();
    assert_eq!(store.choices("acme").await.unwrap().version, 1);
    assert!(store.choice_switches("acme").await.unwrap().is_empty());

    // A run judged against an older version is refused, writing nothing (not even the run).
    let stale = run_choosing(
        store,
        "acme",
        "wave-3",
        3,
        0,
        vec![choice("C", StoredHandling::Tombstone, false)],
    )
    .await
    .unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::Conflict, "{stale}");
    assert!(store.runs("acme", Some("wave-3")).await.unwrap().is_empty());
    assert_eq!(store.choices("acme").await.unwrap().choices.len(), 2);

    // A forced switch replaces the choice and is logged with the run, who and when.
    let new_email = StoredHandling::NewEmail {
        email: "b2@acme.example".into(),
    };
    run_choosing(
        store,
        "acme",
        "wave-3",
        4,
        1,
        vec![
            choice("B", new_email.clone(), true),
            choice("C", StoredHandling::Tombstone, false),
        ],
    )
    .await
    .unwrap();
    let set = store.choices("acme").await.unwrap();
    assert_eq!(set.version, 2);
    let b = set.choices.iter().find(|c| c.source_key == "B").unwrap();
    assert_eq!((&b.handling, b.job.as_str()), (&new_email, "wave-3"));
    let switches = store.choice_switches("acme").await.unwrap();
    assert_eq!(switches.len(), 1, "{switches:?}");
    let switch = &switches[0];
    assert_eq!(
        (
            switch.source_key.as_str(),
            &switch.before,
            &switch.after,
            switch.forced
        ),
        ("B", &merge_into_a, &new_email, true)
    );
    assert_eq!(
        (
            switch.job.as_str(),
            switch.run,
            switch.who.as_str(),
            switch.at
        ),
        ("wave-3", 1, "wave-3-admin", t0() + Duration::minutes(4))
    );
    assert!(store.choice_switches("globex").await.unwrap().is_empty());
    assert_eq!(
        store.choices("nowhere").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

async fn a_run_can_be_resolved_again_from_what_the_store_holds(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    create_scope(store, "acme").await;
    create_scope(store, "globex").await;
    let first = run(store, "acme", "wave-1", &source(3), &destination(4), 0).await;
    // The policy and both directories of the run, as it resolved them.
    assert_eq!(
        store.policy("acme", first.policy_version).await.unwrap(),
        "# default policy\n"
    );
    assert_eq!(
        store.content("acme", &first.source_content).await.unwrap(),
        DirectoryContent::from_core(&source(3))
    );
    assert_eq!(
        store
            .content("acme", &first.destination_content)
            .await
            .unwrap(),
        DirectoryContent::from_core(&destination(4))
    );
    // Versions the scope does not have, and other scopes, are not found.
    assert_eq!(
        store
            .policy("acme", first.policy_version + 1)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .policy("globex", first.policy_version)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.policy("nowhere", 1).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

async fn exception_decisions_to_create_or_keep_a_former_user_are_stored(
    store: Arc<dyn ScopeWrite>,
) {
    let store = &*store;
    create_scope(store, "acme").await;
    // Three source people; the destination has only the first.
    run(store, "acme", "wave-1", &source(3), &destination(1), 0).await;
    for (source_id, decision) in [
        ("id:JIRAUSER10001", "!provision"),
        ("id:JIRAUSER10002", "!former-user"),
    ] {
        let rule = ExceptionRow {
            kind: IdentityKind::Account,
            source: source_id.into(),
            destination: decision.into(),
        };
        store
            .add_exception("acme", &rule, &context(1))
            .await
            .unwrap();
    }
    let cursor = last_cursor(store, "acme").await;
    run(store, "acme", "wave-1", &source(3), &destination(1), 2).await;
    let changes = all_changes(store, "acme", cursor).await;
    let decided: Vec<(&str, &str, &str, Reason)> = changes
        .iter()
        .map(|c| {
            let value = c.new_value.as_ref().unwrap().as_identity().unwrap();
            (
                c.source_key.as_str(),
                value.resolution.as_str(),
                value.target.as_str(),
                c.reason,
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            ("JIRAUSER10001", "Exception", "provision", Reason::Exception),
            (
                "JIRAUSER10002",
                "Exception",
                "former_user",
                Reason::Exception
            ),
        ]
    );
    let former = store
        .mapping("acme", &users(), "JIRAUSER10002")
        .await
        .unwrap();
    let value = former.mapping.value.as_identity().unwrap();
    assert!(value.message.contains("former user"), "{}", value.message);
    assert_eq!(
        value.destination.id, "",
        "a former user has no destination account"
    );
}
