//! `crosswalk review` and `crosswalk resolve` through the real binary: the suggestions, accept
//! one and in bulk above a score, reject (not suggested again), resolve to a candidate,
//! another account, provision or former user, and the history saying who and when.

use crate::util::*;

/// Olga is a suggestion (0.92), Alexander only below the default (0.82), Sam Lee has two namesakes, Kenji has no
/// cloud account of his name.
const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER7,,olga.petrova@home.example,,Olga Petrova,Olga,Petrova,true,internal,,,,
account,JIRAUSER8,,,,Alexander Ryan,Alexander,Ryan,true,internal,,,,
account,JIRAUSER9,,,,Sam Lee,Sam,Lee,true,internal,,,,
account,JIRAUSER10,,kenji@home.example,,Kenji Watanabe,Kenji,Watanabe,true,internal,,,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a007,,olga.petrova@acme.com,,\"Petrova, Olga\",Olga,Petrova,true,,true,,,
account,5b10a008,,user7f3a@acme.com,,Alexander Ryan,Alexander,Ryan,true,,true,,,
account,5b10a009,,sam.lee@acme.com,,Sam Lee,Sam,Lee,true,,true,,,
account,5b10a010,,slee@acme.com,,Sam Lee,Sam,Lee,true,,true,,,
account,5b10a011,,kwatanabe@acme.com,,K. Watanabe,,,true,,true,,,
";

const POLICY: &str = "[name]\norganisation_domains = [\"acme.com\"]\n";

fn setup() -> Dir {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write("destination.csv", DESTINATION);
    dir.write("policy.toml", POLICY);
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
    ]);
    dir
}

fn suggested(dir: &Dir, extra: &[&str]) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(
        &dir.ok(&[&["review", "list", "--format", "json"][..], extra].concat()),
    )
    .unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}>{}",
                s["source_key"].as_str().unwrap(),
                s["candidate"]["destination"]["id"].as_str().unwrap()
            )
        })
        .collect()
}

fn current(dir: &Dir, key: &str) -> serde_json::Value {
    let history: serde_json::Value =
        serde_json::from_str(&dir.ok(&["history", key, "--format", "json"])).unwrap();
    history
}

#[test]
fn review_list_shows_each_suggestion_with_its_candidate_and_why() {
    let dir = setup();
    let out = dir.ok(&["review", "list"]);
    assert!(
        out.starts_with("1 suggestion in scope \"default\" at score 0.90 or more:"),
        "{out}"
    );
    assert!(out.contains("JIRAUSER7 Olga Petrova <olga.petrova@home.example>  ->  5b10a007 Petrova, Olga <olga.petrova@acme.com>"), "{out}");
    assert!(out.contains("scored 0.92: "), "{out}");
    assert_eq!(
        suggested(&dir, &["--min-score", "0.8"]),
        ["JIRAUSER7>5b10a007", "JIRAUSER8>5b10a008"]
    );
    assert!(
        !dir.ok(&["review", "list", "--min-score", "0"])
            .contains("JIRAUSER9"),
        "two namesakes are never a suggestion"
    );
    let error = dir.fails(&["review", "list", "--min-score", "2"]);
    assert!(error.contains("give a number from 0 to 1"), "{error}");
    let error = dir.fails(&["review", "list", "--scope", "nowhere"]);
    assert!(error.contains("nowhere"), "{error}");
}

#[test]
fn accepting_one_then_the_rest_in_bulk_applies_at_once_and_says_who() {
    let dir = setup();
    let out = dir.ok(&["review", "accept", "JIRAUSER7"]);
    assert!(out.starts_with("accepted 1 suggestion:"), "{out}");
    assert!(
        out.contains("applied by run 2 of job \"wave-1\": 1 changed"),
        "{out}"
    );
    let history = current(&dir, "JIRAUSER7");
    assert_eq!(
        history["mapping"]["value"]["value"]["resolution"],
        "Exception"
    );
    assert_eq!(
        history["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a007"
    );
    let last = history["revisions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["who"].as_str(), last["reason"].as_str()),
        (Some("cli:tester"), Some("exception")),
        "{last}"
    );
    let text = dir.ok(&["history", "JIRAUSER7"]);
    assert!(text.contains("cli:tester"), "{text}");
    // Nothing is accepted when a key is not a suggestion.
    let error = dir.fails(&[
        "review",
        "accept",
        "--min-score",
        "0.8",
        "JIRAUSER9",
        "JIRAUSER8",
    ]);
    assert!(
        error.contains("not a suggestion") && error.contains("\"JIRAUSER9\""),
        "{error}"
    );
    assert_eq!(
        suggested(&dir, &["--min-score", "0.8"]),
        ["JIRAUSER8>5b10a008"]
    );
    // Bulk at the default score takes nothing below it.
    let out = dir.ok(&["review", "accept", "--all"]);
    assert!(out.contains("nothing accepted"), "{out}");
    let out = dir.ok(&[
        "review",
        "accept",
        "--all",
        "--min-score",
        "0.8",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["decided"][0]["source_key"], "JIRAUSER8", "{json}");
    assert_eq!(
        current(&dir, "JIRAUSER8")["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a008"
    );
    assert!(dir.ok(&["review", "list"]).starts_with("no suggestions"));
    // The decisions are exception rules of the scope.
    let scope = dir.ok(&["scope", "show", "default"]);
    assert!(
        scope.contains("account id:JIRAUSER7 -> id:5b10a007")
            && scope.contains("account id:JIRAUSER8 -> id:5b10a008"),
        "{scope}"
    );
    let error = dir.fails(&["review", "accept"]);
    assert!(error.contains("--all"), "{error}");
}

#[test]
fn a_rejected_suggestion_is_not_suggested_again() {
    let dir = setup();
    let out = dir.ok(&["review", "reject", "--min-score", "0.8", "JIRAUSER8"]);
    assert!(
        out.starts_with("rejected 1 suggestion:") && out.contains("not suggested again"),
        "{out}"
    );
    assert_eq!(
        suggested(&dir, &["--min-score", "0"]),
        ["JIRAUSER7>5b10a007"]
    );
    assert_eq!(
        current(&dir, "JIRAUSER8")["mapping"]["value"]["value"]["resolution"],
        "Unresolved"
    );
    let rejection = dir.ok(&[
        "history",
        "--namespace",
        "review:rejections",
        "user/JIRAUSER8",
    ]);
    assert!(
        rejection.contains("cli:tester") && rejection.contains("5b10a008"),
        "{rejection}"
    );
}

#[test]
fn resolve_decides_any_mapping_and_its_history_shows_each_decision() {
    let dir = setup();
    // One of the ambiguous Sam Lee's two candidates.
    let out = dir.ok(&["resolve", "JIRAUSER9", "--to", "5b10a010"]);
    assert!(
        out.starts_with("user JIRAUSER9: Exception -> 5b10a010 Sam Lee <slee@acme.com>"),
        "{out}"
    );
    assert!(out.contains("by cli:tester at "), "{out}");
    // Kenji: an account that was never his candidate, found by address; then provision; then former user.
    let found = dir.ok(&["review", "destinations", "--search", "watanabe"]);
    assert!(
        found.starts_with("5b10a011  -  kwatanabe@acme.com  K. Watanabe"),
        "{found}"
    );
    dir.ok(&["resolve", "JIRAUSER10", "--to", "email:kwatanabe@acme.com"]);
    assert_eq!(
        current(&dir, "JIRAUSER10")["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a011"
    );
    let out = dir.ok(&["resolve", "JIRAUSER10", "--provision"]);
    assert!(
        out.contains("Exception -> (no destination account)") || out.contains("Exception -> "),
        "{out}"
    );
    let out = dir.ok(&[
        "resolve",
        "kenji@home.example",
        "--former-user",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["mapping"]["value"]["value"]["target"], "former_user",
        "{json}"
    );
    let history = current(&dir, "JIRAUSER10");
    let targets: Vec<&str> = history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["new_value"]["value"]["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["", "existing", "provision", "former_user"]);
    assert!(
        history["revisions"].as_array().unwrap()[1..]
            .iter()
            .all(|r| r["who"] == "cli:tester")
    );

    for (args, says) in [
        (
            &["resolve", "JIRAUSER10", "--to", "nobody@acme.com"][..],
            "no destination account is",
        ),
        (
            &["resolve", "NOBODY", "--provision"][..],
            "no identity:user mapping",
        ),
        (&["resolve", "JIRAUSER10"][..], "--to"),
        (
            &["resolve", "JIRAUSER10", "--to", "x", "--provision"][..],
            "cannot be used with",
        ),
    ] {
        let error = dir.fails(args);
        assert!(error.contains(says), "{args:?}: {error}");
    }
}
