//! Email rules (subaddresses, Gmail), the policy's transforms, and their preview: unit cases,
//! then properties saying the preview tells what a run does.

use std::collections::BTreeSet;

use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::transform::{Side, TransformSet};
use crosswalk_core::{
    Account, CompactString, Directory, DuplicateClaims, IdentityKind, Method, Policy, PolicyError,
    Resolution, Resolved, Transform, TransformField, TransformKind, TransformSide, resolve,
};
use proptest::prelude::*;

use crate::fixtures::*;

fn transform(kind: TransformKind, field: Option<TransformField>) -> Transform {
    Transform::new(kind, field)
}

fn domain_rule(from: &str, to: &str) -> Transform {
    Transform {
        from: Some(from.into()),
        to: Some(to.into()),
        ..transform(TransformKind::Domain, None)
    }
}

fn regex_rule(field: TransformField, pattern: &str, replacement: &str) -> Transform {
    Transform {
        pattern: Some(pattern.into()),
        replacement: Some(replacement.into()),
        ..transform(TransformKind::Regex, Some(field))
    }
}

fn strip_rule(kind: TransformKind, field: TransformField, value: &str) -> Transform {
    Transform {
        value: Some(value.into()),
        ..transform(kind, Some(field))
    }
}

fn with_username(mut account: Account, username: &str) -> Account {
    account.username = Some(username.into());
    account
}

fn policy_with(transforms: Vec<Transform>) -> Policy {
    Policy {
        transforms,
        ..Policy::default()
    }
}

#[track_caller]
fn assert_linked(
    resolved: &Resolved,
    source: &Directory,
    destination: &Directory,
    pairs: &[(&str, Option<&str>)],
) {
    for (s, d) in pairs {
        let m = account_mapping(resolved, source, s);
        assert_eq!(
            linked_to(m, destination).as_deref(),
            *d,
            "{s}: {:?} {}",
            m.resolution,
            m.message
        );
    }
}

#[test]
fn subaddresses_are_removed_only_in_the_listed_domains() {
    let source = dir(
        vec![
            person("s1", "Jo+Jira@acme.com", "Jo"),
            person("s2", "bo+x@other.example", "Bo"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "jo@acme.com", "Jo"),
            person("d2", "bo@other.example", "Bo"),
        ],
        vec![],
    );
    let off = resolve(&source, &destination, &Policy::default(), &[]);
    assert_linked(&off, &source, &destination, &[("s1", None), ("s2", None)]);

    let mut policy = Policy::default();
    policy.email.subaddress_domains = vec!["acme.com".into()];
    let on = resolve(&source, &destination, &policy, &[]);
    assert_linked(
        &on,
        &source,
        &destination,
        &[("s1", Some("d1")), ("s2", None)],
    );
    let m = account_mapping(&on, &source, "s1");
    assert_eq!(m.resolution, Resolution::Email);
    assert!(
        m.evidence[0].note.contains("subaddress +jira removed"),
        "{:?}",
        m.evidence
    );

    policy.email.subaddress_separator = "-".into();
    let dash = resolve(&source, &destination, &policy, &[]);
    assert_linked(&dash, &source, &destination, &[("s1", None)]);
}

#[test]
fn gmail_dots_count_only_on_consumer_gmail() {
    let source = dir(
        vec![
            person("s1", "John.Smith@gmail.com", "John Smith"),
            person("s2", "ann.lee@workspace-acme.com", "Ann Lee"),
            person("s3", "cy.young@googlemail.com", "Cy Young"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "johnsmith@googlemail.com", "John Smith"),
            person("d2", "annlee@workspace-acme.com", "Ann Lee"),
            person("d3", "cyyoung@gmail.com", "Cy Young"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    assert_linked(
        &resolved,
        &source,
        &destination,
        &[("s1", Some("d1")), ("s2", None), ("s3", Some("d3"))],
    );
    let note = &account_mapping(&resolved, &source, "s1").evidence[0].note;
    assert!(note.contains("dots ignored (gmail.com)"), "{note}");
    assert!(
        note.contains("destination: domain googlemail.com treated as gmail.com"),
        "{note}"
    );
}

#[test]
fn a_domain_wildcard_rewrites_subdomains_only() {
    let source = dir(
        vec![
            person("s1", "jo@corp.a.com", "Jo"),
            person("s2", "bo@EU.Corp.A.com", "Bo"),
            person("s3", "cy@a.com.evil.example", "Cy"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "jo@a.com", "Jo"),
            person("d2", "bo@a.com", "Bo"),
            person("d3", "cy@a.com", "Cy"),
        ],
        vec![],
    );
    let mut rule = domain_rule("*.a.com", "a.com");
    rule.side = TransformSide::Source;
    let policy = policy_with(vec![rule]);
    policy.validate().unwrap();
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_linked(
        &resolved,
        &source,
        &destination,
        &[("s1", Some("d1")), ("s2", Some("d2")), ("s3", None)],
    );
    let evidence = &account_mapping(&resolved, &source, "s1").evidence[0];
    assert_eq!(evidence.key, "jo@a.com");
    assert_eq!(evidence.note, "transform 1 (domain *.a.com -> a.com)");
    // The directory is untouched: the report shows what the platform said.
    assert_eq!(source.account(0).email.as_deref(), Some("jo@corp.a.com"));
}

#[test]
fn an_exact_domain_rewrite_and_its_side() {
    let source = dir(vec![person("s1", "jo@corp.a.com", "Jo")], vec![]);
    let destination = dir(vec![person("d1", "jo@a.com", "Jo")], vec![]);
    let mut rule = domain_rule("corp.a.com", "a.com");
    rule.side = TransformSide::Destination;
    let resolved = resolve(&source, &destination, &policy_with(vec![rule.clone()]), &[]);
    assert_linked(&resolved, &source, &destination, &[("s1", None)]);
    rule.side = TransformSide::Source;
    let resolved = resolve(&source, &destination, &policy_with(vec![rule]), &[]);
    assert_linked(&resolved, &source, &destination, &[("s1", Some("d1"))]);
}

#[test]
fn a_regex_rewrites_local_parts() {
    let source = dir(
        vec![person("s1", "John.Smith@acme.com", "John Smith")],
        vec![],
    );
    let destination = dir(vec![person("d1", "jsmith@acme.com", "J Smith")], vec![]);
    let mut rule = regex_rule(
        TransformField::LocalPart,
        r"^([a-z])[a-z]*\.([a-z]+)$",
        "$1$2",
    );
    rule.side = TransformSide::Source;
    let policy = policy_with(vec![rule]);
    policy.validate().unwrap();
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_linked(&resolved, &source, &destination, &[("s1", Some("d1"))]);
    let note = &account_mapping(&resolved, &source, "s1").evidence[0].note;
    assert!(note.starts_with("transform 1 (regex local_part"), "{note}");
    assert!(note.contains("case folded"), "{note}");
}

#[test]
fn a_regex_rewrites_usernames_and_whole_addresses() {
    let source = dir(
        vec![
            with_username(person("s1", "", "Jo"), "jo.ext"),
            person("s2", "bo@partner.example", "Bo"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            with_username(person("d1", "", "Jo"), "jo"),
            person("d2", "bo.partner@acme.com", "Bo"),
        ],
        vec![],
    );
    let policy = policy_with(vec![
        regex_rule(TransformField::Username, r"^(.+)\.EXT$", "$1"),
        regex_rule(
            TransformField::Email,
            r"^(?P<user>[^@]+)@partner\.example$",
            "${user}.partner@acme.com",
        ),
    ]);
    policy.validate().unwrap();
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_linked(
        &resolved,
        &source,
        &destination,
        &[("s1", Some("d1")), ("s2", Some("d2"))],
    );
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::Username
    );
    assert!(
        account_mapping(&resolved, &source, "s2").evidence[0]
            .note
            .starts_with("transform 2 (regex email")
    );
}

#[test]
fn prefixes_and_suffixes_are_stripped() {
    let source = dir(
        vec![
            with_username(person("s1", "", "Jo"), "jo"),
            with_username(person("s2", "", "Bo"), "bo"),
            person("s3", "cy@acme.com", "Cy"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            with_username(person("d1", "", "Jo"), "ADM-Jo"),
            with_username(person("d2", "", "Bo"), "bo_ext"),
            person("d3", "adm-cy@acme.com", "Cy"),
        ],
        vec![],
    );
    let policy = policy_with(vec![
        strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
        strip_rule(TransformKind::StripSuffix, TransformField::Username, "_ext"),
        strip_rule(
            TransformKind::StripPrefix,
            TransformField::LocalPart,
            "adm-",
        ),
    ]);
    policy.validate().unwrap();
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_linked(
        &resolved,
        &source,
        &destination,
        &[("s1", Some("d1")), ("s2", Some("d2")), ("s3", Some("d3"))],
    );
    let jo = &account_mapping(&resolved, &source, "s1").evidence[0];
    assert_eq!(
        jo.note,
        "destination: transform 1 (strip prefix \"adm-\" from username), case folded"
    );
    let bo = &account_mapping(&resolved, &source, "s2").evidence[0];
    assert_eq!(
        bo.note,
        "destination: transform 2 (strip suffix \"_ext\" from username)"
    );
}

#[test]
fn exceptions_name_accounts_by_their_values_as_given() {
    let source = dir(
        vec![with_username(person("s1", "", "Jo"), "jo.smith")],
        vec![],
    );
    let destination = dir(
        vec![with_username(person("d1", "", "Jo"), "adm-jsmith")],
        vec![],
    );
    let policy = policy_with(vec![strip_rule(
        TransformKind::StripPrefix,
        TransformField::Username,
        "adm-",
    )]);
    let rules = [rule(
        IdentityKind::Account,
        "username:jo.smith",
        "username:adm-jsmith",
    )];
    let resolved = resolve(&source, &destination, &policy, &rules);
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Exception);
    assert_eq!(linked_to(m, &destination).as_deref(), Some("d1"));
}

#[test]
fn evidence_notes_say_what_the_fold_did() {
    let source = dir(
        vec![
            with_username(person("s1", "", "Pat"), "PSmith"),
            person("s2", "kitty.p@home.example", "ＯＬＧＡ Petrova"),
            person("s3", "KATE@acme.com", "Kate"),
            with_username(person("s4", "", "Jose"), "jose\u{301}"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            with_username(person("d1", "", "Pat"), "psmith"),
            with_alias(
                person("d2", "olga.petrova@acme.com", "Petrova, Olga"),
                "kitty.p@acme.com",
            ),
            person("d3", "kate@acme.com", "Kate"),
            with_username(person("d4", "", "Jose"), "josé"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let pat = account_mapping(&resolved, &source, "s1");
    assert_eq!(pat.resolution, Resolution::Username);
    assert_eq!(pat.evidence[0].note, "case folded");
    // Name keys keep the compatibility fold: a fullwidth name still ranks and, with a handle
    // that agrees as it is, links.
    let olga = account_mapping(&resolved, &source, "s2");
    assert_eq!(olga.resolution, Resolution::Name, "{}", olga.message);
    assert!(
        olga.evidence[0]
            .note
            .ends_with("; width folded, case folded"),
        "{}",
        olga.evidence[0].note
    );
    let kate = account_mapping(&resolved, &source, "s3");
    assert_eq!(kate.evidence[0].note, "case folded");
    let jose = account_mapping(&resolved, &source, "s4");
    assert_eq!(jose.resolution, Resolution::Username, "{}", jose.message);
    assert_eq!(jose.evidence[0].note, "Unicode normalised");
}

#[test]
fn an_invalid_regex_is_refused_naming_its_field() {
    let policy = policy_with(vec![
        domain_rule("corp.a.com", "a.com"),
        strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
        regex_rule(TransformField::Username, "^(adm-", ""),
    ]);
    let PolicyError::Invalid { field, problem } = policy.validate().unwrap_err();
    assert_eq!(field, "transforms[2].pattern");
    assert_eq!(
        problem,
        r#""^(adm-" is not a valid regular expression: unclosed group"#
    );
    let error = TransformSet::compile(&policy).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("field `transforms[2].pattern`"),
        "{error}"
    );

    let bad_group = policy_with(vec![regex_rule(TransformField::Username, "^(.+)x$", "$1a")]);
    let PolicyError::Invalid { field, problem } = bad_group.validate().unwrap_err();
    assert_eq!(field, "transforms[0].replacement");
    assert!(problem.contains("${1}a"), "{problem}");
}

#[test]
fn a_run_never_fails_on_a_bad_transform() {
    // A policy that skipped `validate`: the bad transform is left out, with a warning, and
    // the good one still applies.
    let policy = policy_with(vec![
        regex_rule(TransformField::Username, "(", ""),
        strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
    ]);
    let source = dir(vec![with_username(person("s1", "", "Jo"), "jo")], vec![]);
    let destination = dir(
        vec![with_username(person("d1", "", "Jo"), "adm-jo")],
        vec![],
    );
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_linked(&resolved, &source, &destination, &[("s1", Some("d1"))]);
    assert_eq!(resolved.warnings.len(), 1);
    assert!(
        resolved.warnings[0].contains("transforms[0].pattern"),
        "{:?}",
        resolved.warnings
    );
}

#[test]
fn policy_fields_check_their_values() {
    let mut policy = Policy::default();
    policy.email.subaddress_domains = vec!["acme.com".into(), "not a domain".into()];
    let PolicyError::Invalid { field, .. } = policy.validate().unwrap_err();
    assert_eq!(field, "email.subaddress_domains[1]");
    let mut policy = Policy::default();
    policy.email.subaddress_separator = String::new();
    let PolicyError::Invalid { field, .. } = policy.validate().unwrap_err();
    assert_eq!(field, "email.subaddress_separator");
    let policy = policy_with(vec![domain_rule("*.a.com", "a..com")]);
    let PolicyError::Invalid { field, .. } = policy.validate().unwrap_err();
    assert_eq!(field, "transforms[0].to");
    let policy = policy_with(vec![transform(
        TransformKind::StripSuffix,
        Some(TransformField::Username),
    )]);
    let PolicyError::Invalid { field, problem } = policy.validate().unwrap_err();
    assert_eq!(
        (field.as_str(), problem.as_str()),
        ("transforms[0]", "a strip_suffix transform needs `value`")
    );
}

#[test]
fn the_documented_toml_shape_reads() {
    let text = r#"
        [email]
        subaddress_domains = ["acme.com"]
        subaddress_separator = "+"

        [[transforms]]
        kind = "domain"
        field = "email"
        side = "source"
        from = "corp.a.com"
        to = "a.com"

        [[transforms]]
        kind = "regex"
        field = "local_part"
        pattern = '^(.+)\.ext$'
        replacement = "$1"

        [[transforms]]
        kind = "strip_prefix"
        field = "username"
        value = "adm-"
    "#;
    let policy: Policy = toml::from_str(text).unwrap();
    policy.validate().unwrap();
    assert_eq!(policy.email.subaddress_domains, ["acme.com"]);
    assert_eq!(policy.transforms.len(), 3);
    assert_eq!(policy.transforms[0].side, TransformSide::Source);
    assert_eq!(
        policy.transforms[1].side,
        TransformSide::Both,
        "both by default"
    );
    assert_eq!(policy.transforms[2].kind, TransformKind::StripPrefix);
    let unknown =
        "[[transforms]]\nkind = \"domain\"\nfrom = \"a.com\"\nto = \"b.com\"\nform = \"x\"\n";
    assert!(
        toml::from_str::<Policy>(unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown field")
    );
    // The default policy writes no `transforms` and reads back unchanged.
    let written = toml::to_string(&Policy::default()).unwrap();
    assert!(!written.contains("transforms"), "{written}");
    assert_eq!(
        toml::from_str::<Policy>(&written).unwrap(),
        Policy::default()
    );
    let written = toml::to_string(&policy).unwrap();
    assert_eq!(toml::from_str::<Policy>(&written).unwrap(), policy);
}

#[test]
fn the_preview_counts_examples_collisions_and_gains() {
    let source = dir(
        vec![
            person("s1", "jo@corp.a.com", "Jo"),
            person("s2", "jo@a.com", "Jo Other"),
            person("s3", "bo@corp.a.com", "Bo"),
            person("s4", "cy@a.com", "Cy"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "bo@a.com", "Bo"),
            person("d2", "cy@corp.a.com", "Cy"),
        ],
        vec![],
    );
    let policy = policy_with(vec![
        domain_rule("corp.a.com", "a.com"),
        strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
    ]);
    let preview = crosswalk_core::preview(&source, &destination, &policy, &[]);
    let rule = &preview.rules[0];
    assert_eq!(rule.description, "domain corp.a.com -> a.com");
    assert_eq!((rule.changed.source, rule.changed.destination), (2, 1));
    assert_eq!(rule.examples.len(), 3);
    assert_eq!(
        (
            rule.examples[0].before.as_str(),
            rule.examples[0].after.as_str()
        ),
        ("jo@corp.a.com", "jo@a.com")
    );
    assert_eq!(rule.examples[0].account, "s1");
    assert_eq!(
        (rule.collisions.source, rule.collisions.destination),
        (1, 0)
    );
    let collision = &rule.collision_examples[0];
    assert_eq!(collision.key, "jo@a.com");
    let members: Vec<&str> = collision
        .accounts
        .iter()
        .map(|m| m.account.as_str())
        .collect();
    assert_eq!(members, ["s1", "s2"]);
    // s3 gains bo@a.com through the source rewrite; s4 gains cy@a.com through the
    // destination's; s1 and s2 now share jo@a.com but have no destination.
    let gained: Vec<&str> = preview.gained_accounts().collect();
    assert_eq!(gained, ["s3", "s4"]);
    assert_eq!(rule.gained_matches, 2);
    assert_eq!(preview.matches.gained[0].transforms, [1]);
    assert_eq!(
        preview.rules[1].changed.source + preview.rules[1].changed.destination,
        0
    );

    let text = preview.to_string();
    assert!(text.contains("domain corp.a.com -> a.com"), "{text}");
    assert!(
        text.contains("source s1 email: jo@corp.a.com -> jo@a.com"),
        "{text}"
    );
    assert!(
        text.contains("collision: source email \"jo@a.com\" is shared by s1"),
        "{text}"
    );
    assert!(text.contains("2 gained, 0 lost, 0 changed"), "{text}");
    let json = serde_json::to_value(&preview).unwrap();
    assert_eq!(json["rules"][0]["changed"]["source"], 2);
    assert_eq!(json["matches"]["gained"][0]["account"], "s3");
}

#[test]
fn an_account_an_exception_pins_is_not_previewed_as_gaining_a_link() {
    // s1 would gain d1 through the domain rewrite, but an exception sends it to d2: the run
    // resolves it by Exception either way, so the preview must not promise the gain.
    let source = dir(
        vec![
            person("s1", "jo@corp.a.com", "Jo"),
            person("s2", "bo@corp.a.com", "Bo"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "jo@a.com", "Jo"),
            person("d2", "jo.admin@a.com", "Jo Admin"),
            person("d3", "bo@a.com", "Bo"),
        ],
        vec![],
    );
    let policy = policy_with(vec![domain_rule("corp.a.com", "a.com")]);
    let unpinned = crosswalk_core::preview(&source, &destination, &policy, &[]);
    assert_eq!(unpinned.gained_accounts().collect::<Vec<_>>(), ["s1", "s2"]);
    let exceptions = [rule(IdentityKind::Account, "id:s1", "id:d2")];
    let preview = crosswalk_core::preview(&source, &destination, &policy, &exceptions);
    assert_eq!(preview.gained_accounts().collect::<Vec<_>>(), ["s2"]);
    let run = resolve(&source, &destination, &policy, &exceptions);
    assert_eq!(run.mappings[0].resolution, Resolution::Exception);
    // What each rule changes is about values, not links: the pin does not hide it.
    assert_eq!(preview.rules[0].changed.source, 2);
    let text = preview.to_string();
    assert!(
        text.contains("(with the 1 exception rule given): 1 gained"),
        "{text}"
    );
}

#[test]
fn the_preview_reports_lost_matches_and_problems() {
    // Stripping `adm-` makes two destination usernames one: the source's match is lost.
    let source = dir(vec![with_username(person("s1", "", "Jo"), "jo")], vec![]);
    let destination = dir(
        vec![
            with_username(person("d1", "", "Jo"), "jo"),
            with_username(person("d2", "", "Jo Admin"), "adm-jo"),
        ],
        vec![],
    );
    let policy = policy_with(vec![
        strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
        regex_rule(TransformField::Username, "[", ""),
    ]);
    let preview = crosswalk_core::preview(&source, &destination, &policy, &[]);
    assert_eq!(preview.matches.lost.len(), 1);
    assert_eq!(
        preview.matches.lost[0].before.destination.as_deref(),
        Some("d1")
    );
    assert_eq!(
        preview.matches.lost[0].after.resolution,
        Resolution::Unresolved
    );
    assert_eq!(preview.rules[0].collisions.destination, 1);
    assert!(
        preview.rules[1]
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("transforms[1].pattern")
    );
    assert!(preview.to_string().contains("(not applied)"));
}

#[test]
fn no_transforms_preview_nothing() {
    let source = dir(vec![person("s1", "jo@acme.com", "Jo")], vec![]);
    let preview = crosswalk_core::preview(&source, &source, &Policy::default(), &[]);
    assert!(preview.rules.is_empty());
    assert!(preview.matches.gained.is_empty() && preview.matches.lost.is_empty());
    assert_eq!(preview.to_string(), "The policy has no transforms.\n");
}

// ---------------------------------------------------------------------------------------
// Properties

const LOCALS: [&str; 8] = [
    "jo", "j.o", "JO", "adm-jo", "jo_ext", "bob+news", "ADM-bob", "ann",
];
const DOMAINS: [&str; 7] = [
    "acme.com",
    "corp.acme.com",
    "EU.corp.acme.com",
    "gmail.com",
    "googlemail.com",
    "other.example",
    "ACME.com",
];
const USERNAMES: [&str; 7] = ["jo", "ADM-jo", "jo_ext", "ann", "bob", "adm-bob", "bob_EXT"];

fn address(local: usize, domain: usize) -> String {
    format!("{}@{}", LOCALS[local], DOMAINS[domain])
}

fn arb_account() -> impl Strategy<Value = Account> {
    (
        prop::option::of((0..LOCALS.len(), 0..DOMAINS.len())),
        prop::option::of((0..LOCALS.len(), 0..DOMAINS.len())),
        prop::option::of(0..USERNAMES.len()),
        0..12u8,
    )
        .prop_map(|(email, alias, username, noise)| Account {
            id: "".into(),
            username: username.map(|u| USERNAMES[u].into()),
            email: if noise == 0 {
                Some("not-an-address".into())
            } else {
                email.map(|(l, d)| address(l, d).into())
            },
            alias_emails: alias
                .map(|(l, d)| format!("smtp:{}", address(l, d)).into())
                .into_iter()
                .collect(),
            display_name: None,
            given_name: None,
            family_name: None,
            active: noise != 1,
            source_directory: None,
            email_verified: None,
        })
}

fn arb_directory(prefix: &'static str) -> impl Strategy<Value = Directory> {
    prop::collection::vec(arb_account(), 1..10).prop_map(move |accounts| {
        let accounts = accounts
            .into_iter()
            .enumerate()
            .map(|(i, mut a)| {
                a.id = format!("{prefix}{i}").into();
                a
            })
            .collect();
        Directory {
            name: prefix.into(),
            accounts,
            groups: vec![],
        }
    })
}

fn pool(i: usize) -> Transform {
    match i {
        0 => domain_rule("*.acme.com", "acme.com"),
        1 => domain_rule("corp.acme.com", "acme.com"),
        2 => domain_rule("other.example", "acme.com"),
        3 => strip_rule(TransformKind::StripPrefix, TransformField::Username, "adm-"),
        4 => strip_rule(TransformKind::StripSuffix, TransformField::Username, "_ext"),
        5 => strip_rule(
            TransformKind::StripPrefix,
            TransformField::LocalPart,
            "adm-",
        ),
        6 => strip_rule(
            TransformKind::StripSuffix,
            TransformField::LocalPart,
            "_ext",
        ),
        7 => regex_rule(TransformField::LocalPart, r"\.", ""),
        8 => regex_rule(
            TransformField::Email,
            r"^(.+)@other\.example$",
            "$1@acme.com",
        ),
        9 => regex_rule(TransformField::Username, r"^(.+)_ext$", "$1"),
        _ => regex_rule(TransformField::LocalPart, r"\+.*$", ""),
    }
}

fn arb_transforms() -> impl Strategy<Value = Vec<Transform>> {
    prop::collection::vec((0..11usize, 0..3usize), 1..4).prop_map(|picks| {
        picks
            .into_iter()
            .map(|(i, side)| Transform {
                side: [
                    TransformSide::Both,
                    TransformSide::Source,
                    TransformSide::Destination,
                ][side],
                ..pool(i)
            })
            .collect()
    })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    (arb_transforms(), 0..3usize, any::<bool>(), any::<bool>()).prop_map(
        |(transforms, subaddress, merge, verified)| {
            let mut policy = policy_with(transforms);
            policy.email.subaddress_domains = match subaddress {
                0 => vec![],
                1 => vec!["acme.com".into()],
                _ => vec!["gmail.com".into()],
            };
            policy.email.require_verified = verified;
            if merge {
                policy.duplicate_claims = DuplicateClaims::Merge;
            }
            policy
        },
    )
}

fn by_email_or_username(r: Resolution) -> bool {
    matches!(r, Resolution::Email | Resolution::Username)
}

/// Source ids linked by Email or Username, with where to.
fn linked(resolved: &Resolved, source: &Directory) -> Vec<(String, Resolution, Option<u32>)> {
    resolved
        .mappings
        .iter()
        .filter(|m| m.kind == IdentityKind::Account)
        .map(|m| {
            (
                source.account(m.source).id.to_string(),
                m.resolution,
                m.destination_index(),
            )
        })
        .collect()
}

/// The directory with the transforms written into it, through the public rewrite API.
fn rewritten(directory: &Directory, set: &TransformSet, side: Side) -> Directory {
    let mut out = directory.clone();
    let email = |e: &CompactString| {
        set.rewrite_email(side, e)
            .map_or_else(|| e.clone(), |r| r.value.into())
    };
    for account in &mut out.accounts {
        account.email = account.email.as_ref().map(email);
        account.alias_emails = account.alias_emails.iter().map(email).collect();
        account.username = account.username.as_ref().map(|u| {
            set.rewrite_username(side, u)
                .map_or_else(|| u.clone(), |r| r.value.into())
        });
    }
    out
}

/// What the engine should do in a policy where one method (Email or Username) runs, claims
/// merge and no address needs verifying: link when the keys find exactly one destination
/// account. Computed from the public key functions, independently of the engine.
fn expected_links(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
) -> BTreeSet<String> {
    let set = TransformSet::compile(policy).unwrap();
    let aliases = DomainAliases::from_policy(&policy.email);
    let emails = |a: &Account, side: Side| -> BTreeSet<String> {
        a.all_emails()
            .filter_map(|e| {
                let value = set
                    .rewrite_email(side, e)
                    .map_or_else(|| e.to_string(), |r| r.value);
                normalize::email_key(&value, &aliases).ok().map(|k| k.key)
            })
            .collect()
    };
    let username = |a: &Account, side: Side| -> Option<String> {
        let u = a.username.as_deref()?;
        let value = set
            .rewrite_username(side, u)
            .map_or_else(|| u.to_string(), |r| r.value);
        Some(normalize::fold(&value).into_owned()).filter(|k| !k.is_empty())
    };
    let mut out = BTreeSet::new();
    for s in &source.accounts {
        let linked = if policy.order == [Method::Email] {
            let ours = emails(s, Side::Source);
            destination
                .accounts
                .iter()
                .filter(|d| !emails(d, Side::Destination).is_disjoint(&ours))
                .count()
                == 1
        } else {
            let ours = username(s, Side::Source);
            ours.is_some()
                && destination
                    .accounts
                    .iter()
                    .filter(|d| username(d, Side::Destination) == ours)
                    .count()
                    == 1
        };
        if linked {
            out.insert(s.id.to_string());
        }
    }
    out
}

proptest! {
    // The default config, so PROPTEST_CASES sets how many.
    #![proptest_config(ProptestConfig::default())]

    /// The preview's gains are exactly the run's: source accounts linked by Email or
    /// Username with the transforms and by neither without them, under the same exception
    /// rules (which pin source accounts, or name ones that are not there).
    #[test]
    fn the_preview_gains_what_the_run_gains(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy(),
        pins in prop::collection::vec((0..12usize, 0..12usize), 0..4)
    ) {
        let exceptions: Vec<_> =
            pins.iter().map(|(s, d)| rule(IdentityKind::Account, &format!("id:s{s}"), &format!("id:d{d}"))).collect();
        let preview = crosswalk_core::preview(&source, &destination, &policy, &exceptions);
        prop_assert_eq!(preview.exception_rules, exceptions.len());
        let without = Policy { transforms: vec![], ..policy.clone() };
        let before = linked(&resolve(&source, &destination, &without, &exceptions), &source);
        let after = linked(&resolve(&source, &destination, &policy, &exceptions), &source);
        let mut gained = BTreeSet::new();
        let mut lost = BTreeSet::new();
        for ((id, was, _), (_, now, _)) in before.iter().zip(&after) {
            match (by_email_or_username(*was), by_email_or_username(*now)) {
                (false, true) => { gained.insert(id.clone()); }
                (true, false) => { lost.insert(id.clone()); }
                _ => {}
            }
        }
        let said: BTreeSet<String> = preview.gained_accounts().map(str::to_string).collect();
        prop_assert_eq!(said, gained);
        let said_lost: BTreeSet<String> = preview.matches.lost.iter().map(|c| c.account.clone()).collect();
        prop_assert_eq!(said_lost, lost);
        // Every per-transform count is backed by an example, and the examples are real changes.
        for rule in &preview.rules {
            prop_assert_eq!(rule.examples.is_empty(), rule.changed.source + rule.changed.destination == 0);
            for e in &rule.examples {
                prop_assert_ne!(&e.before, &e.after);
            }
        }
        let _ = preview.to_string();
    }

    /// In a policy where the outcome is determined by key uniqueness alone (one method, so
    /// every claim is as strong as any other, and claims merge), the preview's gains are what
    /// counting the keys (computed without the engine) says.
    #[test]
    fn the_preview_gains_what_key_uniqueness_says(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy(),
        by_email in any::<bool>()
    ) {
        let policy = Policy {
            order: vec![if by_email { Method::Email } else { Method::Username }],
            duplicate_claims: DuplicateClaims::Merge,
            email: crosswalk_core::EmailPolicy { require_verified: false, ..policy.email.clone() },
            ..policy
        };
        let without = Policy { transforms: vec![], ..policy.clone() };
        prop_assume!(resolve(&source, &destination, &policy, &[]).summary.look_alikes == 0);
        prop_assume!(resolve(&source, &destination, &without, &[]).summary.look_alikes == 0);
        let expected: BTreeSet<String> = expected_links(&source, &destination, &policy)
            .difference(&expected_links(&source, &destination, &without))
            .cloned()
            .collect();
        let preview = crosswalk_core::preview(&source, &destination, &policy, &[]);
        let said: BTreeSet<String> = preview.gained_accounts().map(str::to_string).collect();
        prop_assert_eq!(said, expected);
    }

    /// Resolving with transforms is resolving directories with the transforms written in:
    /// what `rewrite_email`/`rewrite_username` (and so the preview's examples) say is what
    /// the engine matches on, on both sides.
    #[test]
    fn transforms_match_as_if_the_values_were_rewritten(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let set = TransformSet::compile(&policy).unwrap();
        let with = resolve(&source, &destination, &policy, &[]);
        let without = Policy { transforms: vec![], ..policy.clone() };
        let (source2, destination2) = (rewritten(&source, &set, Side::Source), rewritten(&destination, &set, Side::Destination));
        let materialised = resolve(&source2, &destination2, &without, &[]);
        prop_assert_eq!(with.mappings.len(), materialised.mappings.len());
        for (a, b) in with.mappings.iter().zip(&materialised.mappings) {
            prop_assert_eq!((a.source, a.resolution, a.destination_index()), (b.source, b.resolution, b.destination_index()));
            prop_assert_eq!(&a.flags, &b.flags);
            let keys = |m: &crosswalk_core::Mapping| m.evidence.iter().map(|e| e.key.clone()).collect::<Vec<_>>();
            prop_assert_eq!(keys(a), keys(b));
        }
    }

    /// Without transforms a run is what it always was; the preview finds nothing.
    #[test]
    fn no_transforms_change_nothing(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let policy = Policy { transforms: vec![], ..policy };
        let preview = crosswalk_core::preview(&source, &destination, &policy, &[]);
        prop_assert!(preview.rules.is_empty() && preview.matches.gained.is_empty() && preview.matches.lost.is_empty());
    }
}
