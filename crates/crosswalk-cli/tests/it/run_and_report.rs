//! The main path: run a job, read the report back in a later process, filter it, explain it.

use crate::util::*;

fn setup() -> Dir {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    dir
}

fn run(dir: &Dir) -> String {
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "wave-1",
    ])
}

#[test]
fn run_prints_counts_per_resolution() {
    let dir = setup();
    let out = run(&dir);
    assert!(out.contains("6 accounts and 1 groups resolved"), "{out}");
    let count = |label: &str| -> usize {
        out.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {label} line in {out}"))
    };
    assert_eq!(count("Email"), 2);
    assert_eq!(count("External"), 1);
    assert_eq!(count("Name"), 1, "the group");
    assert_eq!(
        count("Unresolved"),
        3,
        "two shared-mailbox claimants and one nobody"
    );
    assert_eq!(count("ambiguous"), 2);
}

#[test]
fn report_has_the_twelve_columns_and_survives_the_process() {
    let dir = setup();
    run(&dir);
    let rows = csv_rows(&dir.ok(&["report", "--job", "wave-1"]));
    assert_eq!(
        rows[0],
        [
            "Type",
            "Job",
            "Source ID",
            "Source Username",
            "Source Name",
            "Source Display Name",
            "Destination ID",
            "Destination Username",
            "Destination Name",
            "Destination Display Name",
            "Resolution",
            "Message"
        ]
    );
    assert_eq!(rows.len(), 1 + 7);
    let john = rows.iter().find(|r| r[2] == "JIRAUSER1").unwrap();
    assert_eq!(john[0], "account");
    assert_eq!(john[1], "wave-1");
    assert_eq!(john[6], "5b10a001");
    assert_eq!(john[10], "Email");
    let group = rows.iter().find(|r| r[0] == "group").unwrap();
    assert_eq!(
        (group[4].as_str(), group[8].as_str(), group[10].as_str()),
        ("developers", "Developers", "Name")
    );
}

#[test]
fn report_filters_by_resolution_and_type() {
    let dir = setup();
    run(&dir);
    let rows = csv_rows(&dir.ok(&["report", "-r", "unresolved", "-t", "account"]));
    assert_eq!(rows.len(), 1 + 3);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[10] == "Unresolved" && r[0] == "account")
    );
    let rows = csv_rows(&dir.ok(&["report", "-r", "email,external"]));
    assert_eq!(rows.len(), 1 + 3);
}

#[test]
fn report_csv_is_safe_to_open_in_a_spreadsheet() {
    let dir = setup();
    run(&dir);
    let rows = csv_rows(&dir.ok(&["report"]));
    let ghost = rows.iter().find(|r| r[2] == "JIRAUSER6").unwrap();
    assert_eq!(ghost[5], "'=HYPERLINK(\"http://x\")");
    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&["report", "--format", "json"])).unwrap();
    let ghost = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_id"] == "JIRAUSER6")
        .unwrap();
    assert_eq!(
        ghost["source_display_name"], "=HYPERLINK(\"http://x\")",
        "JSON carries values unchanged"
    );
}

#[test]
fn shared_mailbox_is_explained_with_its_candidate() {
    let dir = setup();
    run(&dir);
    let out = dir.ok(&["explain", "--job", "wave-1", "JIRAUSER3"]);
    assert!(out.contains("resolution: Unresolved"), "{out}");
    assert!(
        out.contains("candidate: 5b10a003 support@acme.com"),
        "{out}"
    );
    assert!(out.contains("SharedDestination"), "{out}");
    let out = dir.ok(&["explain", "--job", "wave-1", "JIRAUSER2"]);
    assert!(
        out.contains("domain acme-corp.com treated as acme.com"),
        "{out}"
    );
}

#[test]
fn rerunning_a_job_keeps_earlier_runs() {
    let dir = setup();
    run(&dir);
    run(&dir);
    let out = dir.ok(&["jobs"]);
    assert!(
        out.contains("wave-1") && out.contains("run   1") && out.contains("run   2"),
        "{out}"
    );
    let rows = csv_rows(&dir.ok(&["report", "--job", "wave-1"]));
    assert_eq!(rows.len(), 1 + 7, "the report shows the latest run only");
}

#[test]
fn skip_invalid_stores_the_valid_rows_and_lists_the_rest() {
    let dir = setup();
    let bad = format!("{SOURCE_CSV}account,,nobody,x@acme.com,,,,,true,,,,,\n");
    dir.write("source.csv", &bad);
    let out = dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--skip-invalid",
        "--job",
        "j",
    ]);
    assert!(out.contains("1 invalid records were skipped"), "{out}");
    assert!(out.contains("source.csv:10"), "{out}");
}

#[test]
fn generated_pair_runs_end_to_end() {
    let dir = Dir::new();
    let out = dir.ok(&["generate", "--accounts", "300", "--out", "gen"]);
    assert!(out.contains("wrote"), "{out}");
    let out = dir.ok(&[
        "run",
        "-s",
        "gen/source.csv",
        "-d",
        "gen/destination.csv",
        "-p",
        "gen/policy.toml",
        "--format",
        "json",
    ]);
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(summary["summary"]["accounts"].as_u64().unwrap() >= 300);
    assert!(dir.path().join("gen/truth.csv").exists());
}

/// `generate --format ldif|entra-csv` writes a pair that `run` reads as it reads the platforms'
/// exports, and a truth file that names the identities as those files do (LDIF: by
/// entryUUID), so `eval` scores it.
#[test]
fn generated_ldif_and_entra_pairs_run_and_score() {
    let dir = Dir::new();
    for (format, extension) in [("ldif", "ldif"), ("entra-csv", "csv")] {
        let out = dir.ok(&["generate", "-n", "300", "--format", format, "-o", format]);
        assert!(out.contains("wrote 300 source"), "{out}");
        let source = format!("{format}/source.{extension}");
        let destination = format!("{format}/destination.{extension}");
        let policy = format!("{format}/policy.toml");
        let truth = format!("{format}/truth.csv");
        let out = dir.ok(&[
            "run",
            "-s",
            &source,
            "-d",
            &destination,
            "-p",
            &policy,
            "--job",
            format,
            "--format",
            "json",
        ]);
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(summary["summary"]["accounts"].as_u64(), Some(300), "{out}");
        let out = dir.ok(&[
            "eval",
            "-s",
            &source,
            "-d",
            &destination,
            "-p",
            &policy,
            "--truth",
            &truth,
        ]);
        assert!(out.contains("engine false merges: 0"), "{format}: {out}");
    }
    let ldif = std::fs::read_to_string(dir.path().join("ldif/source.ldif")).unwrap();
    assert!(
        ldif.starts_with("dn: dc=example,dc=com\n"),
        "slapcat's shape: no version line"
    );
    let entra = std::fs::read_to_string(dir.path().join("entra-csv/source.csv")).unwrap();
    assert!(
        entra.starts_with("\u{feff}userPrincipalName,displayName,surname,mail,givenName,objectId")
    );
}

/// Where stderr is not a terminal (a log, CI), each phase of a run is said on a line of its
/// own, without a bar's escape codes.
#[test]
fn progress_says_each_phase_in_a_log() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    let output = dir.crosswalk(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        "logged",
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let phases: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        phases,
        [
            "crosswalk: reading the source directory source.csv and the destination directory destination.csv",
            "crosswalk: resolving 7 source identities against 4 destination identities",
            "crosswalk: recording what changed among 7 mappings",
        ],
        "{stderr}"
    );
}

/// A run is numbered within its job, the same number `run`, `jobs` and `explain` say: a new
/// job's first run is run 1 even when the store holds runs of other jobs.
#[test]
fn every_command_says_the_jobs_own_run_number() {
    let dir = setup();
    run(&dir);
    run(&dir);
    let args = [
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "wave-2",
    ];
    let out = dir.ok(&args);
    assert!(out.starts_with("job \"wave-2\", run 1 "), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&[&args[..], &["--format", "json"]].concat())).unwrap();
    assert_eq!(json["run"], 2, "{json}");
    let jobs = dir.ok(&["jobs"]);
    assert!(
        jobs.lines()
            .any(|l| l.starts_with("wave-2") && l.contains("run   2")),
        "{jobs}"
    );
    // A mapping belongs to the scope: wave-2 resolved John as wave-1 had, so it is still
    // wave-1's run 1 that made it what it is, and explain says so.
    let out = dir.ok(&["explain", "--job", "wave-2", "JIRAUSER1"]);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .ends_with("in scope \"default\", last changed in job \"wave-1\", run 1"),
        "{out}"
    );
    let error = dir.fails(&["explain", "--job", "wave-2", "NOPE"]);
    assert!(
        error.contains("scope \"default\" has no identity:user mapping for \"NOPE\""),
        "{error}"
    );
}

/// An account known only by its username is introduced, and its look-alike candidate named,
/// by username, with no empty parentheses or gaps.
#[test]
fn explain_names_accounts_without_an_address_by_username() {
    let dir = Dir::new();
    let header = SOURCE_CSV.lines().next().unwrap();
    dir.write(
        "source.csv",
        &format!("{header}\naccount,S5,john.doe,,,Johnny,,,true,,,,,\n"),
    );
    dir.write(
        "destination.csv",
        &format!("{header}\naccount,D5,j0hn.doe,,,Johnny 2,,,true,,true,,,\n"),
    );
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        "names",
    ]);
    let out = dir.ok(&["explain", "--job", "names", "S5"]);
    assert!(
        out.starts_with(
            "account S5 (john.doe) in scope \"default\", last changed in job \"names\", run 1\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\ncandidate: D5 j0hn.doe by Username, score "),
        "{out}"
    );
    assert!(out.contains("flags: LookAlike"), "{out}");
}
