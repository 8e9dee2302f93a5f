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
    let inputs = [
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
    ];
    let plan = |extra: &[&str]| dir.ok(&[&["plan"], &inputs[..], extra].concat());

    // Before any run: everything is new, and no store file appears.
    let first = plan(&["--format", "json"]);
    assert_eq!(counts(&first), [7, 0, 0, 0], "{first}");
    assert!(!dir.store().exists(), "a dry run must not create the store");
    let text = plan(&[]);
    assert!(
        text.starts_with(
            "scope default (not created yet): 7 new, 0 changed, 0 removed, 0 unchanged"
        ),
        "{text}"
    );
    assert!(
        text.contains("new      identity:user JIRAUSER1 -> 5b10a001"),
        "{text}"
    );

    // After the run: the same inputs change nothing.
    dir.ok(&[&["run"], &inputs[..], &["--job", "wave-1"]].concat());
    assert_eq!(
        counts(&plan(&["--job", "wave-1", "--format", "json"])),
        [0, 0, 0, 7]
    );

    // A second wave where one person left and one changed address: a few changes, listed.
    let wave2 = SOURCE_CSV
        .replace("account,JIRAUSER6,ghost,ghost@acme.com,,=HYPERLINK(\"http://x\"),,,true,internal,,,,\n", "")
        .replace("maria@acme-corp.com", "maria.smith@partner.example");
    dir.write("wave2.csv", &wave2);
    let json = dir.ok(&[
        "plan",
        "-s",
        "wave2.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "wave-1",
        "--format",
        "json",
    ]);
    assert_eq!(counts(&json), [0, 1, 1, 5], "{json}");
    // The same source as another job (a wave of its own) removes nothing of wave-1's.
    let other = dir.ok(&[
        "plan",
        "-s",
        "wave2.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "wave-2",
        "--format",
        "json",
    ]);
    assert_eq!(counts(&other)[2], 0, "{other}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows: Vec<(String, String)> = value["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["change"].as_str().unwrap().to_string(),
                r["source_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("changed".to_string(), "JIRAUSER2".to_string()),
            ("removed".to_string(), "JIRAUSER6".to_string())
        ]
    );
    // Still nothing written: the scope's plan of the first inputs is unchanged.
    assert_eq!(
        counts(&plan(&["--job", "wave-1", "--format", "json"])),
        [0, 0, 0, 7]
    );
}

#[test]
fn plan_of_a_scope_that_does_not_exist_is_refused() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    let err = dir.fails(&[
        "plan",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
    ]);
    assert!(err.contains("there is no scope \"acme\""), "{err}");
}

#[test]
fn a_wave_switching_duplicate_handling_is_refused_with_an_explanation_unless_forced() {
    let dir = Dir::new();
    let source = SOURCE_CSV.replace(
        "group,G1,",
        "account,JIRAUSER8,jdoe2,JOHN.DOE@acme.com,,John Doe,John,Doe,true,ldap,,,,\ngroup,G1,",
    );
    dir.write("source.csv", &source);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira",
        "--destination-label",
        "cloud",
    ]);
    // The support duplicates are merged in every wave; only Pat's handling changes.
    let header = "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,Exclude,MergeInto\n\
                  JIRAUSER4,helpdesk2,DUPLICATE_EMAIL,support@acme.com,,false,account,false,JIRAUSER3\n";
    dir.write("merge.csv", &format!("{header}JIRAUSER8,jdoe2,DUPLICATE_EMAIL,JOHN.DOE@acme.com,,false,account,false,JIRAUSER1\n"));
    dir.write(
        "tombstone.csv",
        &format!(
            "{header}JIRAUSER8,jdoe2,DUPLICATE_EMAIL,JOHN.DOE@acme.com,,true,account,false,\n"
        ),
    );
    let inputs = [
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
    ];
    fn with<'a>(inputs: &[&'a str], command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        [&[command][..], inputs, extra].concat()
    }

    dir.ok(&with(
        &inputs,
        "run",
        &["--job", "wave-1", "--fixes", "merge.csv"],
    ));
    let shown = dir.ok(&["scope", "show", "acme"]);
    assert!(
        shown.contains("JIRAUSER8") && shown.contains("merged into JIRAUSER1"),
        "{shown}"
    );
    // The same choice in the next wave runs.
    dir.ok(&with(
        &inputs,
        "run",
        &["--job", "wave-2", "--fixes", "merge.csv"],
    ));

    // The dry run warns; the run is refused, naming the identity, both choices and --force.
    let planned = dir.ok(&with(
        &inputs,
        "plan",
        &["--job", "wave-3", "--fixes", "tombstone.csv"],
    ));
    assert!(planned.contains("a run would be refused"), "{planned}");
    assert!(
        planned.contains("JIRAUSER8: merged into JIRAUSER1 before, migrated as a former user now"),
        "{planned}"
    );
    let refused = dir.fails(&with(
        &inputs,
        "run",
        &["--job", "wave-3", "--fixes", "tombstone.csv"],
    ));
    assert!(
        refused.contains("JIRAUSER8: merged into JIRAUSER1 (job \"wave-1\" run 1"),
        "{refused}"
    );
    assert!(
        refused.contains("now migrated as a former user") && refused.contains("--force"),
        "{refused}"
    );
    let jobs = dir.ok(&["jobs", "--scope", "acme"]);
    assert!(!jobs.contains("wave-3"), "nothing was run: {jobs}");

    let forced = dir.ok(&with(
        &inputs,
        "run",
        &["--job", "wave-3", "--fixes", "tombstone.csv", "--force"],
    ));
    assert!(
        forced.contains("warning: duplicate handling switched by cli:"),
        "{forced}"
    );
    let shown = dir.ok(&["scope", "show", "acme"]);
    assert!(shown.contains("switched:    JIRAUSER8 from merged into JIRAUSER1 to migrated as a former user (forced) by cli:"), "{shown}");
}
