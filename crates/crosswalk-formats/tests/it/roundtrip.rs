//! Round trips: what the writers write, the readers read back as the same directory.

use crosswalk_core::IdentityKind;
use crosswalk_core::{Account, Directory, Group};
use crosswalk_formats::exports::write_entra_csv;
use crosswalk_formats::ldif::entry_uuid_of;
use crosswalk_formats::{
    ReadOptions, read_directory_csv, read_directory_file, read_ldif, read_scim,
    write_directory_csv, write_ldif, write_scim_jsonl, write_scim_list_response,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;

/// Text that is not blank: printable Unicode, or a soup of the characters formats choke on.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "\\PC{1,16}",
        "[a\",;\n\r\t =+@'\\\\{}\\[\\]:é\u{feff}]{1,8}",
    ]
    .prop_filter("not blank", |s| !s.trim().is_empty())
    .boxed()
}

/// Text that can name an identity: [`text`] without the control and invisible characters
/// no id, username, address or group name may hold (the readers refuse them).
fn identifier() -> BoxedStrategy<String> {
    text()
        .prop_map(|s| {
            s.chars()
                .map(|c| {
                    if crosswalk_core::directory::forbidden_in_identifier(c).is_some() {
                        '_'
                    } else {
                        c
                    }
                })
                .collect()
        })
        .boxed()
}

/// An alias the directory CSV can hold: no `;`, no surrounding spaces.
fn alias() -> BoxedStrategy<String> {
    identifier()
        .prop_map(|s| s.replace(';', ",").trim().to_string())
        .prop_filter("not blank", |s| !s.is_empty())
        .boxed()
}

fn account() -> impl Strategy<Value = Account> {
    (
        identifier(),
        option::of(identifier()),
        option::of(identifier()),
        vec(alias(), 0..3),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        any::<bool>(),
        option::of(text()),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(
                id,
                username,
                email,
                alias_emails,
                display_name,
                given_name,
                family_name,
                active,
                source_directory,
                email_verified,
            )| {
                Account {
                    id: id.into(),
                    username: username.map(Into::into),
                    email: email.map(Into::into),
                    alias_emails: alias_emails.into_iter().map(Into::into).collect(),
                    display_name: display_name.map(Into::into),
                    given_name: given_name.map(Into::into),
                    family_name: family_name.map(Into::into),
                    active,
                    source_directory: source_directory.map(Into::into),
                    email_verified,
                }
            },
        )
}

fn directory() -> impl Strategy<Value = Directory> {
    let group = (
        identifier(),
        identifier(),
        option::of(text()),
        vec(any::<Index>(), 0..5),
    );
    (vec(account(), 0..6), vec(group, 0..4)).prop_map(|(mut accounts, groups)| {
        // Ids must be unique per kind; a suffix makes them so whatever the text was.
        for (i, account) in accounts.iter_mut().enumerate() {
            account.id = format!("{}#{i}", account.id).into();
        }
        let group_ids: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, (id, ..))| format!("{id}#g{i}"))
            .collect();
        let all_ids: Vec<String> = accounts
            .iter()
            .map(|a| a.id.to_string())
            .chain(group_ids.iter().cloned())
            .collect();
        let groups = groups
            .into_iter()
            .zip(group_ids)
            .map(|((_, name, display_name, members), id)| Group {
                id: id.into(),
                name: name.into(),
                display_name: display_name.map(Into::into),
                members: members
                    .iter()
                    .map(|m| all_ids[m.index(all_ids.len())].as_str().into())
                    .collect(),
            })
            .collect();
        Directory {
            name: "people".into(),
            accounts,
            groups,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn directory_csv_round_trips(directory in directory()) {
        let mut out = Vec::new();
        write_directory_csv(&directory, &mut out).unwrap();
        let imported = read_directory_csv("people.csv", &out[..], ReadOptions::default());
        let imported = imported.map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&out))))?;
        prop_assert!(imported.skipped.is_empty());
        prop_assert_eq!(imported.directory, directory);
    }

    #[test]
    fn scim_round_trips(mut directory in directory()) {
        // SCIM takes the first address as primary when none is marked: an account with
        // aliases but no primary cannot keep that shape (documented on the writers).
        for account in &mut directory.accounts {
            if account.email.is_none() {
                account.alias_emails.clear();
            }
        }
        let mut jsonl = Vec::new();
        write_scim_jsonl(&directory, &mut jsonl).unwrap();
        let imported = read_scim("people.jsonl", &jsonl[..], ReadOptions::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&jsonl))))?;
        prop_assert_eq!(&imported.directory, &directory);

        let mut list = Vec::new();
        write_scim_list_response(&directory, &mut list).unwrap();
        let imported = read_scim("people.json", &list[..], ReadOptions::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&list))))?;
        prop_assert_eq!(&imported.directory, &directory);
    }
}

fn person(id: &str, username: Option<&str>, email: Option<&str>, display: Option<&str>) -> Account {
    Account {
        id: id.into(),
        username: username.map(Into::into),
        email: email.map(Into::into),
        display_name: display.map(Into::into),
        active: true,
        ..Account::default()
    }
}

/// A small directory with what LDIF and Entra make hard: accents, characters a DN escapes,
/// two accounts with one username, a group named like another, aliases, a disabled account,
/// a nested group, a value long enough to fold.
fn awkward_directory() -> Directory {
    let mut zoe = person(
        "JIRAUSER10001",
        Some("zoe"),
        Some("zoe.muller@acme.com"),
        Some("Zoë Müller"),
    );
    zoe.given_name = Some("Zoë".into());
    zoe.family_name = Some("Müller".into());
    zoe.alias_emails = vec!["zoe@acme-corp.com".into()];
    let mut left = person(
        "JIRAUSER10002",
        Some("doe, john+admin"),
        Some("john.doe@acme.com"),
        Some("#Doe, John"),
    );
    left.active = false;
    let twin = person("JIRAUSER10003", Some("ZOE"), None, None);
    let long = "x".repeat(150);
    let far = person(
        "u-4",
        Some("ada@acme.com"),
        Some(&format!("{long}@acme.com")),
        Some("Ada"),
    );
    Directory {
        name: "source".into(),
        accounts: vec![zoe, left, twin, far],
        groups: vec![
            Group {
                id: "G1".into(),
                name: "engineering".into(),
                display_name: None,
                members: vec!["JIRAUSER10001".into(), "G2".into()],
            },
            Group {
                id: "G2".into(),
                name: "Engineering".into(),
                display_name: Some("Eng (old)".into()),
                members: vec!["JIRAUSER10002".into(), "JIRAUSER10003".into()],
            },
        ],
    }
}

#[test]
fn ldif_written_for_benchmarks_reads_back_with_entry_uuids() {
    let directory = awkward_directory();
    let mut out = Vec::new();
    write_ldif(&directory, "dc=example,dc=com", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.lines().all(|l| l.len() <= 76),
        "folded at 76 columns:\n{text}"
    );
    let read = read_ldif("source.ldif", text.as_bytes(), ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .directory;

    let mut expected = directory.clone();
    for account in &mut expected.accounts {
        account.id = entry_uuid_of(IdentityKind::Account, &account.id).into();
        // inetOrgPerson has a cn and an sn always: for a missing display name or family
        // name the cn (here the display name, else the username) stands in.
        if account.display_name.is_none() {
            account.display_name = account.username.clone();
        }
        if account.family_name.is_none() {
            account.family_name = account.display_name.clone();
        }
    }
    for group in &mut expected.groups {
        group.id = entry_uuid_of(IdentityKind::Group, &group.id).into();
        for member in &mut group.members {
            let kind = if member.starts_with('G') {
                IdentityKind::Group
            } else {
                IdentityKind::Account
            };
            *member = entry_uuid_of(kind, member).into();
        }
    }
    assert_eq!(read.accounts, expected.accounts, "\n{text}");
    assert_eq!(read.groups, expected.groups, "\n{text}");
    assert_ne!(
        entry_uuid_of(IdentityKind::Account, "G1"),
        entry_uuid_of(IdentityKind::Group, "G1")
    );
}

#[test]
fn entra_download_written_for_benchmarks_reads_back() {
    let directory = awkward_directory();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.csv");
    write_entra_csv(
        &directory,
        "acme.onmicrosoft.com",
        std::fs::File::create(&path).unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with("\u{feff}userPrincipalName,displayName,surname,mail".as_bytes()));
    // Found as Entra by its header, as `crosswalk run --source users.csv` finds it.
    let imported =
        read_directory_file(&path, ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let read = imported.directory;
    assert!(read.groups.is_empty());
    let upns: Vec<_> = read
        .accounts
        .iter()
        .map(|a| a.username.as_deref().unwrap())
        .collect();
    assert_eq!(
        upns,
        [
            "zoe@acme.onmicrosoft.com",
            "doe, john+admin@acme.onmicrosoft.com",
            "ZOE@acme.onmicrosoft.com",
            "ada@acme.com",
        ]
    );
    for (read, written) in read.accounts.iter().zip(&directory.accounts) {
        assert_eq!(read.id, written.id);
        assert_eq!(read.email, written.email);
        assert_eq!(
            read.display_name,
            written.display_name.as_ref().map(|n| n.trim().into())
        );
        assert_eq!(read.given_name, written.given_name);
        assert_eq!(read.family_name, written.family_name);
        assert_eq!(read.active, written.active);
        assert!(
            read.alias_emails.is_empty(),
            "the download has no proxyAddresses"
        );
    }
}
