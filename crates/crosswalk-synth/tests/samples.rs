//! The hand-written demo data in `samples/` reads cleanly and every planted case resolves as
//! `samples/README.md` says.

use std::collections::HashMap;
use std::path::PathBuf;

use crosswalk_core::{Flag, IdentityKind, Mapping, Resolution, resolve};
use crosswalk_formats::{ReadOptions, read_directory_csv, read_exceptions, read_policy, read_scim};

/// What the engine decided for one source identity: resolution, target, flags.
type Outcome = (Resolution, Option<String>, Vec<Flag>);

fn sample(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_planted_case_resolves_as_documented() {
    let strict = ReadOptions::default();
    let source = read_scim(
        "server-directory.json",
        sample("server-directory.json").as_bytes(),
        strict,
    )
    .expect("server-directory.json")
    .directory;
    let destination = read_directory_csv(
        "cloud-directory.csv",
        sample("cloud-directory.csv").as_bytes(),
        strict,
    )
    .expect("cloud-directory.csv")
    .directory;
    let policy = read_policy("policy.toml", &sample("policy.toml")).expect("policy.toml");
    let exceptions = read_exceptions("exceptions.csv", sample("exceptions.csv").as_bytes())
        .expect("exceptions.csv");
    assert_eq!(source.accounts.len(), 42);
    assert_eq!(source.groups.len(), 8);

    let resolved = resolve(&source, &destination, &policy, &exceptions);
    let mut outcome: HashMap<(IdentityKind, String), Outcome> = HashMap::new();
    for m in &resolved.mappings {
        let (source_id, target) = match m.kind {
            IdentityKind::Account => (
                source.account(m.source).id.to_string(),
                m.destination_index()
                    .map(|i| destination.account(i).id.to_string()),
            ),
            IdentityKind::Group => (
                source.group(m.source).name.to_string(),
                m.destination_index()
                    .map(|i| destination.group(i).name.to_string()),
            ),
        };
        outcome.insert(
            (m.kind, source_id),
            (m.resolution, target, m.flags.to_vec()),
        );
    }

    use Resolution::*;
    // (source id, resolution, destination id or group name)
    let accounts: &[(&str, Resolution, Option<&str>)] = &[
        ("JIRAUSER10017", Exception, Some("64e90b1527fa3c001a2b3c45")),
        ("JIRAUSER10001", Email, Some("5b10a2844c201657000de210")),
        (
            "JIRAUSER10002",
            Email,
            Some("557058:f2b5a9c1-1b0e-4d2a-9c3e-6a1f0e7b4d21"),
        ),
        ("JIRAUSER10020", Email, Some("671c3e485ac26f001d5e6f78")),
        ("JIRAUSER10003", Email, Some("5c1e3f7a9d2b4e0012ab34cd")),
        ("JIRAUSER10019", Email, Some("660b2d3749b15e001c4d5e67")),
        ("JIRAUSER10004", Email, Some("5d2f4a8b0e3c5f0013bc45de")),
        ("JIRAUSER10035", Email, Some("75fa1c2638a04d002b3c35d6")),
        (
            "JIRAUSER10005",
            Email,
            Some("712020:0b7e4c2d-5a61-4f0e-8d3b-2c9a1e6f7b80"),
        ),
        ("JIRAUSER10006", Email, Some("5e3a5b9c1f4d6a0014cd56ef")),
        ("JIRAUSER10027", Email, Some("6e83a5bfc139d60024c5ce6f")),
        ("mbrown", Email, Some("6d7294aeb028c50023b4bd5e")),
        ("JIRAUSER10007", Id, Some("JIRAUSER10007")),
        ("JIRAUSER10008", Username, Some("5f4b6c0d2a5e7b0015de67f0")),
        (
            "JIRAUSER10028",
            Username,
            Some("712020:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"),
        ),
        ("JIRAUSER10009", Name, Some("60a5c7d1e3b6f80016ef7801")),
        ("JIRAUSER10010", External, None),
        ("JIRAUSER10011", Unresolved, None),
        ("JIRAUSER10012", Unresolved, None),
        ("JIRAUSER10013", Unresolved, None),
        ("JIRAUSER10014", Unresolved, None),
        ("JIRAUSER10015", Unresolved, None),
        ("JIRAUSER10016", Unresolved, None),
        ("JIRAUSER10025", Unresolved, None),
        ("JIRAUSER10041", Unresolved, None),
    ];
    for &(id, resolution, target) in accounts {
        let (got, got_target, flags) = &outcome[&(IdentityKind::Account, id.to_string())];
        assert_eq!(
            (*got, got_target.as_deref()),
            (resolution, target),
            "{id}: flags {flags:?}"
        );
    }
    let flags = |id: &str| outcome[&(IdentityKind::Account, id.to_string())].2.clone();
    assert!(flags("JIRAUSER10014").contains(&Flag::LookAlike));
    assert!(flags("JIRAUSER10015").contains(&Flag::InvalidEmail));
    assert!(flags("JIRAUSER10025").contains(&Flag::UnverifiedEmail));
    assert!(flags("JIRAUSER10027").contains(&Flag::Inactive));
    assert!(
        flags("JIRAUSER10011")
            .iter()
            .any(|f| matches!(f, Flag::Ambiguous | Flag::SharedDestination))
    );
    // Nadia Haddad is the demo's review suggestion: her one strong candidate, nothing flagged.
    let nadia = resolved
        .mappings
        .iter()
        .find(|m| m.kind == IdentityKind::Account && source.account(m.source).id == "JIRAUSER10041")
        .unwrap();
    let suggestion =
        crosswalk_core::suggest(nadia, crosswalk_core::SUGGESTION_THRESHOLD).expect("a suggestion");
    assert_eq!(
        destination
            .account(nadia.candidates[suggestion.candidate].index)
            .id,
        "7d72940eb028c50033b4bd5e"
    );
    // And the only one: nothing else in the demo is suggested at the default threshold.
    let suggested: Vec<&Mapping> = resolved
        .mappings
        .iter()
        .filter(|m| crosswalk_core::suggest(m, crosswalk_core::SUGGESTION_THRESHOLD).is_some())
        .collect();
    assert_eq!(suggested.len(), 1, "{suggested:?}");

    // Every other account is a plain Email match.
    let planted: Vec<&str> = accounts.iter().map(|a| a.0).collect();
    for account in &source.accounts {
        if !planted.contains(&account.id.as_str()) {
            let (got, target, flags) = &outcome[&(IdentityKind::Account, account.id.to_string())];
            assert_eq!(*got, Email, "{}: {target:?} {flags:?}", account.id);
        }
    }

    let groups: &[(&str, Resolution, Option<&str>)] = &[
        ("jira-administrators", Exception, Some("jira-admins-acme")),
        ("jira-software-users", Name, Some("jira-software-users")),
        ("confluence-users", Name, Some("confluence-users")),
        ("team-payments", Name, Some("Team-Payments")),
        ("team-platform", Name, Some("team-platform")),
        ("dept-finance-emea", Name, Some("dept-finance-emea")),
        ("site-admins", Unresolved, None),
        ("proj-apollo-developers", Unresolved, None),
    ];
    for &(name, resolution, target) in groups {
        let (got, got_target, flags) = &outcome[&(IdentityKind::Group, name.to_string())];
        assert_eq!(
            (*got, got_target.as_deref()),
            (resolution, target),
            "group {name}: flags {flags:?}"
        );
    }
    assert!(
        outcome[&(IdentityKind::Group, "site-admins".to_string())]
            .2
            .contains(&Flag::ReservedGroup)
    );
}
