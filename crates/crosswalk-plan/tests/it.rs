//! Planning over a small source: scope options, each check, each fix.

use std::collections::{BTreeMap, BTreeSet};

use crosswalk_core::normalize::{DomainAliases, email_key};
use crosswalk_core::{Account, Directory, Group, IdentityKind};
use crosswalk_plan::fixes::email_from_template;
use crosswalk_plan::{
    CheckKind, CheckOptions, Fix, MergeRule, Reason, Reference, Role, Severity, UserScope,
    apply_fixes, resolve_scope, run_checks, suggested_fixes,
};

fn account(id: &str, email: Option<&str>) -> Account {
    Account {
        id: id.into(),
        username: Some(id.into()),
        email: email.map(Into::into),
        active: true,
        source_directory: Some("internal".into()),
        ..Account::default()
    }
}

fn group(id: &str, name: &str, members: &[&str]) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        members: members.iter().map(|m| (*m).into()).collect(),
        ..Group::default()
    }
}

/// ENG: ana created a page, bo commented, group `everyone` (ana, bo, cy, dee) holds a
/// permission. OPS: cy is assignee, group `ops` (eve) holds a permission. ENG also mentions
/// `ghost`, who is not in the source.
fn fixture() -> (Directory, Vec<Reference>) {
    let accounts = ["ana", "bo", "cy", "dee", "eve"]
        .map(|id| account(id, Some(&format!("{id}@example.com"))))
        .to_vec();
    let groups = vec![
        group(
            "g-everyone",
            "confluence-users",
            &["ana", "bo", "cy", "dee"],
        ),
        group("g-ops", "ops", &["eve"]),
    ];
    let source = Directory::new("source", accounts, groups).unwrap();
    let references = vec![
        Reference::account("ENG", Some("page-1"), Role::Creator, "ana"),
        Reference::account("ENG", Some("page-1"), Role::Commenter, "bo"),
        Reference::account("ENG", Some("page-2"), Role::Mentioned, "ghost"),
        Reference::group_permission("ENG", "g-everyone"),
        Reference::account("OPS", Some("issue-9"), Role::Assignee, "cy"),
        Reference::group_permission("OPS", "g-ops"),
    ];
    (source, references)
}

fn related(containers: &[&str], include_groups: bool) -> UserScope {
    UserScope::Related {
        containers: containers.iter().map(|c| c.to_string()).collect(),
        include_groups,
    }
}

fn ids(result: &crosswalk_plan::ScopeResult, kind: IdentityKind) -> Vec<&str> {
    result
        .in_scope
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.id.as_str())
        .collect()
}

#[test]
fn scope_all_takes_every_account_and_group_for_the_whole_source() {
    let (source, references) = fixture();
    let result = resolve_scope(&source, &references, &UserScope::All, 100);
    assert_eq!(
        ids(&result, IdentityKind::Account),
        ["ana", "bo", "cy", "dee", "eve"]
    );
    assert_eq!(ids(&result, IdentityKind::Group), ["g-everyone", "g-ops"]);
    assert!(
        result
            .in_scope
            .iter()
            .all(|s| s.reasons == [Reason::WholeSource])
    );
    let not_mapped: Vec<&str> = result
        .mapping
        .referenced_not_mapped
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(not_mapped, ["ghost"]);
}

#[test]
fn scope_related_takes_direct_and_group_members_of_selected_containers_with_reasons() {
    let (source, references) = fixture();
    let result = resolve_scope(&source, &references, &related(&["ENG"], false), 100);
    assert_eq!(
        ids(&result, IdentityKind::Account),
        ["ana", "bo", "cy", "dee"],
        "eve is only in OPS"
    );
    assert!(
        ids(&result, IdentityKind::Group).is_empty(),
        "groups not included"
    );
    let ana = &result.in_scope[0];
    assert_eq!(
        ana.reasons,
        [
            Reason::Container {
                container: "ENG".into(),
                role: Role::Creator,
                through_group: None
            },
            Reason::Container {
                container: "ENG".into(),
                role: Role::Permission,
                through_group: Some("g-everyone".into())
            },
        ]
    );
    let dee = result.in_scope.iter().find(|s| s.id == "dee").unwrap();
    assert_eq!(
        dee.reasons[0].to_string(),
        "permission in ENG through group g-everyone"
    );
    // The group itself is referenced but not mapped, and so is the absent ghost.
    let not_mapped: Vec<(&str, &str)> = result
        .mapping
        .referenced_not_mapped
        .iter()
        .map(|n| (n.id.as_str(), n.why.as_str()))
        .collect();
    assert_eq!(
        not_mapped,
        [
            (
                "ghost",
                "referenced by content but absent from the source directory"
            ),
            ("g-everyone", "groups are not included in this scope")
        ]
    );
    assert_eq!(result.mapping.mapped_accounts, ["ana", "bo", "cy", "dee"]);
}

#[test]
fn scope_related_with_groups_includes_the_permitted_groups() {
    let (source, references) = fixture();
    let result = resolve_scope(&source, &references, &related(&["ENG", "OPS"], true), 100);
    assert_eq!(ids(&result, IdentityKind::Group), ["g-everyone", "g-ops"]);
    assert_eq!(result.mapping.mapped_groups, ["g-everyone", "g-ops"]);
    assert_eq!(
        ids(&result, IdentityKind::Account),
        ["ana", "bo", "cy", "dee", "eve"]
    );
}

#[test]
fn scope_none_migrates_nobody_and_says_every_referenced_identity_gets_no_mapping() {
    let (source, references) = fixture();
    let result = resolve_scope(&source, &references, &UserScope::None, 100);
    assert!(result.in_scope.is_empty());
    assert!(result.mapping.mapped_accounts.is_empty());
    let not_mapped: BTreeSet<&str> = result
        .mapping
        .referenced_not_mapped
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(
        not_mapped,
        BTreeSet::from(["ana", "bo", "cy", "ghost", "g-everyone", "g-ops"])
    );
    assert!(
        result
            .mapping
            .referenced_not_mapped
            .iter()
            .any(|n| n.why == "the user scope is none: content only")
    );
}

#[test]
fn a_group_permission_pulling_in_users_is_reported_in_words() {
    let (source, references) = fixture();
    let result = resolve_scope(&source, &references, &related(&["ENG"], false), 2);
    // ana and bo are in ENG directly; cy and dee only through the group.
    assert_eq!(result.group_pulls.len(), 1);
    assert_eq!(
        result.group_pulls[0].to_string(),
        "ENG pulls in 2 users through group confluence-users"
    );
    let quiet = resolve_scope(&source, &references, &related(&["ENG"], false), 3);
    assert!(
        quiet.group_pulls.is_empty(),
        "below the threshold nothing is said"
    );
}

#[test]
fn nested_groups_are_followed_and_cycles_end() {
    let accounts = vec![account("ana", Some("ana@example.com"))];
    let groups = vec![
        group("outer", "outer", &["inner"]),
        group("inner", "inner", &["ana", "outer"]),
    ];
    let source = Directory::new("s", accounts, groups).unwrap();
    let result = resolve_scope(
        &source,
        &[Reference::group_permission("X", "outer")],
        &related(&["X"], false),
        1,
    );
    assert_eq!(ids(&result, IdentityKind::Account), ["ana"]);
}

fn kinds(findings: &[crosswalk_plan::Finding]) -> Vec<CheckKind> {
    findings.iter().map(|f| f.kind).collect()
}

fn rows_of(findings: &[crosswalk_plan::Finding], kind: CheckKind) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.kind == kind)
        .flat_map(|f| f.rows.iter().map(|r| r.user_key.clone()))
        .collect()
}

#[test]
fn a_clean_source_has_no_findings() {
    let (source, _) = fixture();
    assert!(run_checks(&source, None, &[], &CheckOptions::default()).is_empty());
}

#[test]
fn every_check_finds_its_rows_with_severity_count_and_fix() {
    let mut accounts = vec![
        account("ana", Some("ana@example.com")),
        account("ANA-ldap", Some("Ana@Example.com")),
        account("bad", Some("not-an-address")),
        account("none", None),
        account("idle", Some("idle@example.com")),
        account("j0hn", Some("j0hn@example.com")),
        account("john", Some("john@example.com")),
        account("dup-name", Some("dup1@example.com")),
        account("dup-name-2", Some("dup2@example.com")),
    ];
    accounts[1].source_directory = Some("ldap".into());
    accounts[4].active = false;
    accounts[7].username = Some("sam".into());
    accounts[8].username = Some("sam".into());
    accounts[8].source_directory = Some("crowd".into());
    let groups = vec![
        group("g1", "site-admins", &[]),
        group("g2", "Developers", &["ana"]),
    ];
    let source = Directory::new("s", accounts, groups).unwrap();
    let mut target = account("t-ana", Some("ana@example.com"));
    target.email_verified = Some(false);
    let destination =
        Directory::new("d", vec![target], vec![group("dg", "developers", &[])]).unwrap();
    let references = vec![Reference::account("ENG", Some("p"), Role::Owner, "ghost")];
    let options = CheckOptions {
        directory_order: vec!["internal".into(), "ldap".into(), "crowd".into()],
        ..Default::default()
    };
    let findings = run_checks(&source, Some(&destination), &references, &options);

    assert_eq!(
        kinds(&findings),
        CheckKind::ALL.to_vec(),
        "every kind is found once"
    );
    assert_eq!(rows_of(&findings, CheckKind::InvalidEmail), ["bad"]);
    assert_eq!(
        rows_of(&findings, CheckKind::DuplicateEmail),
        ["ANA-ldap", "ana"]
    );
    assert_eq!(rows_of(&findings, CheckKind::MissingEmail), ["none"]);
    assert_eq!(
        rows_of(&findings, CheckKind::ShadowedUsername),
        ["dup-name-2"]
    );
    assert_eq!(
        rows_of(&findings, CheckKind::GroupExistsInDestination),
        ["g2"]
    );
    assert_eq!(rows_of(&findings, CheckKind::ReservedGroupName), ["g1"]);
    assert_eq!(
        rows_of(&findings, CheckKind::UnverifiedDestinationEmail),
        ["ANA-ldap", "ana"]
    );
    assert_eq!(rows_of(&findings, CheckKind::InactiveUser), ["idle"]);
    assert_eq!(rows_of(&findings, CheckKind::LookAlike), ["j0hn", "john"]);
    assert_eq!(
        rows_of(&findings, CheckKind::ReferencedButAbsent),
        ["ghost"]
    );
    for finding in &findings {
        assert_eq!(finding.count, finding.rows.len());
        assert!(!finding.suggested_fix.is_empty());
    }
    let blockers: Vec<CheckKind> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocker)
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        blockers,
        [
            CheckKind::InvalidEmail,
            CheckKind::DuplicateEmail,
            CheckKind::MissingEmail,
            CheckKind::ReservedGroupName
        ]
    );
    let duplicate = findings
        .iter()
        .find(|f| f.kind == CheckKind::DuplicateEmail)
        .unwrap();
    assert!(
        duplicate
            .rows
            .iter()
            .any(|r| r.user_key == "ANA-ldap" && r.detail.contains("merges this one into ana"))
    );
    let shadowed = findings
        .iter()
        .find(|f| f.kind == CheckKind::ShadowedUsername)
        .unwrap();
    assert!(
        shadowed.rows[0]
            .detail
            .contains("crowd comes after internal, where dup-name is in effect"),
        "{}",
        shadowed.rows[0].detail
    );
}

#[test]
fn suggested_fixes_clear_every_email_blocker() {
    let accounts = vec![
        account("ana", Some("ana@example.com")),
        account("ana2", Some("ANA@example.com")),
        account("bad", Some("nope")),
        account("none", None),
    ];
    let source = Directory::new("s", accounts, vec![group("g", "team", &["ana", "ana2"])]).unwrap();
    let findings = run_checks(&source, None, &[], &CheckOptions::default());
    let fixes = suggested_fixes(
        &source,
        &findings,
        Some("{id}@migrated.example.com"),
        &MergeRule::default(),
        &DomainAliases::default(),
    );
    assert_eq!(fixes["ana2"], Fix::Merge { into: "ana".into() });
    assert_eq!(
        fixes["bad"],
        Fix::NewEmail {
            email: "bad@migrated.example.com".into()
        }
    );
    let outcome = apply_fixes(&source, &fixes, &DomainAliases::default()).unwrap();
    assert_eq!(outcome.merged, [("ana2".to_string(), "ana".to_string())]);
    assert_eq!(
        outcome.directory.groups[0].members,
        ["ana"],
        "the merged member is redirected once"
    );
    let after = run_checks(&outcome.directory, None, &[], &CheckOptions::default());
    assert!(
        after.iter().all(|f| f.severity != Severity::Blocker),
        "{after:?}"
    );
}

#[test]
fn tombstone_and_exclude_do_what_they_say() {
    let source = Directory::new(
        "s",
        vec![
            account("ana", Some("ana@example.com")),
            account("bo", Some("bo@example.com")),
        ],
        vec![group("g", "team", &["ana", "bo"]), group("h", "other", &[])],
    )
    .unwrap();
    let fixes = BTreeMap::from([
        ("ana".to_string(), Fix::Tombstone),
        ("bo".to_string(), Fix::Exclude),
        ("h".to_string(), Fix::Exclude),
    ]);
    let outcome = apply_fixes(&source, &fixes, &DomainAliases::default()).unwrap();
    let ana = &outcome.directory.accounts[0];
    assert_eq!(
        (ana.id.as_str(), ana.email.is_none(), ana.active),
        ("ana", true, false)
    );
    assert_eq!(outcome.directory.accounts.len(), 1);
    assert_eq!(outcome.directory.groups.len(), 1);
    assert_eq!(outcome.directory.groups[0].members, ["ana"]);
    outcome.directory.check().unwrap();
}

#[test]
fn wrong_fixes_are_all_reported_and_nothing_is_applied() {
    let source = Directory::new(
        "s",
        vec![
            account("ana", Some("ana@example.com")),
            account("bo", Some("bo@example.com")),
            account("cy", None),
        ],
        vec![group("g", "team", &[])],
    )
    .unwrap();
    let fixes = BTreeMap::from([
        ("nobody".to_string(), Fix::Exclude),
        ("ana".to_string(), Fix::Merge { into: "ana".into() }),
        (
            "bo".to_string(),
            Fix::NewEmail {
                email: "not an email".into(),
            },
        ),
        ("cy".to_string(), Fix::Merge { into: "bo".into() }),
        ("g".to_string(), Fix::Tombstone),
    ]);
    let errors = apply_fixes(&source, &fixes, &DomainAliases::default()).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.user_key.as_str()).collect();
    assert_eq!(keys, ["ana", "bo", "g", "nobody"]);
    // A new email that collides with a kept account is refused too.
    let collide = BTreeMap::from([(
        "cy".to_string(),
        Fix::NewEmail {
            email: "Bo@example.com".into(),
        },
    )]);
    let errors = apply_fixes(&source, &collide, &DomainAliases::default()).unwrap_err();
    assert!(
        errors[0]
            .message
            .contains("would share the email bo@example.com"),
        "{errors:?}"
    );
}

#[test]
fn the_merge_rule_is_stated_and_prefers_active_then_directory_then_key() {
    let rule = MergeRule {
        directory_order: vec!["internal".into(), "ldap".into()],
    };
    assert!(rule.describe().contains("internal > ldap"));
    let mut inactive = account("a", Some("x@example.com"));
    inactive.active = false;
    let mut ldap = account("b", Some("x@example.com"));
    ldap.source_directory = Some("ldap".into());
    let internal = account("c", Some("x@example.com"));
    assert_eq!(rule.choose([&inactive, &ldap, &internal]).id, "c");
    assert_eq!(rule.choose([&inactive, &ldap]).id, "b");
    assert_eq!(
        email_from_template("{local}.old@corp.example.com", &internal),
        "x.old@corp.example.com"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn source() -> impl Strategy<Value = Directory> {
        // Few distinct mailboxes so duplicates are common; some invalid or missing.
        let email = prop_oneof![
            3 => (0..6u8, prop::bool::ANY).prop_map(|(n, upper)| Some(if upper { format!("User{n}@Example.com") } else { format!("user{n}@example.com") })),
            1 => Just(Some("broken".to_string())),
            1 => Just(None),
        ];
        let directory = prop_oneof![Just("internal"), Just("ldap"), Just("crowd")];
        prop::collection::vec((email, prop::bool::ANY, directory), 0..14).prop_map(|rows| {
            let accounts = rows
                .into_iter()
                .enumerate()
                .map(|(i, (email, active, directory))| Account {
                    id: format!("u{i}").into(),
                    email: email.map(Into::into),
                    active,
                    source_directory: Some(directory.into()),
                    ..Account::default()
                })
                .collect();
            Directory::new("s", accounts, vec![]).unwrap()
        })
    }

    proptest! {
        /// After the suggested fixes, no two accounts share an email and no email blocker is left.
        #[test]
        fn suggested_fixes_never_leave_duplicate_emails(source in source()) {
            let aliases = DomainAliases::default();
            let findings = run_checks(&source, None, &[], &CheckOptions::default());
            let rule = MergeRule { directory_order: vec!["ldap".into(), "internal".into()] };
            let fixes = suggested_fixes(&source, &findings, Some("{id}@fixed.example.com"), &rule, &aliases);
            let outcome = apply_fixes(&source, &fixes, &aliases).unwrap();
            let keys: Vec<String> = outcome.directory.accounts.iter().filter_map(|a| a.email.as_deref()).map(|e| email_key(e, &aliases).unwrap().key).collect();
            let distinct: BTreeSet<&String> = keys.iter().collect();
            prop_assert_eq!(distinct.len(), keys.len());
            let after = run_checks(&outcome.directory, None, &[], &CheckOptions::default());
            prop_assert!(after.iter().all(|f| f.severity != Severity::Blocker));
        }

        /// Without a template the suggested fix for a missing or invalid email is a
        /// tombstone; an account the fixes made a former user is no blocker either.
        #[test]
        fn suggested_tombstones_leave_no_blocker(source in source()) {
            let aliases = DomainAliases::default();
            let findings = run_checks(&source, None, &[], &CheckOptions::default());
            let fixes = suggested_fixes(&source, &findings, None, &MergeRule::default(), &aliases);
            let outcome = apply_fixes(&source, &fixes, &aliases).unwrap();
            let options = CheckOptions { former_users: outcome.tombstoned.iter().cloned().collect(), ..CheckOptions::default() };
            let after = run_checks(&outcome.directory, None, &[], &options);
            prop_assert!(after.iter().all(|f| f.severity != Severity::Blocker), "{:?}", after);
        }

        /// The merge rule's survivor does not depend on the order the accounts come in.
        #[test]
        fn the_merge_rule_is_deterministic(source in source(), seed in any::<u64>()) {
            prop_assume!(!source.accounts.is_empty());
            let rule = MergeRule { directory_order: vec!["crowd".into(), "internal".into()] };
            let mut shuffled: Vec<&Account> = source.accounts.iter().collect();
            let len = shuffled.len();
            shuffled.rotate_left((seed as usize) % len);
            if seed % 2 == 0 { shuffled.reverse(); }
            prop_assert_eq!(&rule.choose(source.accounts.iter()).id, &rule.choose(shuffled).id);
        }

        /// Every in-scope identity has at least one reason, and a related scope only takes
        /// identities tied to a selected container.
        #[test]
        fn every_in_scope_identity_has_a_reason(
            refs in prop::collection::vec((0..3u8, 0..8u8, 0..7usize, prop::bool::ANY), 0..30),
            selected in prop::collection::btree_set(0..3u8, 0..3),
            include_groups in prop::bool::ANY,
        ) {
            let accounts: Vec<Account> = (0..6).map(|i| account(&format!("a{i}"), Some(&format!("a{i}@example.com")))).collect();
            let groups = vec![group("g0", "all", &["a0", "a1", "a2", "g1"]), group("g1", "some", &["a3"])];
            let source = Directory::new("s", accounts, groups).unwrap();
            let references: Vec<Reference> = refs.into_iter().map(|(c, who, role, is_group)| {
                let container = format!("C{c}");
                if is_group { Reference::group_permission(&container, &format!("g{}", who % 3)) }
                else { Reference::account(&container, Some("item"), Role::ALL[role], &format!("a{who}")) }
            }).collect();
            let containers: BTreeSet<String> = selected.iter().map(|c| format!("C{c}")).collect();
            let scope = UserScope::Related { containers: containers.clone(), include_groups };
            let result = resolve_scope(&source, &references, &scope, 1);
            for identity in &result.in_scope {
                prop_assert!(!identity.reasons.is_empty());
                for reason in &identity.reasons {
                    let Reason::Container { container, .. } = reason else { panic!("related scope gave {reason:?}") };
                    prop_assert!(containers.contains(container.as_str()));
                }
            }
        }
    }
}

// Duplicate handling across waves.

fn handling(
    pairs: &[(&str, crosswalk_plan::Handling)],
) -> BTreeMap<String, crosswalk_plan::Handling> {
    pairs
        .iter()
        .map(|(k, h)| (k.to_string(), h.clone()))
        .collect()
}

#[test]
fn a_merge_records_the_survivor_as_kept() {
    use crosswalk_plan::{Handling, handling_of_fixes};
    let fixes: BTreeMap<String, Fix> = [
        ("b".to_string(), Fix::Merge { into: "a".into() }),
        ("c".to_string(), Fix::Tombstone),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        handling_of_fixes(&fixes),
        handling(&[
            ("a", Handling::Keep),
            ("b", Handling::Merge { into: "a".into() }),
            ("c", Handling::Tombstone)
        ])
    );
}

#[test]
fn switches_that_make_a_second_account_are_refused_and_the_rest_recorded() {
    use crosswalk_plan::{Handling, judge_wave};
    let merge_a = Handling::Merge { into: "a".into() };
    let before = handling(&[
        ("a", Handling::Keep),
        ("b", merge_a.clone()),
        ("c", Handling::Tombstone),
        (
            "d",
            Handling::NewEmail {
                email: "d2@x.example".into(),
            },
        ),
        ("e", Handling::Exclude),
        ("gone", Handling::Tombstone),
    ]);
    let in_wave = |key: &str| key != "gone";

    // The same choices again: nothing refused, nothing new to record.
    let same = judge_wave(&before, &before, in_wave);
    assert!(same.refused.is_empty(), "{:?}", same.refused);

    // Merged the other way round, a tombstone re-emailed, a new email changed, the case of
    // an address alone kept: each identity becomes another account than before.
    let now = handling(&[
        ("a", Handling::Merge { into: "b".into() }),
        ("b", Handling::Keep),
        (
            "c",
            Handling::NewEmail {
                email: "c@x.example".into(),
            },
        ),
        (
            "d",
            Handling::NewEmail {
                email: "D2@X.example".into(),
            },
        ),
        (
            "e",
            Handling::NewEmail {
                email: "e@x.example".into(),
            },
        ),
    ]);
    let judged = judge_wave(&before, &now, in_wave);
    let refused: Vec<&str> = judged
        .refused
        .iter()
        .map(|s| s.source_key.as_str())
        .collect();
    assert_eq!(
        refused,
        ["a", "b", "c"],
        "an excluded identity now migrated makes its first account; case is no new address"
    );
    assert_eq!(
        judged.refused[0].to_string(),
        "a: kept as its own account before, merged into b now"
    );
    assert_eq!(judged.record, now, "every choice of the wave is recorded");

    // A wave without a fix for an identity it holds migrates it as itself: a switch from a
    // merge. An identity the wave does not hold is not judged.
    let judged = judge_wave(&before, &BTreeMap::new(), in_wave);
    let refused: Vec<&str> = judged
        .refused
        .iter()
        .map(|s| s.source_key.as_str())
        .collect();
    assert_eq!(refused, ["b", "c", "d"]);
    assert_eq!(
        judged.record.get("e"),
        Some(&Handling::Keep),
        "excluded before, migrated now: recorded, not refused"
    );
    assert!(!judged.record.contains_key("gone") && !judged.record.contains_key("a"));
}
