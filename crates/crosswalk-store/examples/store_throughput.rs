//! Store throughput on synthetic mappings (a measurement, not a test): how long saving,
//! reading the report and loading a directory take. Figures go in BENCHMARKS.md.
//!
//! `cargo run --release -p crosswalk-store --example store_throughput` (set
//! `CROSSWALK_THROUGHPUT_N` for another size; default 200,000).

use std::time::Instant;

use crosswalk_core::{
    Account, Candidate, Confidence, Directory, Evidence, Flag, IdentityKind, Mapping, Resolution,
    Summary, Target,
};
use crosswalk_store::{DirectoryMeta, MappingStore, NewRun, ReportQuery, Store, StoreError};

fn evidence(method: Resolution, field: &str, key: &str, note: &str) -> Evidence {
    Evidence {
        method,
        source_field: field.into(),
        destination_field: field.into(),
        key: key.into(),
        note: note.to_string().into(),
    }
}

#[tokio::main]
async fn main() {
    let n: u32 = std::env::var("CROSSWALK_THROUGHPUT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("big.db")).await.unwrap();
    let make = |side: &str| {
        Directory::new(
            side,
            (0..n)
                .map(|i| Account {
                    id: format!("{side}-{:08}", (i as u64 * 2_654_435_761) % n as u64).into(),
                    username: Some(format!("user{i}").into()),
                    email: Some(format!("user{i}@acme.com").into()),
                    alias_emails: vec![format!("u{i}@acme-corp.com").into()],
                    display_name: Some(format!("User Number {i}").into()),
                    given_name: Some("User".into()),
                    family_name: Some(format!("Number {i}").into()),
                    active: true,
                    source_directory: Some("internal".into()),
                    email_verified: Some(true),
                })
                .collect(),
            vec![],
        )
        .unwrap()
    };
    let source = make("src");
    let destination = make("dst");
    let start = Instant::now();
    let source_id = store
        .save_directory(&source, &DirectoryMeta::default(), None)
        .await
        .unwrap();
    let destination_id = store
        .save_directory(&destination, &DirectoryMeta::default(), None)
        .await
        .unwrap();
    println!("save_directory: 2 x {n} accounts in {:?}", start.elapsed());
    let mappings: Vec<Mapping> = (0..n)
        .map(|i| Mapping {
            kind: IdentityKind::Account,
            source: i,
            resolution: if i % 10 == 0 {
                Resolution::Unresolved
            } else {
                Resolution::Email
            },
            target: if i % 10 == 0 {
                None
            } else {
                Some(Target::Existing { index: i })
            },
            message: if i % 10 == 0 {
                "no destination account has this address".into()
            } else {
                String::new()
            },
            evidence: if i % 10 == 0 {
                vec![]
            } else {
                vec![evidence(
                    Resolution::Email,
                    "email",
                    &format!("user{i}@acme.com"),
                    "case folded",
                )]
            },
            candidates: if i % 10 == 0 {
                vec![Candidate {
                    index: (i + 1) % n,
                    method: Resolution::Name,
                    reason: "same name".into(),
                    score: Confidence::from_probability(0.5),
                }]
            } else {
                vec![]
            },
            flags: if i % 10 == 0 {
                vec![Flag::Ambiguous].into()
            } else {
                Default::default()
            },
            confidence: Confidence::from_probability(if i % 10 == 0 { 0.5 } else { 0.98 }),
        })
        .collect();
    let summary = Summary::of(&mappings);
    let run = NewRun {
        job: "big",
        source_directory: source_id,
        destination_directory: destination_id,
        policy_json: "{}",
        exceptions_json: "[]",
        started_at: 0,
        source: &source,
        destination: &destination,
        mappings: &mappings,
        summary: &summary,
        warnings: &[],
    };
    let start = Instant::now();
    let run = store.save_run(&run, None).await.unwrap();
    println!(
        "save_run: {n} mappings (+ evidence, candidates) in {:?}",
        start.elapsed()
    );
    let start = Instant::now();
    let mut rows = 0u64;
    store
        .report_each(&ReportQuery::run(run), |_| {
            rows += 1;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    println!("report_each: {rows} rows in {:?}", start.elapsed());
    let start = Instant::now();
    let loaded = store.load_directory(source_id).await.unwrap();
    println!(
        "load_directory: {} accounts in {:?}",
        loaded.accounts.len(),
        start.elapsed()
    );
    let start = Instant::now();
    let filtered = store
        .report(&ReportQuery {
            resolutions: vec![Resolution::Unresolved],
            ..ReportQuery::run(run)
        })
        .await
        .unwrap();
    println!(
        "report(Unresolved): {} rows in {:?}",
        filtered.len(),
        start.elapsed()
    );
    let size = std::fs::metadata(dir.path().join("big.db")).unwrap().len()
        + std::fs::metadata(dir.path().join("big.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!("file size (db + wal): {} MB", size / 1_000_000);
}
