//! A cheap, stable-Rust stand-in for the cargo-fuzz targets in `fuzz/`: random bytes, and
//! valid files with random edits, fed to every reader. No input may panic, and whatever a
//! directory reader accepts must pass the core's own check.

use crosswalk_formats::{ReadOptions, read_directory_csv, read_exceptions, read_policy, read_scim};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

const SAMPLES: [&str; 10] = [
    "type,id,name,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,group,member\n\
     account,u1,,jdoe,j@acme.com,SMTP:j@acme.com;smtp:jd@acme.com,\"Doe, John\",John,Doe,yes,ldap,1,,\n\
     group,g1,devs,,,,Devs,,,,,,,\nmember,,,,,,,,,,,,g1,u1\n",
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"Resources\":[\n\
     {\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"emails\":[{\"value\":\"a@b.c\",\"primary\":true}],\"active\":\"True\"},\n\
     {\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g1\",\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"}]}]}\n",
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"name\":{\"givenName\":\"J\"}}\n\
     {\"meta\":{\"resourceType\":\"Group\"},\"id\":\"g1\",\"displayName\":\"G\",\"members\":[{\"value\":\"u1\"}]}\n",
    "order = [\"exception\", \"email\"]\n[email]\ndomain_aliases = { \"a.com\" = \"b.com\" }\n[fallback]\ndefault_account = \"x\"\n",
    "# comment\ntype,source,destination\naccount,email:a@b.c,id:1\ngroup,name:g,name:h\n",
    "[{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\"}]",
    "container,item,role,type,identity\nENG,p1,creator,account,u1\nENG,,permission,group,g1\n",
    "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,Exclude,MergeInto\nu1,u,DUPLICATE_EMAIL,a@b.c,,false,account,false,u2\nu3,,MISSING_EMAIL,,x@b.c,false,account,false,\n",
    "[{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"a@b.c\",\"email\":\"a@b.c\",\"secondEmail\":null,\"firstName\":\"Zoë\"},\n\
     \"credentials\":{\"provider\":{\"type\":\"OKTA\"}}},{\"id\":\"00u2\",\"status\":\"SUSPENDED\",\"profile\":{\"login\":\"b\"}}]",
    "SourceValue,DestinationValue\na@b.c,x@y.z\nb@b.c,'+c@y.z\n",
];

/// What every directory a reader accepts holds: the core's check passes, and no identity is
/// named with a character no identifier may hold.
fn assert_sound(directory: &crosswalk_core::Directory) {
    assert!(directory.check().is_ok());
    assert!(
        directory
            .accounts
            .iter()
            .all(|a| a.identifier_problem().is_none())
    );
    assert!(
        directory
            .groups
            .iter()
            .all(|g| g.identifier_problem().is_none())
    );
}

fn read_everything(bytes: &[u8]) {
    for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
        if let Ok(imported) = read_directory_csv("fuzz.csv", bytes, options) {
            assert_sound(&imported.directory);
        }
        if let Ok(imported) = read_scim("fuzz.json", bytes, options) {
            assert_sound(&imported.directory);
        }
    }
    let _ = read_exceptions("fuzz.csv", bytes);
    for options in [ReadOptions::default(), ReadOptions::skipping_invalid()] {
        match crosswalk_formats::exports::okta::read_okta("fuzz.json", bytes, options) {
            Ok(imported) => assert_sound(&imported.directory),
            Err(error) => assert!(error.to_string().starts_with("fuzz.json")),
        }
    }
    for format in crosswalk_formats::peer_maps::PeerFormat::ALL {
        if let Err(problems) =
            crosswalk_formats::peer_maps::read_peer_map(format, "fuzz.csv", bytes)
        {
            assert!(!problems.is_empty());
        }
    }
    let _ = crosswalk_formats::read_items_csv("fuzz.csv", bytes);
    let _ = crosswalk_formats::read_items_jsonl("fuzz.jsonl", bytes);
    if let Err(problems) = crosswalk_formats::read_fixes_csv("fuzz.csv", bytes) {
        assert!(!problems.is_empty());
    }
    let _ = read_policy("fuzz.toml", &String::from_utf8_lossy(bytes));
}

/// Random edits: replace, insert or delete a byte somewhere.
fn mutate(sample: &str, edits: &[(Index, u8, u8)]) -> Vec<u8> {
    let mut bytes = sample.as_bytes().to_vec();
    for (at, op, byte) in edits {
        let at = at.index(bytes.len() + 1);
        match op % 3 {
            0 if at < bytes.len() => bytes[at] = *byte,
            1 => bytes.insert(at, *byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

/// Bytes the formats give meaning to, so random edits hit the parsers' edges.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b",\"\n\r;{}[]:#=\\ 0tf-".to_vec())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        read_everything(&bytes);
    }

    #[test]
    fn edited_valid_files_never_panic(
        sample in prop::sample::select(SAMPLES.to_vec()),
        edits in vec((any::<Index>(), any::<u8>(), interesting_byte()), 1..8),
    ) {
        read_everything(&mutate(sample, &edits));
    }
}

#[test]
fn the_samples_are_valid() {
    assert!(read_directory_csv("s.csv", SAMPLES[0].as_bytes(), ReadOptions::default()).is_ok());
    for sample in [SAMPLES[1], SAMPLES[2], SAMPLES[5]] {
        read_scim("s.json", sample.as_bytes(), ReadOptions::default()).unwrap();
    }
    read_policy("s.toml", SAMPLES[3]).unwrap();
    let okta = crosswalk_formats::exports::okta::read_okta(
        "s.json",
        SAMPLES[8].as_bytes(),
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(okta.directory.accounts.len(), 2);
    assert!(
        crosswalk_formats::peer_maps::read_peer_map(
            crosswalk_formats::peer_maps::PeerFormat::ShareGate,
            "s.csv",
            SAMPLES[9].as_bytes()
        )
        .is_ok()
    );
    assert_eq!(
        read_exceptions("s.csv", SAMPLES[4].as_bytes())
            .unwrap()
            .len(),
        2
    );
}
