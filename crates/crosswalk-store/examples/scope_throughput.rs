//! Scope store throughput on synthetic identity mappings (a measurement, not a test): a
//! first run, an identical re-run, and a re-run with 1% of the users changed, with the
//! store's size after each.
//!
//! `cargo run --release -p crosswalk-store --example scope_throughput` (set
//! `CROSSWALK_THROUGHPUT_N` for another size; default 200,000).

use std::time::Instant;

use crosswalk_store::scope::{
    ChangeContext, DirectoryContent, IdentityMapping, IdentityValue, Namespace, NewScope,
    RunRecord, ScopeWrite, SideRow, SqliteScopeStore,
};
use time::OffsetDateTime;

fn record(n: usize, changed_every: usize, round: usize) -> RunRecord {
    let identities = (0..n)
        .map(|i| {
            let variant = if changed_every > 0 && i % changed_every == 0 {
                round
            } else {
                0
            };
            let source = SideRow {
                id: format!("JIRAUSER{i:07}"),
                username: format!("user{i}"),
                name: format!("user{i}@acme.example"),
                display_name: format!("User {i} v{variant}"),
            };
            let destination = SideRow {
                id: format!("5b10ac8d82e05b22cc7d{i:07}"),
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
        job: "wave-1".into(),
        started_at: OffsetDateTime::now_utc(),
        who: "bench".into(),
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
        identities,
        warnings: Vec::new(),
    }
}

fn size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CROSSWALK_THROUGHPUT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteScopeStore::open(dir.path().join("scopes.sqlite"))
        .await
        .unwrap();
    let context = ChangeContext {
        at: OffsetDateTime::now_utc(),
        who: "bench".into(),
        caller: "bench".into(),
    };
    let scope = NewScope {
        name: "acme".into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud y".into(),
    };
    store.create_scope(&scope, &context).await.unwrap();
    for (label, changed_every, round) in [
        ("first run", 0, 0),
        ("identical re-run", 0, 0),
        ("1% changed", 100, 1),
    ] {
        let run = record(n, changed_every, round);
        let started = Instant::now();
        let row = store.record_run(&run).await.unwrap();
        println!(
            "{label:>16}: {n} users in {:.2} s ({} added, {} changed, {} unchanged); files {} MB",
            started.elapsed().as_secs_f64(),
            row.counts.added,
            row.counts.changed,
            row.counts.unchanged,
            size(dir.path()) / 1_000_000
        );
    }
    store.close().await;
    println!(
        "after closing (write-ahead log checkpointed): {} MB",
        size(dir.path()) / 1_000_000
    );
    // Keep the file for a look inside (`sqlite3 FILE`), when asked to.
    if let Ok(keep) = std::env::var("CROSSWALK_THROUGHPUT_KEEP") {
        std::fs::copy(dir.path().join("scopes.sqlite"), &keep).unwrap();
    }
}
