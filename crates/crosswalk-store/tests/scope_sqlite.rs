//! What only the SQLite file shows: directory contents stored once, the file shared with the
//! snapshot store, and the files the scope store refuses.

use crosswalk_core::{Account, Directory};
use crosswalk_store::scope::{
    ChangeContext, DirectoryContent, ErrorKind, NewScope, RunRecord, ScopeRead, ScopeWrite,
    SqliteScopeStore,
};
use crosswalk_store::{MappingStore, Store};
use sqlx::{Connection, SqliteConnection};
use time::OffsetDateTime;

fn context() -> ChangeContext {
    ChangeContext {
        at: OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        who: "ada".into(),
        caller: "test".into(),
    }
}

fn directory(name: &str, n: usize) -> Directory {
    let accounts = (0..n)
        .map(|i| Account {
            id: format!("u{i}").into(),
            email: Some(format!("u{i}@acme.example").into()),
            active: true,
            ..Default::default()
        })
        .collect();
    Directory::new(name, accounts, Vec::new()).unwrap()
}

fn run(scope: &str, job: &str, source: &Directory, destination: &Directory) -> RunRecord {
    RunRecord {
        scope: scope.into(),
        job: job.into(),
        started_at: context().at,
        who: "ada".into(),
        policy: String::new(),
        exceptions_version: 0,
        source: DirectoryContent::from_core(source),
        destination: DirectoryContent::from_core(destination),
        identities: Vec::new(),
        warnings: Vec::new(),
    }
}

async fn count(path: &std::path::Path, table: &str) -> i64 {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn importing_the_same_directory_again_stores_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scopes.sqlite");
    let store = SqliteScopeStore::open(&path).await.unwrap();
    for name in ["acme", "globex"] {
        let scope = NewScope {
            name: name.into(),
            source_label: "jira-server x".into(),
            destination_label: "cloud y".into(),
        };
        store.create_scope(&scope, &context()).await.unwrap();
    }
    let (source, destination) = (directory("server", 50), directory("cloud", 40));
    let first = store
        .record_run(&run("acme", "wave-1", &source, &destination))
        .await
        .unwrap();
    assert_eq!(count(&path, "directory_contents").await, 2);
    // Again, by another job, and by another scope; and the same contents under another name.
    store
        .record_run(&run("acme", "wave-1", &source, &destination))
        .await
        .unwrap();
    store
        .record_run(&run(
            "acme",
            "wave-2",
            &directory("renamed", 50),
            &destination,
        ))
        .await
        .unwrap();
    store
        .record_run(&run("globex", "wave-1", &source, &destination))
        .await
        .unwrap();
    assert_eq!(count(&path, "directory_contents").await, 2);
    // What was stored reads back as it was given.
    assert_eq!(
        store.content("acme", &first.source_content).await.unwrap(),
        DirectoryContent::from_core(&source)
    );
    // New contents are stored once more.
    store
        .record_run(&run(
            "acme",
            "wave-1",
            &directory("server", 51),
            &destination,
        ))
        .await
        .unwrap();
    assert_eq!(count(&path, "directory_contents").await, 3);
    // A scope reads only contents its own runs resolved.
    let other = SqliteScopeStore::open(&path).await.unwrap();
    let scope = NewScope {
        name: "initech".into(),
        source_label: "x".into(),
        destination_label: "y".into(),
    };
    other.create_scope(&scope, &context()).await.unwrap();
    assert_eq!(
        other
            .content("initech", &first.source_content)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn the_scope_store_shares_a_file_with_the_snapshot_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crosswalk.sqlite");
    let snapshots = Store::open(&path).await.unwrap();
    let scopes = SqliteScopeStore::open(&path).await.unwrap();
    let scope = NewScope {
        name: "default".into(),
        source_label: "x".into(),
        destination_label: "y".into(),
    };
    scopes.create_scope(&scope, &context()).await.unwrap();
    assert!(snapshots.jobs().await.unwrap().is_empty());
    snapshots.close().await;
    scopes.close().await;
    // Both open again, each with its own migrations.
    Store::open(&path).await.unwrap().close().await;
    assert_eq!(
        SqliteScopeStore::open(&path)
            .await
            .unwrap()
            .scopes()
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn other_programs_databases_and_newer_stores_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.sqlite");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let error = SqliteScopeStore::open(&foreign).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert!(
        error.to_string().contains("not a Crosswalk store")
            && error.to_string().contains("invoices"),
        "{error}"
    );

    let newer = dir.path().join("newer.sqlite");
    SqliteScopeStore::open(&newer).await.unwrap().close().await;
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", newer.display()))
        .await
        .unwrap();
    sqlx::raw_sql("INSERT INTO _crosswalk_scope_migrations VALUES (999, 'future', '', 0)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let error = SqliteScopeStore::open(&newer).await.unwrap_err();
    assert!(error.to_string().contains("newer Crosswalk"), "{error}");

    let folder = SqliteScopeStore::open(dir.path()).await.unwrap_err();
    assert_eq!(folder.kind(), ErrorKind::Invalid);
}
