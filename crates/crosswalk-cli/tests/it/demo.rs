//! `crosswalk demo` exercises every resolution the bundled policy allows.

use crate::util::*;

#[test]
fn demo_runs_and_the_report_has_every_planted_case() {
    let dir = Dir::new();
    let out = dir.ok(&["demo"]);
    assert!(out.contains("job \"demo\""), "{out}");
    let rows = csv_rows(&dir.ok(&["report", "--job", "demo"]));
    let resolutions: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[10].as_str()).collect();
    for expected in ["Exception", "Email", "ID", "Username", "Name", "External", "Unresolved"] {
        assert!(resolutions.contains(expected), "no {expected} in the demo report: {resolutions:?}");
    }
    assert!(rows[1..].iter().any(|r| r[11].contains("confusable")), "the demo plants a look-alike");
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

    let all: serde_json::Value = serde_json::from_str(&dir.ok(&["report", "--job", "demo", "--format", "json"])).unwrap();
    let all = all.as_array().unwrap();
    for row in all {
        assert!(row["flags"].is_array(), "{row}");
        let confidence = row["confidence"].as_f64().unwrap_or_else(|| panic!("no confidence in {row}"));
        assert!((0.0..=1.0).contains(&confidence), "{row}");
    }
    let look_alike = all.iter().find(|row| row["source_id"] == "JIRAUSER10014").unwrap();
    assert_eq!(look_alike["flags"], serde_json::json!(["look_alike"]), "{look_alike}");
    let linked = all.iter().find(|row| row["source_id"] == "JIRAUSER10001").unwrap();
    assert_eq!((linked["flags"].clone(), linked["resolution"].clone()), (serde_json::json!([]), "Email".into()));
    assert!(linked["confidence"].as_f64().unwrap() > 0.9, "{linked}");
    let with_flags: Vec<&serde_json::Value> = all.iter().filter(|row| !row["flags"].as_array().unwrap().is_empty()).collect();
    assert_eq!(with_flags.len(), flagged_in_summary, "the summary's flagged count is the flagged rows");

    let flagged: serde_json::Value =
        serde_json::from_str(&dir.ok(&["report", "--job", "demo", "--flagged", "--format", "json"])).unwrap();
    assert_eq!(flagged.as_array().unwrap().iter().collect::<Vec<_>>(), with_flags);
    let jsonl = dir.ok(&["report", "--job", "demo", "--flagged", "--format", "jsonl"]);
    assert_eq!(jsonl.lines().count(), flagged_in_summary);

    let flagged_ids: Vec<&str> = with_flags.iter().map(|row| row["source_id"].as_str().unwrap()).collect();
    let full_csv = include_str!("expected/demo-report.csv");
    let expected: String = full_csv
        .lines()
        .enumerate()
        .filter(|(number, line)| *number == 0 || flagged_ids.iter().any(|id| line.split(',').nth(2) == Some(id)))
        .map(|(_, line)| format!("{line}\n"))
        .collect();
    assert_eq!(dir.ok(&["report", "--job", "demo", "--flagged"]), expected);
    let csv = csv_rows(&dir.ok(&["report", "--flagged", "-r", "unresolved", "-t", "group"]));
    assert_eq!(csv.len(), 2, "filters combine: the reserved group only: {csv:?}");
}
