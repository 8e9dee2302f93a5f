//! `crosswalk-ldap` against a real OpenLDAP slapd started for each test (see
//! `tests/support/slapd.rs`): paging past the server's size limit, the same conversion as
//! the LDIF reader, credentials that never show.

#[path = "../support/slapd.rs"]
mod slapd;

use crosswalk_formats::ReadOptions;
use crosswalk_ldap::{LdapError, LdapOptions, read_directory};
use slapd::*;

/// More people than the reader may see in one search, and than one page holds.
const MANY: usize = 250;
const PAGE: i32 = 40;

fn credentials(server: &Slapd, dn: &str, password: &str) -> std::path::PathBuf {
    let path = server.dir().join(format!("bind-{password}.txt"));
    std::fs::write(&path, format!("{dn}\n{password}\n")).unwrap();
    path
}

fn options(server: &Slapd) -> LdapOptions {
    LdapOptions {
        base: Some(SUFFIX.to_string()),
        credentials_file: Some(credentials(server, READER_DN, READER_PASSWORD)),
        page_size: Some(PAGE),
        ..LdapOptions::default()
    }
}

#[test]
fn reads_people_and_groups_through_pages_with_the_ldif_conversion() {
    let Some(server) = Slapd::start(&sample_ldif(MANY)) else {
        return;
    };
    let imported = read_directory(&server.url, &options(&server), ReadOptions::default()).unwrap();
    let directory = &imported.directory;
    assert_eq!(directory.name, "127.0.0.1");
    assert_eq!(
        directory.accounts.len(),
        2 + MANY + 3,
        "every person, past the size limit of {SIZE_LIMIT}"
    );
    assert_eq!(directory.groups.len(), 5);
    let account = |username: &str| {
        directory
            .accounts
            .iter()
            .find(|a| a.username.as_deref() == Some(username))
            .unwrap()
    };
    let group = |name: &str| directory.groups.iter().find(|g| g.name == name).unwrap();

    let zoe = account("zoe");
    assert_eq!(zoe.display_name.as_deref(), Some("Zoë Ångström"));
    assert_eq!(zoe.email.as_deref(), Some("zoe@example.com"));
    assert_eq!(zoe.alias_emails, ["z.angstrom@example.com"]);
    assert_eq!(
        zoe.id.len(),
        36,
        "OpenLDAP's entryUUID is the id: {}",
        zoe.id
    );

    let ada = account("ada");
    assert_eq!(ada.id, ADA_GUID, "objectGUID as its text");
    assert_eq!(
        ada.email.as_deref(),
        Some("ada@example.com"),
        "the SMTP: primary"
    );
    assert_eq!(
        ada.alias_emails,
        ["ada.admin@example.com"],
        "smtp: aliases; X500: is no mail address"
    );
    assert!(ada.active);
    assert!(
        !account("otimer").active,
        "userAccountControl 514 has the disabled bit"
    );
    let support = account("support");
    assert!(!support.active);
    assert_eq!(support.email.as_deref(), Some("support@example.com"));
    assert_eq!(support.alias_emails, ["helpdesk@example.com"]);

    let everyone = group("everyone");
    assert_eq!(
        everyone.members.len(),
        2 + MANY,
        "a group larger than a page"
    );
    let engineering = group("engineering");
    assert!(engineering.members.contains(&zoe.id));
    assert!(engineering.members.contains(&everyone.id), "nested group");
    assert!(
        engineering.members.contains(&group("AD Staff").id),
        "nested, its DN written in another case"
    );
    let mut staff = group("staff").members.clone();
    staff.sort();
    let mut expected = vec![account("jdoe").id.clone(), zoe.id.clone()];
    expected.sort();
    assert_eq!(staff, expected, "posixGroup memberUid by username");
    assert_eq!(
        group("admins").members,
        [account("jdoe").id.clone()],
        "uniqueMember, DN compared caselessly"
    );
    assert_eq!(
        group("AD Staff").members,
        [ada.id.clone(), account("otimer").id.clone()]
    );
}

#[test]
fn a_wrong_password_is_refused_without_showing_it() {
    let Some(server) = Slapd::start(&sample_ldif(3)) else {
        return;
    };
    let options = LdapOptions {
        credentials_file: Some(credentials(&server, READER_DN, "not-the-password")),
        ..options(&server)
    };
    let error = read_directory(&server.url, &options, ReadOptions::default()).unwrap_err();
    assert!(matches!(error, LdapError::Server { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("bind") && message.contains(READER_DN),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
}

#[test]
fn bad_base_filter_and_unreachable_servers_say_what_to_do() {
    let Some(server) = Slapd::start(&sample_ldif(3)) else {
        return;
    };
    let options_with = |base: &str, filter: &str| LdapOptions {
        base: Some(base.to_string()),
        filter: Some(filter.to_string()),
        ..options(&server)
    };
    let error = read_directory(
        &server.url,
        &options_with("ou=nowhere,dc=example,dc=com", "(objectClass=*)"),
        ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("ou=nowhere") && error.contains("--ldap-base"),
        "{error}"
    );
    let error = read_directory(
        &server.url,
        &options_with(SUFFIX, "(objectClass=person"),
        ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("(objectClass=person"), "{error}");
    // The server's own base DN is found when none is given.
    let found = read_directory(
        &server.url,
        &LdapOptions {
            base: None,
            ..options(&server)
        },
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(found.directory.accounts.len(), 2 + 3 + 3);
    drop(server);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = read_directory(
        &format!("ldap://127.0.0.1:{port}"),
        &LdapOptions::default(),
        ReadOptions::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("cannot connect"), "{error}");
}

#[test]
fn a_member_outside_the_directory_fails_or_is_skipped() {
    let mut ldif = sample_ldif(2);
    ldif.push_str(&format!(
        "dn: cn=partners,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: partners\nmember: uid=ghost,ou=gone,{SUFFIX}\n\n"
    ));
    let Some(server) = Slapd::start(&ldif) else {
        return;
    };
    let error = read_directory(&server.url, &options(&server), ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cn=partners,ou=groups") && error.contains("uid=ghost,ou=gone"),
        "{error}"
    );
    assert!(error.contains("member"), "{error}");
    let imported = read_directory(
        &server.url,
        &options(&server),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    assert_eq!(imported.skipped.len(), 1);
    assert!(
        imported
            .directory
            .groups
            .iter()
            .any(|g| g.name == "partners" && g.members.is_empty())
    );
}
