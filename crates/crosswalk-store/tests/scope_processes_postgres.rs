//! The PostgreSQL scope store across real processes, as `scope_processes.rs` does for SQLite:
//! `kill -9` in the middle of a run leaves the scope exactly as before or exactly as after
//! it; two runs on one scope at once both land, the later one diffed against the earlier
//! one's result; several processes opening a new database at once apply the schema once.
//! Each test has a fresh database (`support/postgres.rs`).
//!
//! The writer processes are this test binary run again: with `SCOPE_CHILD` set,
//! `child_writer` records one run into the database it names and exits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crosswalk_store::scope::{
    ChangeContext, ChangeOrigin, Cursor, DirectoryContent, IdentityMapping, IdentityValue,
    MappingValue, Namespace, NewScope, PostgresScopeStore, RevisionRow, RunRecord, ScopeRead,
    ScopeWrite, SideRow,
};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

#[path = "support/postgres.rs"]
mod support;

const CHILD: &str = "SCOPE_CHILD";

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

/// `n` users whose display names carry `variant`: two variants differ in every mapping.
fn record(job: &str, n: usize, variant: &str, exceptions_version: u32) -> RunRecord {
    let identities = (0..n)
        .map(|i| {
            let source = SideRow {
                id: format!("JIRAUSER{i:07}"),
                username: format!("user{i}"),
                name: format!("user{i}@acme.example"),
                display_name: format!("User {i} {variant}"),
            };
            let destination = SideRow {
                id: format!("cloud-{i:07}"),
                ..source.clone()
            };
            IdentityMapping {
                namespace: Namespace::identity_user(),
                source_key: source.id.clone(),
                value: IdentityValue {
                    source_emails: vec![source.name.clone()],
                    source,
                    destination,
                    resolution: "Email".into(),
                    target: "existing".into(),
                    message: String::new(),
                    evidence: Vec::new(),
                    candidates: Vec::new(),
                    flags: Vec::new(),
                    confidence: 980,
                },
            }
        })
        .collect();
    RunRecord {
        scope: "acme".into(),
        job: job.into(),
        started_at: at(),
        who: format!("writer {job}"),
        policy: String::new(),
        exceptions_version,
        source: DirectoryContent {
            accounts: Vec::new(),
            groups: Vec::new(),
        },
        destination: DirectoryContent {
            accounts: Vec::new(),
            groups: Vec::new(),
        },
        identities,
        warnings: Vec::new(),
    }
}

async fn create_scope(store: &dyn ScopeWrite) {
    let scope = NewScope {
        name: "acme".into(),
        source_label: "jira-server https://jira".into(),
        destination_label: "cloud https://acme".into(),
    };
    store
        .create_scope(
            &scope,
            &ChangeContext {
                at: at(),
                who: "setup".into(),
                caller: "test".into(),
            },
        )
        .await
        .unwrap();
}

/// In a child process, one of `SCOPE_CHILD=run|path|job|n|variant` (says `recording`,
/// records one run of `n` users into scope `acme`, says `recorded`) or
/// `SCOPE_CHILD=create|path|name` (opens the store, creates a scope, says `recorded`).
/// Run directly, it records a small run into a store of its own, the same way.
#[tokio::test]
async fn child_writer() {
    // Run directly, the database lives until the end of the test (dropped last).
    let mut _database = None;
    let spec = match std::env::var(CHILD) {
        Ok(spec) => spec,
        Err(_) => {
            let Some(database) = support::fresh_database().await else {
                return;
            };
            create_scope(&PostgresScopeStore::open(&database.url).await.unwrap()).await;
            let spec = format!("run|{}|wave|10|v1", database.url);
            _database = Some(database);
            spec
        }
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let store = PostgresScopeStore::open(parts[1]).await.unwrap();
    if parts[0] == "create" {
        let scope = NewScope {
            name: parts[2].into(),
            source_label: "x".into(),
            destination_label: "y".into(),
        };
        store
            .create_scope(
                &scope,
                &ChangeContext {
                    at: at(),
                    who: "child".into(),
                    caller: "test".into(),
                },
            )
            .await
            .unwrap();
        println!("recorded");
        return;
    }
    let (job, n, variant) = (parts[2], parts[3].parse::<usize>().unwrap(), parts[4]);
    let version = store.exceptions("acme").await.unwrap().version;
    let run = record(job, n, variant, version);
    println!("recording");
    let row = store.record_run(&run).await.unwrap();
    println!("recorded {}", row.counts.revisions());
    assert_eq!(row.counts.revisions() + row.counts.unchanged, n as u64);
    store.close().await;
}

/// Whether another transaction holds the scope's row lock right now (a run mid-write).
async fn write_lock_is_held(url: &str) -> bool {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
    let held = sqlx::raw_sql("SELECT id FROM scopes WHERE name = 'acme' FOR UPDATE NOWAIT")
        .execute(&mut conn)
        .await
        .is_err();
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    held
}

fn spawn_child(spec: String) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn spawn_writer(url: &str, job: &str, n: usize, variant: &str) -> Child {
    spawn_child(format!("run|{url}|{job}|{n}|{variant}"))
}

/// Reads the child's output until a line holds `line` (the test harness prints its own
/// text first); false if it ended first. Keep the reader until the child exits: dropping it
/// closes the pipe under the child.
fn wait_for(child: &mut Child, line: &str) -> (bool, BufReader<std::process::ChildStdout>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    loop {
        text.clear();
        if reader.read_line(&mut text).unwrap() == 0 {
            return (false, reader);
        }
        if text.contains(line) {
            return (true, reader);
        }
    }
}

/// The display-name variant every live user mapping holds, or `None` if they disagree.
async fn variant_of_all(store: &dyn ScopeRead, n: usize) -> Option<String> {
    let mut variants = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let page = store
            .mappings_page(
                "acme",
                &Namespace::identity_user(),
                after.as_deref(),
                10_000,
            )
            .await
            .unwrap();
        for mapping in &page.mappings {
            let MappingValue::Identity(value) = &mapping.value else {
                panic!("not an identity")
            };
            variants.insert(
                value
                    .source
                    .display_name
                    .rsplit(' ')
                    .next()
                    .unwrap()
                    .to_string(),
            );
            count += 1;
        }
        if page.last_page {
            break;
        }
        after = page.next;
    }
    assert_eq!(count, n);
    (variants.len() == 1).then(|| variants.into_iter().next().unwrap())
}

async fn all_revisions(store: &dyn ScopeRead) -> Vec<RevisionRow> {
    let mut cursor = Cursor::START;
    let mut all = Vec::new();
    loop {
        let page = store.changes("acme", cursor, 10_000).await.unwrap();
        all.extend(page.revisions);
        cursor = page.cursor;
        if page.last_page {
            return all;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_leaves_the_scope_before_or_after_and_the_next_run_completes() {
    const N: usize = 20_000;
    let Some(database) = support::fresh_database().await else {
        return;
    };
    let path = database.url.as_str();
    {
        let store = PostgresScopeStore::open(path).await.unwrap();
        create_scope(&store).await;
        store.record_run(&record("wave", N, "v1", 0)).await.unwrap();
        store.close().await;
    }
    // Kill while the writer holds the write lock, after waits that reach further into its
    // transaction each time; at least one kill must land mid-write (lock held, nothing
    // committed). Each attempt starts from all-v1 and writes all-v2.
    let waits = [0u64, 0, 20, 80, 250, 1000, 4000, 0, 0, 0, 0, 0];
    let mut killed_mid_write = 0;
    // The job's runs so far: the first, plus two per attempt whose run committed (it, and
    // the run that puts the scope back).
    let mut committed_runs = 1;
    for (attempt, wait) in waits.into_iter().enumerate() {
        if attempt >= 7 && killed_mid_write > 0 {
            break;
        }
        let mut child = spawn_writer(path, "wave", N, "v2");
        let (recording, _reader) = wait_for(&mut child, "recording");
        assert!(recording, "the writer did not start");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut held = false;
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            if write_lock_is_held(path).await {
                held = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().unwrap(); // SIGKILL on Unix: no destructor, no rollback, no checkpoint
        child.wait().unwrap();

        let store = PostgresScopeStore::open(path).await.unwrap();
        let runs = store.runs("acme", Some("wave")).await.unwrap();
        let variant = variant_of_all(&store, N).await;
        let revisions = all_revisions(&store).await.len();
        let before = runs.len() == committed_runs;
        if before {
            assert_eq!(
                variant.as_deref(),
                Some("v1"),
                "before the run: every mapping as it was"
            );
            assert_eq!(revisions, N * runs.len());
            if held {
                killed_mid_write += 1;
            }
            eprintln!(
                "attempt {attempt}: killed {wait} ms after the write lock was seen held ({held}): the scope is as before the run"
            );
        } else {
            assert_eq!(runs.len(), committed_runs + 1, "a run was half kept");
            assert_eq!(
                variant.as_deref(),
                Some("v2"),
                "after the run: every mapping changed"
            );
            assert_eq!(revisions, N * runs.len());
            assert_eq!(runs.last().unwrap().counts.changed, N as u64);
            eprintln!("attempt {attempt}: killed {wait} ms into the write: the run had committed");
            // Back to all-v1 with a normal run, for the next attempt.
            let back = store.record_run(&record("wave", N, "v1", 0)).await.unwrap();
            assert_eq!(back.counts.changed, N as u64);
            committed_runs += 2;
        }
        let numbers: Vec<u32> = store
            .runs("acme", Some("wave"))
            .await
            .unwrap()
            .iter()
            .map(|r| r.number)
            .collect();
        assert_eq!(
            numbers,
            (1..=numbers.len() as u32).collect::<Vec<_>>(),
            "run numbers have no holes"
        );
        store.close().await;
    }
    assert!(
        killed_mid_write > 0,
        "no kill landed while the run held the write lock"
    );
    // The next run completes, diffed against what the kills left.
    let store = PostgresScopeStore::open(path).await.unwrap();
    let next = store.record_run(&record("wave", N, "v3", 0)).await.unwrap();
    assert_eq!(next.counts.changed, N as u64);
    assert_eq!(variant_of_all(&store, N).await.as_deref(), Some("v3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_on_one_scope_at_once_both_land_and_lose_no_update() {
    const N: usize = 5_000;
    let Some(database) = support::fresh_database().await else {
        return;
    };
    let path = database.url.as_str();
    {
        let store = PostgresScopeStore::open(path).await.unwrap();
        create_scope(&store).await;
        store
            .record_run(&record("setup", N, "v0", 0))
            .await
            .unwrap();
        store.close().await;
    }
    // Two jobs of the scope resolve different inputs at the same moment.
    let mut first = spawn_writer(path, "job-a", N, "va");
    let mut second = spawn_writer(path, "job-b", N, "vb");
    for child in [&mut first, &mut second] {
        let (recorded, _reader) = wait_for(child, "recorded");
        assert!(recorded, "a concurrent run failed");
        assert!(child.wait().unwrap().success());
    }

    let store = PostgresScopeStore::open(path).await.unwrap();
    let runs = store.runs("acme", None).await.unwrap();
    assert_eq!(runs.len(), 3);
    // Both changed every mapping: the later one against the earlier one's result, not
    // against the state both started from (which would record a change from v0 twice).
    assert_eq!(runs[1].counts.changed, N as u64);
    assert_eq!(runs[2].counts.changed, N as u64);
    let later = runs[2].job.clone();
    let expected = if later == "job-a" { "va" } else { "vb" };
    assert_eq!(variant_of_all(&store, N).await.as_deref(), Some(expected));

    // Every mapping's revisions chain: each one's old value is the previous one's new value.
    let revisions = all_revisions(&store).await;
    assert_eq!(revisions.len(), 3 * N);
    let mut last: std::collections::HashMap<String, Option<MappingValue>> =
        std::collections::HashMap::new();
    for revision in &revisions {
        let previous = last
            .insert(revision.source_key.clone(), revision.new_value.clone())
            .flatten();
        assert_eq!(
            revision.old_value, previous,
            "revision {} of {} lost an update",
            revision.cursor, revision.source_key
        );
    }
    let by_run: Vec<String> = revisions
        .iter()
        .map(|r| match &r.origin {
            ChangeOrigin::Run { job, .. } => job.clone(),
            ChangeOrigin::Caller { caller } => caller.clone(),
        })
        .collect();
    // Each run's revisions are contiguous in the feed: runs commit whole, one after another.
    let mut seen: Vec<&String> = Vec::new();
    for job in &by_run {
        if seen.last() != Some(&job) {
            assert!(
                !seen.contains(&job),
                "revisions of {job} interleave with another run's"
            );
            seen.push(job);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_processes_opening_a_new_database_at_once_apply_the_schema_once() {
    let Some(database) = support::fresh_database().await else {
        return;
    };
    let path = database.url.as_str();
    let mut children: Vec<Child> = (0..4)
        .map(|i| spawn_child(format!("create|{path}|scope-{i}")))
        .collect();
    for child in &mut children {
        let (recorded, _reader) = wait_for(child, "recorded");
        assert!(recorded, "a process failed to open a new store");
        assert!(child.wait().unwrap().success());
    }
    let store = PostgresScopeStore::open(path).await.unwrap();
    let scopes: Vec<String> = store
        .scopes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(scopes, ["scope-0", "scope-1", "scope-2", "scope-3"]);
}
