//! Platform directory exports (`crosswalk_formats::exports`): each sample in
//! `testdata/exports/` is written from the platform's documented shape; the tests read them
//! the way `crosswalk run --source FILE` does and check what a user would see.

use std::path::PathBuf;

use crosswalk_core::{Account, Directory};
use crosswalk_formats::exports::{ExportFormat, SourceHint, read_csv_directory};
use crosswalk_formats::text::{Decoder, Encoding, sniff_delimiter};
use crosswalk_formats::{FormatError, Imported, ReadOptions, read_directory_file};
use proptest::prelude::*;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/exports")
        .join(name)
}

fn read(name: &str) -> Imported {
    read_directory_file(sample(name), ReadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn account<'a>(directory: &'a Directory, id: &str) -> &'a Account {
    directory
        .accounts
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no account {id}"))
}

fn members(directory: &Directory, group: &str) -> Vec<String> {
    let group = directory
        .groups
        .iter()
        .find(|g| g.id == group)
        .unwrap_or_else(|| panic!("no group {group}"));
    let mut members: Vec<String> = group.members.iter().map(|m| m.to_string()).collect();
    members.sort();
    members
}

fn read_text(name: &str, text: &str, options: ReadOptions) -> Result<Imported, FormatError> {
    read_csv_directory(name, text.as_bytes(), SourceHint::default(), options)
}

#[test]
fn entra_download_users_with_bom_accents_disabled_shared_mailbox_and_guest() {
    let imported = read("entra-download-users.csv");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let d = &imported.directory;
    assert_eq!(d.name, "entra-download-users");
    assert_eq!(d.accounts.len(), 5);
    let zoe = account(d, "7f3b1c2e-4d5a-4b6c-8d9e-0a1b2c3d4e5f");
    assert_eq!(
        zoe.username.as_deref(),
        Some("zoe.muller@acme.onmicrosoft.com")
    );
    assert_eq!(zoe.email.as_deref(), Some("zoe.muller@acme.com"));
    assert_eq!(zoe.display_name.as_deref(), Some("Zoë Müller"));
    assert_eq!(zoe.given_name.as_deref(), Some("Zoë"));
    assert!(zoe.active);
    assert_eq!(
        account(d, "a1b2c3d4-0000-4000-8000-000000000002")
            .display_name
            .as_deref(),
        Some("Doe, John")
    );
    assert!(
        !account(d, "a1b2c3d4-0000-4000-8000-000000000003").active,
        "a disabled user"
    );
    let shared = account(d, "a1b2c3d4-0000-4000-8000-000000000004");
    assert_eq!(
        (shared.email.as_deref(), shared.active),
        (Some("sales@acme.com"), false),
        "a shared mailbox"
    );
    assert_eq!(
        ExportFormat::detect(&["id", "userPrincipalName", "displayName"]),
        Some(ExportFormat::Entra)
    );
}

#[test]
fn get_mguser_type_names_are_a_warning_naming_the_column_not_aliases() {
    let imported = read("mguser-export.csv");
    let d = &imported.directory;
    assert_eq!(d.accounts.len(), 2);
    assert!(d.accounts.iter().all(|a| a.alias_emails.is_empty()));
    assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
    let warning = imported.warnings[0].to_string();
    // Line 3: the #TYPE line and the header come first.
    assert!(
        warning.contains("mguser-export.csv:3: field \"ProxyAddresses\": 2 values"),
        "{warning}"
    );
    assert!(
        warning.contains("System.String[]") && warning.contains("-join"),
        "{warning}"
    );
}

#[test]
fn get_aduser_utf16_semicolons_type_line_proxy_addresses_and_member_of() {
    let imported = read("ad-users-utf16.csv");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let d = &imported.directory;
    assert_eq!(d.accounts.len(), 4);
    let zoe = account(d, "0b5f6c1e-9a8b-4c7d-8e6f-5a4b3c2d1e0f");
    assert_eq!(zoe.username.as_deref(), Some("zmuller"));
    assert_eq!(zoe.email.as_deref(), Some("zoe.muller@acme.com"));
    assert_eq!(
        zoe.alias_emails,
        ["zoe@acme.com"],
        "the primary is not repeated, X500 is not an address"
    );
    assert_eq!(zoe.display_name.as_deref(), Some("Zoë Müller"));
    let sales = account(d, "3e8c9f4b-2dbe-4fa0-b19c-8d7e6f5a4b32");
    assert!(!sales.active);
    assert_eq!(
        sales.email.as_deref(),
        Some("sales@acme.com"),
        "the SMTP: primary stands in for an empty EmailAddress"
    );
    assert_eq!(sales.alias_emails, ["vertrieb@acme.com"]);
    assert!(!account(d, "2d7b8e3a-1cad-4e9f-a08b-7c6d5e4f3a21").active);
    let all_staff = "CN=All Staff,OU=Groups,DC=acme,DC=local";
    assert_eq!(
        d.groups.iter().find(|g| g.id == all_staff).unwrap().name,
        "All Staff"
    );
    assert_eq!(members(d, all_staff).len(), 3);
}

#[test]
fn get_aduser_without_select_and_in_ascii_is_warned_about_column_by_column() {
    let imported = read("ad-users-mangled.csv");
    let d = &imported.directory;
    let zoe = account(d, "0b5f6c1e-9a8b-4c7d-8e6f-5a4b3c2d1e0f");
    assert_eq!(
        (
            zoe.given_name.as_deref(),
            zoe.family_name.as_deref(),
            zoe.display_name.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(
        zoe.email.as_deref(),
        Some("zoe.muller@acme.com"),
        "what survived is kept"
    );
    assert!(zoe.alias_emails.is_empty());
    let text: Vec<String> = imported.warnings.iter().map(ToString::to_string).collect();
    let about = |column: &str| {
        text.iter()
            .find(|w| w.contains(&format!("field \"{column}\"")))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        about("proxyAddresses").contains("ADPropertyValueCollection"),
        "{text:?}"
    );
    assert!(about("proxyAddresses").contains("2 values"), "{text:?}");
    assert!(
        about("GivenName").contains("ad-users-mangled.csv:3:")
            && about("GivenName").contains("\"Zo?\""),
        "{text:?}"
    );
    assert!(about("Surname").contains("UTF8"), "{text:?}");
    assert!(about("Name").contains("Zo? M?ller"), "{text:?}");
}

#[test]
fn google_download_users_keys_by_primary_address() {
    let imported = read("google-users.csv");
    let d = &imported.directory;
    assert_eq!(d.accounts.len(), 4);
    let zoe = account(d, "zoe.muller@acme.com");
    assert_eq!(
        (zoe.given_name.as_deref(), zoe.family_name.as_deref()),
        (Some("Zoë"), Some("Müller"))
    );
    assert_eq!(zoe.email.as_deref(), Some("zoe.muller@acme.com"));
    assert!(
        zoe.alias_emails.is_empty(),
        "recovery and secondary addresses are not the user's mail"
    );
    assert!(!account(d, "left.person@acme.com").active, "Suspended");
}

#[test]
fn atlassian_export_users_with_groups_and_statuses() {
    let imported = read("atlassian-users.csv");
    let d = &imported.directory;
    assert_eq!(d.accounts.len(), 4);
    let zoe = account(d, "712020:5b10a2844c20165700ede21g");
    assert_eq!(
        (zoe.display_name.as_deref(), zoe.email.as_deref()),
        (Some("Zoë Müller"), Some("zoe.muller@acme.com"))
    );
    assert!(
        !account(d, "557058:0f2d3c4b-5a69-4788-9b0a-1c2d3e4f5a6b").active,
        "Deactivated"
    );
    assert!(
        !account(d, "712020:6c21b3955d30276811fef33i").active,
        "Suspended"
    );
    assert_eq!(
        members(d, "jira-software-users"),
        [
            "712020:5b10a2844c20165700ede21g",
            "712020:5b10a2844c20165700ede22h"
        ]
    );
    assert_eq!(members(d, "r&d"), ["712020:5b10a2844c20165700ede21g"]);
}

#[test]
fn jira_cwd_tables_user_keys_directory_order_and_nested_groups() {
    let imported = read("jira-cwd");
    let d = &imported.directory;
    assert_eq!(d.name, "jira-cwd");
    let ids: Vec<&str> = d.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "admin",
            "jdoe",
            "JIRAUSER10201",
            "JIRAUSER10202",
            "JIRAUSER10203"
        ]
    );
    // jdoe is in both directories; Corporate LDAP has position 0, so its copy is Jira's.
    let jdoe = account(d, "jdoe");
    assert_eq!(jdoe.email.as_deref(), Some("john.doe@acme.com"));
    assert_eq!(jdoe.source_directory.as_deref(), Some("Corporate LDAP"));
    assert_eq!(
        account(d, "JIRAUSER10201").display_name.as_deref(),
        Some("Zoë Müller")
    );
    assert!(!account(d, "JIRAUSER10202").active);
    // The internal directory's membership of the shadowed jdoe is not jdoe's; R&D nests.
    assert_eq!(
        members(d, "jira-software-users"),
        ["JIRAUSER10203", "jdoe", "r&d"]
    );
    assert_eq!(members(d, "r&d"), ["JIRAUSER10201"]);
    let notes: Vec<String> = imported.warnings.iter().map(ToString::to_string).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("cwd_user.csv:3") && n.contains("1 users are in more than one")),
        "{notes:?}"
    );
    // The same folder named through one of its files.
    assert_eq!(read("jira-cwd/cwd_user.csv").directory, *d);
}

#[test]
fn slack_and_github_member_exports() {
    let slack = read("slack-members.csv").directory;
    assert_eq!(slack.accounts.len(), 3);
    assert_eq!(
        account(&slack, "U01JDO0002").username.as_deref(),
        Some("jdoe")
    );
    assert!(!account(&slack, "U01LEF0003").active);
    let github = read("github-members.csv").directory;
    assert_eq!(
        account(&github, "zoe-muller").email.as_deref(),
        Some("zoe.muller@acme.com")
    );
}

#[test]
fn windows_1252_only_when_asked_and_the_error_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("google-ansi.csv");
    std::fs::write(&path, b"First Name [Required],Last Name [Required],Email Address [Required],Status [READ ONLY]\r\nZo\xEB,M\xFCller,zoe@acme.com,Active\r\n").unwrap();
    let error = read_directory_file(&path, ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("google-ansi.csv:2: field \"First Name [Required]\"")
            && error.contains("windows-1252"),
        "{error}"
    );
    let hinted = PathBuf::from(format!("google+windows-1252:{}", path.display()));
    let zoe = &read_directory_file(&hinted, ReadOptions::default())
        .unwrap()
        .directory
        .accounts[0];
    assert_eq!(
        (zoe.given_name.as_deref(), zoe.family_name.as_deref()),
        (Some("Zoë"), Some("Müller"))
    );
    let unknown = read_directory_file(PathBuf::from("okra:x.csv"), ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("unknown format \"okra\"") && unknown.contains("entra, ad, google"),
        "{unknown}"
    );
}

#[test]
fn bad_rows_name_file_line_and_the_exports_column_and_can_be_skipped() {
    let text = "id\tuserPrincipalName\taccountEnabled\n1\ta@acme.com\tTrue\n2\tb@acme.com\tmaybe\n\n3\tc@acme.com\tFalse\n";
    let error = read_text("entra.tsv", text, ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "entra.tsv:3: field \"accountEnabled\": expected True or False, found \"maybe\""
    );
    let imported = read_text("entra.tsv", text, ReadOptions::skipping_invalid()).unwrap();
    assert_eq!(imported.directory.accounts.len(), 2);
    assert_eq!(imported.skipped.len(), 1);
    let duplicate = "id,userPrincipalName\n1,a@acme.com\n1,b@acme.com\n";
    let error = read_text("e.csv", duplicate, ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("e.csv:3: field \"id\": account id \"1\" is already used on line 2"),
        "{error}"
    );
    let ragged = "User id;User name;email;User status\n1;A;a@x.com\n";
    let error = read_text("a.csv", ragged, ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("a.csv:2:") && error.contains("found 3") && error.contains("';'"),
        "{error}"
    );
    let unknown = "login_name;mail\nx;y\n";
    let error = read_text("u.csv", unknown, ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("u.csv:1:") && error.contains("--format"),
        "{error}"
    );
}

#[test]
fn crosswalk_csv_still_reads_and_also_as_utf16() {
    let text = "type,id,email\naccount,u1,zoë@acme.com\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let imported = read_csv_directory(
        "d.csv",
        utf16.as_slice(),
        SourceHint::default(),
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        imported.directory.accounts[0].email.as_deref(),
        Some("zoë@acme.com")
    );
}

fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Encoding::Utf16Le => [0xFEFFu16]
            .into_iter()
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect(),
        Encoding::Utf16Be => [0xFEFFu16]
            .into_iter()
            .chain(text.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect(),
        Encoding::Windows1252 => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    }
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(vec![
        Encoding::Utf8,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Windows1252,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text survives encoding and decoding (Windows-1252: the Latin-1 letters it shares
    /// with Unicode at the same numbers), and the delimiter of any header is found.
    #[test]
    fn decoding_and_delimiter_detection(
        text in "[a-zA-Z0-9 éüßÆ€😀\"\r\n]{0,60}",
        columns in prop::collection::vec("[A-Za-z][A-Za-z ]{0,12}", 2..8),
        delimiter in prop::sample::select(vec![',', ';', '\t']),
        encoding in encoding(),
    ) {
        let text: String = if encoding == Encoding::Windows1252 {
            text.chars().filter(|c| u32::from(*c) < 0x80 || (0xA0..0x100).contains(&u32::from(*c))).collect()
        } else {
            text
        };
        let mut decoded = String::new();
        std::io::Read::read_to_string(&mut Decoder::new(encode(&text, encoding).as_slice(), encoding), &mut decoded).unwrap();
        prop_assert_eq!(&decoded, &text);
        let header = columns.join(&delimiter.to_string());
        prop_assert_eq!(sniff_delimiter(&header), delimiter as u8);
    }

    /// Any bytes, hinted any way: no panic, and what is accepted passes the core's check.
    #[test]
    fn any_bytes_read_as_any_export_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        format in prop::option::of(prop::sample::select(ExportFormat::ALL.to_vec())),
        encoding in prop::option::of(encoding()),
        skip in any::<bool>(),
    ) {
        let options = ReadOptions { skip_invalid: skip, ..ReadOptions::default() };
        if let Ok(imported) = read_csv_directory("fuzz.csv", bytes.as_slice(), SourceHint { format, encoding }, options) {
            prop_assert!(imported.directory.check().is_ok());
        }
    }
}

#[test]
fn okta_folder_users_groups_and_members_with_statuses_aliases_and_providers() {
    let imported = read("okta");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    let d = &imported.directory;
    assert_eq!(d.name, "okta");
    assert_eq!(d.accounts.len(), 6);
    let zoe = account(d, "00ub0oNGTSWTBKOLGLNR");
    assert_eq!(zoe.username.as_deref(), Some("zoe.muller@acme.com"));
    assert_eq!(zoe.email.as_deref(), Some("zoe.muller@acme.com"));
    assert_eq!(zoe.alias_emails, ["zoe.mueller@acme.de"], "secondEmail");
    assert_eq!(zoe.display_name.as_deref(), Some("Zoë Müller"));
    assert_eq!(zoe.given_name.as_deref(), Some("Zoë"));
    assert_eq!(zoe.source_directory.as_deref(), Some("okta"));
    assert!(zoe.active);
    let ahmed = account(d, "00ub0oNGTSWTBKOCNDJI");
    assert_eq!(
        ahmed.display_name.as_deref(),
        Some("Ahmed Al-Hassan"),
        "no displayName: first and last name"
    );
    assert!(ahmed.alias_emails.is_empty(), "a null secondEmail is none");
    assert_eq!(ahmed.source_directory.as_deref(), Some("active_directory"));
    let shared = account(d, "00ub0oNGTSWTBKOMSUPP");
    assert_eq!(shared.alias_emails, ["helpdesk@acme.com"]);
    assert!(!account(d, "00ub0oNGTSWTBKOSUSPD").active, "SUSPENDED");
    assert_eq!(
        account(d, "00ub0oNGTSWTBKOSUSPD").username.as_deref(),
        Some("lperson"),
        "a login need not be an address"
    );
    assert!(!account(d, "00ub0oNGTSWTBKODEPRO").active, "DEPROVISIONED");
    assert!(
        account(d, "00ub0oNGTSWTBKOSTAGE").active,
        "STAGED is not disabled"
    );

    assert_eq!(d.groups.len(), 3);
    let engineering = d
        .groups
        .iter()
        .find(|g| g.id == "00g1emaKYZTWRYYRRTSK")
        .unwrap();
    assert_eq!(engineering.name, "Ingénierie");
    assert_eq!(
        members(d, "00g1emaKYZTWRYYRRTSK"),
        [
            "00ub0oNGTSWTBKOCNDJI",
            "00ub0oNGTSWTBKOLGLNR",
            "00ub0oNGTSWTBKOSUSPD"
        ]
    );
    assert_eq!(members(d, "00gbuiltineveryone01").len(), 6);
    assert!(
        members(d, "00g2appgroupfromad01").is_empty(),
        "no members file: no members"
    );

    // The same folder named explicitly, and its users file alone (by content: .json is
    // also SCIM's extension).
    let named = read_directory_file(
        format!("okta:{}", sample("okta").display()),
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(named.directory, imported.directory);
    let users = read("okta/users.json");
    assert_eq!(users.directory.accounts, imported.directory.accounts);
    assert!(users.directory.groups.is_empty());
    let groups = read("okta/groups.json");
    assert_eq!(groups.directory.groups.len(), 3);
}

fn okta_folder(users: &str, groups: Option<&str>, members: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.json"), users).unwrap();
    if let Some(groups) = groups {
        std::fs::write(dir.path().join("groups.json"), groups).unwrap();
    }
    for (group, text) in members {
        let folder = dir.path().join("groups").join(group);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("users.json"), text).unwrap();
    }
    dir
}

const OKTA_USERS: &str = r#"[
  {"id": "00u1", "status": "ACTIVE", "profile": {"login": "ana@acme.com", "email": "ana@acme.com"}},
  {"id": "00u2", "status": "ACTIVE", "profile": {"login": "bo@acme.com", "email": "bo@acme.com"}}
]"#;

#[test]
fn okta_bad_input_names_the_file_and_the_json_pointer_and_can_be_skipped() {
    let error_of = |dir: &tempfile::TempDir| {
        read_directory_file(dir.path(), ReadOptions::default())
            .unwrap_err()
            .to_string()
    };
    // A wrong type deep in a profile.
    let dir = okta_folder(
        r#"[{"id": "00u1", "profile": {"login": "ana@acme.com"}},
            {"id": "00u2", "profile": {"login": "bo@acme.com", "email": 42}}]"#,
        None,
        &[],
    );
    let error = error_of(&dir);
    assert!(
        error.contains("users.json: /1/profile/email: expected a string, found a number (42)"),
        "{error}"
    );
    // A login missing, an unknown status, a profile that is not an object.
    for (user, pointer) in [
        (
            r#"{"id": "00u9", "profile": {"email": "x@acme.com"}}"#,
            "/2/profile/login: is required",
        ),
        (
            r#"{"id": "00u9", "status": "GONE", "profile": {"login": "x"}}"#,
            "/2/status: unknown status \"GONE\"",
        ),
        (
            r#"{"id": "00u9", "profile": "x"}"#,
            "/2/profile: expected an object",
        ),
        (r#"{"profile": {"login": "x"}}"#, "/2/id: is required"),
        (
            r#"{"id": "00u1", "profile": {"login": "x"}}"#,
            "/2/id: account id \"00u1\" is already used on /0",
        ),
        (
            r#"{"id": "00u9", "profile": {"login": "x\u0007y"}}"#,
            "/2/profile/login:",
        ),
    ] {
        let users = OKTA_USERS.replace("\n]", &format!(",\n  {user}\n]"));
        let dir = okta_folder(&users, None, &[]);
        let error = error_of(&dir);
        assert!(
            error.contains(&format!("users.json: {pointer}")),
            "{user}: {error}"
        );
    }
    // A member who is no user of users.json: the members file and the member's pointer.
    let dir = okta_folder(
        OKTA_USERS,
        Some(r#"[{"id": "00g1", "type": "OKTA_GROUP", "profile": {"name": "Staff"}}]"#),
        &[("00g1", r#"[{"id": "00u1"}, {"id": "00u7"}]"#)],
    );
    let error = error_of(&dir);
    assert!(
        error.contains("users.json: /1/id: member \"00u7\" is not a user of users.json")
            && error.contains("00g1"),
        "{error}"
    );
    let skipped = read_directory_file(dir.path(), ReadOptions::skipping_invalid()).unwrap();
    assert_eq!(skipped.skipped.len(), 1, "{:?}", skipped.skipped);
    assert_eq!(members(&skipped.directory, "00g1"), ["00u1"]);
    // A group without a name; a members file of no group.
    let dir = okta_folder(
        OKTA_USERS,
        Some(
            r#"[{"id": "00g1", "profile": {"name": "Staff"}}, {"id": "00g2", "profile": {"description": "x"}}]"#,
        ),
        &[("00g3", r#"[{"id": "00u1"}]"#)],
    );
    let error = error_of(&dir);
    assert!(
        error.contains("groups.json: /1/profile/name: is required"),
        "{error}"
    );
    let skipped = read_directory_file(dir.path(), ReadOptions::skipping_invalid()).unwrap();
    let reasons: Vec<String> = skipped.skipped.iter().map(|d| d.to_string()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[1].contains("00g3") && reasons[1].contains("no group with id \"00g3\""),
        "{reasons:?}"
    );
    assert_eq!(skipped.directory.accounts.len(), 2);
    // Not JSON, an Okta error body saved by a failed request, a user in the groups list.
    let dir = okta_folder(
        "[{\"id\": \"00u1\",\n \"profile\": {\"login\": }}]",
        None,
        &[],
    );
    let error = error_of(&dir);
    assert!(error.contains("users.json:2: not valid JSON"), "{error}");
    let dir = okta_folder(
        r#"{"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorId": "oae1"}"#,
        None,
        &[],
    );
    let error = error_of(&dir);
    assert!(
        error.contains("users.json")
            && error.contains("Okta error response (E0000011: Invalid token provided)"),
        "{error}"
    );
    let dir = okta_folder(OKTA_USERS, Some(OKTA_USERS), &[]);
    let error = error_of(&dir);
    assert!(
        error.contains("groups.json: /0: expected an Okta group"),
        "{error}"
    );
}

#[test]
fn okta_is_told_apart_from_scim_json_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let okta = dir.path().join("people.json");
    std::fs::write(&okta, OKTA_USERS).unwrap();
    assert_eq!(
        read_directory_file(&okta, ReadOptions::default())
            .unwrap()
            .directory
            .accounts
            .len(),
        2
    );
    let scim = dir.path().join("scim.json");
    std::fs::write(
        &scim,
        r#"[{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "ana", "name": {"givenName": "Ana"}}]"#,
    )
    .unwrap();
    let imported = read_directory_file(&scim, ReadOptions::default()).unwrap();
    assert_eq!(
        imported.directory.accounts[0].username.as_deref(),
        Some("ana")
    );
}
