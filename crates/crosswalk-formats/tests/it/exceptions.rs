//! The exceptions reader.

use crosswalk_core::{ExceptionRule, IdentityKind, IdentityRef};
use crosswalk_formats::{FormatError, read_exceptions, read_exceptions_file};

fn read(text: &str) -> Result<Vec<ExceptionRule>, FormatError> {
    read_exceptions("exceptions.csv", text.as_bytes())
}

#[track_caller]
fn assert_fails(text: &str, parts: &[&str]) -> FormatError {
    let error = read(text).expect_err("the read should fail");
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
    error
}

#[test]
fn reads_rules_with_comments_blank_lines_and_any_header_order() {
    let text = "# Exceptions for the Jira migration\n\
                \n\
                Source,TYPE,Destination\n\
                email:support@acme.com,account,username:support-team\n\
                # the old devs group\n\
                \n\
                name:jira-devs,group,name:developers\n\
                \"jdoe\",users,id:42\n\
                ,,\n";
    let rules = read(text).unwrap();
    assert_eq!(
        rules,
        vec![
            ExceptionRule {
                kind: IdentityKind::Account,
                source: IdentityRef::Email("support@acme.com".into()),
                destination: IdentityRef::Username("support-team".into()),
                origin: "exceptions.csv:4".into(),
            },
            ExceptionRule {
                kind: IdentityKind::Group,
                source: IdentityRef::Username("jira-devs".into()),
                destination: IdentityRef::Username("developers".into()),
                origin: "exceptions.csv:7".into(),
            },
            ExceptionRule {
                kind: IdentityKind::Account,
                source: IdentityRef::Any("jdoe".into()),
                destination: IdentityRef::Id("42".into()),
                origin: "exceptions.csv:8".into(),
            },
        ]
    );
}

#[test]
fn unknown_type_is_named() {
    let error = assert_fails(
        "type,source,destination\naccount,a,b\nrobot,c,d\n",
        &[
            "exceptions.csv:3: field \"type\"",
            "\"robot\"",
            "account or group",
        ],
    );
    assert_eq!(error.field(), Some("type"));
}

#[test]
fn empty_source_or_destination_is_an_error() {
    assert_fails(
        "type,source,destination\naccount, ,b\n",
        &["exceptions.csv:2: field \"source\"", "required"],
    );
    assert_fails(
        "type,source,destination\naccount,a,\n",
        &["exceptions.csv:2: field \"destination\"", "required"],
    );
    assert_fails(
        "type,source,destination\naccount,email:,b\n",
        &["exceptions.csv:2: field \"source\"", "no value"],
    );
}

#[test]
fn duplicate_rules_name_both_lines() {
    assert_fails(
        "type,source,destination\naccount,email:Jo@Acme.com,x\ngroup,email:jo@acme.com,y\naccount,email:jo@acme.com,z\n",
        &[
            "exceptions.csv:4: field \"source\"",
            "line 2",
            "email:jo@acme.com",
        ],
    );
    // Ids are exact: these are two sources.
    read("type,source,destination\naccount,id:AB,x\naccount,id:ab,y\n").unwrap();
}

#[test]
fn header_problems_are_errors() {
    assert_fails(
        "",
        &["exceptions.csv:1", "empty", "type,source,destination"],
    );
    assert_fails("# only a comment\n", &["exceptions.csv:1", "empty"]);
    assert_fails(
        "account,a,b\n",
        &["exceptions.csv:1: field \"account\"", "unknown column"],
    );
    assert_fails(
        "type,source\naccount,a\n",
        &["exceptions.csv:1: field \"destination\"", "missing"],
    );
    assert_fails(
        "type,source,source,destination\n",
        &["exceptions.csv:1: field \"source\"", "twice"],
    );
}

#[test]
fn malformed_rows_are_errors() {
    assert_fails(
        "type,source,destination\naccount,a,b,c\n",
        &["exceptions.csv:2", "expected 3 fields", "found 4"],
    );
    assert_fails(
        "type,source,destination\naccount,\"a,b\n",
        &["exceptions.csv:2", "expected 3 fields"],
    );
    let error = read_exceptions(
        "exceptions.csv",
        &b"type,source,destination\naccount,\xff,b\n"[..],
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("exceptions.csv:2: column 2 is not valid UTF-8"),
        "{error}"
    );
}

#[test]
fn the_file_function_uses_the_path_as_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exceptions.csv");
    std::fs::write(&path, "type,source,destination\ngroup,a,b\n").unwrap();
    let rules = read_exceptions_file(&path).unwrap();
    assert_eq!(rules[0].origin, format!("{}:2", path.display()));
    let error = read_exceptions_file(dir.path().join("nope.csv")).unwrap_err();
    assert!(error.to_string().contains("nope.csv"));
}

/// Invalid UTF-8 is put on the line it is on, after any blank and comment lines before it.
#[test]
fn invalid_utf8_names_its_own_line() {
    let text = b"type,source,destination\naccount,a,b\n\n# a comment\naccount,caf\xe9,b\n";
    let error = crosswalk_formats::read_exceptions("exceptions.csv", &text[..])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("exceptions.csv:5: column 2 is not valid UTF-8"),
        "{error}"
    );
}
