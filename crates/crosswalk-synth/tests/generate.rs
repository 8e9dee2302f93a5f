//! Properties of generated pairs, checked with the engine's own normalisation.

use std::collections::{HashMap, HashSet};

use crosswalk_core::normalize::{DomainAliases, email_key, fold, name_key, skeleton};
use crosswalk_core::{Account, IdentityKind};
use crosswalk_synth::{
    Category, GenerateOptions, GeneratedPair, OLD_DOMAIN, ORGANISATION_DOMAIN, TruthRow, generate,
    policy, read_truth_csv, write_truth_csv,
};

fn options(accounts: usize, seed: u64) -> GenerateOptions {
    GenerateOptions {
        accounts,
        seed,
        ..Default::default()
    }
}

fn category(row: &TruthRow) -> Category {
    Category::parse(&row.category).unwrap_or_else(|| panic!("unknown category {:?}", row.category))
}

#[test]
fn same_seed_same_output_other_seed_other_output() {
    let a = generate(&options(3000, 42));
    let b = generate(&options(3000, 42));
    assert_eq!(a, b);
    let c = generate(&options(3000, 43));
    assert_ne!(a.source.accounts, c.source.accounts);
    assert_ne!(a.truth, c.truth);
}

#[test]
fn directories_are_valid_and_ids_unique() {
    let pair = generate(&options(20_000, 1));
    pair.source.check().unwrap();
    pair.destination.check().unwrap();
    for directory in [&pair.source, &pair.destination] {
        let ids: HashSet<&str> = directory.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), directory.accounts.len());
        let groups: HashSet<String> = directory
            .groups
            .iter()
            .map(|g| g.name.as_str().to_lowercase())
            .collect();
        assert_eq!(
            groups.len(),
            directory.groups.len(),
            "group names unique case-insensitively"
        );
    }
    // The destination has about as many accounts as the source.
    let ratio = pair.destination.accounts.len() as f64 / pair.source.accounts.len() as f64;
    assert!((0.9..1.2).contains(&ratio), "{ratio}");
    assert_eq!(pair.source.groups.len(), 20_000 / 50);
}

#[test]
fn truth_covers_the_source_and_names_existing_destinations() {
    let pair = generate(&options(20_000, 2));
    let accounts = pair
        .truth
        .iter()
        .filter(|r| r.kind == IdentityKind::Account)
        .count();
    let groups = pair.truth.len() - accounts;
    assert_eq!(accounts, pair.source.accounts.len());
    assert_eq!(groups, pair.source.groups.len());
    for (row, account) in pair.truth.iter().zip(&pair.source.accounts) {
        assert_eq!(row.source_id, account.id);
    }
    for (row, group) in pair.truth[accounts..].iter().zip(&pair.source.groups) {
        assert_eq!(row.source_id, group.id);
        assert_eq!(category(row).kind(), IdentityKind::Group);
    }
    let dest_accounts: HashSet<&str> = pair
        .destination
        .accounts
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    let dest_groups: HashSet<&str> = pair
        .destination
        .groups
        .iter()
        .map(|g| g.id.as_str())
        .collect();
    for row in &pair.truth {
        if let Some(d) = &row.destination_id {
            let ids = match row.kind {
                IdentityKind::Account => &dest_accounts,
                IdentityKind::Group => &dest_groups,
            };
            assert!(ids.contains(d.as_str()), "{row:?}");
        } else {
            assert!(!row.linkable, "{row:?}");
        }
    }
    // No destination account is the truth for two source accounts.
    let mut claimed = HashSet::new();
    for row in pair
        .truth
        .iter()
        .filter(|r| r.kind == IdentityKind::Account)
    {
        if let Some(d) = &row.destination_id {
            assert!(claimed.insert(d.clone()), "{d} claimed twice");
        }
    }
}

#[test]
fn category_rates_are_as_configured() {
    let opts = options(50_000, 3);
    let pair = generate(&opts);
    let mut counts: HashMap<Category, usize> = HashMap::new();
    for row in pair
        .truth
        .iter()
        .filter(|r| r.kind == IdentityKind::Account)
    {
        *counts.entry(category(row)).or_default() += 1;
    }
    for c in Category::ACCOUNTS {
        let share = counts.get(&c).copied().unwrap_or(0) as f64 / 50_000.0;
        let want = opts.rates.rate(c);
        assert!((share - want).abs() < 0.001, "{c}: {share} vs {want}");
    }
    // About 85% of source people already have a destination account.
    let with_destination = pair
        .truth
        .iter()
        .filter(|r| r.kind == IdentityKind::Account && r.destination_id.is_some())
        .count() as f64
        / 50_000.0;
    assert!(
        (0.8..0.92).contains(&with_destination),
        "{with_destination}"
    );

    let custom = GenerateOptions {
        rates: crosswalk_synth::CategoryRates {
            name_only: 0.2,
            lookalike: 0.1,
            ..Default::default()
        },
        ..options(10_000, 3)
    };
    let pair = generate(&custom);
    let name_only = pair
        .truth
        .iter()
        .filter(|r| r.category == "name_only")
        .count();
    let lookalike = pair
        .truth
        .iter()
        .filter(|r| r.category == "lookalike")
        .count();
    assert_eq!(name_only, 2000);
    assert_eq!(lookalike, 1000);
}

struct Keys {
    aliases: DomainAliases,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            aliases: DomainAliases::new(&policy().email.domain_aliases),
        }
    }

    fn emails(&self, a: &Account) -> Vec<String> {
        a.all_emails()
            .filter_map(|e| email_key(e, &self.aliases).ok())
            .map(|k| k.key)
            .collect()
    }
}

fn display_key(a: &Account) -> Option<String> {
    a.display_name.as_deref().and_then(name_key)
}

/// The engine's name keys: display name, and given + family name when that differs.
fn name_keys(a: &Account) -> Vec<String> {
    let mut keys: Vec<String> = display_key(a).into_iter().collect();
    if let (Some(g), Some(f)) = (&a.given_name, &a.family_name)
        && let Some(k) = name_key(&format!("{g} {f}"))
        && !keys.contains(&k)
    {
        keys.push(k);
    }
    keys
}

/// Checks each category's planted property and that `linkable` agrees with what the engine's
/// normalisation can see.
#[test]
fn categories_plant_what_they_say() {
    let pair = generate(&options(30_000, 4));
    check_categories(&pair);
}

#[test]
fn small_pairs_are_consistent_too() {
    for seed in 0..5 {
        let pair = generate(&options(300, seed));
        pair.source.check().unwrap();
        pair.destination.check().unwrap();
        check_categories(&pair);
    }
    let empty = generate(&options(0, 0));
    assert!(empty.source.accounts.is_empty());
    empty.destination.check().unwrap();
}

fn check_categories(pair: &GeneratedPair) {
    let keys = Keys::new();
    let dest_by_id: HashMap<&str, &Account> = pair
        .destination
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let mut src_names: HashMap<String, usize> = HashMap::new();
    for a in &pair.source.accounts {
        for k in name_keys(a) {
            *src_names.entry(k).or_default() += 1;
        }
    }
    let mut dst_names: HashMap<String, usize> = HashMap::new();
    let mut dst_emails: HashMap<String, usize> = HashMap::new();
    let mut dst_skeletons: HashMap<String, Vec<&Account>> = HashMap::new();
    for a in &pair.destination.accounts {
        for k in name_keys(a) {
            *dst_names.entry(k).or_default() += 1;
        }
        for e in keys.emails(a) {
            *dst_emails.entry(e).or_default() += 1;
        }
        if let Some(email) = &a.email
            && let Ok(k) = email_key(email, &keys.aliases)
        {
            dst_skeletons
                .entry(skeleton(&k.lookalike_form))
                .or_default()
                .push(a);
        }
    }
    let mut src_email_count: HashMap<String, usize> = HashMap::new();
    for a in &pair.source.accounts {
        if let Some(k) = a
            .email
            .as_deref()
            .and_then(|e| email_key(e, &keys.aliases).ok())
        {
            *src_email_count.entry(k.key).or_default() += 1;
        }
    }
    // Every address key belongs to one account per side, except shared mailboxes.
    for (directory, shared_ok) in [(&pair.source, true), (&pair.destination, false)] {
        let mut owners: HashMap<String, usize> = HashMap::new();
        for (i, a) in directory.accounts.iter().enumerate() {
            let mut ks = keys.emails(a);
            ks.sort();
            ks.dedup();
            for k in ks {
                if let Some(other) = owners.insert(k.clone(), i) {
                    let shared = |j: usize| shared_ok && pair.truth[j].category == "shared_mailbox";
                    assert!(
                        shared(i) && shared(other),
                        "{k} on {:?} and {:?}",
                        a,
                        directory.accounts[other]
                    );
                }
            }
        }
    }
    let mut seen: HashSet<Category> = HashSet::new();
    for (row, src) in pair.truth.iter().zip(&pair.source.accounts) {
        let c = category(row);
        seen.insert(c);
        let dst = row.destination_id.as_deref().map(|d| dest_by_id[d]);
        let src_emails = keys.emails(src);
        let email_match =
            dst.is_some_and(|d| keys.emails(d).iter().any(|k| src_emails.contains(k)));
        let username_match = dst.is_some_and(|d| match (&src.username, &d.username) {
            (Some(a), Some(b)) => fold(a) == fold(b),
            _ => false,
        });
        // The engine's Name rule: both active, destination in the organisation domain, no
        // other source account with any of the names, and the destination accounts with any
        // of them exactly this one.
        let name_match = dst.is_some_and(|d| {
            let (ours, theirs) = (name_keys(src), name_keys(d));
            src.active
                && d.active
                && d.email
                    .as_deref()
                    .is_some_and(|e| e.to_ascii_lowercase().ends_with(ORGANISATION_DOMAIN))
                && ours.iter().any(|k| theirs.contains(k))
                && ours.iter().all(|k| {
                    src_names[k] == 1
                        && dst_names.get(k).copied().unwrap_or(0) == theirs.contains(k) as usize
                })
        });
        let id_match = dst.is_some_and(|d| d.id == src.id);
        // `linkable` means anything in the data links the two, whatever the engine's rules
        // (uniqueness, activity, verified addresses) make of it.
        let shared_name =
            dst.is_some_and(|d| name_keys(src).iter().any(|k| name_keys(d).contains(k)));
        let justified = email_match || username_match || shared_name || id_match;
        assert!(!name_match || shared_name);
        assert_eq!(
            row.linkable,
            dst.is_some() && justified,
            "{c}: {row:?}\n{src:?}\n{dst:?}"
        );
        if let Some(d) = dst {
            assert_eq!(
                row.linkable,
                crosswalk_synth::accounts_share_evidence(src, d, &keys.aliases)
            );
        }
        // given + family name says the same as the display name
        if let (Some(g), Some(f)) = (&src.given_name, &src.family_name) {
            let joined_chinese = src.display_name.as_deref() == Some(&format!("{f}{g}"));
            if !joined_chinese {
                assert_eq!(name_key(&format!("{g} {f}")), display_key(src), "{src:?}");
            }
        }
        let email = src.email.as_deref().unwrap_or("");
        match c {
            Category::Exact => assert_eq!(Some(email), dst.unwrap().email.as_deref()),
            Category::CaseNoise => {
                let d = dst.unwrap().email.as_deref().unwrap();
                assert_ne!(email, d);
                assert!(email.eq_ignore_ascii_case(d));
                assert!(email_match && row.linkable);
                let (su, du) = (
                    src.username.as_deref().unwrap(),
                    dst.unwrap().username.as_deref(),
                );
                assert_ne!(su, su.to_ascii_lowercase(), "source username case noise");
                if let Some(du) = du {
                    assert_ne!(su, du);
                }
            }
            Category::RenamedDomain => {
                let d = dst.unwrap().email.as_deref().unwrap();
                assert!(
                    email.ends_with(&format!("@{OLD_DOMAIN}"))
                        && d.ends_with(&format!("@{ORGANISATION_DOMAIN}"))
                );
                assert_eq!(email.split('@').next(), d.split('@').next());
            }
            Category::AliasOnly => {
                let d = dst.unwrap();
                let primary_match = email_key(email, &keys.aliases).ok().map(|k| k.key)
                    == d.email
                        .as_deref()
                        .and_then(|e| email_key(e, &keys.aliases).ok())
                        .map(|k| k.key);
                assert!(!primary_match && email_match, "{src:?} {d:?}");
                assert!(!src.alias_emails.is_empty() || !d.alias_emails.is_empty());
            }
            Category::IdMatch => assert!(id_match && row.linkable),
            Category::UsernameOnly => {
                assert!(username_match && !email_match && row.linkable);
            }
            Category::NameOnly => {
                assert!(
                    name_match && !email_match && !username_match && !id_match,
                    "{src:?} {dst:?}"
                );
                assert!(row.linkable);
            }
            Category::SharedMailbox => {
                let k = email_key(email, &keys.aliases).unwrap().key;
                assert!(src_email_count[&k] >= 2, "{email}");
                assert_eq!(dst_emails.get(&k), Some(&1));
                assert!(row.destination_id.is_none());
            }
            Category::Namesake => {
                let k = display_key(src).unwrap();
                let namesakes = src_names[&k] + dst_names.get(&k).copied().unwrap_or(0);
                assert!(!row.linkable || email_match);
                assert!(namesakes >= 2, "{src:?}");
                if row.destination_id.is_some() {
                    assert!(src.active && email_match);
                } else {
                    assert!(!src.active);
                }
            }
            Category::Lookalike => {
                let k = email_key(email, &keys.aliases).unwrap();
                let alike = &dst_skeletons[&skeleton(&k.lookalike_form)];
                let impostors: Vec<&&Account> = alike
                    .iter()
                    .filter(|a| {
                        email_key(a.email.as_deref().unwrap(), &keys.aliases)
                            .unwrap()
                            .key
                            != k.key
                    })
                    .collect();
                assert_eq!(impostors.len(), 1, "{email}");
                assert!(
                    !email.is_empty()
                        && impostors[0].email.as_deref().is_some_and(|e| !e.is_ascii())
                );
                assert!(row.destination_id.as_deref() != Some(impostors[0].id.as_str()));
                assert_eq!(row.destination_id.is_some(), alike.len() == 2);
            }
            Category::MissingEmail => assert!(email.is_empty()),
            Category::InvalidEmail => assert!(email_key(email, &keys.aliases).is_err(), "{email}"),
            Category::External => {
                assert!(email.ends_with("@partner.example") && row.destination_id.is_none());
            }
            Category::NewPerson => assert!(row.destination_id.is_none() && src.active),
            Category::Departed => {
                assert!(!src.active);
                if dst.is_some() {
                    assert!(email_match);
                }
            }
            _ => panic!("group category {c} on an account"),
        }
        if c != Category::Departed && c != Category::Namesake {
            assert!(src.active, "{c}");
        }
    }
    if pair.source.accounts.len() >= 10_000 {
        assert_eq!(
            seen.len(),
            Category::ACCOUNTS.len(),
            "every category appears"
        );
    }

    // Groups.
    let dest_groups: HashMap<&str, &crosswalk_core::Group> = pair
        .destination
        .groups
        .iter()
        .map(|g| (g.id.as_str(), g))
        .collect();
    let reserved: Vec<String> = policy().groups.reserved;
    for (row, group) in pair
        .truth
        .iter()
        .filter(|r| r.kind == IdentityKind::Group)
        .zip(&pair.source.groups)
    {
        if let Some(d) = row.destination_id.as_deref() {
            assert!(
                row.linkable && crosswalk_synth::groups_share_evidence(group, dest_groups[d]),
                "{row:?}"
            );
        }
        match category(row) {
            Category::GroupSame => assert_eq!(
                dest_groups[row.destination_id.as_deref().unwrap()].name,
                group.name
            ),
            Category::GroupCase => {
                let d = &dest_groups[row.destination_id.as_deref().unwrap()].name;
                assert_ne!(d, &group.name);
                assert!(d.eq_ignore_ascii_case(&group.name));
            }
            Category::GroupReserved => {
                assert!(reserved.contains(&group.name.to_string()));
                assert!(pair.destination.groups.iter().any(|g| g.name == group.name));
            }
            Category::GroupNew => {
                assert!(
                    !pair
                        .destination
                        .groups
                        .iter()
                        .any(|g| g.name.eq_ignore_ascii_case(&group.name))
                );
            }
            c => panic!("account category {c} on a group"),
        }
    }
}

#[test]
fn realistic_mix_of_scripts_directories_and_ids() {
    let pair = generate(&options(20_000, 5));
    let src = &pair.source.accounts;
    let has = |pred: &dyn Fn(&str) -> bool| {
        src.iter()
            .filter_map(|a| a.display_name.as_deref())
            .any(pred)
    };
    assert!(
        has(&|d| d.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))),
        "Cyrillic"
    );
    assert!(
        has(&|d| d.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "CJK"
    );
    assert!(
        has(&|d| d.chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c))),
        "Arabic"
    );
    assert!(
        has(&|d| d.chars().any(|c| ('\u{370}'..='\u{3ff}').contains(&c))),
        "Greek"
    );
    assert!(has(&|d| d.contains('ł') || d.contains('Ł')), "Polish");
    assert!(has(&|d| d.contains('İ') || d.contains('ı')), "Turkish");
    assert!(has(&|d| d.contains(", ")), "Family, Given");
    // Addresses are ASCII on both sides, except the planted look-alikes.
    assert!(
        src.iter()
            .filter_map(|a| a.email.as_deref())
            .all(|e| e.is_ascii())
    );
    // Disambiguated addresses like john.smith2@ exist.
    assert!(src.iter().filter_map(|a| a.email.as_deref()).any(|e| {
        e.split('@')
            .next()
            .is_some_and(|l| l.ends_with(|c: char| c.is_ascii_digit()))
    }));
    let dirs: HashSet<&str> = src
        .iter()
        .filter_map(|a| a.source_directory.as_deref())
        .collect();
    assert_eq!(dirs, HashSet::from(["internal", "ldap", "crowd"]));
    assert!(src.iter().any(|a| a.id.starts_with("JIRAUSER")));
    assert!(
        src.iter().any(|a| Some(&a.id) == a.username.as_ref()),
        "legacy user keys"
    );
    let dst = &pair.destination.accounts;
    assert!(
        dst.iter()
            .any(|a| a.id.len() == 24 && a.id.bytes().all(|b| b.is_ascii_hexdigit()))
    );
    assert!(
        dst.iter()
            .any(|a| a.id.starts_with("712020:") && a.id.len() == 43)
    );
    assert!(dst.iter().all(|a| a.email_verified.is_some()));
    assert!(dst.iter().any(|a| a.email_verified == Some(false)));
    assert!(
        dst.iter()
            .any(|a| !a.alias_emails.is_empty() && a.alias_emails[0].starts_with("smtp:"))
    );
    // Same login on both sides for part of the people.
    let logins: HashSet<&str> = src.iter().filter_map(|a| a.username.as_deref()).collect();
    let same = dst
        .iter()
        .filter(|a| a.username.as_deref().is_some_and(|u| logins.contains(u)))
        .count();
    assert!(same > dst.len() / 6, "{same}");
    // Nested groups and reserved destination groups.
    let ids: HashSet<&str> = pair.source.groups.iter().map(|g| g.id.as_str()).collect();
    assert!(
        pair.source
            .groups
            .iter()
            .any(|g| g.members.iter().any(|m| ids.contains(m.as_str())))
    );
    for name in ["site-admins", "org-admins"] {
        assert!(
            pair.destination.groups.iter().any(|g| g.name == name),
            "{name}"
        );
    }
    let everyone = pair
        .source
        .groups
        .iter()
        .find(|g| g.name == "jira-software-users")
        .unwrap();
    assert!(everyone.members.len() > src.len() * 45 / 100);
}

#[test]
fn truth_csv_round_trips() {
    let pair = generate(&options(2000, 6));
    let mut file = tempfile::tempfile().unwrap();
    write_truth_csv(&pair.truth, &mut file).unwrap();
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0)).unwrap();
    assert_eq!(read_truth_csv(&file).unwrap(), pair.truth);
}

#[test]
fn hundred_thousand_accounts() {
    let pair = generate(&options(100_000, 7));
    assert_eq!(pair.source.accounts.len(), 100_000);
    assert_eq!(pair.truth.len(), 100_000 + pair.source.groups.len());
    pair.source.check().unwrap();
    pair.destination.check().unwrap();
}
