//! The CLI on a real PostgreSQL database (a fresh one per test): `--database postgres://…`
//! and CROSSWALK_DATABASE_URL work end to end and say what SQLite says.

use crate::util::*;

#[path = "../../../crosswalk-store/tests/support/postgres.rs"]
mod support;

pub(crate) fn fresh_database() -> Option<support::TestDatabase> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(support::fresh_database())
}

const RUN: [&str; 7] = [
    "run",
    "-s",
    "source.csv",
    "-d",
    "destination.csv",
    "-p",
    "policy.toml",
];

#[test]
fn run_then_report_on_a_fresh_postgres_database_matches_sqlite() {
    let Some(database) = fresh_database() else {
        return;
    };
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    let on_postgres =
        |extra: &[&str]| dir.ok(&[&RUN[..], &["--database", &database.url], extra].concat());

    let first = on_postgres(&["--job", "wave-1"]);
    assert!(
        first
            .lines()
            .any(|l| l == "7 added, 0 changed, 0 removed (0 unchanged)"),
        "{first}"
    );
    let again = on_postgres(&["--job", "wave-1"]);
    assert!(again.starts_with("job \"wave-1\", run 2 "), "{again}");
    assert!(
        again.lines().any(|l| l == "0 changed (7 unchanged)"),
        "an identical re-run writes nothing: {again}"
    );
    assert!(
        !dir.store().exists(),
        "no store file is created beside a database URL"
    );

    // The same inputs on SQLite report the same rows.
    dir.ok(&[&RUN[..], &["--job", "wave-1"]].concat());
    let report_postgres = dir.ok(&["report", "--database", &database.url, "--format", "csv"]);
    let report_sqlite = dir.ok(&["report", "--format", "csv"]);
    assert_eq!(csv_rows(&report_postgres), csv_rows(&report_sqlite));
    assert!(
        csv_rows(&report_postgres).len() > 7,
        "a header and a row per identity: {report_postgres}"
    );

    // CROSSWALK_DATABASE_URL names the database too.
    let out = dir
        .command()
        .args(["jobs"])
        .env("CROSSWALK_DATABASE_URL", &database.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("wave-1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
