//! One test per resolution and per refusal: what an admin would see in the report.

use crosswalk_core::{
    Account, DuplicateClaims, ExceptionRule, Flag, IdentityKind, Method, Policy, ReportRow,
    Resolution, Target, check_policy_against, resolve,
};

use crate::fixtures::*;

#[test]
fn email_matches_ignoring_case_and_domain_alias() {
    let source = dir(
        vec![
            person("s1", "John.Smith@ACME.com", "John Smith"),
            person("s2", "maria@acme-corp.com", "Maria Lopez"),
            person("s3", "jose\u{301}@acme.com", "Jose Bell"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "john.smith@acme.com", "John Smith"),
            person("d2", "maria@acme.com", "Maria Lopez"),
            person("d3", "JOSÉ@acme.com", "Jose Bell"),
        ],
        vec![],
    );
    let mut policy = Policy::default();
    policy
        .email
        .domain_aliases
        .insert("acme-corp.com".into(), "acme.com".into());
    let resolved = resolve(&source, &destination, &policy, &[]);
    for (s, d) in [("s1", "d1"), ("s2", "d2"), ("s3", "d3")] {
        let m = account_mapping(&resolved, &source, s);
        assert_eq!(m.resolution, Resolution::Email, "{s}: {}", m.message);
        assert_eq!(linked_to(m, &destination).as_deref(), Some(d));
        assert!(m.flags.is_empty(), "{s}: {}", m.message);
    }
    let m = account_mapping(&resolved, &source, "s2");
    assert!(
        m.evidence[0]
            .note
            .contains("acme-corp.com treated as acme.com"),
        "{:?}",
        m.evidence
    );
}

/// Fullwidth letters, ligatures and mathematical letters are other mailboxes that only look
/// like the plain address: whoever holds one must not inherit the other's history.
#[test]
fn compatibility_look_alike_addresses_are_flagged_and_never_linked() {
    let plain = [
        "john.doe@acme.com",
        "fiona@acme.com",
        "john@acme.com",
        "kate@acme.com",
        "strasse@acme.com",
    ];
    let alike = [
        "ｊｏｈｎ.doe@acme.com",
        "ﬁona@acme.com",
        "𝐣𝐨𝐡𝐧@acme.com",
        "ＫＡＴＥ@acme.com",
        "straße@acme.com",
    ];
    for (source_side, destination_side) in [(plain, alike), (alike, plain)] {
        let accounts = |prefix: &str, emails: [&str; 5]| {
            emails
                .iter()
                .enumerate()
                .map(|(i, e)| person(&format!("{prefix}{i}"), e, &format!("Person {i}")))
                .collect()
        };
        let (source, destination) = (
            dir(accounts("s", source_side), vec![]),
            dir(accounts("d", destination_side), vec![]),
        );
        let mut policy = org_policy();
        policy.fallback.provision = true;
        let resolved = resolve(&source, &destination, &policy, &[]);
        for (i, address) in source_side.iter().enumerate() {
            let m = account_mapping(&resolved, &source, &format!("s{i}"));
            assert_eq!(
                m.resolution,
                Resolution::Unresolved,
                "{address}: {}",
                m.message
            );
            assert!(
                m.flags.contains(&Flag::LookAlike),
                "{address}: {}",
                m.message
            );
            assert_eq!(m.candidates.len(), 1, "{address}");
            assert_eq!(
                destination.account(m.candidates[0].index).id,
                format!("d{i}")
            );
            assert!(m.message.contains("only looks like"), "{}", m.message);
        }
    }
}

/// `аdmin` with a Cyrillic а, and `j0hn.doe` with a zero, look like `admin` and `john.doe`:
/// the reviewer sees them as flagged candidates, and nothing links them.
#[test]
fn look_alike_usernames_are_flagged_and_listed_never_linked() {
    let user = |id: &str, username: &str, name: &str| Account {
        username: Some(username.into()),
        ..person(id, "", name)
    };
    let source = dir(
        vec![
            user("s1", "admin", "Site Admin"),
            user("s2", "john.doe", "John Doe"),
            user("s3", "a1ice", "Alice Liddell"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            user("d1", "\u{430}dmin", "Site Admin"),
            user("d2", "j0hn.doe", "John Doe"),
            user("d3", "alice", "Alice Liddell"),
        ],
        vec![],
    );
    let mut policy = org_policy();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    for (s, d) in [("s1", "d1"), ("s2", "d2"), ("s3", "d3")] {
        let m = account_mapping(&resolved, &source, s);
        assert_eq!(m.resolution, Resolution::Unresolved, "{s}: {}", m.message);
        assert!(m.flags.contains(&Flag::LookAlike), "{s}: {}", m.message);
        let candidates: Vec<&str> = m
            .candidates
            .iter()
            .map(|c| destination.account(c.index).id.as_str())
            .collect();
        assert_eq!(candidates, vec![d], "{s}");
        assert_eq!(m.candidates[0].method, Resolution::Username);
        assert!(m.message.contains("has username"), "{}", m.message);
    }
}

/// A name and a handle that agrees only once compatibility forms are folded never make a
/// name link: the handle must be the same identity.
#[test]
fn a_name_never_links_across_a_compatibility_difference_in_the_handle() {
    let source = dir(
        vec![
            Account {
                username: Some("ｋｉｔｔｙ".into()),
                ..person("s1", "olga@home.example", "Olga Petrova")
            },
            person("s2", "ｍａｒｋ.p@home.example", "Mark Peters"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            Account {
                username: Some("kitty".into()),
                ..person("d1", "olga.petrova@acme.com", "Petrova, Olga")
            },
            with_alias(
                person("d2", "mark.peters@acme.com", "Mark Peters"),
                "mark.p@acme.com",
            ),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let olga = account_mapping(&resolved, &source, "s1");
    assert_eq!(olga.resolution, Resolution::Unresolved, "{}", olga.message);
    assert!(olga.flags.contains(&Flag::LookAlike), "{}", olga.message);
    let mark = account_mapping(&resolved, &source, "s2");
    assert_eq!(mark.resolution, Resolution::Unresolved, "{}", mark.message);
    assert!(mark.target.is_none());
}

#[test]
fn look_alike_group_names_are_flagged_and_never_merged_into() {
    let source = dir(
        vec![],
        vec![group("g1", "devs"), group("g2", "site-admins")],
    );
    let destination = dir(vec![], vec![group("h1", "ｄｅｖｓ")]);
    let mut policy = Policy::default();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let devs = group_mapping(&resolved, &source, "g1");
    assert_eq!(devs.resolution, Resolution::Unresolved, "{}", devs.message);
    assert!(devs.flags.contains(&Flag::LookAlike));
    assert_eq!(devs.candidates.len(), 1);
    // A group named like a reserved one is treated as reserved.
    let source = dir(vec![], vec![group("g1", "ｓｉｔｅ-ａｄｍｉｎｓ")]);
    let resolved = resolve(&source, &dir(vec![], vec![]), &policy, &[]);
    let admins = group_mapping(&resolved, &source, "g1");
    assert_eq!(
        admins.resolution,
        Resolution::Unresolved,
        "{}",
        admins.message
    );
    assert!(admins.flags.contains(&Flag::ReservedGroup));
}

#[test]
fn alias_addresses_count_on_both_sides() {
    let mut src = person("s1", "old@acme.com", "Ann Old");
    src.alias_emails = vec!["smtp:ann@acme.com".into()];
    let mut dst = person("d1", "ann.new@acme.com", "Ann New");
    dst.alias_emails = vec!["ann@acme.com".into()];
    let (source, destination) = (dir(vec![src], vec![]), dir(vec![dst], vec![]));
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Email);
    assert_eq!(m.evidence[0].source_field, "alias_emails[0]");
    assert_eq!(m.evidence[0].destination_field, "alias_emails[0]");
}

#[test]
fn id_matches_before_email_by_default() {
    let source = dir(vec![person("same-id", "a@acme.com", "A")], vec![]);
    let destination = dir(
        vec![
            person("same-id", "z@acme.com", "Z"),
            person("d2", "a@acme.com", "A"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "same-id");
    assert_eq!(m.resolution, Resolution::Id);
    assert_eq!(linked_to(m, &destination).as_deref(), Some("same-id"));
}

#[test]
fn username_matches_when_no_email_does() {
    let mut src = person("s1", "", "Pat");
    src.username = Some("PSmith".into());
    let mut dst = person("d1", "pat@acme.com", "Patricia");
    dst.username = Some("psmith".into());
    let (source, destination) = (dir(vec![src], vec![]), dir(vec![dst], vec![]));
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::Username
    );
}

#[test]
fn name_matches_only_unique_active_names_in_organisation_domains() {
    let source = dir(
        vec![
            person("s1", "kitty.p@home.example", "Olga Petrova"),
            person("s2", "x@home.example", "Ivan Ivanov"),
            person("s3", "y@home.example", "Li Wei"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            // The shared local part is what a name link needs besides the name: the name does
            // not explain it.
            with_alias(
                person("d1", "olga.petrova@acme.com", "Petrova, Olga"),
                "kitty.p@acme.com",
            ),
            person("d2", "ivan@elsewhere.example", "Ivan Ivanov"),
            person("d3", "li.wei@acme.com", "Li Wei"),
            person("d4", "li.wei2@acme.com", "Li Wei"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let olga = account_mapping(&resolved, &source, "s1");
    assert_eq!(olga.resolution, Resolution::Name, "{}", olga.message);
    assert_eq!(linked_to(olga, &destination).as_deref(), Some("d1"));
    let ivan = account_mapping(&resolved, &source, "s2");
    assert_eq!(
        ivan.resolution,
        Resolution::Unresolved,
        "outside the organisation domains"
    );
    let li = account_mapping(&resolved, &source, "s3");
    assert_eq!(li.resolution, Resolution::Unresolved);
    assert!(li.flags.contains(&Flag::Ambiguous));
    assert_eq!(li.candidates.len(), 2);
}

#[test]
fn name_never_matches_without_organisation_domains() {
    let source = dir(vec![person("s1", "", "Olga Petrova")], vec![]);
    let destination = dir(vec![person("d1", "olga@acme.com", "Olga Petrova")], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::Unresolved
    );
}

#[test]
fn departed_user_is_never_given_a_namesakes_account() {
    let mut departed = person("s1", "jsmith@old.example", "John Smith");
    departed.active = false;
    let source = dir(vec![departed], vec![]);
    let destination = dir(
        vec![person("d1", "john.smith@acme.com", "John Smith")],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.message.contains("deactivated"), "{}", m.message);
}

#[test]
fn namesakes_in_the_source_are_never_matched_by_name() {
    let source = dir(
        vec![
            person("s1", "a@home.example", "Sam Lee"),
            person("s2", "b@home.example", "Sam Lee"),
        ],
        vec![],
    );
    let destination = dir(vec![person("d1", "sam.lee@acme.com", "Sam Lee")], vec![]);
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    for id in ["s1", "s2"] {
        let m = account_mapping(&resolved, &source, id);
        assert_eq!(m.resolution, Resolution::Unresolved);
        assert!(m.flags.contains(&Flag::Ambiguous), "{id}: {}", m.message);
    }
}

#[test]
fn exception_wins_over_every_method() {
    let source = dir(
        vec![person("s1", "a@acme.com", "A")],
        vec![group("g1", "devs")],
    );
    let destination = dir(
        vec![
            person("s1", "a@acme.com", "A"),
            person("d2", "other@acme.com", "Other"),
        ],
        vec![group("x1", "devs"), group("x2", "developers")],
    );
    let rules = [
        rule(IdentityKind::Account, "email:a@acme.com", "other@acme.com"),
        rule(IdentityKind::Group, "name:devs", "id:x2"),
    ];
    let resolved = resolve(&source, &destination, &Policy::default(), &rules);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Exception);
    assert_eq!(linked_to(m, &destination).as_deref(), Some("d2"));
    assert_eq!(m.evidence[0].key, "exceptions.csv:2");
    let g = group_mapping(&resolved, &source, "g1");
    assert_eq!(g.resolution, Resolution::Exception);
    assert_eq!(linked_to(g, &destination).as_deref(), Some("x2"));
}

/// An exception may decide, instead of a destination, that the identity is created
/// (`!provision`) or migrated as a former user (`!former-user`, accounts only): a person's
/// decision, which no method, fallback or near miss overrules.
#[test]
fn an_exception_can_decide_to_provision_or_keep_a_former_user() {
    let source = dir(
        vec![
            person("s1", "a@acme.com", "Ann Lee"),
            person("s2", "b@acme.com", "Bo Chan"),
        ],
        vec![group("g1", "devs")],
    );
    let destination = dir(vec![person("d1", "a@acme.com", "Ann Lee")], vec![]);
    let rules = [
        rule(IdentityKind::Account, "s1", "!provision"),
        rule(IdentityKind::Account, "s2", "!Former-User"),
        rule(IdentityKind::Group, "g1", "!former-user"),
    ];
    let resolved = resolve(&source, &destination, &org_policy(), &rules);
    let created = account_mapping(&resolved, &source, "s1");
    assert_eq!(
        (created.resolution, created.target.clone()),
        (Resolution::Exception, Some(Target::Provision)),
        "the email match is overruled"
    );
    assert!(
        created.message.contains("as an exception says"),
        "{}",
        created.message
    );
    let former = account_mapping(&resolved, &source, "s2");
    assert_eq!(
        (former.resolution, former.target.clone()),
        (Resolution::Exception, Some(Target::FormerUser))
    );
    assert_eq!(former.evidence[0].method, Resolution::Exception);
    let row = ReportRow::build("job", &source, &destination, former);
    assert_eq!(
        (row.destination_id.as_str(), row.destination_name.as_str()),
        ("", "b@acme.com"),
        "no destination account"
    );
    let group = group_mapping(&resolved, &source, "g1");
    assert!(
        group.flags.contains(&Flag::BadException),
        "a group is never a former user: {}",
        group.message
    );
}

#[test]
fn exception_to_nobody_is_refused_and_reported() {
    let source = dir(vec![person("s1", "a@acme.com", "A")], vec![]);
    let destination = dir(vec![person("d1", "a@acme.com", "A")], vec![]);
    let rules = [
        rule(IdentityKind::Account, "s1", "ghost@acme.com"),
        rule(IdentityKind::Account, "nobody", "d1"),
    ];
    let resolved = resolve(&source, &destination, &Policy::default(), &rules);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.flags.contains(&Flag::BadException));
    assert!(m.message.contains("exceptions.csv:2"), "{}", m.message);
    assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
    assert!(resolved.warnings[0].contains("no account is nobody"));
}

/// A bare value that names one account by id and another by username (or address) is
/// ambiguous: the rule is refused, naming its line, and a prefix is asked for.
#[test]
fn a_bare_exception_value_naming_two_accounts_is_refused() {
    let user = |id: &str, username: &str, email: &str| Account {
        username: Some(username.into()),
        ..person(id, email, "")
    };
    let source = dir(
        vec![
            user("s1", "jane", "jane@acme.com"),
            user("s2", "bob", "bob@acme.com"),
        ],
        vec![group("g1", "devs")],
    );
    let destination = dir(
        vec![
            user("jdoe", "john", "john@acme.com"),
            user("d2", "jdoe", "j.doe@acme.com"),
            user("d3", "x", "bob@acme.com"),
        ],
        vec![group("devs", "ops"), group("x2", "devs")],
    );
    let rules = [
        rule(IdentityKind::Account, "jane", "jdoe"),
        ExceptionRule {
            origin: "exceptions.csv:3".into(),
            ..rule(IdentityKind::Account, "bob", "id:jdoe")
        },
        ExceptionRule {
            origin: "exceptions.csv:4".into(),
            ..rule(IdentityKind::Group, "devs", "devs")
        },
    ];
    let resolved = resolve(&source, &destination, &Policy::default(), &rules);
    let jane = account_mapping(&resolved, &source, "s1");
    assert_eq!(jane.resolution, Resolution::Unresolved, "{}", jane.message);
    assert!(jane.flags.contains(&Flag::BadException));
    for part in [
        "exceptions.csv:2",
        "\"jdoe\" is ambiguous",
        "account jdoe by id and account d2 by username",
        "id:jdoe or username:jdoe",
    ] {
        assert!(
            jane.message.contains(part),
            "{part:?} not in {}",
            jane.message
        );
    }
    // The prefixed rule is applied.
    let bob = account_mapping(&resolved, &source, "s2");
    assert_eq!(
        (bob.resolution, linked_to(bob, &destination).as_deref()),
        (Resolution::Exception, Some("jdoe"))
    );
    let devs = group_mapping(&resolved, &source, "g1");
    assert!(devs.flags.contains(&Flag::BadException), "{}", devs.message);
    assert!(
        devs.message
            .contains("group devs by id and group x2 by name; write id:devs or name:devs"),
        "{}",
        devs.message
    );
    // On the source side the rule is refused with a warning naming its line.
    let source = dir(
        vec![
            user("s1", "s2", "a@acme.com"),
            user("s2", "b", "b@acme.com"),
        ],
        vec![],
    );
    let resolved = resolve(
        &source,
        &destination,
        &Policy::default(),
        &[rule(IdentityKind::Account, "s2", "id:d3")],
    );
    assert!(
        resolved
            .warnings
            .iter()
            .any(|w| w.contains("exceptions.csv:2") && w.contains("ambiguous")),
        "{:?}",
        resolved.warnings
    );
}

/// Several rules sending different source accounts to one destination are an explicit merge:
/// allowed, and said in each mapping's message and in the run's warnings.
#[test]
fn exceptions_sending_several_accounts_to_one_destination_say_so() {
    let source = dir(
        vec![
            person("s1", "a@acme.com", "A"),
            person("s2", "b@acme.com", "B"),
            person("s3", "c@acme.com", "C"),
        ],
        vec![],
    );
    let destination = dir(vec![person("d1", "team@acme.com", "Team")], vec![]);
    let rules = [
        rule(IdentityKind::Account, "id:s1", "id:d1"),
        ExceptionRule {
            origin: "exceptions.csv:3".into(),
            ..rule(IdentityKind::Account, "id:s2", "email:team@acme.com")
        },
    ];
    let resolved = resolve(&source, &destination, &Policy::default(), &rules);
    let s1 = account_mapping(&resolved, &source, "s1");
    let s2 = account_mapping(&resolved, &source, "s2");
    assert_eq!(
        (s1.resolution, s2.resolution),
        (Resolution::Exception, Resolution::Exception)
    );
    assert!(
        s1.message.contains(
            "explicit merge: exceptions also send s2 (exceptions.csv:3) to destination account d1"
        ),
        "{}",
        s1.message
    );
    assert!(
        s2.message.contains(
            "explicit merge: exceptions also send s1 (exceptions.csv:2) to destination account d1"
        ),
        "{}",
        s2.message
    );
    assert!(
        resolved
            .warnings
            .iter()
            .any(|w| w.contains("exceptions send 2 source accounts to destination account d1")),
        "{:?}",
        resolved.warnings
    );
    assert!(
        !account_mapping(&resolved, &source, "s3")
            .message
            .contains("merge")
    );
}

/// A default account must be one account of the destination: only the destination can tell,
/// so callers check before anything is stored.
#[test]
fn a_default_account_must_be_one_destination_account() {
    let destination = dir(
        vec![
            Account {
                username: Some("owner".into()),
                ..person("d1", "owner@acme.com", "Owner")
            },
            person("owner", "x@acme.com", "X"),
        ],
        vec![],
    );
    let with_default = |name: &str| {
        let mut policy = Policy::default();
        policy.fallback.default_account = Some(name.into());
        policy
    };
    for name in [
        "d1",
        "email:owner@acme.com",
        "username:owner",
        "OWNER@acme.com",
        "id:owner",
    ] {
        assert_eq!(
            check_policy_against(&destination, &with_default(name)),
            Ok(()),
            "{name}"
        );
    }
    for (name, why) in [
        ("ghost@acme.com", "no account is ghost@acme.com"),
        ("owner", "\"owner\" is ambiguous"),
    ] {
        let error = check_policy_against(&destination, &with_default(name))
            .expect_err(name)
            .to_string();
        assert!(
            error.contains("fallback.default_account") && error.contains(why),
            "{error}"
        );
        assert!(error.contains("remove default_account"), "{error}");
    }
    assert_eq!(
        check_policy_against(&destination, &Policy::default()),
        Ok(())
    );
}

#[test]
fn a_mailbox_shared_by_many_names_five_others_and_counts_the_rest() {
    let users: Vec<Account> = (0..3000)
        .map(|i| {
            person(
                &format!("s{i:04}"),
                "noreply@acme.com",
                &format!("Service {i}"),
            )
        })
        .collect();
    let source = dir(users, vec![]);
    let destination = dir(vec![person("d1", "noreply@acme.com", "No Reply")], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s0002");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(
        m.message.contains("3000 source accounts claim destination d1 (with s0000, s0001, s0003, s0004, s0005 and 2994 more)"),
        "{}",
        m.message
    );
    let merge = Policy {
        duplicate_claims: DuplicateClaims::Merge,
        ..Policy::default()
    };
    let merged = resolve(&source, &destination, &merge, &[]);
    let m = account_mapping(&merged, &source, "s2999");
    assert!(
        m.message
            .contains("also receives s0000, s0001, s0002, s0003, s0004 and 2994 more"),
        "{}",
        m.message
    );
}

#[test]
fn shared_mailbox_is_never_given_to_one_of_its_users() {
    let source = dir(
        vec![
            person("s1", "support@acme.com", "Support A"),
            person("s2", "SUPPORT@acme.com", "Support B"),
        ],
        vec![],
    );
    let destination = dir(vec![person("d1", "support@acme.com", "Support")], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    for id in ["s1", "s2"] {
        let m = account_mapping(&resolved, &source, id);
        assert_eq!(m.resolution, Resolution::Unresolved);
        assert!(m.flags.contains(&Flag::SharedDestination));
        assert_eq!(m.candidates.len(), 1);
        assert!(
            m.message.contains("2 source accounts claim destination d1"),
            "{}",
            m.message
        );
    }
    let merge = Policy {
        duplicate_claims: DuplicateClaims::Merge,
        ..Policy::default()
    };
    let merged = resolve(&source, &destination, &merge, &[]);
    for id in ["s1", "s2"] {
        let m = account_mapping(&merged, &source, id);
        assert_eq!(m.resolution, Resolution::Email);
        assert_eq!(linked_to(m, &destination).as_deref(), Some("d1"));
        assert!(m.message.contains("merged"));
    }
}

#[test]
fn two_destinations_with_one_address_are_ambiguous() {
    let source = dir(vec![person("s1", "kim@acme.com", "Kim")], vec![]);
    let destination = dir(
        vec![
            person("d1", "kim@acme.com", "Kim A"),
            person("d2", "KIM@acme.com", "Kim B"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.flags.contains(&Flag::Ambiguous));
    assert_eq!(
        m.candidates.iter().map(|c| c.index).collect::<Vec<_>>(),
        vec![0, 1]
    );
}

#[test]
fn look_alike_address_is_flagged_and_never_matched() {
    let source = dir(vec![person("s1", "john@acme.com", "John Doe")], vec![]);
    // Cyrillic о (U+043E) in the local part, and a Cyrillic а in another domain.
    let destination = dir(
        vec![
            person("d1", "j\u{43e}hn@acme.com", "John Doe"),
            person("d2", "john@\u{430}cme.com", "J"),
        ],
        vec![],
    );
    let mut policy = org_policy();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved, "{}", m.message);
    assert!(m.flags.contains(&Flag::LookAlike));
    assert!(m.target.is_none());
    assert_eq!(m.candidates.len(), 2);
}

#[test]
fn exact_match_still_reports_a_look_alike_beside_it() {
    let source = dir(vec![person("s1", "john@acme.com", "John")], vec![]);
    let destination = dir(
        vec![
            person("d1", "john@acme.com", "John"),
            person("d2", "j\u{43e}hn@acme.com", "J"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Email);
    assert_eq!(linked_to(m, &destination).as_deref(), Some("d1"));
    assert!(m.flags.contains(&Flag::LookAlike));
}

#[test]
fn invalid_email_is_reported_and_not_used() {
    let source = dir(vec![person("s1", "john smith@acme.com", "John")], vec![]);
    let destination = dir(vec![person("d1", "john smith@acme.com", "John")], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.flags.contains(&Flag::InvalidEmail));
    assert!(
        m.message
            .contains("email \"john smith@acme.com\" has spaces"),
        "{}",
        m.message
    );
}

#[test]
fn unverified_destination_address_is_not_linked() {
    let source = dir(vec![person("s1", "eve@acme.com", "Eve")], vec![]);
    let mut dst = person("d1", "eve@acme.com", "Eve");
    dst.email_verified = Some(false);
    let destination = dir(vec![dst], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.flags.contains(&Flag::UnverifiedEmail));
    let mut lenient = Policy::default();
    lenient.email.require_verified = false;
    assert_eq!(
        account_mapping(
            &resolve(&source, &destination, &lenient, &[]),
            &source,
            "s1"
        )
        .resolution,
        Resolution::Email
    );
}

#[test]
fn fallbacks_apply_in_order_external_provision_passthrough_default() {
    let source = dir(
        vec![
            person("s1", "guest@partner.example", "Guest"),
            person("s2", "new@acme.com", "New"),
        ],
        vec![],
    );
    let destination = dir(
        vec![person("svc", "migration@acme.com", "Migration Bot")],
        vec![],
    );
    let mut policy = Policy::default();
    policy.fallback.external_domains = vec!["partner.example".into()];
    policy.fallback.default_account = Some("migration@acme.com".into());
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::External
    );
    let default = account_mapping(&resolved, &source, "s2");
    assert_eq!(default.resolution, Resolution::Default);
    assert_eq!(linked_to(default, &destination).as_deref(), Some("svc"));

    policy.fallback.passthrough = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s2").resolution,
        Resolution::Passthrough
    );
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let provisioned = account_mapping(&resolved, &source, "s2");
    assert_eq!(provisioned.resolution, Resolution::Provision);
    assert_eq!(provisioned.target, Some(Target::Provision));
}

/// A row that makes an identity rather than linking one never shows an id in Destination
/// ID, which would read as an existing destination account: the Destination columns show
/// what will be made, and the message says so.
#[test]
fn made_identities_show_no_destination_id() {
    let source = dir(
        vec![
            Account {
                username: Some("guest".into()),
                ..person("s1", "guest@partner.example", "Guest")
            },
            Account {
                username: Some("newbie".into()),
                ..person("s2", "new@acme.com", "New Person")
            },
        ],
        vec![group("g1", "newgroup")],
    );
    let destination = dir(vec![], vec![]);
    let mut policy = Policy::default();
    policy.fallback.external_domains = vec!["partner.example".into()];
    for (provision, passthrough, made, says) in [
        (
            true,
            false,
            Resolution::Provision,
            "a new destination account will be created",
        ),
        (
            false,
            true,
            Resolution::Passthrough,
            "with the source's id s2; it is not an existing destination account",
        ),
    ] {
        policy.fallback.provision = provision;
        policy.fallback.passthrough = passthrough;
        let resolved = resolve(&source, &destination, &policy, &[]);
        let rows: Vec<ReportRow> = resolved
            .mappings
            .iter()
            .map(|m| ReportRow::build("j", &source, &destination, m))
            .collect();
        let external = &rows[0];
        assert_eq!(
            (external.resolution, external.destination_id.as_str()),
            (Resolution::External, "")
        );
        assert_eq!(external.destination_name, "guest@partner.example");
        assert!(
            external
                .message
                .contains("a guest under its own address, not an existing destination account"),
            "{}",
            external.message
        );
        let new = &rows[1];
        assert_eq!((new.resolution, new.destination_id.as_str()), (made, ""));
        assert_eq!(
            (
                new.destination_username.as_str(),
                new.destination_name.as_str()
            ),
            ("newbie", "new@acme.com")
        );
        assert!(new.message.contains(says), "{}", new.message);
        let group = &rows[2];
        assert_eq!(
            (
                group.resolution,
                group.destination_id.as_str(),
                group.destination_name.as_str()
            ),
            (made, "", "newgroup")
        );
        assert!(
            group.message.contains("destination group"),
            "{}",
            group.message
        );
    }
}

#[test]
fn unresolved_says_what_was_tried() {
    let source = dir(vec![person("s1", "nobody@acme.com", "Nobody")], vec![]);
    let destination = dir(vec![], vec![]);
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert_eq!(
        m.message,
        "no destination account matched by id, email, username, name"
    );
}

#[test]
fn disabled_methods_do_not_run() {
    let source = dir(vec![person("s1", "a@acme.com", "A")], vec![]);
    let destination = dir(vec![person("d1", "a@acme.com", "A")], vec![]);
    let mut policy = Policy::default();
    policy.order.retain(|m| *m != Method::Email);
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::Unresolved
    );
}

#[test]
fn groups_resolve_by_id_then_name_and_never_into_reserved_groups() {
    let source = dir(
        vec![],
        vec![
            group("10", "Developers"),
            group("11", "site-admins"),
            group("12", "Testers"),
            group("13", "Ops"),
        ],
    );
    let destination = dir(
        vec![],
        vec![
            group("g-dev", "developers"),
            group("g-sa", "Site-Admins"),
            group("12", "QA"),
            group("o1", "ops"),
            group("o2", "OPS"),
        ],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    let dev = group_mapping(&resolved, &source, "10");
    assert_eq!(
        (dev.resolution, linked_to(dev, &destination).as_deref()),
        (Resolution::Name, Some("g-dev"))
    );
    let admins = group_mapping(&resolved, &source, "11");
    assert_eq!(admins.resolution, Resolution::Unresolved);
    assert!(admins.flags.contains(&Flag::ReservedGroup));
    let testers = group_mapping(&resolved, &source, "12");
    assert_eq!(
        (
            testers.resolution,
            linked_to(testers, &destination).as_deref()
        ),
        (Resolution::Id, Some("12"))
    );
    let ops = group_mapping(&resolved, &source, "13");
    assert_eq!(ops.resolution, Resolution::Unresolved);
    assert!(ops.flags.contains(&Flag::Ambiguous));
}

#[test]
fn summary_counts_every_resolution() {
    let source = dir(
        vec![person("s1", "a@acme.com", "A"), person("s2", "", "")],
        vec![group("g", "devs")],
    );
    let destination = dir(
        vec![person("d1", "a@acme.com", "A")],
        vec![group("h", "devs")],
    );
    let resolved = resolve(&source, &destination, &Policy::default(), &[]);
    assert_eq!(resolved.summary.accounts, 2);
    assert_eq!(resolved.summary.groups, 1);
    assert_eq!(resolved.summary.count(Resolution::Email), 1);
    assert_eq!(resolved.summary.count(Resolution::Name), 1);
    assert_eq!(resolved.summary.count(Resolution::Unresolved), 1);
    assert_eq!(resolved.summary.by_resolution.len(), 10);
}

#[test]
fn a_name_alone_is_never_enough() {
    // FEBRL4-style: unique name on both sides, but the destination handle says nothing.
    let source = dir(vec![person("s1", "", "Alexander Ryan")], vec![]);
    let destination = dir(
        vec![person("d1", "user7f3a@acme.com", "Alexander Ryan")],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert_eq!(m.candidates.len(), 1, "offered for review");
    assert!(
        m.message.contains("no address or username agrees"),
        "{}",
        m.message
    );
}

#[test]
fn a_new_person_is_not_given_a_namesakes_account() {
    // The source person has their own organisation address, which the namesake does not.
    let source = dir(vec![person("s1", "sam.lee2@acme.com", "Sam Lee")], vec![]);
    let destination = dir(vec![person("d1", "sam.lee@acme.com", "Sam Lee")], vec![]);
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved, "{}", m.message);
    assert!(
        m.message.contains("own organisation address"),
        "{}",
        m.message
    );
}

#[test]
fn a_contractor_is_never_linked_by_name() {
    let source = dir(
        vec![person("s1", "sam.lee@partner.example", "Sam Lee")],
        vec![],
    );
    let destination = dir(vec![person("d1", "sam.lee@acme.com", "Sam Lee")], vec![]);
    let mut policy = org_policy();
    policy.fallback.external_domains = vec!["partner.example".into()];
    let resolved = resolve(&source, &destination, &policy, &[]);
    assert_eq!(
        account_mapping(&resolved, &source, "s1").resolution,
        Resolution::External
    );
}

#[test]
fn a_stronger_claim_keeps_the_destination_and_the_weaker_is_undone() {
    let source = dir(
        vec![
            person("s1", "olga.petrova@acme.com", "Olga P"),
            person("s2", "kitty.p@home.example", "Olga Petrova"),
        ],
        vec![],
    );
    let destination = dir(
        vec![with_alias(
            person("d1", "olga.petrova@acme.com", "Olga Petrova"),
            "kitty.p@acme.com",
        )],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let strong = account_mapping(&resolved, &source, "s1");
    assert_eq!(strong.resolution, Resolution::Email);
    let weak = account_mapping(&resolved, &source, "s2");
    assert_eq!(weak.resolution, Resolution::Unresolved);
    assert!(
        weak.message.contains("is linked to s1 by Email"),
        "{}",
        weak.message
    );
}
