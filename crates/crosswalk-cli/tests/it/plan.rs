//! `crosswalk plan`: the dry run against a stored scope, writing nothing.

use crate::util::{DESTINATION_CSV, Dir, POLICY_TOML, SOURCE_CSV};

fn counts(json: &str) -> [u64; 4] {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let c = &value["counts"];
    ["new", "changed", "removed", "unchanged"].map(|k| c[k].as_u64().unwrap())
}

#[test]
fn plan_shows_what_a_run_would_do_and_writes_nothing() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    let inputs = ["-s", "source.csv", "-d", "destination.csv", "-p", "policy.toml"];
    let plan = |extra: &[&str]| dir.ok(&[&["plan"], &inputs[..], extra].concat());

    // Before any run: everything is new, and no store file appears.
    let first = plan(&["--format", "json"]);
    assert_eq!(counts(&first), [7, 0, 0, 0], "{first}");
    assert!(!dir.store().exists(), "a dry run must not create the store");
    let text = plan(&[]);
    assert!(text.starts_with("scope default (not created yet): 7 new, 0 changed, 0 removed, 0 unchanged"), "{text}");
    assert!(text.contains("new      identity:user JIRAUSER1 -> 5b10a001"), "{text}");

    // After the run: the same inputs change nothing.
    dir.ok(&[&["run"], &inputs[..], &["--job", "wave-1"]].concat());
    assert_eq!(counts(&plan(&["--job", "wave-1", "--format", "json"])), [0, 0, 0, 7]);

    // A second wave where one person left and one changed address: a few changes, listed.
    let wave2 = SOURCE_CSV
        .replace("account,JIRAUSER6,ghost,ghost@acme.com,,=HYPERLINK(\"http://x\"),,,true,internal,,,,\n", "")
        .replace("maria@acme-corp.com", "maria.smith@partner.example");
    dir.write("wave2.csv", &wave2);
    let json = dir.ok(&["plan", "-s", "wave2.csv", "-d", "destination.csv", "-p", "policy.toml", "--job", "wave-1", "--format", "json"]);
    assert_eq!(counts(&json), [0, 1, 1, 5], "{json}");
    // The same source as another job (a wave of its own) removes nothing of wave-1's.
    let other = dir.ok(&["plan", "-s", "wave2.csv", "-d", "destination.csv", "-p", "policy.toml", "--job", "wave-2", "--format", "json"]);
    assert_eq!(counts(&other)[2], 0, "{other}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows: Vec<(String, String)> = value["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["change"].as_str().unwrap().to_string(), r["source_key"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(rows, [("changed".to_string(), "JIRAUSER2".to_string()), ("removed".to_string(), "JIRAUSER6".to_string())]);
    // Still nothing written: the scope's plan of the first inputs is unchanged.
    assert_eq!(counts(&plan(&["--job", "wave-1", "--format", "json"])), [0, 0, 0, 7]);
}

#[test]
fn plan_of_a_scope_that_does_not_exist_is_refused() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    let err = dir.fails(&["plan", "--scope", "acme", "-s", "source.csv", "-d", "destination.csv"]);
    assert!(err.contains("there is no scope \"acme\""), "{err}");
}
