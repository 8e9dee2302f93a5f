//! Bad input: a located error, a non-zero exit, and nothing stored.

use crate::util::*;

#[test]
fn invalid_row_names_file_line_and_field_and_stores_nothing() {
    let dir = Dir::new();
    dir.write(
        "source.csv",
        &SOURCE_CSV.replace(
            "JIRAUSER5,guest,guest@partner.example,,Guest User,,,true",
            "JIRAUSER5,guest,guest@partner.example,,Guest User,,,maybe",
        ),
    );
    dir.write("destination.csv", DESTINATION_CSV);
    let err = dir.fails(&["run", "-s", "source.csv", "-d", "destination.csv"]);
    assert!(err.contains("source.csv:6"), "{err}");
    assert!(err.contains("active"), "{err}");
    assert!(
        !dir.store().exists(),
        "nothing may be written when an input is invalid"
    );
}

#[test]
fn bad_policy_names_the_field() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", "[fallback]\nprovison = true\n");
    let err = dir.fails(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
    ]);
    assert!(err.contains("policy.toml"), "{err}");
    assert!(err.contains("provison"), "{err}");
    assert!(!dir.store().exists());
}

#[test]
fn bad_scim_names_the_json_pointer() {
    let dir = Dir::new();
    dir.write(
        "source.json",
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"a","emails":[{"value":42}]}]}"#,
    );
    dir.write("destination.csv", DESTINATION_CSV);
    let err = dir.fails(&["run", "-s", "source.json", "-d", "destination.csv"]);
    assert!(err.contains("source.json"), "{err}");
    assert!(err.contains("/Resources/0/emails/0/value"), "{err}");
}

#[test]
fn bad_exception_row_names_the_line() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write(
        "exceptions.csv",
        "type,source,destination\naccount,JIRAUSER1,5b10a002\nrobot,JIRAUSER2,5b10a002\n",
    );
    let err = dir.fails(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-e",
        "exceptions.csv",
    ]);
    assert!(err.contains("exceptions.csv:3"), "{err}");
}

#[test]
fn missing_file_says_which_once() {
    let dir = Dir::new();
    let stderr = dir.fails(&["run", "-s", "nope.csv", "-d", "nope2.csv"]);
    // The error, without the progress lines before it (which name both files being read).
    let err: String = stderr
        .lines()
        .filter(|line| !line.starts_with("crosswalk: "))
        .collect();
    assert!(err.contains("nope.csv"), "{err}");
    // The source is named, not the destination, and the cause is said once.
    assert!(!err.contains("nope2.csv"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn report_without_a_store_says_what_to_do_and_writes_nothing() {
    let dir = Dir::new();
    let out = dir.crosswalk(&["report"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crosswalk run"),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
    dir.fails(&["report", "--output", "report.csv"]);
    assert!(
        !dir.path().join("report.csv").exists(),
        "an empty report was left behind"
    );
}

#[test]
fn report_of_an_unknown_job_names_the_known_ones_and_writes_nothing() {
    let dir = Dir::new();
    dir.ok(&["demo"]);
    let out = dir.crosswalk(&["report", "--job", "nope"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("demo"),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "a lone header was written: {out:?}");
}

#[test]
fn unknown_job_lists_the_known_ones() {
    let dir = Dir::new();
    dir.ok(&["demo"]);
    let err = dir.fails(&["explain", "--job", "nope", "x"]);
    assert!(err.contains("demo"), "{err}");
}

#[test]
fn unknown_resolution_filter_is_refused() {
    let dir = Dir::new();
    let err = dir.fails(&["report", "-r", "maybe"]);
    assert!(err.contains("unknown resolution"), "{err}");
}

/// A default account the destination does not have would give every leftover identity a
/// Default pointing at nobody: the run is refused before anything is stored, naming the
/// policy's line.
#[test]
fn a_default_account_not_in_the_destination_refuses_the_run() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write(
        "policy.toml",
        "# leftovers go to the owner\n[fallback]\ndefault_account = \"owner@acme.com\"\n",
    );
    let err = dir.fails(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
    ]);
    for part in [
        "policy.toml:3",
        "fallback.default_account",
        "owner@acme.com",
        "destination",
        "remove default_account",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    assert!(!dir.store().exists(), "nothing may be written");
    dir.write(
        "policy.toml",
        "[fallback]\ndefault_account = \"email:support@acme.com\"\n",
    );
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
    ]);
}

/// A source without line breaks is refused at its first line without being read whole; a
/// NUL in an identifier is refused at its line and field; nothing is stored either way.
#[cfg(unix)]
#[test]
fn dev_zero_and_nul_bytes_are_refused_with_their_line() {
    let dir = Dir::new();
    dir.write("destination.csv", DESTINATION_CSV);
    let err = dir.fails(&["run", "-s", "/dev/zero", "-d", "destination.csv"]);
    assert!(
        err.contains("/dev/zero:1:") && err.contains("longer than 1 MiB"),
        "{err}"
    );
    dir.write(
        "source.csv",
        &SOURCE_CSV.replace("JIRAUSER2,msmith", "JIRAUSER2,ms\u{0}mith"),
    );
    let err = dir.fails(&["run", "-s", "source.csv", "-d", "destination.csv"]);
    assert!(
        err.contains("source.csv:3: field \"username\"") && err.contains("NUL"),
        "{err}"
    );
    assert!(!dir.store().exists());
}

#[test]
fn an_empty_job_name_is_refused() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    for name in ["", "   ", "wave\u{1}1", "\u{200b}"] {
        let err = dir.fails(&[
            "run",
            "-s",
            "source.csv",
            "-d",
            "destination.csv",
            "--job",
            name,
        ]);
        assert!(err.contains("--job"), "{err}");
        let err = dir.fails(&["report", "--job", name]);
        assert!(err.contains("--job"), "{err}");
    }
    assert!(!dir.store().exists());
}

#[test]
fn generate_refuses_counts_it_cannot_hold() {
    let dir = Dir::new();
    for args in [
        &["generate", "-n", "100000000000"][..],
        &["eval", "--generate", "100000000000"],
        &["bench", "--accounts", "100000000000"],
    ] {
        let err = dir.fails(args);
        assert!(
            err.contains("at most 20000000") && err.contains("memory"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!dir.path().join("generated").exists());
}

/// The truth file's errors name it as `file:line`, the line an editor shows (not the csv
/// crate's record number, nor the row's index).
#[test]
fn truth_file_errors_name_file_and_line() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    let header = "type,source_id,destination_id,category,linkable\n";
    dir.write(
        "truth.csv",
        &format!("{header}account,JIRAUSER1,5b10a001,exact,true\naccount,nobody,,x,false\n"),
    );
    let args = [
        "eval",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-t",
        "truth.csv",
    ];
    let err = dir.fails(&args);
    assert!(
        err.contains("truth.csv:3: source account \"nobody\" is not in the source directory"),
        "{err}"
    );
    dir.write(
        "truth.csv",
        &format!("{header}account,JIRAUSER1,5b10a001,exact,true\n\naccount,JIRAUSER2\n"),
    );
    let err = dir.fails(&args);
    assert!(
        err.contains("truth.csv:4: 2 fields, where the header has 5"),
        "{err}"
    );
    assert_eq!(
        err.matches("fields").count(),
        1,
        "the cause is said once: {err}"
    );
}
