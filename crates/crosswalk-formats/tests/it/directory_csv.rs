//! The directory CSV reader: what it accepts, and what it says about what it refuses.

use crosswalk_core::{Account, Group};
use crosswalk_formats::{
    FormatError, ReadOptions, read_directory_csv, read_directory_csv_file, write_directory_csv,
};

const HEADER: &str = "type,id,name,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,group,member";

fn read(text: &str) -> Result<crosswalk_formats::Imported, FormatError> {
    read_directory_csv("accounts.csv", text.as_bytes(), ReadOptions::default())
}

fn read_skipping(text: &str) -> crosswalk_formats::Imported {
    read_directory_csv(
        "accounts.csv",
        text.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .expect("skipping read")
}

/// Fails unless the read fails with a message containing every one of `parts`.
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
fn reads_accounts_groups_and_memberships_in_any_order() {
    let text = format!(
        "{HEADER}\n\
         member,,,,,,,,,,,,g1,u1\n\
         account,u1,,jdoe,john.doe@acme.com,SMTP:john.doe@acme.com;smtp:jd@acme.com ; ,\"Doe, John\",John,Doe,yes,ldap,TRUE,,\n\
         account,u2,,,,,,,,0,,,,\n\
         group,g1,developers,,,,Developers,,,,,,,\n\
         group,g2,admins,,,,,,,,,,,\n\
         member,,,,,,,,,,,,g2,g1\n"
    );
    let imported = read(&text).unwrap();
    assert!(imported.skipped.is_empty());
    let directory = imported.directory;
    assert_eq!(directory.name, "accounts");
    assert_eq!(
        directory.accounts[0],
        Account {
            id: "u1".into(),
            username: Some("jdoe".into()),
            email: Some("john.doe@acme.com".into()),
            alias_emails: vec!["SMTP:john.doe@acme.com".into(), "smtp:jd@acme.com".into()],
            display_name: Some("Doe, John".into()),
            given_name: Some("John".into()),
            family_name: Some("Doe".into()),
            active: true,
            source_directory: Some("ldap".into()),
            email_verified: Some(true),
        }
    );
    assert_eq!(
        directory.accounts[1],
        Account {
            id: "u2".into(),
            active: false,
            ..Account::default()
        }
    );
    assert_eq!(
        directory.groups,
        vec![
            Group {
                id: "g1".into(),
                name: "developers".into(),
                display_name: Some("Developers".into()),
                members: vec!["u1".into()]
            },
            Group {
                id: "g2".into(),
                name: "admins".into(),
                display_name: None,
                members: vec!["g1".into()]
            },
        ]
    );
    directory.check().unwrap();
}

#[test]
fn header_is_case_insensitive_in_any_order_with_optional_columns_missing() {
    let text = "\u{feff}ID, Type ,Email\nu1,ACCOUNT,a@acme.com\n";
    let directory = read(text).unwrap().directory;
    assert_eq!(directory.accounts.len(), 1);
    assert_eq!(directory.accounts[0].email.as_deref(), Some("a@acme.com"));
    assert!(directory.accounts[0].active, "active defaults to true");
    assert_eq!(directory.accounts[0].email_verified, None);
}

#[test]
fn unknown_column_is_named() {
    let error = assert_fails(
        "type,id,emial\naccount,u1,a@b.com\n",
        &["accounts.csv:1", "\"emial\"", "unknown column"],
    );
    assert_eq!(error.field(), Some("emial"));
}

#[test]
fn missing_and_repeated_columns_are_errors() {
    assert_fails(
        "id,email\nu1,a@b.com\n",
        &["accounts.csv:1", "\"type\"", "missing"],
    );
    assert_fails(
        "type,email\naccount,a@b.com\n",
        &["accounts.csv:1", "\"id\"", "missing"],
    );
    assert_fails("type,id,ID\n", &["accounts.csv:1", "\"ID\"", "twice"]);
    assert_fails("type,id,\n", &["accounts.csv:1", "no name"]);
    assert_fails("", &["accounts.csv:1", "empty", "header"]);
}

#[test]
fn bad_boolean_names_line_field_and_value() {
    let text = format!("{HEADER}\naccount,u1,,,,,,,,,,,,\naccount,u2,,,,,,,,yes please,,,,\n");
    let error = assert_fails(
        &text,
        &[
            "accounts.csv:3",
            "field \"active\"",
            "expected true or false",
            "\"yes please\"",
        ],
    );
    assert_eq!(error.location().line, Some(3));
    let text = format!("{HEADER}\naccount,u1,,,,,,,,,,maybe,,\n");
    assert_fails(
        &text,
        &["accounts.csv:2", "field \"email_verified\"", "\"maybe\""],
    );
}

#[test]
fn missing_id_and_name_are_errors() {
    let text = format!("{HEADER}\naccount,,,jdoe,,,,,,,,,,\n");
    assert_fails(&text, &["accounts.csv:2", "field \"id\"", "required"]);
    let text = format!("{HEADER}\ngroup,g1,,,,,,,,,,,,\n");
    assert_fails(&text, &["accounts.csv:2", "field \"name\"", "required"]);
    let text = format!("{HEADER}\nmember,,,,,,,,,,,,g1,\n");
    assert_fails(&text, &["accounts.csv:2", "field \"member\"", "required"]);
    // No name column at all: still a message about the name.
    assert_fails(
        "type,id\ngroup,g1\n",
        &["accounts.csv:2", "field \"name\"", "required"],
    );
}

#[test]
fn unknown_type_and_stray_columns_are_errors() {
    let text = format!("{HEADER}\nrobot,r1,,,,,,,,,,,,\n");
    assert_fails(
        &text,
        &[
            "accounts.csv:2",
            "field \"type\"",
            "\"robot\"",
            "account, group or member",
        ],
    );
    let text = format!("{HEADER}\ngroup,g1,devs,,devs@acme.com,,,,,,,,,\n");
    assert_fails(
        &text,
        &[
            "accounts.csv:2",
            "field \"email\"",
            "not used by group rows",
        ],
    );
}

#[test]
fn duplicate_ids_name_both_lines() {
    let text = format!(
        "{HEADER}\naccount,u1,,,,,,,,,,,,\naccount,u2,,,,,,,,,,,,\naccount,u1,,,,,,,,,,,,\n"
    );
    assert_fails(
        &text,
        &["accounts.csv:4", "field \"id\"", "\"u1\"", "line 2"],
    );
    let text = format!("{HEADER}\ngroup,g1,a,,,,,,,,,,,\ngroup,g1,b,,,,,,,,,,,\n");
    assert_fails(
        &text,
        &["accounts.csv:3", "field \"id\"", "\"g1\"", "line 2"],
    );
    // An account and a group may share an id: they are different kinds.
    let text = format!("{HEADER}\naccount,x,,,,,,,,,,,,\ngroup,x,x,,,,,,,,,,,\n");
    read(&text).unwrap();
}

#[test]
fn unknown_member_or_group_is_an_error_at_the_member_row() {
    let text = format!("{HEADER}\ngroup,g1,devs,,,,,,,,,,,\nmember,,,,,,,,,,,,g1,ghost\n");
    assert_fails(&text, &["accounts.csv:3", "field \"member\"", "\"ghost\""]);
    let text = format!("{HEADER}\naccount,u1,,,,,,,,,,,,\nmember,,,,,,,,,,,,nogroup,u1\n");
    assert_fails(&text, &["accounts.csv:3", "field \"group\"", "\"nogroup\""]);
}

#[test]
fn malformed_quoting_is_reported_at_its_line() {
    // An opened quote that never closes swallows the rest of the file into one field.
    let text = format!(
        "{HEADER}\naccount,u1,,,,,,,,,,,,\naccount,\"u2,,,,,,,,,,,,\naccount,u3,,,,,,,,,,,,\n"
    );
    assert_fails(
        &text,
        &["accounts.csv:3", "expected 14 fields", "never to be closed"],
    );
    // A stray comma.
    let text = format!("{HEADER}\naccount,u1,,,,,,,,,,,,,\n");
    assert_fails(
        &text,
        &[
            "accounts.csv:2",
            "expected 14 fields",
            "found 15",
            "double quotes",
        ],
    );
}

#[test]
fn invalid_utf8_is_reported_with_its_column() {
    let mut bytes = format!("{HEADER}\naccount,u1,,").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,,,,,,,,,,\n");
    let error = read_directory_csv("accounts.csv", &bytes[..], ReadOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("accounts.csv:2")
            && message.contains("\"username\"")
            && message.contains("UTF-8"),
        "{message}"
    );
}

#[test]
fn members_keep_the_files_order_when_some_name_identities_further_down() {
    let text = format!(
        "{HEADER}\n\
         account,u1,,,,,,,,,,,,\n\
         account,u2,,,,,,,,,,,,\n\
         group,g1,devs,,,,,,,,,,,\n\
         member,,,,,,,,,,,,g1,u1\n\
         member,,,,,,,,,,,,g1,u3\n\
         member,,,,,,,,,,,,g1,u2\n\
         member,,,,,,,,,,,,g2,u1\n\
         account,u3,,,,,,,,,,,,\n\
         group,g2,ops,,,,,,,,,,,\n"
    );
    let directory = read(&text).unwrap().directory;
    assert_eq!(directory.groups[0].members, ["u1", "u3", "u2"]);
    assert_eq!(directory.groups[1].members, ["u1"]);
}

#[test]
fn skip_invalid_leaves_bad_rows_and_their_memberships_out() {
    let text = format!(
        "{HEADER}\n\
         account,u1,,,,,,,,,,,,\n\
         account,u2,,,,,,,,perhaps,,,,\n\
         account,u1,,,,,,,,,,,,\n\
         group,g1,devs,,,,,,,,,,,\n\
         group,g2,,,,,,,,,,,,\n\
         member,,,,,,,,,,,,g1,u1\n\
         member,,,,,,,,,,,,g1,u2\n\
         member,,,,,,,,,,,,g2,u1\n\
         member,,,,,,,,,,,,g1,nobody\n\
         account,\"u9\n"
    );
    let imported = read_skipping(&text);
    let directory = &imported.directory;
    assert_eq!(
        directory
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["u1"]
    );
    assert_eq!(directory.groups.len(), 1);
    assert_eq!(directory.groups[0].members, ["u1"]);
    directory.check().unwrap();
    let skipped: Vec<String> = imported.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 7, "{skipped:#?}");
    assert!(
        skipped[0].starts_with("accounts.csv:3: field \"active\""),
        "{skipped:#?}"
    );
    assert!(
        skipped[1].starts_with("accounts.csv:4: field \"id\"") && skipped[1].contains("line 2")
    );
    assert!(skipped[2].starts_with("accounts.csv:6: field \"name\""));
    assert!(skipped[3].starts_with("accounts.csv:11:") && skipped[3].contains("fields"));
    // Memberships come last: they are checked once every identity is known.
    assert!(
        skipped[4].starts_with("accounts.csv:8: field \"member\"")
            && skipped[4].contains("skipped (line 3)")
    );
    assert!(
        skipped[5].starts_with("accounts.csv:9: field \"group\"")
            && skipped[5].contains("skipped (line 6)")
    );
    assert!(
        skipped[6].starts_with("accounts.csv:10: field \"member\"")
            && skipped[6].contains("\"nobody\"")
    );
    assert_eq!(imported.skipped[0].field.as_deref(), Some("active"));
    assert_eq!(imported.skipped[0].location.line, Some(3));
}

#[test]
fn header_problems_fail_even_when_skipping() {
    let error = read_directory_csv(
        "a.csv",
        "type,id,colour\n".as_bytes(),
        ReadOptions::skipping_invalid(),
    );
    assert!(error.unwrap_err().to_string().contains("\"colour\""));
}

#[test]
fn file_functions_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let missing = read_directory_csv_file(&path, ReadOptions::default()).unwrap_err();
    assert!(matches!(missing, FormatError::Io { .. }));
    assert!(
        missing.to_string().starts_with(&path.display().to_string()),
        "{missing}"
    );

    std::fs::write(&path, format!("{HEADER}\naccount,u1,,,,,,,,nope,,,,\n")).unwrap();
    let error = read_directory_csv_file(&path, ReadOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2: field \"active\"", path.display())),
        "{error}"
    );

    std::fs::write(&path, format!("{HEADER}\naccount,u1,,,,,,,,,,,,\n")).unwrap();
    let imported = crosswalk_formats::read_directory_file(&path, ReadOptions::default()).unwrap();
    assert_eq!(imported.directory.name, "people");
    // No extension: sniffed.
    let bare = dir.path().join("people");
    std::fs::write(&bare, format!("{HEADER}\naccount,u1,,,,,,,,,,,,\n")).unwrap();
    assert_eq!(
        crosswalk_formats::read_directory_file(&bare, ReadOptions::default())
            .unwrap()
            .directory
            .accounts
            .len(),
        1
    );
}

#[test]
fn writer_output_reads_back_and_refuses_unwritable_aliases() {
    let text = format!(
        "{HEADER}\n\
         account,u1,,jdoe,j@acme.com,a@acme.com;b@acme.com,\"Doe, \"\"JD\"\" John\",John,Doe,false,ldap,false,,\n\
         group,g1,devs,,,,,,,,,,,\n\
         member,,,,,,,,,,,,g1,u1\n"
    );
    let directory = read(&text).unwrap().directory;
    let mut out = Vec::new();
    write_directory_csv(&directory, &mut out).unwrap();
    let again = read_directory_csv("accounts.csv", &out[..], ReadOptions::default())
        .unwrap()
        .directory;
    assert_eq!(again, directory);

    let mut bad = directory.clone();
    bad.accounts[0]
        .alias_emails
        .push("x@acme.com;y@acme.com".into());
    let error = write_directory_csv(&bad, Vec::new()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("x@acme.com;y@acme.com"));
}

#[test]
fn line_numbers_count_blank_lines_crlf_and_multi_line_values() {
    let text = format!(
        "\r\n{HEADER}\r\n\r\naccount,u1,,,,,\"two\r\nlines\",,,,,,,\r\n\r\n\r\naccount,u2,,,,,,,,bad,,,,\r\n"
    );
    assert_fails(&text, &["accounts.csv:8: field \"active\""]);
    assert_fails(
        "\n\ntype,id,colour\n",
        &["accounts.csv:3: field \"colour\""],
    );
}
