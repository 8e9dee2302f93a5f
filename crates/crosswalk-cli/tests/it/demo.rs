//! `crosswalk demo` exercises every resolution the bundled policy allows.

use crate::util::*;

#[test]
fn demo_runs_and_the_report_has_every_planted_case() {
    let dir = Dir::new();
    let out = dir.ok(&["demo"]);
    assert!(out.contains("job \"demo\""), "{out}");
    let rows = csv_rows(&dir.ok(&["report", "--job", "demo"]));
    let resolutions: std::collections::BTreeSet<&str> =
        rows[1..].iter().map(|r| r[10].as_str()).collect();
    for expected in [
        "Exception",
        "Email",
        "ID",
        "Username",
        "Name",
        "External",
        "Unresolved",
    ] {
        assert!(
            resolutions.contains(expected),
            "no {expected} in the demo report: {resolutions:?}"
        );
    }
    assert!(
        rows[1..].iter().any(|r| r[11].contains("confusable")),
        "the demo plants a look-alike"
    );
}

/// The 12-column CSV of the demo, byte for byte as it was before the JSON report gained
/// flags and confidence: the export's format does not move when the JSON forms grow. (After a
/// deliberate change to the engine or the samples, write it again with
/// `crosswalk demo && crosswalk report --job demo > tests/it/expected/demo-report.csv`.)
#[test]
fn the_demo_report_csv_is_exactly_the_twelve_columns_it_was() {
    let dir = Dir::new();
    dir.ok(&["demo"]);
    let csv = dir.ok(&["report", "--job", "demo"]);
    assert_eq!(csv, include_str!("expected/demo-report.csv"));
}

/// The JSON report says each row's flags and confidence, and `--flagged` keeps exactly the
/// rows with a flag, in CSV (its 12 columns, lines of the full export) and in JSON.
#[test]
fn the_report_shows_and_filters_flagged_rows() {
    let dir = Dir::new();
    let demo = dir.ok(&["demo"]);
    let flagged_in_summary: usize = demo
        .lines()
        .find_map(|line| line.trim().strip_prefix("flagged"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no flagged count in {demo}"));

    let all: serde_json::Value =
        serde_json::from_str(&dir.ok(&["report", "--job", "demo", "--format", "json"])).unwrap();
    let all = all.as_array().unwrap();
    for row in all {
        assert!(row["flags"].is_array(), "{row}");
        let confidence = row["confidence"]
            .as_f64()
            .unwrap_or_else(|| panic!("no confidence in {row}"));
        assert!((0.0..=1.0).contains(&confidence), "{row}");
    }
    let look_alike = all
        .iter()
        .find(|row| row["source_id"] == "JIRAUSER10014")
        .unwrap();
    assert_eq!(
        look_alike["flags"],
        serde_json::json!(["look_alike"]),
        "{look_alike}"
    );
    let linked = all
        .iter()
        .find(|row| row["source_id"] == "JIRAUSER10001")
        .unwrap();
    assert_eq!(
        (linked["flags"].clone(), linked["resolution"].clone()),
        (serde_json::json!([]), "Email".into())
    );
    assert!(linked["confidence"].as_f64().unwrap() > 0.9, "{linked}");
    let with_flags: Vec<&serde_json::Value> = all
        .iter()
        .filter(|row| !row["flags"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(
        with_flags.len(),
        flagged_in_summary,
        "the summary's flagged count is the flagged rows"
    );

    let flagged: serde_json::Value = serde_json::from_str(&dir.ok(&[
        "report",
        "--job",
        "demo",
        "--flagged",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        flagged.as_array().unwrap().iter().collect::<Vec<_>>(),
        with_flags
    );
    let jsonl = dir.ok(&["report", "--job", "demo", "--flagged", "--format", "jsonl"]);
    assert_eq!(jsonl.lines().count(), flagged_in_summary);

    let flagged_ids: Vec<&str> = with_flags
        .iter()
        .map(|row| row["source_id"].as_str().unwrap())
        .collect();
    let full_csv = include_str!("expected/demo-report.csv");
    let expected: String = full_csv
        .lines()
        .enumerate()
        .filter(|(number, line)| {
            *number == 0
                || flagged_ids
                    .iter()
                    .any(|id| line.split(',').nth(2) == Some(id))
        })
        .map(|(_, line)| format!("{line}\n"))
        .collect();
    assert_eq!(dir.ok(&["report", "--job", "demo", "--flagged"]), expected);
    let csv = csv_rows(&dir.ok(&["report", "--flagged", "-r", "unresolved", "-t", "group"]));
    assert_eq!(
        csv.len(),
        2,
        "filters combine: the reserved group only: {csv:?}"
    );
}

/// `--store` belongs to the commands that open a store and goes after their name; the
/// others do not offer it, and the old place before the command gets a pointed error.
#[test]
fn store_is_an_option_of_the_commands_that_open_one() {
    let dir = Dir::new();
    let run = |args: &[&str]| {
        dir.command()
            .env_remove("CROSSWALK_STORE")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["demo", "--store", "mine.sqlite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("the full report: crosswalk report --job demo --store mine.sqlite"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "next: crosswalk report --job demo --resolution unresolved --store mine.sqlite "
        ),
        "{stdout}"
    );
    assert!(
        dir.path().join("mine.sqlite").exists() && !dir.path().join("crosswalk.sqlite").exists()
    );
    let out = run(&[
        "report",
        "--job",
        "demo",
        "--store",
        "mine.sqlite",
        "--flagged",
    ]);
    assert!(
        out.status.success() && out.stdout.starts_with(b"Type,Job,"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["jobs", "--store", "mine.sqlite"]);
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("demo "));
    let out = run(&[
        "explain",
        "--store",
        "mine.sqlite",
        "--job",
        "demo",
        "JIRAUSER10014",
    ]);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("flags: LookAlike")
    );

    for command in [
        &["run"][..],
        &["report"],
        &["jobs"],
        &["explain"],
        &["demo"],
    ] {
        let help = String::from_utf8(run(&[command, &["--help"]].concat()).stdout).unwrap();
        assert!(
            help.contains("--store <FILE>") && help.contains("CROSSWALK_STORE"),
            "{command:?}: {help}"
        );
    }
    for command in [
        &["eval"][..],
        &["generate"],
        &["bench"],
        &["transforms", "preview"],
    ] {
        let help = String::from_utf8(run(&[command, &["--help"]].concat()).stdout).unwrap();
        assert!(
            help.contains("Usage: crosswalk") && !help.contains("--store"),
            "{command:?} offers --store: {help}"
        );
    }
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    assert!(!help.contains("--store"), "{help}");

    let out = run(&["--store", "mine.sqlite", "demo"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: --store goes after the command's name: crosswalk demo --store mine.sqlite ...\n"
    );
    let stderr =
        String::from_utf8(run(&["eval", "--generate", "10", "--store", "mine.sqlite"]).stderr)
            .unwrap();
    assert!(stderr.contains("unexpected argument '--store'"), "{stderr}");
}

/// The commands that only read a store refuse a path with none, and leave no empty store
/// behind a mistyped `--store`.
#[test]
fn reading_commands_refuse_a_store_that_does_not_exist() {
    let dir = Dir::new();
    let commands: [&[&str]; 2] = [
        &["report", "--store", "typo.sqlite"],
        &["explain", "--job", "demo", "X", "--store", "typo.sqlite"],
    ];
    for args in commands {
        let stderr = dir.fails(args);
        assert!(
            stderr.contains(
                "no store at typo.sqlite; run `crosswalk run` (or `crosswalk demo`) first"
            ),
            "{args:?}: {stderr}"
        );
        assert!(
            !dir.path().join("typo.sqlite").exists(),
            "{args:?} created the store"
        );
    }
    // A listing of what there is answers "nothing yet", naming the file it looked at.
    let out = dir.ok(&["jobs", "--store", "typo.sqlite"]);
    assert!(
        out.contains("there is no store at typo.sqlite; start one with `crosswalk run`"),
        "{out}"
    );
    assert!(
        !dir.path().join("typo.sqlite").exists(),
        "jobs created the store"
    );
}
