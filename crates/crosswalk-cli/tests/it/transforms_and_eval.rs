//! `crosswalk transforms preview` (never touches the store) and `crosswalk eval` (the
//! accuracy gate: exit 1 on any false merge by the engine).

use crate::util::*;

const TRANSFORM_SOURCE: &str = "\
type,id,username,email,display_name,active
account,S1,jo1,jo@corp.acme.com,Jo One,true
account,S2,jo2,jo@acme.com,Jo Two,true
account,S3,may,may@corp.acme.com,May Li,true
account,S4,kim,kim@acme.com,Kim Park,true
";

const TRANSFORM_DESTINATION: &str = "\
type,id,username,email,display_name,active,email_verified
account,D1,,jo@acme.com,Jo Two,true,true
account,D2,,may@acme.com,May Li,true,true
account,D3,,kim@acme.com,Kim Park,true,true
";

const TRANSFORM_POLICY: &str = "\
[[transforms]]
kind = \"domain\"
from = \"corp.acme.com\"
to = \"acme.com\"
side = \"source\"
";

fn transform_fixture() -> Dir {
    let dir = Dir::new();
    dir.write("source.csv", TRANSFORM_SOURCE);
    dir.write("destination.csv", TRANSFORM_DESTINATION);
    dir.write("policy.toml", TRANSFORM_POLICY);
    dir
}

const PREVIEW: [&str; 8] = [
    "transforms",
    "preview",
    "-s",
    "source.csv",
    "-d",
    "destination.csv",
    "-p",
    "policy.toml",
];

#[test]
fn transforms_preview_shows_counts_examples_and_collisions() {
    let dir = transform_fixture();
    let out = dir.ok(&PREVIEW);
    let row = out
        .lines()
        .find(|l| l.starts_with("1 "))
        .unwrap_or_else(|| panic!("no row for transform 1:\n{out}"));
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "1",
            "domain corp.acme.com -> acme.com",
            "source",
            "2/0",
            "1/0",
            "1"
        ],
        "{out}"
    );
    assert!(
        out.contains("source S1 email: jo@corp.acme.com -> jo@acme.com"),
        "{out}"
    );
    assert!(
        out.contains("collision: source email \"jo@acme.com\" is shared by S1"),
        "{out}"
    );
    assert!(out.contains("S2 (email \"jo@acme.com\")"), "{out}");
    assert!(
        out.contains("gained S3: Unresolved -> Email D2 (transform 1)"),
        "{out}"
    );
    assert!(
        out.contains("lost S2: Email D1 -> Unresolved"),
        "the collision costs S2 its link:\n{out}"
    );
    assert!(!dir.store().exists(), "a preview never opens the store");

    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&[&PREVIEW[..], &["--format", "json"]].concat()))
            .expect("JSON");
    let rule = &json["rules"][0];
    assert_eq!(rule["changed"]["source"], 2);
    assert_eq!(rule["changed"]["destination"], 0);
    assert_eq!(rule["collisions"]["source"], 1);
    assert_eq!(rule["gained_matches"], 1);
    assert_eq!(rule["collision_examples"][0]["key"], "jo@acme.com");
    assert_eq!(json["matches"]["gained"][0]["account"], "S3");
    assert!(!dir.store().exists());
}

#[test]
fn transforms_preview_leaves_out_what_an_exception_settles_as_the_run_does() {
    let dir = transform_fixture();
    // S3 would gain D2 through the transform; the exception sends it to D3 instead.
    dir.write(
        "exceptions.csv",
        "type,source,destination\naccount,id:S3,id:D3\n",
    );
    let out = dir.ok(&[&PREVIEW[..], &["--exceptions", "exceptions.csv"]].concat());
    assert!(!out.contains("gained S3"), "{out}");
    assert!(
        out.contains("(with the 1 exception rule given): 0 gained, 1 lost"),
        "{out}"
    );
    assert!(
        out.contains("--exceptions exceptions.csv"),
        "the next command keeps the exceptions:\n{out}"
    );
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "-e",
        "exceptions.csv",
        "--job",
        "j",
    ]);
    let rows = csv_rows(&dir.ok(&["report", "--job", "j", "-t", "account"]));
    let s3 = rows.iter().find(|r| r[2] == "S3").expect("S3 row");
    assert_eq!(
        (s3[6].as_str(), s3[10].as_str()),
        ("D3", "Exception"),
        "{rows:?}"
    );
    // A bad exceptions file is refused with its line, as by `run`.
    dir.write("exceptions.csv", "type,source,destination\nperson,S3,D3\n");
    let err = dir.fails(&[&PREVIEW[..], &["-e", "exceptions.csv"]].concat());
    assert!(err.contains("exceptions.csv:2"), "{err}");
}

#[test]
fn transforms_preview_refuses_a_bad_policy_naming_file_and_field() {
    let dir = transform_fixture();
    dir.write(
        "policy.toml",
        "[[transforms]]\nkind = \"regex\"\nfield = \"username\"\npattern = \"([\"\n",
    );
    let err = dir.fails(&PREVIEW);
    assert!(err.contains("policy.toml:4"), "{err}");
    assert!(err.contains("transforms[0].pattern"), "{err}");
    dir.write("policy.toml", "[[transforms]]\nkind = \"domian\"\n");
    let err = dir.fails(&PREVIEW);
    assert!(
        err.contains("policy.toml") && err.contains("transforms[0].kind"),
        "{err}"
    );
    dir.write("policy.toml", TRANSFORM_POLICY);
    dir.write(
        "source.csv",
        &TRANSFORM_SOURCE.replace("Kim Park,true", "Kim Park,maybe"),
    );
    let err = dir.fails(&PREVIEW);
    assert!(
        err.contains("source.csv:5") && err.contains("active"),
        "{err}"
    );
    assert!(!dir.store().exists());
}

/// The figures of the `total` line of one rule in `crosswalk eval`'s text table.
fn total_of(out: &str, rule: &str) -> Vec<String> {
    let start = out
        .lines()
        .position(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("no total:\n{out}"));
    out.lines()
        .skip(start)
        .take(3)
        .find(|l| l.contains(&format!(" {rule} ")))
        .unwrap_or_else(|| panic!("no total line for {rule}:\n{out}"))
        .split(rule)
        .nth(1)
        .expect("figures after the rule")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn eval_on_a_small_generated_pair_passes_with_zero_false_merges() {
    let dir = Dir::new();
    let out = dir.ok(&["eval", "--generate", "400", "--seed", "7"]);
    assert!(
        out.starts_with("generated pair, seed 7: 400 source accounts"),
        "{out}"
    );
    for category in [
        "exact",
        "renamed_domain",
        "shared_mailbox",
        "namesake",
        "lookalike",
        "group_reserved",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(category)),
            "no {category} row:\n{out}"
        );
    }
    // correct, false merges, duplicates, dup %, missed, unlinkable, offered
    assert_eq!(total_of(&out, "crosswalk")[1], "0", "{out}");
    assert_eq!(total_of(&out, "crosswalk+provision")[1], "0", "{out}");
    assert_ne!(
        total_of(&out, "email-only")[2],
        "0",
        "the naive rule duplicates people:\n{out}"
    );
    assert!(out.contains("engine false merges: 0"), "{out}");
    assert!(!dir.store().exists(), "eval stores nothing");

    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&["eval", "-n", "400", "--seed", "7", "--format", "json"]))
            .expect("JSON");
    assert_eq!(json["engine_false_merges"], 0);
    let results = json["results"].as_array().expect("results");
    let rules: Vec<&str> = results
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["crosswalk", "crosswalk+provision", "email-only"]);
    let engine = &results[0]["report"];
    assert_eq!(engine["total"]["false_merge"], 0);
    assert_eq!(engine["false_merges"].as_array().map(Vec::len), Some(0));
    assert!(engine["by_category"]["exact"]["correct"].as_u64().unwrap() > 0);

    // The same pair written by `generate` and read back scores the same.
    dir.ok(&["generate", "-n", "400", "--seed", "7", "-o", "gen"]);
    let from_files: serde_json::Value = serde_json::from_str(&dir.ok(&[
        "eval",
        "-s",
        "gen/source.csv",
        "-d",
        "gen/destination.csv",
        "-t",
        "gen/truth.csv",
        "-p",
        "gen/policy.toml",
        "--format",
        "json",
    ]))
    .expect("JSON");
    for i in 0..3 {
        assert_eq!(
            from_files["results"][i]["report"]["total"], results[i]["report"]["total"],
            "rule {i}"
        );
    }

    let markdown = dir.ok(&["eval", "-n", "400", "--seed", "7", "--format", "markdown"]);
    assert!(
        markdown.contains("| category | rows | had one | rule | correct | false merges |"),
        "{markdown}"
    );
}

#[test]
fn eval_fails_when_the_engine_links_someone_to_another_persons_account() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    // The engine links JIRAUSER1 to 5b10a001 by email; this truth says that account is
    // someone else's and JIRAUSER1 is 5b10a002.
    dir.write(
        "truth.csv",
        "type,source_id,destination_id,category,linkable\n\
         account,JIRAUSER1,5b10a002,mislabelled,true\n\
         account,JIRAUSER5,,contractor,false\n",
    );
    let args = [
        "eval",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-t",
        "truth.csv",
        "-p",
        "policy.toml",
    ];
    let out = dir.crosswalk(&args);
    assert!(!out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("false merge"), "{stderr}");
    assert!(stdout.contains("[mislabelled] account JIRAUSER1 (John Doe) -> 5b10a001 (John Doe) by Email; truth: 5b10a002"), "{stdout}");
    assert!(
        stdout.contains("engine false merges: 2 (FAIL)"),
        "once per engine run:\n{stdout}"
    );
    // JSON still parses, for CI to read, and the exit status still fails.
    let out = dir.crosswalk(&[&args[..], &["--format", "json"]].concat());
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["engine_false_merges"], 2);
    assert_eq!(
        json["results"][0]["report"]["false_merges"][0]["source_id"],
        "JIRAUSER1"
    );

    // A truth naming nobody is refused with the file's name.
    dir.write(
        "truth.csv",
        "type,source_id,destination_id,category,linkable\naccount,NOBODY,,x,false\n",
    );
    let err = dir.fails(&args);
    assert!(err.contains("truth.csv") && err.contains("NOBODY"), "{err}");
    assert!(!dir.store().exists());
}
