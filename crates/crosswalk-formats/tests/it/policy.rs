//! The policy reader: the example file, and what each kind of mistake is reported as.

use std::collections::BTreeMap;

use crosswalk_core::{DuplicateClaims, Method, Policy};
use crosswalk_formats::{FormatError, read_policy, read_policy_file};

fn example_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy.example.toml")
}

#[track_caller]
fn assert_fails(text: &str, parts: &[&str]) -> FormatError {
    let error = read_policy("policy.toml", text).expect_err("the policy should be refused");
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
    error
}

#[test]
fn the_example_policy_is_the_default_policy() {
    let policy = read_policy_file(example_path()).unwrap();
    assert_eq!(policy, Policy::default());
}

#[test]
fn the_example_mentions_every_field() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let defaults = toml::Value::try_from(Policy::default()).unwrap();
    // `default_account` defaults to none, which TOML cannot write, so serialising skips it.
    let mut fields = vec!["default_account =".to_string()];
    for (key, value) in defaults.as_table().unwrap() {
        match value.as_table() {
            Some(table) => {
                fields.push(format!("[{key}]"));
                fields.extend(table.keys().map(|k| format!("{k} =")));
            }
            None => fields.push(format!("{key} =")),
        }
    }
    // Empty lists of tables are not serialised either; they are documented as examples.
    fields.push("[[transforms]]".to_string());
    assert!(fields.len() >= 12, "{fields:?}");
    for field in fields {
        assert!(text.contains(&field), "the example does not show {field}");
    }
}

#[test]
fn the_examples_in_the_comments_are_valid() {
    let text = r#"
        order = ["exception", "email", "name"]
        duplicate_claims = "merge"
        [email]
        domain_aliases = { "acme-corp.com" = "acme.com", "acme.co.uk" = "acme.com" }
        require_verified = false
        subaddress_domains = ["acme.com"]
        subaddress_separator = "-"
        [name]
        organisation_domains = ["acme.com"]
        [groups]
        reserved = []
        [fallback]
        external_domains = ["contractor.example"]
        provision = true
        passthrough = true
        default_account = "migration-owner@acme.com"
    "#;
    let policy = read_policy("policy.toml", text).unwrap();
    assert_eq!(
        policy.order,
        [Method::Exception, Method::Email, Method::Name]
    );
    assert_eq!(policy.duplicate_claims, DuplicateClaims::Merge);
    assert_eq!(
        policy.email.domain_aliases,
        BTreeMap::from([
            ("acme-corp.com".to_string(), "acme.com".to_string()),
            ("acme.co.uk".to_string(), "acme.com".to_string())
        ])
    );
    assert!(!policy.email.require_verified);
    assert_eq!(
        policy.fallback.default_account.as_deref(),
        Some("migration-owner@acme.com")
    );
    assert_eq!(policy.email.subaddress_domains, ["acme.com"]);

    // The commented [[transforms]] examples at the end of the file, uncommented.
    let example = std::fs::read_to_string(example_path()).unwrap();
    let (_, examples) = example.split_once("# Examples:").unwrap();
    let transforms: String = examples
        .lines()
        .filter_map(|line| line.strip_prefix("#   "))
        .map(|line| format!("{line}\n"))
        .collect();
    let policy = read_policy("policy.example.toml", &transforms)
        .unwrap_or_else(|e| panic!("{e}\n{transforms}"));
    assert_eq!(policy.transforms.len(), 3);

    // Empty means every default.
    assert_eq!(read_policy("policy.toml", "").unwrap(), Policy::default());
}

#[test]
fn bad_toml_names_its_line() {
    let error = assert_fails(
        "provision = true\norder = [\"id\"\n",
        &["policy.toml:", "invalid TOML"],
    );
    assert!(error.location().line.is_some());
    assert_fails(
        "[email\nrequire_verified = true\n",
        &["policy.toml:1: invalid TOML"],
    );
    assert_fails(
        "order = [\"id\"]\norder = [\"email\"]\n",
        &["policy.toml:2: invalid TOML", "duplicate key"],
    );
}

#[test]
fn unknown_fields_are_named_with_their_line() {
    let error = assert_fails(
        "order = []\ncolour = \"blue\"\n",
        &["policy.toml:2: field \"colour\"", "unknown field"],
    );
    assert_eq!(error.field(), Some("colour"));
    assert_fails(
        "[email]\nrequire_verified = true\nrequire_verifed = false\n",
        &[
            "policy.toml:3: field \"email.require_verifed\"",
            "unknown field",
            "require_verified",
        ],
    );
    assert_fails(
        "[fallbacks]\nprovision = true\n",
        &["policy.toml:1: field \"fallbacks\"", "unknown field"],
    );
}

#[test]
fn wrong_types_and_values_are_named_with_their_line() {
    assert_fails(
        "[email]\nrequire_verified = \"yes\"\n",
        &[
            "policy.toml:2: field \"email.require_verified\"",
            "expected a boolean",
        ],
    );
    assert_fails(
        "order = [\"id\",\n  \"emial\"]\n",
        &[
            "policy.toml:2: field \"order[1]\"",
            "unknown variant",
            "emial",
        ],
    );
    assert_fails(
        "duplicate_claims = \"pick one\"\n",
        &["policy.toml:1: field \"duplicate_claims\"", "pick one"],
    );
}

#[test]
fn validation_errors_are_named_with_their_line() {
    assert_fails(
        "order = [\"id\", \"email\", \"id\"]\n",
        &["policy.toml:1: field \"order[2]\"", "listed twice"],
    );
    assert_fails(
        "[name]\norganisation_domains = [\n  \"acme.com\",\n  \"not a domain\",\n]\n",
        &[
            "policy.toml:4: field \"name.organisation_domains[1]\"",
            "not a domain name",
        ],
    );
    assert_fails(
        "[email.domain_aliases]\n\"acme.com\" = \"acme.com\"\n\"acme-corp.com\" = \"localhost\"\n",
        &[
            "policy.toml:3: field \"email.domain_aliases.\\\"acme-corp.com\\\"\"",
            "\"localhost\" is not a domain name",
        ],
    );
    assert_fails(
        "[fallback]\nprovision = true\ndefault_account = \"  \"\n",
        &["policy.toml:3: field \"fallback.default_account\"", "empty"],
    );
    assert_fails(
        "[fallback]\nexternal_domains = [\"bücher\"]\n",
        &["policy.toml:2: field \"fallback.external_domains[0]\""],
    );
}

#[test]
fn unreadable_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.toml");
    let error = read_policy_file(&path).unwrap_err();
    assert!(matches!(error, FormatError::Io { .. }));
    assert!(error.to_string().contains("missing.toml"));
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"provision = true\n# caf\xe9\n").unwrap();
    let error = read_policy_file(&path).unwrap_err().to_string();
    assert!(
        error.contains("latin1.toml:2") && error.contains("UTF-8"),
        "{error}"
    );
}

#[test]
fn transform_errors_are_named_with_their_line() {
    let text = "[[transforms]]\nkind = \"domain\"\nfrom = \"corp.a.com\"\nto = \"a.com\"\n\n\
                [[transforms]]\nkind = \"regex\"\nfield = \"username\"\npattern = '(unclosed'\n";
    assert_fails(
        text,
        &[
            "policy.toml:9: field \"transforms[1].pattern\"",
            "not a valid regular expression",
        ],
    );
    let text = "[[transforms]]\nkind = \"domain\"\nfrom = \"corp.a.com\"\nto = \"a.com\"\n\n[[transforms]]\nkind = \"regex\"\n";
    assert_fails(
        text,
        &["policy.toml:6: field \"transforms[1]\"", "needs `field`"],
    );
    let text = "[[transforms]]\nkind = \"rot13\"\n";
    assert_fails(
        text,
        &[
            "policy.toml:2: field \"transforms[0].kind\"",
            "unknown variant",
        ],
    );
    let text = "[[transforms]]\nkind = \"domain\"\nform = \"a.com\"\n";
    assert_fails(
        text,
        &[
            "policy.toml:3: field \"transforms[0].form\"",
            "unknown field",
        ],
    );
}

/// Values that would change matching wrongly are refused at load, with the line, the key and
/// what to write instead.
#[test]
fn values_that_would_change_matching_wrongly_are_refused() {
    // A `.` would make john.doe@ into john@: another person's address.
    for separator in [".", "_", "x", "+-", "="] {
        assert_fails(
            &format!(
                "[email]\nsubaddress_domains = [\"acme.com\"]\nsubaddress_separator = \"{separator}\"\n"
            ),
            &[
                "policy.toml:3: field \"email.subaddress_separator\"",
                "write \"+\"",
                "\"-\"",
            ],
        );
    }
    for separator in ["+", "-"] {
        read_policy(
            "policy.toml",
            &format!("[email]\nsubaddress_separator = \"{separator}\"\n"),
        )
        .unwrap();
    }
    assert_fails(
        "[email.domain_aliases]\n\"a.example\" = \"b.example\"\n\"b.example\" = \"a.example\"\n",
        &[
            "policy.toml:2: field \"email.domain_aliases.\\\"a.example\\\"\"",
            "cycle",
            "one canonical domain",
        ],
    );
    assert_fails(
        "[email.domain_aliases]\n\"a.example\" = \"b.example\"\n\"b.example\" = \"c.example\"\n",
        &[
            "policy.toml:2: field \"email.domain_aliases.\\\"a.example\\\"\"",
            "chain",
            "\"a.example\" = \"c.example\"",
        ],
    );
    assert_fails(
        "[email.domain_aliases]\n\"Acme-Corp.com\" = \"acme.com\"\n\"acme-corp.com\" = \"acme.io\"\n",
        &["policy.toml:", "the same domain", "keep one"],
    );
    assert_fails(
        "[email.domain_aliases]\n\"acme.com\" = \"ACME.com\"\n",
        &["policy.toml:2:", "aliased to itself"],
    );
    assert_fails(
        "# nothing runs\norder = []\n",
        &["policy.toml:2: field \"order\"", "is empty", "order = ["],
    );
}
