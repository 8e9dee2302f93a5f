//! Scopes, transfer ids, revisions and the change feed, through the real binary: a run
//! reconciles into its scope, and every command reads the scope back.

use crate::util::*;

fn setup() -> Dir {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    dir
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

fn run(dir: &Dir, extra: &[&str]) -> String {
    dir.ok(&[&RUN[..], extra].concat())
}

/// The line after `prefix`, trimmed.
fn line_after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {out}"))
        .trim()
}

#[test]
fn a_run_says_its_transfer_id_and_what_changed_and_an_identical_rerun_changes_nothing() {
    let dir = setup();
    let first = run(&dir, &["--job", "wave-1"]);
    assert!(
        first.starts_with("job \"wave-1\", run 1 (scope \"default\", store "),
        "{first}"
    );
    let transfer = line_after(&first, "transfer id ");
    assert_eq!(transfer.len(), 36, "a UUID: {transfer}");
    assert!(
        first
            .lines()
            .any(|l| l == "7 added, 0 changed, 0 removed (0 unchanged)"),
        "{first}"
    );

    let again = run(&dir, &["--job", "wave-1"]);
    assert!(again.starts_with("job \"wave-1\", run 2 "), "{again}");
    assert_eq!(
        line_after(&again, "transfer id "),
        transfer,
        "a job keeps its transfer id"
    );
    assert!(
        again.lines().any(|l| l == "0 changed (7 unchanged)"),
        "{again}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&run(&dir, &["--job", "wave-1", "--format", "json"])).unwrap();
    assert_eq!(
        (
            json["scope"].as_str(),
            json["transfer_id"].as_str(),
            json["run"].as_u64()
        ),
        (Some("default"), Some(transfer), Some(3))
    );
    assert_eq!(json["counts"]["unchanged"], 7, "{json}");

    let jobs = dir.ok(&["jobs"]);
    assert!(
        jobs.contains(&format!("wave-1                   transfer id {transfer}")),
        "{jobs}"
    );
    assert!(
        jobs.lines().any(|l| l.starts_with("wave-1")
            && l.contains("run   2")
            && l.contains("0 changed")
            && l.ends_with("by cli:tester")),
        "{jobs}"
    );
}

#[test]
fn scopes_are_created_listed_shown_and_kept_apart() {
    let dir = setup();
    // A run into a scope that does not exist is refused: a typo must not start an empty scope.
    let error = dir.fails(&[&RUN[..], &["--scope", "acme", "--job", "wave-1"]].concat());
    assert!(
        error.contains("there is no scope \"acme\"")
            && error.contains("crosswalk scope create acme"),
        "{error}"
    );

    let out = dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "atlassian-cloud https://acme.atlassian.net",
    ]);
    assert!(out.starts_with("scope \"acme\" created: jira-server https://jira.acme.local -> atlassian-cloud https://acme.atlassian.net"), "{out}");
    let error = dir.fails(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "x",
        "--destination-label",
        "y",
    ]);
    assert!(error.contains("acme"), "{error}");

    let acme = run(&dir, &["--scope", "acme", "--job", "wave-1"]);
    assert!(acme.contains("(scope \"acme\""), "{acme}");
    assert!(
        acme.contains("next: crosswalk report --job wave-1 --resolution unresolved --scope acme"),
        "{acme}"
    );
    // A job of the same name in another scope is another job, with its own transfer id.
    let default = run(&dir, &["--job", "wave-1"]);
    assert!(
        default.contains("7 added"),
        "the default scope starts empty: {default}"
    );
    assert_ne!(
        line_after(&acme, "transfer id "),
        line_after(&default, "transfer id ")
    );

    let list = dir.ok(&["scope", "list"]);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["acme", "default"], "{list}");
    let show = dir.ok(&["scope", "show", "acme"]);
    assert!(show.contains("source:      jira-server https://jira.acme.local (look-ups also take jira.userkey/, jira.username/, email/)"), "{show}");
    assert!(
        show.contains(&format!(
            "wave-1                   transfer id {}  1 runs",
            line_after(&acme, "transfer id ")
        )),
        "{show}"
    );
    let show = dir.ok(&["scope", "show", "acme"]);
    assert!(show.contains("keeps removed mappings forever"), "{show}");
    assert!(show.contains("exceptions:  0 rules, version 0"), "{show}");

    // An exceptions file becomes the scope's rules, which later runs without one keep using.
    dir.write(
        "exceptions.csv",
        "type,source,destination\naccount,id:JIRAUSER3,email:support@acme.com\n",
    );
    let with_rules = run(
        &dir,
        &["--scope", "acme", "--job", "wave-1", "-e", "exceptions.csv"],
    );
    assert!(
        with_rules.contains(
            "1 exception rules (the scope's, version 1; `crosswalk scope show acme` lists them)"
        ),
        "{with_rules}"
    );
    let without = run(&dir, &["--scope", "acme", "--job", "wave-1"]);
    assert!(
        without.lines().any(|l| l == "0 changed (7 unchanged)")
            && without.contains("1 exception rules"),
        "{without}"
    );
    let show = dir.ok(&["scope", "show", "acme"]);
    assert!(
        show.contains(
            "exceptions:  1 rules, version 1\n    account id:JIRAUSER3 -> email:support@acme.com\n"
        ),
        "{show}"
    );

    // Changes in one scope stay there.
    dir.write("source.csv", &SOURCE_CSV.replace("account,JIRAUSER6,ghost,ghost@acme.com,,=HYPERLINK(\"http://x\"),,,true,internal,,,,\n", ""));
    let changed = run(&dir, &["--scope", "acme", "--job", "wave-1"]);
    assert!(
        changed
            .lines()
            .any(|l| l == "0 added, 0 changed, 1 removed (6 unchanged)"),
        "{changed}"
    );
    assert_eq!(
        csv_rows(&dir.ok(&["report", "--scope", "acme"])).len(),
        1 + 6
    );
    assert_eq!(
        csv_rows(&dir.ok(&["report"])).len(),
        1 + 7,
        "the default scope still has the ghost"
    );
    let error = dir.fails(&["scope", "show", "nope"]);
    assert!(
        error.contains("no scope named \"nope\"; scopes: acme, default"),
        "{error}"
    );

    // A second job's transfer id reads every current mapping of its scope, the ones the
    // first job made included (their Job column says so).
    let wave2 = run(&dir, &["--scope", "acme", "--job", "wave-2"]);
    assert!(
        wave2.lines().any(|l| l == "0 changed (6 unchanged)"),
        "{wave2}"
    );
    let rows = csv_rows(&dir.ok(&["report", "--transfer", line_after(&wave2, "transfer id ")]));
    assert_eq!(rows.len(), 1 + 6);
    assert!(rows[1..].iter().all(|r| r[1] == "wave-1"), "{rows:?}");
    let error = dir.fails(&[
        "report",
        "--transfer",
        "00000000-0000-4000-8000-000000000000",
    ]);
    assert!(
        error.contains("no job has transfer id 00000000-0000-4000-8000-000000000000"),
        "{error}"
    );
}

/// Migrations run in waves, each a job over its own slice of the source: a second wave
/// must not mark the first wave's mappings removed because its source lacks them.
#[test]
fn a_second_wave_on_a_disjoint_source_removes_none_of_the_first_waves_mappings() {
    let dir = setup();
    dir.ok(&["demo"]);
    let demo_rows = csv_rows(&dir.ok(&["report"])).len() - 1;
    assert!(demo_rows > 7, "the demo maps its own users: {demo_rows}");

    // Six users and a group the demo does not have.
    dir.write(
        "source.csv",
        &SOURCE_CSV
            .replace("JIRAUSER", "WAVE2USER")
            .replace(",G1,", ",W2G1,"),
    );
    let wave2 = run(&dir, &["--job", "new"]);
    assert!(
        wave2
            .lines()
            .any(|l| l == "7 added, 0 changed, 0 removed (0 unchanged)"),
        "{wave2}"
    );

    // The scope's report has both waves' mappings live, each under the job that wrote it.
    let rows = csv_rows(&dir.ok(&["report"]));
    assert_eq!(rows.len() - 1, demo_rows + 7, "{rows:?}");
    assert_eq!(
        rows[1..].iter().filter(|r| r[1] == "demo").count(),
        demo_rows
    );
    assert_eq!(rows[1..].iter().filter(|r| r[1] == "new").count(), 7);

    // Re-running the first wave leaves the second's alone too.
    let demo_again = dir.ok(&["demo"]);
    assert!(
        !demo_again
            .lines()
            .any(|l| l.contains(" removed (") && !l.contains(" 0 removed (")),
        "{demo_again}"
    );
    assert_eq!(csv_rows(&dir.ok(&["report"])).len() - 1, demo_rows + 7);
}

#[test]
fn history_follows_a_mapping_by_any_of_its_keys_and_changes_lists_revisions_after_a_cursor() {
    let dir = setup();
    run(&dir, &["--job", "wave-1"]);
    let feed = dir.ok(&["changes"]);
    assert_eq!(
        feed.lines()
            .filter(|l| l.starts_with("JIRAUSER") || l.starts_with("G1"))
            .count(),
        7,
        "{feed}"
    );
    let next = feed.lines().last().unwrap();
    assert!(
        next.starts_with("7 changes; next: crosswalk changes --since r"),
        "{feed}"
    );
    let cursor = next
        .split("--since ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // Maria's address changes on the source: her mapping changes (one revision), nothing else.
    dir.write(
        "source.csv",
        &SOURCE_CSV.replace("maria@acme-corp.com", "maria.smith@elsewhere.example"),
    );
    let out = run(&dir, &["--job", "wave-1"]);
    assert!(
        out.lines()
            .any(|l| l == "0 added, 1 changed, 0 removed (6 unchanged)"),
        "{out}"
    );
    let after = dir.ok(&["changes", "--since", &cursor]);
    let keys: Vec<&str> = after
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|k| k.starts_with("JIRAUSER"))
        .collect();
    assert_eq!(keys, ["JIRAUSER2"], "{after}");
    let jsonl = dir.ok(&["changes", "--since", &cursor, "--format", "jsonl"]);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{jsonl}");
    assert_eq!(
        (lines[0]["source_key"].as_str(), lines[0]["reason"].as_str()),
        (Some("JIRAUSER2"), Some("resolution"))
    );
    assert_eq!(lines[0]["who"], "cli:tester");
    assert_eq!(lines[1]["last_page"], true);

    // Her username finds the mapping: two revisions, the first run's and the change.
    let history = dir.ok(&["history", "msmith"]);
    assert!(
        history.starts_with("identity:user JIRAUSER2 in scope \"default\": "),
        "{history}"
    );
    assert!(history.contains("2 revisions, oldest first:"), "{history}");
    assert!(
        history.contains("(none) -> Email 5b10a002  (job \"wave-1\" run 1, by cli:tester)"),
        "{history}"
    );
    assert!(
        history.contains("job \"wave-1\" run 2, by cli:tester"),
        "{history}"
    );
    let by_prefix: serde_json::Value = serde_json::from_str(&dir.ok(&[
        "history",
        "email/maria.smith@elsewhere.example",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(by_prefix["mapping"]["source_key"], "JIRAUSER2");

    let error = dir.fails(&["history", "nobody-at-all"]);
    assert!(
        error.contains("has no identity:user mapping for \"nobody-at-all\""),
        "{error}"
    );
    let error = dir.fails(&["changes", "--since", "yesterday"]);
    assert!(error.contains("not a change feed cursor"), "{error}");
    let error = dir.fails(&["history", "--namespace", "Jira:Issue", "x"]);
    assert!(error.contains("product:entity"), "{error}");
}

#[test]
fn purge_says_what_it_removes_and_nothing_expires_unless_asked() {
    let dir = setup();
    run(&dir, &["--job", "wave-1"]);
    dir.write("source.csv", &SOURCE_CSV.replace("account,JIRAUSER6,ghost,ghost@acme.com,,=HYPERLINK(\"http://x\"),,,true,internal,,,,\n", ""));
    run(&dir, &["--job", "wave-1"]);

    let out = dir.ok(&["purge", "--namespace", "identity:user"]);
    assert!(
        out.contains("removed mappings are kept forever")
            && out.contains("removed 0 mappings for good"),
        "{out}"
    );
    let history = dir.ok(&["history", "JIRAUSER6"]);
    assert!(
        history.contains("removed (its source identity is gone; kept until a purge)"),
        "{history}"
    );

    let out = dir.ok(&["scope", "retention", "identity:user", "0"]);
    assert!(
        out.contains("may be purged 0 days after their removal"),
        "{out}"
    );
    assert!(
        out.contains("nothing is removed until you run: crosswalk purge --namespace identity:user"),
        "{out}"
    );
    let dry = dir.ok(&["purge", "--namespace", "identity:user", "--dry-run"]);
    assert!(
        dry.contains(
            "would remove 1 mappings for good:\n  JIRAUSER6\nnothing was removed (--dry-run)"
        ),
        "{dry}"
    );
    assert!(
        dir.ok(&["history", "JIRAUSER6"])
            .contains("kept until a purge"),
        "a dry run removes nothing"
    );
    let out = dir.ok(&["purge", "--namespace", "identity:user"]);
    assert!(
        out.contains("removed 1 mappings for good:\n  JIRAUSER6"),
        "{out}"
    );
    // The purge is recorded in the change feed.
    let feed = dir.ok(&["changes", "--format", "jsonl"]);
    assert!(
        feed.lines()
            .any(|l| l.contains("\"JIRAUSER6\"") && l.contains("\"purge\"")),
        "{feed}"
    );
    let error = dir.fails(&["scope", "retention", "identity:user", "soon"]);
    assert!(error.contains("number of days"), "{error}");
}

#[test]
fn an_unreachable_postgres_server_fails_at_once_naming_it_and_nothing_is_written() {
    let dir = setup();
    // Port 1: nothing listens there, so the connection is refused at once.
    for args in [
        &[
            &RUN[..],
            &[
                "--database",
                "postgres://postgres:s3cret@127.0.0.1:1/crosswalk",
            ],
        ]
        .concat()[..],
        &[
            "scope",
            "list",
            "--database",
            "postgresql://postgres:s3cret@127.0.0.1:1/crosswalk",
        ],
        &[
            "report",
            "--database",
            "postgres://postgres:s3cret@127.0.0.1:1/crosswalk",
        ],
    ] {
        let out = dir.crosswalk(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("postgres:***@127.0.0.1:1/crosswalk"),
            "names the server, not the password: {args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("s3cret") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
    let out = dir
        .command()
        .args(["jobs"])
        .env("CROSSWALK_DATABASE_URL", "postgres://127.0.0.1:1/x")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("postgres://127.0.0.1:1/x"),
        "the variable is read too"
    );
    // Refused before the inputs are read: a missing source file is not what it says.
    let error = dir.fails(&[
        "run",
        "-s",
        "missing.csv",
        "-d",
        "destination.csv",
        "--database",
        "postgres://127.0.0.1:1/x",
    ]);
    assert!(
        error.contains("postgres://127.0.0.1:1/x") && !error.contains("missing.csv"),
        "{error}"
    );
    let error = dir.fails(&["jobs", "--database", "mysql://db/x"]);
    assert!(error.contains("is not a database URL"), "{error}");
    assert!(!dir.store().exists(), "nothing was created");

    // sqlite:// names a store file like --store.
    let out = run(&dir, &["--database", "sqlite://other.sqlite", "--job", "w"]);
    assert!(out.contains("store other.sqlite"), "{out}");
    assert!(dir.path().join("other.sqlite").exists());
}

#[test]
fn help_teaches_each_scope_command_with_examples() {
    let dir = Dir::new();
    for (command, example) in [
        (&["run"][..], "crosswalk run --scope acme"),
        (&["report"], "crosswalk report --scope acme --job wave-1"),
        (&["jobs"], "crosswalk jobs --scope acme"),
        (&["explain"], "crosswalk explain --scope acme jdoe"),
        (
            &["scope", "create"],
            "crosswalk scope create acme --source-label",
        ),
        (
            &["scope", "retention"],
            "crosswalk scope retention --scope acme identity:user 90",
        ),
        (
            &["history"],
            "crosswalk history --scope acme jira.username/jdoe",
        ),
        (&["changes"], "crosswalk changes --scope acme --since"),
        (
            &["purge"],
            "crosswalk purge --scope acme --namespace identity:user --dry-run",
        ),
    ] {
        let help = dir.ok(&[command, &["--help"]].concat());
        assert!(
            help.contains(example),
            "{command:?} --help has no example {example:?}:\n{help}"
        );
        assert!(
            help.contains("--database <URL>") && help.contains("CROSSWALK_DATABASE_URL"),
            "{command:?}: {help}"
        );
    }
}

/// Commands that only read never create a store file where there is none.
#[test]
fn reading_commands_leave_a_missing_store_missing() {
    let dir = Dir::new();
    assert!(
        dir.ok(&["scope", "list"])
            .starts_with("no scopes yet: there is no store at ")
    );
    assert!(
        dir.ok(&["jobs"])
            .starts_with("no jobs yet: there is no store at ")
    );
    for args in [
        &["history", "x"][..],
        &["changes"],
        &["scope", "show", "default"],
        &["purge", "--namespace", "identity:user"],
        &["explain", "x"],
    ] {
        let error = dir.fails(args);
        assert!(
            error.contains("no store at") && error.contains("crosswalk run"),
            "{args:?}: {error}"
        );
    }
    assert!(!dir.store().exists());
}
