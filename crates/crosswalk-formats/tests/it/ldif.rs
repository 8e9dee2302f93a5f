//! The LDIF reader on exports shaped as OpenLDAP's slapcat and AD's ldifde write them
//! (`tests/samples/*.ldif`), on bad input, and as properties: folding and base64 never
//! change what is read, and no input panics.

use crosswalk_core::{Account, Directory, Group};
use crosswalk_formats::{DirectoryFormat, ReadOptions, read_directory_file, read_ldif};
use proptest::prelude::*;

const SLAPCAT: &str = include_str!("../samples/openldap-slapcat.ldif");
const LDIFDE: &str = include_str!("../samples/ad-ldifde.ldif");

fn read(text: &str) -> Directory {
    read_ldif("export.ldif", text.as_bytes(), ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .directory
}

fn error(text: &str) -> String {
    read_ldif("export.ldif", text.as_bytes(), ReadOptions::default())
        .unwrap_err()
        .to_string()
}

fn account<'d>(directory: &'d Directory, username: &str) -> &'d Account {
    directory
        .accounts
        .iter()
        .find(|a| a.username.as_deref() == Some(username))
        .unwrap_or_else(|| panic!("no {username}"))
}

fn group<'d>(directory: &'d Directory, name: &str) -> &'d Group {
    directory
        .groups
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

fn members<'d>(directory: &'d Directory, name: &str) -> Vec<String> {
    let group = group(directory, name);
    group
        .members
        .iter()
        .map(|id| match directory.accounts.iter().find(|a| a.id == *id) {
            Some(account) => account.username.clone().unwrap_or_default().to_string(),
            None => format!(
                "group:{}",
                directory.groups.iter().find(|g| g.id == *id).unwrap().name
            ),
        })
        .collect()
}

#[test]
fn slapcat_export_reads_people_groups_and_memberships() {
    let directory = read(SLAPCAT);
    assert_eq!(directory.name, "export");
    let usernames: Vec<_> = directory
        .accounts
        .iter()
        .filter_map(|a| a.username.as_deref())
        .collect();
    assert_eq!(
        usernames,
        ["jdoe", "zoe", "former", "helpdesk"],
        "cn=admin is a role, not an account"
    );
    let jdoe = account(&directory, "jdoe");
    assert_eq!(
        jdoe.id, "1b2c0000-0000-1000-8000-000000000010",
        "entryUUID is the id"
    );
    assert_eq!(jdoe.email.as_deref(), Some("john.doe@example.org"));
    assert_eq!(
        jdoe.alias_emails,
        ["jd@example.org"],
        "a second mail value is an alias"
    );
    assert_eq!(jdoe.display_name.as_deref(), Some("John Doe"));
    let zoe = account(&directory, "zoe");
    assert_eq!(zoe.given_name.as_deref(), Some("Zoë"), "base64 value");
    assert_eq!(zoe.family_name.as_deref(), Some("Ångström"));
    assert_eq!(
        zoe.display_name.as_deref(),
        Some("Zoë Ångström (Research and Development, Stockholm office, building 7)"),
        "a folded base64 line"
    );
    assert!(
        !account(&directory, "former").active,
        "pwdAccountLockedTime locks the account"
    );
    assert!(jdoe.active);
    let helpdesk = account(&directory, "helpdesk");
    assert_eq!(
        (helpdesk.email.as_deref(), helpdesk.alias_emails.as_slice()),
        (
            Some("helpdesk@example.org"),
            ["support@example.org".into()].as_slice()
        )
    );

    assert_eq!(
        members(&directory, "developers"),
        ["jdoe", "zoe"],
        "the cn=admin placeholder dropped; DNs compared caselessly"
    );
    assert_eq!(
        members(&directory, "everyone"),
        ["group:developers", "helpdesk"],
        "nested group; uniqueMember's #'0101'B dropped"
    );
    assert_eq!(
        members(&directory, "staff"),
        ["jdoe", "former"],
        "posixGroup memberUid"
    );
}

#[test]
fn ldifde_export_reads_guids_sids_proxy_addresses_and_the_disabled_bit() {
    let directory = read(LDIFDE);
    let usernames: Vec<_> = directory
        .accounts
        .iter()
        .filter_map(|a| a.username.as_deref())
        .collect();
    assert_eq!(
        usernames,
        ["alovelace", "jmuller", "otimer", "support"],
        "the computer BUILD01$ is no account"
    );
    let ada = account(&directory, "alovelace");
    assert_eq!(
        ada.id, "5f7c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f",
        "objectGUID in its usual text"
    );
    assert_eq!(ada.email.as_deref(), Some("ada.lovelace@example.com"));
    assert_eq!(
        ada.alias_emails,
        ["ada@example.com"],
        "smtp: aliases; the SMTP: primary equals mail; X500: is no address"
    );
    assert!(ada.active);
    let jose = account(&directory, "jmuller");
    assert_eq!(
        jose.display_name.as_deref(),
        Some("José Müller"),
        "base64 DN and values"
    );
    assert_eq!(jose.alias_emails, ["josé.müller@example.com"]);
    assert!(jose.active, "66048 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD");
    assert!(
        !account(&directory, "otimer").active,
        "514 = NORMAL_ACCOUNT | ACCOUNTDISABLE"
    );
    let support = account(&directory, "support");
    assert!(!support.active, "a shared mailbox is a disabled user");
    assert_eq!(
        support.email.as_deref(),
        Some("support@example.com"),
        "no mail: the SMTP: primary"
    );
    assert_eq!(support.alias_emails, ["help@example.com"]);
    assert_eq!(
        members(&directory, "Engineering"),
        ["alovelace", "jmuller", "group:Platform"]
    );
    assert_eq!(members(&directory, "Platform"), ["support"], "nested");
    assert_eq!(
        group(&directory, "Engineering").id,
        "e0e0e0e0-0000-4000-8000-000000000002"
    );
}

#[test]
fn objectsid_is_the_id_when_there_is_no_guid() {
    let text = "dn: CN=A,DC=x\nobjectClass: user\nsAMAccountName: a\nobjectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUAQAAA==\n";
    assert_eq!(
        read(text).accounts[0].id,
        "S-1-5-21-1004336348-1177238915-682003330-1104"
    );
}

#[test]
fn ldapsearch_output_with_its_comments_and_trailer_reads() {
    let text = "# extended LDIF\n#\n# LDAPv3\n# base <dc=example,dc=org> with scope subtree\n# requesting: ALL\n#\n\n\
                # jdoe, people, example.org\ndn: uid=jdoe,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: jdoe\n\
                cn: John Doe\nsn: Doe\n\n# search result\nsearch: 2\nresult: 0 Success\n\n# numResponses: 2\n# numEntries: 1\n";
    let directory = read(text);
    assert_eq!(directory.accounts.len(), 1);
    assert_eq!(
        directory.accounts[0].id, "uid=jdoe,ou=people,dc=example,dc=org",
        "no entryUUID asked for: the DN"
    );
    assert_eq!(
        DirectoryFormat::sniff(text.as_bytes()),
        DirectoryFormat::Ldif
    );
}

#[test]
fn format_is_picked_by_extension_or_content() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["export.ldif", "export.txt", "export.LDF"] {
        let path = dir.path().join(name);
        std::fs::write(&path, SLAPCAT).unwrap();
        assert_eq!(
            read_directory_file(&path, ReadOptions::default())
                .unwrap()
                .directory
                .accounts
                .len(),
            4,
            "{name}"
        );
    }
}

#[test]
fn bad_input_names_file_line_and_attribute() {
    let cases: [(&str, &str); 11] = [
        (
            "dn: uid=a,dc=x\nobjectClass: person\njpegPhoto:< file:///etc/passwd\n",
            "export.ldif:3: field \"jpegphoto\": the value is a URL",
        ),
        (
            "dn: uid=a,dc=x\nchangetype: modify\nreplace: mail\n",
            "export.ldif:2: field \"changetype\": this is an LDIF change file",
        ),
        (
            "dn: uid=a,dc=x\nobjectClass: person\ncn:: not*base64\n",
            "export.ldif:3: field \"cn\": a \"::\" value is base64",
        ),
        (
            "uid,mail\na,a@x\n",
            "export.ldif:1: expected \"attribute: value\", found \"uid,mail\"",
        ),
        (
            "dn: uid=a,dc=x\nobjectClass: person\n\n continued\n",
            "export.ldif:4: a continuation line",
        ),
        (
            "dn: CN=A,DC=x\nobjectClass: user\nobjectGUID:: AAEC\n",
            "export.ldif:1: field \"objectGUID\": expected 16 bytes",
        ),
        (
            "dn: CN=A,DC=x\nobjectClass: user\nuserAccountControl: lots\n",
            "export.ldif:1: field \"userAccountControl\": expected a number",
        ),
        (
            "dn: CN=G,DC=x\nobjectClass: group\nmember;range=0-1499: CN=A,DC=x\n",
            "export.ldif:1: field \"member\": holds only part of the members",
        ),
        (
            "dn: cn=g,dc=x\nobjectClass: groupOfNames\ncn: g\nmember: uid=ghost,dc=x\n",
            "export.ldif:1: field \"member\": member \"uid=ghost,dc=x\" is no entry of this export",
        ),
        (
            "dn: uid=a,dc=x\nobjectClass: person\nentryUUID: 1\n\ndn: uid=b,dc=x\nobjectClass: person\nentryUUID: 1\n",
            "export.ldif:5: field \"id\": account id \"1\" is already used on line 1",
        ),
        (
            "version: 2\ndn: uid=a,dc=x\n",
            "export.ldif:1: field \"version\": only LDIF version 1",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(
            message.starts_with(expected),
            "{text:?}\ngave: {message}\nwanted: {expected}"
        );
    }
    let utf16 = b"\xFF\xFEd\0n\0:\0";
    let message = read_ldif("export.ldif", &utf16[..], ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("UTF-16"), "{message}");
    let message = error("dn: cn=g,dc=x\nobjectClass: posixGroup\ncn: g\nmemberUid: nobody\n");
    assert!(
        message.contains("memberUid") && message.contains("\"nobody\""),
        "{message}"
    );
}

#[test]
fn skip_invalid_leaves_bad_entries_out_and_lists_them() {
    let text = "dn: uid=a,dc=x\nobjectClass: person\nuid: a\n\n\
                dn: uid=b,dc=x\nobjectClass: person\ncn:: !!!\n\n\
                dn: cn=g,dc=x\nobjectClass: groupOfNames\ncn: g\nmember: uid=a,dc=x\nmember: uid=b,dc=x\nmember: uid=zed,dc=x\n";
    assert!(error(text).starts_with("export.ldif:7: field \"cn\""));
    let imported = read_ldif(
        "export.ldif",
        text.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    assert_eq!(imported.directory.accounts.len(), 1);
    assert_eq!(imported.directory.groups[0].members, ["uid=a,dc=x"]);
    let skipped: Vec<String> = imported.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].starts_with("export.ldif:7: field \"cn\""),
        "{skipped:?}"
    );
    assert!(
        skipped[1].contains("\"uid=b,dc=x\" was skipped as invalid"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].contains("\"uid=zed,dc=x\" is no entry of this export"),
        "{skipped:?}"
    );
}

/// One generated person: what is written, and what must be read back.
#[derive(Debug, Clone)]
struct Person {
    uid: String,
    cn: String,
    mail: String,
    disabled: bool,
}

fn person() -> impl Strategy<Value = Person> {
    (
        "[a-z][a-z0-9]{0,7}",
        "[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .,'-]{0,40}[A-Za-zÀ-ÿ]",
        "[a-z]{1,8}@[a-z]{1,8}\\.(com|org)",
        any::<bool>(),
    )
        .prop_map(|(uid, cn, mail, disabled)| Person {
            uid,
            cn,
            mail,
            disabled,
        })
}

/// Writes `value` as LDIF may: plain when RFC 2849 allows it and `plain` says so, else base64.
fn value_line(attribute: &str, value: &str, plain: bool) -> String {
    let safe = value.is_ascii() && !value.starts_with([' ', ':', '<']) && !value.ends_with(' ');
    if safe && plain {
        format!("{attribute}: {value}")
    } else {
        use base64::Engine as _;
        format!(
            "{attribute}:: {}",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// Folds a line every `width` bytes (on character boundaries), as exporters do.
fn fold(line: &str, width: usize) -> String {
    let mut out = String::new();
    let mut taken = 0;
    for c in line.chars() {
        if taken >= width {
            out.push_str("\n ");
            taken = 0;
        }
        out.push(c);
        taken += c.len_utf8();
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Folding, base64, CRLF and the order of entries never change what is read.
    #[test]
    fn folding_and_base64_do_not_change_what_is_read(
        people in proptest::collection::vec(person(), 1..12),
        width in 2usize..80,
        plain in any::<bool>(),
        crlf in any::<bool>(),
        group_first in any::<bool>(),
    ) {
        let mut seen = std::collections::HashSet::new();
        let people: Vec<Person> = people.into_iter().filter(|p| seen.insert(p.uid.clone())).collect();
        let mut entries = Vec::new();
        for p in &people {
            let dn = format!("uid={},ou=people,dc=example,dc=com", p.uid);
            let lines = [
                value_line("dn", &dn, plain),
                "objectClass: user".to_string(),
                value_line("sAMAccountName", &p.uid, plain),
                value_line("cn", &p.cn, plain),
                value_line("mail", &p.mail, !plain),
                format!("userAccountControl: {}", if p.disabled { 514 } else { 512 }),
            ];
            entries.push(lines.iter().map(|l| fold(l, width)).collect::<Vec<_>>().join("\n"));
        }
        let mut group = vec!["dn: cn=all,dc=example,dc=com".to_string(), "objectClass: groupOfNames".into(), "cn: all".into()];
        for p in people.iter().rev() {
            group.push(fold(&value_line("member", &format!("UID={}, OU=People,DC=Example,DC=Com", p.uid.to_uppercase()), plain), width));
        }
        let group = group.join("\n");
        if group_first { entries.insert(0, group) } else { entries.push(group) }
        let mut text = entries.join("\n\n") + "\n";
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let directory = read(&text);
        prop_assert_eq!(directory.accounts.len(), people.len());
        for (account, p) in directory.accounts.iter().zip(&people) {
            prop_assert_eq!(account.username.as_deref(), Some(p.uid.as_str()));
            prop_assert_eq!(account.display_name.as_deref(), Some(p.cn.as_str()));
            prop_assert_eq!(account.email.as_deref(), Some(p.mail.as_str()));
            prop_assert_eq!(account.active, !p.disabled);
        }
        let expected: Vec<_> = directory.accounts.iter().rev().map(|a| a.id.clone()).collect();
        prop_assert_eq!(&directory.groups[0].members, &expected);
    }

    /// Random edits of the samples: no panic, and whatever is accepted passes the core's check.
    #[test]
    fn edited_samples_never_panic(
        sample in 0usize..2,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let mut bytes = [SLAPCAT, LDIFDE][sample].as_bytes().to_vec();
        for (at, op, byte) in edits {
            let at = at.index(bytes.len() + 1);
            match op {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
            if let Ok(imported) = read_ldif("fuzz.ldif", bytes.as_slice(), options) {
                prop_assert!(imported.directory.check().is_ok());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = b"dn: cn=x\n".to_vec();
        input.extend_from_slice(&bytes);
        for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
            let _ = read_ldif("fuzz.ldif", bytes.as_slice(), options);
            let _ = read_ldif("fuzz.ldif", input.as_slice(), options);
        }
    }
}
