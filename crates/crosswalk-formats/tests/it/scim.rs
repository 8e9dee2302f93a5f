//! The SCIM reader: the three shapes, the attribute mapping, and the messages.

use crosswalk_core::{Account, Directory, Group};
use crosswalk_formats::{
    FormatError, Imported, ReadOptions, read_scim, write_scim_jsonl, write_scim_list_response,
};

fn read(name: &str, text: &str) -> Result<Imported, FormatError> {
    read_scim(name, text.as_bytes(), ReadOptions::default())
}

#[track_caller]
fn assert_fails(name: &str, text: &str, parts: &[&str]) -> FormatError {
    let error = read(name, text).expect_err("the read should fail");
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
    error
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn user(id: &str) -> String {
    format!(r#"{{"schemas":["{USER}"],"id":"{id}","userName":"{id}"}}"#)
}

fn list(resources: &[String]) -> String {
    format!(
        "{{\n  \"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\n  \"totalResults\": {},\n  \"Resources\": [\n    {}\n  ]\n}}\n",
        resources.len(),
        resources.join(",\n    ")
    )
}

fn entra_user() -> String {
    format!(
        r#"{{
      "schemas": ["{USER}", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                  "urn:crosswalk:params:scim:schemas:extension:2.0:User"],
      "id": "5f1c",
      "externalId": "jdoe",
      "USERNAME": "jdoe@acme.com",
      "name": {{"givenName": "John", "familyName": "Doe", "formatted": "John Doe (formatted)"}},
      "emails": [
        {{"value": "jd@acme.com", "type": "other"}},
        {{"value": "john.doe@acme.com", "type": "work", "primary": "True"}},
        {{"value": "SMTP:j@acme-corp.com"}}
      ],
      "active": "False",
      "groups": [{{"value": "ignored"}}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {{"employeeNumber": "701984"}},
      "urn:crosswalk:params:scim:schemas:extension:2.0:User": {{"sourceDirectory": "ldap", "emailVerified": true}},
      "meta": {{"resourceType": "User", "created": "2024-01-01T00:00:00Z"}},
      "x-unknown": {{"anything": [1, 2, 3]}}
    }}"#
    )
}

fn expected_entra_account() -> Account {
    Account {
        id: "5f1c".into(),
        username: Some("jdoe@acme.com".into()),
        email: Some("john.doe@acme.com".into()),
        alias_emails: vec!["jd@acme.com".into(), "SMTP:j@acme-corp.com".into()],
        display_name: Some("John Doe (formatted)".into()),
        given_name: Some("John".into()),
        family_name: Some("Doe".into()),
        active: false,
        source_directory: Some("ldap".into()),
        email_verified: Some(true),
    }
}

#[test]
fn reads_a_pretty_list_response() {
    let group = format!(
        r#"{{"schemas":["{GROUP}"],"id":"g1","displayName":"Developers","members":[{{"value":"5f1c","type":"User","$ref":"x"}},{{"value":"u2"}}]}}"#
    );
    let text = list(&[entra_user(), user("u2"), group]);
    let imported = read("users.json", &text).unwrap();
    assert!(imported.skipped.is_empty());
    let directory = imported.directory;
    assert_eq!(directory.name, "users");
    assert_eq!(directory.accounts[0], expected_entra_account());
    assert_eq!(
        directory.accounts[1],
        Account {
            id: "u2".into(),
            username: Some("u2".into()),
            active: true,
            ..Account::default()
        }
    );
    assert_eq!(
        directory.groups,
        vec![Group {
            id: "g1".into(),
            name: "Developers".into(),
            display_name: Some("Developers".into()),
            members: vec!["5f1c".into(), "u2".into()],
        }]
    );
}

#[test]
fn reads_json_lines_arrays_minified_documents_and_lone_resources() {
    // JSON Lines, with blank lines, CRLF, and a line that is a whole ListResponse page.
    let page = list(&[user("u3")]).replace('\n', "");
    let text = format!("{}\r\n\n{}\n{page}\n   \n", user("u1"), user("u2"));
    let directory = read("users.jsonl", &text).unwrap().directory;
    assert_eq!(
        directory
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["u1", "u2", "u3"]
    );

    let text = format!("[{}, {}]", user("u1"), user("u2"));
    assert_eq!(
        read("users.json", &text).unwrap().directory.accounts.len(),
        2
    );

    let text = list(&[user("u1"), user("u2")]).replace('\n', "");
    assert_eq!(
        read("users.json", &text).unwrap().directory.accounts.len(),
        2
    );

    // One pretty-printed resource, typed by meta.resourceType only.
    let text = "{\n \"id\": \"g\",\n \"displayName\": \"G\",\n \"meta\": {\"resourceType\": \"Group\"}\n}\n";
    assert_eq!(
        read("group.json", text).unwrap().directory.groups[0].name,
        "G"
    );

    // Empty: no identities. An empty page: none either.
    assert_eq!(
        read("users.json", " \n").unwrap().directory,
        Directory {
            name: "users".into(),
            ..Directory::default()
        }
    );
    let empty_page =
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0}"#;
    assert!(
        read("users.json", empty_page)
            .unwrap()
            .directory
            .accounts
            .is_empty()
    );
}

#[test]
fn wrong_type_in_a_list_response_is_named_by_pointer() {
    let bad = format!(r#"{{"schemas":["{USER}"],"id":"u4","emails":[{{"value": 42}}]}}"#);
    let text = list(&[user("u1"), user("u2"), user("u3"), bad]);
    let error = assert_fails(
        "users.json",
        &text,
        &["users.json: /Resources/3/emails/0/value: expected a string"],
    );
    assert_eq!(
        error.location().pointer.as_deref(),
        Some("/Resources/3/emails/0/value")
    );
    assert_eq!(error.field(), Some("emails"));
}

#[test]
fn wrong_type_in_json_lines_is_named_by_line_and_pointer() {
    let bad = format!(r#"{{"schemas":["{USER}"],"id":"u4","emails":[{{"value": 42}}]}}"#);
    let text = format!("{}\n{}\n\n{bad}\n", user("u1"), user("u2"));
    assert_fails(
        "users.jsonl",
        &text,
        &["users.jsonl:4: /emails/0/value: expected a string, found the number 42"],
    );
}

#[test]
fn wrong_types_of_known_attributes_are_errors() {
    let cases = [
        (r#""active":"yes""#, "/active: expected true or false"),
        (r#""active":1"#, "/active: expected true or false"),
        (
            r#""userName":["a"]"#,
            "/userName: expected a string, found an array",
        ),
        (r#""name":"John""#, "/name: expected an object"),
        (
            r#""name":{"givenName":7}"#,
            "/name/givenName: expected a string",
        ),
        (
            r#""emails":{"value":"a@b.c"}"#,
            "/emails: expected an array",
        ),
        (r#""emails":["a@b.c"]"#, "/emails/0: expected an object"),
        (
            r#""emails":[{"value":"a@b.c","primary":"sometimes"}]"#,
            "/emails/0/primary: expected true or false",
        ),
        (
            r#""emails":[{"type":"work"}]"#,
            "/emails/0/value: is required",
        ),
        (
            r#""emails":[{"value":""}]"#,
            "/emails/0/value: must not be empty",
        ),
        (
            r#""urn:crosswalk:params:scim:schemas:extension:2.0:User":{"emailVerified":"probably"}"#,
            "/urn:crosswalk:params:scim:schemas:extension:2.0:User/emailVerified: expected true or false",
        ),
        (r#""username":"a""#, "attribute given twice"),
    ];
    for (attribute, message) in cases {
        // The userName case replaces the base userName: given twice, it would be refused
        // as a duplicate before its type is looked at.
        let base = if attribute.starts_with(r#""userName""#) {
            ""
        } else {
            r#""userName":"x","#
        };
        let text = format!(r#"{{"schemas":["{USER}"],"id":"u1",{base}{attribute}}}"#);
        let error = read("users.jsonl", &text).expect_err(attribute).to_string();
        assert!(error.starts_with("users.jsonl:1: /"), "{error}");
        assert!(error.contains(message), "{error:?} lacks {message:?}");
    }
    // Numbers are not ids.
    let text = format!(r#"{{"schemas":["{USER}"],"id":12}}"#);
    assert_fails(
        "u.jsonl",
        &text,
        &["u.jsonl:1: /id: expected a string, found the number 12"],
    );
}

#[test]
fn missing_id_and_unknown_type_are_errors() {
    let text = list(&[format!(r#"{{"schemas":["{USER}"],"userName":"x"}}"#)]);
    assert_fails(
        "users.json",
        &text,
        &["users.json: /Resources/0/id: is required"],
    );
    let text = list(&[r#"{"id":"x","userName":"x"}"#.to_string()]);
    assert_fails(
        "users.json",
        &text,
        &["users.json: /Resources/0/schemas: cannot tell a User from a Group"],
    );
    let text = list(&[r#"{"id":"x","meta":{"resourceType":"Printer"}}"#.to_string()]);
    assert_fails(
        "users.json",
        &text,
        &["/Resources/0/meta/resourceType", "\"Printer\""],
    );
    let text = list(&[format!(r#"{{"schemas":["{USER}","{GROUP}"],"id":"x"}}"#)]);
    assert_fails("users.json", &text, &["/Resources/0/schemas: lists both"]);
    let text = list(&[format!(r#"{{"schemas":["{GROUP}"],"id":"g"}}"#)]);
    assert_fails(
        "users.json",
        &text,
        &["/Resources/0/displayName: is required"],
    );
    assert_fails(
        "users.json",
        "[1]",
        &["users.json:1: /0: expected a SCIM User or Group"],
    );
}

#[test]
fn duplicate_ids_and_unknown_members_name_both_places() {
    let text = list(&[user("u1"), user("u2"), user("u1")]);
    assert_fails(
        "users.json",
        &text,
        &["users.json: /Resources/2/id", "\"u1\"", "/Resources/0"],
    );
    let text = format!("{}\n{}\n", user("u1"), user("u1"));
    assert_fails("users.jsonl", &text, &["users.jsonl:2: /id", "line 1"]);
    let group = format!(
        r#"{{"schemas":["{GROUP}"],"id":"g1","displayName":"G","members":[{{"value":"u1"}},{{"value":"ghost"}}]}}"#
    );
    let text = list(&[group, user("u1")]);
    assert_fails(
        "users.json",
        &text,
        &["users.json: /Resources/0/members/1/value", "\"ghost\""],
    );
}

#[test]
fn invalid_json_is_reported_by_line() {
    let text = list(&[user("u1"), "{\"id\": \"u2\",, }".to_string()]);
    let error = assert_fails(
        "users.json",
        &text,
        &["users.json:6: /Resources/1: invalid JSON at column 17: key must be a string"],
    );
    assert_eq!(error.location().line, Some(6));

    let text = format!("{}\n{{\"id\": \"u2\"\n{}\n", user("u1"), user("u3"));
    assert_fails(
        "users.jsonl",
        &text,
        &["users.jsonl:2: invalid JSON at column 11", "EOF"],
    );

    assert_fails(
        "users.json",
        "{\"Resources\": {\"a\": 1}}",
        &[
            "users.json:1: /Resources:",
            "expected an array of SCIM resources",
        ],
    );
    assert_fails(
        "users.json",
        "\n\n  {\"schemas\": [\n",
        &["users.json:4", "invalid JSON"],
    );
    assert_fails(
        "users.json",
        "[\n]\n]",
        &["users.json:3", "unexpected content"],
    );
    assert_fails(
        "users.json",
        "42",
        &["users.json:1", "expected a SCIM ListResponse"],
    );
    assert_fails("users.csv", "type,id\n", &["users.csv:1", "invalid JSON"]);
}

#[test]
fn skip_invalid_skips_lines_resources_and_memberships() {
    let broken_user = format!(r#"{{"schemas":["{USER}"],"id":"u2","active":"maybe"}}"#);
    let group = format!(
        r#"{{"schemas":["{GROUP}"],"id":"g1","displayName":"G","members":[{{"value":"u1"}},{{"value":"u2"}},{{"value":"ghost"}}]}}"#
    );
    let text = format!(
        "{{oops\n{}\n{broken_user}\n{{\"id\": \"u3\"\n{group}\n[]\n",
        user("u1")
    );
    let imported = read_scim(
        "users.jsonl",
        text.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    let directory = &imported.directory;
    assert_eq!(
        directory
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["u1"]
    );
    assert_eq!(directory.groups[0].members, ["u1"]);
    directory.check().unwrap();
    let skipped: Vec<String> = imported.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 6, "{skipped:#?}");
    assert!(
        skipped[0].starts_with("users.jsonl:1: invalid JSON"),
        "{skipped:#?}"
    );
    assert!(skipped[1].starts_with("users.jsonl:3: /active: expected true or false"));
    assert!(skipped[2].starts_with("users.jsonl:4: invalid JSON"));
    assert!(skipped[3].starts_with("users.jsonl:6: expected a SCIM User or Group"));
    assert!(
        skipped[4].starts_with("users.jsonl:5: /members/1/value")
            && skipped[4].contains("skipped (line 3)")
    );
    assert!(
        skipped[5].starts_with("users.jsonl:5: /members/2/value")
            && skipped[5].contains("\"ghost\"")
    );
    assert_eq!(imported.skipped[1].field.as_deref(), Some("active"));
}

#[test]
fn skip_invalid_in_a_list_response_skips_resources_but_not_broken_json() {
    let bad = format!(r#"{{"schemas":["{USER}"],"id":"u2","emails":[{{"value": 42}}]}}"#);
    let text = list(&[user("u1"), bad, user("u3")]);
    let imported = read_scim(
        "users.json",
        text.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    assert_eq!(imported.directory.accounts.len(), 2);
    assert_eq!(imported.skipped.len(), 1);
    assert_eq!(
        imported.skipped[0].location.pointer.as_deref(),
        Some("/Resources/1/emails/0/value")
    );

    let text = list(&[user("u1"), "{,}".into()]);
    assert!(
        read_scim(
            "users.json",
            text.as_bytes(),
            ReadOptions::skipping_invalid()
        )
        .is_err()
    );
}

#[test]
fn writers_round_trip_through_the_reader() {
    let mut account = expected_entra_account();
    account.display_name = Some("John Doe".into());
    let directory = Directory {
        name: "users".into(),
        accounts: vec![
            account,
            Account {
                id: "u2".into(),
                active: true,
                ..Account::default()
            },
        ],
        groups: vec![
            Group {
                id: "g1".into(),
                name: "devs".into(),
                display_name: None,
                members: vec!["5f1c".into(), "g2".into()],
            },
            Group {
                id: "g2".into(),
                name: "ops".into(),
                display_name: Some("Operations".into()),
                members: vec![],
            },
            Group {
                id: "g3".into(),
                name: "qa".into(),
                display_name: Some("qa".into()),
                members: vec![],
            },
        ],
    };
    let mut jsonl = Vec::new();
    write_scim_jsonl(&directory, &mut jsonl).unwrap();
    assert_eq!(
        read_scim("users.jsonl", &jsonl[..], ReadOptions::default())
            .unwrap()
            .directory,
        directory
    );
    assert_eq!(String::from_utf8(jsonl).unwrap().lines().count(), 5);

    let mut list = Vec::new();
    write_scim_list_response(&directory, &mut list).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(value["totalResults"], 5);
    assert_eq!(
        value["Resources"][2]["urn:crosswalk:params:scim:schemas:extension:2.0:Group"]["displayName"],
        serde_json::Value::Null
    );
    assert_eq!(
        read_scim("users.json", &list[..], ReadOptions::default())
            .unwrap()
            .directory,
        directory
    );
}

#[test]
fn read_directory_file_picks_scim_by_extension_or_content() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["users.ndjson", "users.export"] {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{}\n{}\n", user("u1"), user("u2"))).unwrap();
        let imported =
            crosswalk_formats::read_directory_file(&path, ReadOptions::default()).unwrap();
        assert_eq!(imported.directory.accounts.len(), 2, "{name}");
    }
    let path = dir.path().join("users.json");
    std::fs::write(&path, format!(r#"[{{"schemas":["{USER}"],"id":1}}]"#)).unwrap();
    let error = crosswalk_formats::read_scim_file(&path, ReadOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:1: /0/id: expected a string", path.display())),
        "{error}"
    );
}

#[test]
fn a_name_given_twice_is_refused_with_its_pointer_in_every_shape() {
    // Exactly the same name twice: serde_json would keep the second silently.
    let twice = format!(r#"{{"schemas":["{USER}"],"id":"u1","id":"u2","userName":"x"}}"#);
    let nested = format!(
        r#"{{"schemas":["{USER}"],"id":"u1","emails":[{{"value":"a@b.c","value":"d@e.f"}}]}}"#
    );
    let message = "attribute given twice";

    let error = assert_fails(
        "users.json",
        &list(&[user("u0"), twice.clone()]),
        &["users.json: /Resources/1/id: ", message],
    );
    assert_eq!(error.field(), Some("id"));
    assert_fails(
        "users.json",
        &list(std::slice::from_ref(&nested)),
        &["users.json: /Resources/0/emails/0/value: ", message],
    );
    assert_fails(
        "users.json",
        &format!("[{}, {twice}]", user("u0")),
        &["users.json:1: /1/id: ", message],
    );
    assert_fails(
        "users.jsonl",
        &format!("{}\n{twice}\n", user("u0")),
        &["users.jsonl:2: /id: ", message],
    );
    assert_fails(
        "users.jsonl",
        &format!("{nested}\n"),
        &["users.jsonl:1: /emails/0/value: ", message],
    );
    assert_fails(
        "user.json",
        &twice.replace(",", ",\n"),
        &["user.json: /id: ", message],
    );
    // Inside a ListResponse on one line of JSON Lines, and in the page itself.
    let page = list(&[user("u0"), twice.clone()]).replace('\n', "");
    assert_fails(
        "users.jsonl",
        &format!("{page}\n"),
        &["users.jsonl:1: /Resources/1/id: ", message],
    );
    let two_lists = r#"{"Resources":[],"Resources":[{"id":"u9"}]}"#;
    assert_fails(
        "users.jsonl",
        &format!("{two_lists}\n"),
        &["users.jsonl:1: /Resources: ", message],
    );
    assert_fails(
        "users.json",
        "{\n\"Resources\": [],\n\"resources\": []\n}",
        &["users.json: /resources: ", message],
    );

    // With --skip-invalid, the resource is skipped like any other invalid one.
    let text = list(&[user("u0"), twice, user("u3")]);
    let imported = read_scim(
        "users.json",
        text.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    assert_eq!(
        imported
            .directory
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["u0", "u3"]
    );
    assert_eq!(
        imported.skipped[0].location.pointer.as_deref(),
        Some("/Resources/1/id")
    );
}
