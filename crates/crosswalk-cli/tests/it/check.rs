//! `crosswalk check`: findings as text, CSV and JSON; the edited CSV imported back.

use crate::util::{Dir, csv_rows};

const SOURCE: &str = "\
type,id,username,email,active,source_directory,name,group,member
account,ana,ana,ana@example.com,true,internal,,,
account,ana2,ana,ANA@example.com,true,ldap,,,
account,bad,bad,nope,true,internal,,,
account,none,none,,false,internal,,,
group,g1,,,,,site-admins,,
";

const ITEMS: &str = "container,item,role,type,identity\nENG,p1,creator,account,ana\nENG,p2,mentioned,account,ghost\n";

#[test]
fn check_prints_blockers_and_warnings_with_rows_and_fixes() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write("items.csv", ITEMS);
    let out = dir.ok(&[
        "check",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "--items",
        "items.csv",
    ]);
    assert!(
        out.starts_with("scope acme: 5 blockers, 3 warnings\n"),
        "{out}"
    );
    assert!(
        out.contains("merge rule: keep the active account over inactive ones"),
        "{out}"
    );
    assert!(out.contains("BLOCKER DUPLICATE_EMAIL (2)"), "{out}");
    assert!(out.contains("account ana2 ana ANA@example.com: 2 accounts share ana@example.com; the merge rule merges this one into ana"), "{out}");
    assert!(out.contains("warning REFERENCED_BUT_ABSENT (1)"), "{out}");

    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&["check", "-s", "source.csv", "--format", "json"])).unwrap();
    assert_eq!(json["outcome"]["blockers"], 5);
    assert_eq!(
        json["outcome"]["suggested"]["ana2"],
        serde_json::json!({ "fix": "merge", "into": "ana" })
    );
}

#[test]
fn the_findings_csv_edited_and_imported_clears_the_blockers() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.ok(&[
        "check",
        "-s",
        "source.csv",
        "--format",
        "csv",
        "--email-template",
        "{username}@former.example.com",
        "-o",
        "findings.csv",
    ]);
    let text = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0][..7],
        [
            "UserKey",
            "UserName",
            "ErrorType",
            "OldEmail",
            "NewEmail",
            "Tombstone",
            "AccountType"
        ]
    );
    // The admin excludes the reserved group and keeps the other suggestions.
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("g1,") {
                line.replacen(",group,false,", ",group,true,", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    dir.write("edited.csv", &(edited.join("\n") + "\n"));
    let out = dir.ok(&["check", "-s", "source.csv", "--fixes", "edited.csv"]);
    assert!(
        out.starts_with("scope default: 0 blockers, 1 warnings\n"),
        "{out}"
    );
    assert!(
        out.contains("fixes applied: 1 merged, 0 tombstoned, 2 given a new email, 1 excluded"),
        "{out}"
    );
}

#[test]
fn bad_rows_in_the_fixes_are_all_reported_and_nothing_is_applied() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write(
        "bad.csv",
        "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType\n\
         bad,bad,INVALID_EMAIL,nope,bad@x.example.com,true,account\n\
         none,none,MISSING_EMAIL,,,perhaps,account\n",
    );
    let err = dir.fails(&["check", "-s", "source.csv", "--fixes", "bad.csv"]);
    assert!(err.contains("2 bad rows, nothing applied"), "{err}");
    assert!(err.contains("bad.csv:2: field \"Tombstone\""), "{err}");
    assert!(
        err.contains("bad.csv:3: field \"Tombstone\": expected true or false"),
        "{err}"
    );

    dir.write(
        "unknown.csv",
        "UserKey,NewEmail,Tombstone\nnobody,,true\nana2,ana@example.com,false\n",
    );
    let err = dir.fails(&["check", "-s", "source.csv", "--fixes", "unknown.csv"]);
    assert!(
        err.contains(
            "unknown.csv:2: UserKey nobody: no account or group with this key in the source"
        ),
        "{err}"
    );
    assert!(
        err.contains("unknown.csv:3: UserKey ana2: would share the email ana@example.com with ana"),
        "{err}"
    );
}

#[test]
fn a_bad_items_file_names_its_line_and_field() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write(
        "items.csv",
        "container,item,role,type,identity\nENG,p1,reader,account,ana\n",
    );
    let err = dir.fails(&["check", "-s", "source.csv", "--items", "items.csv"]);
    assert!(err.contains("items.csv:2: field \"role\""), "{err}");
}

#[test]
fn a_related_user_scope_says_why_each_identity_is_in_and_who_gets_no_mapping() {
    let dir = Dir::new();
    dir.write(
        "source.csv",
        "type,id,username,email,active,name,group,member\n\
         account,ana,ana,ana@example.com,true,,,\n\
         account,bo,bo,bo@example.com,true,,,\n\
         account,cy,cy,cy@example.com,true,,,\n\
         account,dee,dee,,true,,,\n\
         group,g1,,,,confluence-users,,\n\
         member,,,,,,g1,bo\nmember,,,,,,g1,cy\n",
    );
    dir.write(
        "items.csv",
        "container,item,role,type,identity\nENG,p1,creator,account,ana\nENG,,permission,group,g1\nENG,p1,mentioned,account,ghost\nOPS,i1,assignee,account,dee\n",
    );
    let args = [
        "check",
        "-s",
        "source.csv",
        "--items",
        "items.csv",
        "--users",
        "related",
        "--containers",
        "ENG",
        "--group-pull-threshold",
        "2",
    ];
    let out = dir.ok(&args);
    assert!(
        out.contains("user scope: 3 accounts and 0 groups in scope"),
        "{out}"
    );
    assert!(
        out.contains("warning: ENG pulls in 2 users through group confluence-users"),
        "{out}"
    );
    assert!(
        out.contains("account ghost: referenced by content but absent from the source directory"),
        "{out}"
    );
    assert!(
        out.contains("group g1: groups are not included in this scope"),
        "{out}"
    );
    assert!(
        out.contains("in scope: account bo: permission in ENG through group g1"),
        "{out}"
    );
    // dee (no email) is only in OPS: out of scope, so not a blocker of this job.
    assert!(out.starts_with("scope default: 0 blockers"), "{out}");

    let err = dir.fails(&[
        "check",
        "-s",
        "source.csv",
        "--users",
        "related",
        "--containers",
        "ENG",
    ]);
    assert!(err.contains("need --items"), "{err}");
}

#[test]
fn run_with_check_refuses_blockers_unless_overridden_and_records_who_and_when() {
    use crate::util::{DESTINATION_CSV, SOURCE_CSV};
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    // The sample source has two accounts sharing support@acme.com.
    let err = dir.fails(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--check",
    ]);
    assert!(
        err.contains("the pre-flight check found blockers (DUPLICATE_EMAIL 2); nothing was run"),
        "{err}"
    );
    assert!(
        !dir.store().exists(),
        "a refused run leaves no store behind"
    );

    let out = dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--check",
        "--override-blockers",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warning = json["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("pre-flight blockers overridden by cli:tester at 20"),
        "{warning}"
    );
    assert!(warning.ends_with(": DUPLICATE_EMAIL 2"), "{warning}");

    let err = dir.fails(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--override-blockers",
    ]);
    assert!(err.contains("--check"), "{err}");
}

#[test]
fn suggested_tombstones_clear_their_blockers_and_let_the_gated_run_go() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write(
        "destination.csv",
        "type,id,username,email\naccount,t1,,ana@example.com\n",
    );
    dir.ok(&[
        "check",
        "-s",
        "source.csv",
        "--format",
        "csv",
        "-o",
        "findings.csv",
    ]);
    let text = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("g1,") {
                line.replacen(",group,false,", ",group,true,", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    dir.write("edited.csv", &(edited.join("\n") + "\n"));
    let out = dir.ok(&["check", "-s", "source.csv", "--fixes", "edited.csv"]);
    assert!(
        out.contains("fixes applied: 1 merged, 2 tombstoned, 0 given a new email, 1 excluded"),
        "{out}"
    );
    assert!(
        out.starts_with("scope default: 0 blockers"),
        "a former user needs no email: {out}"
    );
    let run = dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--check",
        "--fixes",
        "edited.csv",
    ]);
    assert!(run.contains("added"), "{run}");
}
