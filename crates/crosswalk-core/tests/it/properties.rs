//! The engine's invariants, over small random directories built to collide: few addresses,
//! few names, case noise, domain aliases and Cyrillic look-alikes.

use std::collections::BTreeMap;

use crosswalk_core::engine::resolve_with_lookahead;
use crosswalk_core::normalize::{self, DomainAliases};
use crosswalk_core::{
    Account, Directory, ExceptionRule, Group, IdentityKind, IdentityRef, Mapping, Policy,
    Resolution, resolve,
};
use proptest::prelude::*;

const LOCALS: [&str; 5] = ["ann", "bob", "cy", "dee", "support"];
const DOMAINS: [&str; 4] = ["acme.com", "ACME.com", "acme-corp.com", "partner.example"];
const NAMES: [&str; 8] = [
    "Ann Lee",
    "Bob Ray",
    "Lee, Ann",
    "Cy Young",
    "Dee Dee",
    "Robert Ray",
    "Özlem Yılmaz",
    "Ozlem Yilmaz",
];

fn look_alike(local: &str) -> String {
    local
        .replace('a', "\u{430}")
        .replace('o', "\u{43e}")
        .replace('e', "\u{435}")
}

fn arb_account(prefix: &'static str) -> impl Strategy<Value = (Account, bool)> {
    (
        0..LOCALS.len(),
        0..DOMAINS.len(),
        any::<bool>(),
        prop::option::of(0..NAMES.len()),
        prop::option::of(0..4usize),
        any::<bool>(),
        prop::option::of((0..LOCALS.len(), 0..DOMAINS.len())),
        0..10u8,
    )
        .prop_map(
            move |(local, domain, confusable, name, username, active, alias, id_noise)| {
                let local = if confusable {
                    look_alike(LOCALS[local])
                } else {
                    LOCALS[local].to_string()
                };
                let account = Account {
                    id: "".into(),
                    username: username.map(|u| ["ann", "Ann", "bob", "cy"][u].into()),
                    email: Some(format!("{local}@{}", DOMAINS[domain]).into()),
                    alias_emails: alias
                        .map(|(l, d)| format!("{}@{}", LOCALS[l], DOMAINS[d]).into())
                        .into_iter()
                        .collect(),
                    display_name: name.map(|n| NAMES[n].into()),
                    given_name: None,
                    family_name: None,
                    active: active || prefix == "s",
                    source_directory: None,
                    email_verified: None,
                };
                (account, id_noise == 0)
            },
        )
}

fn arb_directory(prefix: &'static str) -> impl Strategy<Value = Directory> {
    (
        prop::collection::vec(arb_account(prefix), 0..12),
        prop::collection::vec((0..4usize, any::<bool>()), 0..5),
    )
        .prop_map(move |(accounts, groups)| {
            let accounts = accounts
                .into_iter()
                .enumerate()
                // A few ids shared across sides give the ID method something to do.
                .map(|(i, (mut a, shared))| {
                    a.id = if shared {
                        format!("shared{i}")
                    } else {
                        format!("{prefix}{i}")
                    }
                    .into();
                    a
                })
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            let groups = groups
                .into_iter()
                .enumerate()
                .filter(|(_, (n, upper))| seen.insert((*n, *upper)))
                .map(|(i, (n, upper))| {
                    let name = ["devs", "ops", "site-admins", "qa"][n];
                    Group {
                        id: format!("{prefix}g{i}").into(),
                        name: (if upper {
                            name.to_uppercase()
                        } else {
                            name.to_string()
                        })
                        .into(),
                        display_name: None,
                        members: vec![],
                    }
                })
                .collect();
            Directory {
                name: prefix.into(),
                accounts,
                groups,
            }
        })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(alias, org, merge_off, provision)| {
            let mut policy = Policy::default();
            if alias {
                policy.email.domain_aliases =
                    BTreeMap::from([("acme-corp.com".to_string(), "acme.com".to_string())]);
            }
            if org {
                policy.name.organisation_domains = vec!["acme.com".into()];
            }
            let _ = merge_off;
            policy.fallback.provision = provision;
            policy.fallback.external_domains = vec!["partner.example".into()];
            policy
        },
    )
}

fn shuffled(directory: &Directory, seed: u64) -> Directory {
    let mut out = directory.clone();
    let n = out.accounts.len();
    // A fixed permutation per seed: rotate then reverse pieces; enough to move every row.
    if n > 1 {
        out.accounts.rotate_left((seed as usize) % n);
        if seed.is_multiple_of(2) {
            out.accounts.reverse();
        }
    }
    if out.groups.len() > 1 {
        out.groups.reverse();
    }
    out
}

/// A mapping in terms that do not depend on row positions.
fn portable(
    m: &Mapping,
    source: &Directory,
    destination: &Directory,
) -> (
    IdentityKind,
    String,
    Resolution,
    Option<String>,
    Vec<String>,
    String,
) {
    let id_of = |kind, i: u32| match kind {
        IdentityKind::Account => destination.account(i).id.to_string(),
        IdentityKind::Group => destination.group(i).id.to_string(),
    };
    let source_id = match m.kind {
        IdentityKind::Account => source.account(m.source).id.to_string(),
        IdentityKind::Group => source.group(m.source).id.to_string(),
    };
    let mut candidates: Vec<String> = m
        .candidates
        .iter()
        .map(|c| id_of(m.kind, c.index))
        .collect();
    candidates.sort();
    (
        m.kind,
        source_id,
        m.resolution,
        m.destination_index().map(|i| id_of(m.kind, i)),
        candidates,
        m.message.clone(),
    )
}

fn is_automatic(r: Resolution) -> bool {
    matches!(
        r,
        Resolution::Email | Resolution::Id | Resolution::Username | Resolution::Name
    )
}

fn keys(account: &Account, aliases: &DomainAliases) -> Vec<normalize::EmailKey> {
    account
        .all_emails()
        .filter_map(|e| normalize::email_key(e, aliases).ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn same_mappings_whatever_the_row_order(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy(), seed in any::<u64>()
    ) {
        let first = resolve(&source, &destination, &policy, &[]);
        let (source2, destination2) = (shuffled(&source, seed), shuffled(&destination, seed / 7));
        let second = resolve(&source2, &destination2, &policy, &[]);
        let a: Vec<_> = first.mappings.iter().map(|m| portable(m, &source, &destination)).collect();
        let b: Vec<_> = second.mappings.iter().map(|m| portable(m, &source2, &destination2)).collect();
        prop_assert_eq!(a, b);
        prop_assert_eq!(first.summary, second.summary);
    }

    /// Probing source accounts ahead (sixteen at a time, as a run does, or three, so that the
    /// buffer is refilled mid-directory) decides exactly what probing each alone decides: the
    /// batching changes when things are read, never a mapping, message or warning.
    #[test]
    fn probing_ahead_decides_nothing(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let alone = resolve_with_lookahead(&source, &destination, &policy, &[], 0);
        prop_assert_eq!(&resolve(&source, &destination, &policy, &[]), &alone);
        prop_assert_eq!(&resolve_with_lookahead(&source, &destination, &policy, &[], 3), &alone);
    }

    #[test]
    fn an_exception_always_wins(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..4)
    ) {
        prop_assume!(!source.accounts.is_empty() && !destination.accounts.is_empty());
        let mut rules: Vec<ExceptionRule> = Vec::new();
        for (s, d) in &picks {
            let s = s.get(&source.accounts);
            if rules.iter().any(|r| r.source == IdentityRef::Id(s.id.to_string())) { continue; }
            rules.push(ExceptionRule {
                kind: IdentityKind::Account,
                source: IdentityRef::Id(s.id.to_string()),
                destination: IdentityRef::Id(d.get(&destination.accounts).id.to_string()),
                origin: "x.csv:2".into(),
            });
        }
        let resolved = resolve(&source, &destination, &policy, &rules);
        for rule in &rules {
            let m = resolved.mappings.iter()
                .find(|m| m.kind == IdentityKind::Account && IdentityRef::Id(source.account(m.source).id.to_string()) == rule.source)
                .unwrap();
            prop_assert_eq!(m.resolution, Resolution::Exception);
            prop_assert_eq!(IdentityRef::Id(destination.account(m.destination_index().unwrap()).id.to_string()), rule.destination.clone());
        }
    }

    #[test]
    fn no_automatic_link_when_more_than_one_candidate_fits(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let aliases = DomainAliases::new(&policy.email.domain_aliases);
        let resolved = resolve(&source, &destination, &policy, &[]);
        for m in resolved.mappings.iter().filter(|m| m.kind == IdentityKind::Account) {
            let s = source.account(m.source);
            let ours: Vec<String> = keys(s, &aliases).into_iter().map(|k| k.key).collect();
            match m.resolution {
                Resolution::Email => {
                    let fitting = destination.accounts.iter()
                        .filter(|d| keys(d, &aliases).iter().any(|k| ours.contains(&k.key)))
                        .count();
                    prop_assert_eq!(fitting, 1, "{}", m.message);
                }
                Resolution::Username => {
                    let u = normalize::fold(s.username.as_deref().unwrap()).into_owned();
                    let fitting = destination.accounts.iter()
                        .filter(|d| d.username.as_deref().map(|x| normalize::fold(x).into_owned()) == Some(u.clone()))
                        .count();
                    prop_assert_eq!(fitting, 1);
                }
                Resolution::Name => {
                    let n = normalize::name_key(s.display_name.as_deref().unwrap());
                    let same = |a: &Account| a.display_name.as_deref().and_then(normalize::name_key) == n;
                    prop_assert_eq!(destination.accounts.iter().filter(|a| same(a)).count(), 1);
                    prop_assert_eq!(source.accounts.iter().filter(|a| same(a)).count(), 1);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_look_alike_is_never_linked(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let aliases = DomainAliases::new(&policy.email.domain_aliases);
        let resolved = resolve(&source, &destination, &policy, &[]);
        for m in resolved.mappings.iter().filter(|m| m.kind == IdentityKind::Account && is_automatic(m.resolution)) {
            let ours = keys(source.account(m.source), &aliases);
            let theirs = keys(destination.account(m.destination_index().unwrap()), &aliases);
            for a in &ours {
                for b in &theirs {
                    let looks_alike = normalize::skeleton(&a.lookalike_form) == normalize::skeleton(&b.lookalike_form);
                    prop_assert!(!(looks_alike && a.key != b.key), "{} linked to look-alike {}", a.key, b.key);
                }
            }
        }
    }

    #[test]
    fn one_destination_is_never_silently_claimed_twice(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy()
    ) {
        let resolved = resolve(&source, &destination, &policy, &[]);
        let mut seen = std::collections::BTreeSet::new();
        for m in resolved.mappings.iter().filter(|m| is_automatic(m.resolution)) {
            prop_assert!(seen.insert((m.kind, m.destination_index().unwrap())), "claimed twice: {}", m.message);
        }
    }

    #[test]
    fn an_unrelated_destination_account_never_changes_an_unambiguous_match(
        source in arb_directory("s"), destination in arb_directory("d"), policy in arb_policy(),
        at in any::<prop::sample::Index>()
    ) {
        let before = resolve(&source, &destination, &policy, &[]);
        let mut grown = destination.clone();
        let unrelated = Account {
            id: "zz-unrelated".into(),
            username: Some("quux-unrelated".into()),
            email: Some("quux.unrelated@unrelated.example".into()),
            alias_emails: vec![],
            display_name: Some("Xavier Quux".into()),
            given_name: Some("Xavier".into()),
            family_name: Some("Quux".into()),
            active: true,
            source_directory: None,
            email_verified: Some(true),
        };
        grown.accounts.insert(at.index(grown.accounts.len() + 1), unrelated);
        let after = resolve(&source, &grown, &policy, &[]);
        prop_assert_eq!(before.mappings.len(), after.mappings.len());
        for (b, a) in before.mappings.iter().zip(&after.mappings) {
            if is_automatic(b.resolution) && !b.is_ambiguous() {
                prop_assert_eq!(portable(b, &source, &destination), portable(a, &source, &grown));
                prop_assert_eq!(b.confidence, a.confidence);
            }
        }
    }
}

/// Handles that are the same identity, or only look alike: compatibility forms (fullwidth,
/// ligatures, mathematical letters), confusable letters and digits, `ß` for `ss`, and plain
/// case and canonical variants that are the same identity.
const HANDLES: [&str; 16] = [
    "fiona",
    "ﬁona",
    "FIONA",
    "ｆｉｏｎａ",
    "john",
    "j0hn",
    "𝐣𝐨𝐡𝐧",
    "JOHN",
    "jo\u{301}hn",
    "jóhn",
    "\u{430}dmin",
    "admin",
    "ADMIN",
    "strasse",
    "straße",
    "STRAẞE",
];
const ALIKE_NAMES: [&str; 4] = ["Fiona Apple", "Ｆｉｏｎａ Apple", "John Doe", "Doe, John"];

fn arb_alike_account() -> impl Strategy<Value = Account> {
    (
        0..HANDLES.len(),
        prop::option::of(0..HANDLES.len()),
        0..2usize,
        prop::option::of(0..ALIKE_NAMES.len()),
        any::<bool>(),
    )
        .prop_map(|(local, username, domain, name, second)| Account {
            id: "".into(),
            username: username.map(|u| HANDLES[u].into()),
            email: Some(
                format!(
                    "{}@{}",
                    HANDLES[local],
                    ["acme.com", "home.example"][domain]
                )
                .into(),
            ),
            alias_emails: if second {
                vec![format!("{}@acme.com", HANDLES[(local + 1) % HANDLES.len()]).into()]
            } else {
                vec![]
            },
            display_name: name.map(|n| ALIKE_NAMES[n].into()),
            given_name: None,
            family_name: None,
            active: true,
            source_directory: None,
            email_verified: None,
        })
}

fn arb_alike_directory(prefix: &'static str) -> impl Strategy<Value = Directory> {
    prop::collection::vec((arb_alike_account(), any::<bool>()), 0..8).prop_map(move |accounts| {
        let accounts = accounts
            .into_iter()
            .enumerate()
            .map(|(i, (mut a, shared))| {
                a.id = if shared {
                    format!("shared{i}")
                } else {
                    format!("{prefix}{i}")
                }
                .into();
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

/// Whether two accounts hold an address or a username that only looks like the other's.
fn share_a_look_alike(a: &Account, b: &Account, aliases: &DomainAliases) -> Option<String> {
    for x in keys(a, aliases) {
        for y in keys(b, aliases) {
            if x.key != y.key
                && normalize::skeleton(&x.lookalike_form) == normalize::skeleton(&y.lookalike_form)
            {
                return Some(format!("address {} / {}", x.key, y.key));
            }
        }
    }
    let (x, y) = (
        a.username.as_deref().map(normalize::fold)?,
        b.username.as_deref().map(normalize::fold)?,
    );
    (x != y && normalize::skeleton(&x) == normalize::skeleton(&y))
        .then(|| format!("username {x} / {y}"))
}

/// Whether `account` has the identity `reference` names, as identity (never resemblance).
fn is_named_by(account: &Account, reference: &IdentityRef, aliases: &DomainAliases) -> bool {
    let by_id = |v: &str| account.id == v.trim();
    let by_username = |v: &str| {
        account
            .username
            .as_deref()
            .is_some_and(|u| normalize::fold(u) == normalize::fold(v))
    };
    let by_email = |v: &str| {
        normalize::email_key(v, aliases)
            .is_ok_and(|k| keys(account, aliases).iter().any(|own| own.key == k.key))
    };
    match reference {
        IdentityRef::Id(v) => by_id(v),
        IdentityRef::Username(v) => by_username(v),
        IdentityRef::Email(v) => by_email(v),
        IdentityRef::Any(v) => by_id(v) || by_username(v) || by_email(v),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// No look-alike under compatibility folding (or by skeleton) is ever linked, whatever
    /// the method: Email, ID, Username, Name, merged shared destinations, or an exception
    /// rule naming values (which finds only the identity it names, never a look-alike).
    #[test]
    fn no_compatibility_look_alike_is_ever_linked(
        source in arb_alike_directory("s"),
        destination in arb_alike_directory("d"),
        merge in any::<bool>(),
        provision in any::<bool>(),
        rules in prop::collection::vec((0..HANDLES.len(), 0..HANDLES.len(), 0..3usize), 0..3),
    ) {
        let mut policy = Policy::default();
        policy.name.organisation_domains = vec!["acme.com".into()];
        policy.fallback.provision = provision;
        if merge {
            policy.duplicate_claims = crosswalk_core::DuplicateClaims::Merge;
        }
        let rules: Vec<ExceptionRule> = rules
            .into_iter()
            .map(|(s, d, how)| {
                let value = |h: usize| match how {
                    0 => HANDLES[h].to_string(),
                    1 => format!("username:{}", HANDLES[h]),
                    _ => format!("email:{}@acme.com", HANDLES[h]),
                };
                ExceptionRule {
                    kind: IdentityKind::Account,
                    source: IdentityRef::parse(&value(s)),
                    destination: IdentityRef::parse(&value(d)),
                    origin: "exceptions.csv:2".into(),
                }
            })
            .collect();
        let aliases = DomainAliases::new(&policy.email.domain_aliases);
        let resolved = resolve(&source, &destination, &policy, &rules);
        for m in resolved.mappings.iter().filter(|m| m.kind == IdentityKind::Account) {
            let Some(index) = m.destination_index() else { continue };
            let (s, d) = (source.account(m.source), destination.account(index));
            if is_automatic(m.resolution) {
                prop_assert_eq!(share_a_look_alike(s, d, &aliases), None, "{:?} linked {} to {}: {}", m.resolution, s.id, d.id, m.message);
            }
            if m.resolution == Resolution::Exception {
                let named = rules.iter().any(|r| is_named_by(s, &r.source, &aliases) && is_named_by(d, &r.destination, &aliases));
                prop_assert!(named, "{} to {}: {}", s.id, d.id, m.message);
            }
        }
    }
}

const POLICY_DOMAINS: [&str; 4] = ["acme.com", "ACME-corp.com", "acme.co.uk", "other.example"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// No policy that validation accepts can change an address into another person's: the
    /// key's local part is the address's own (folded), or that cut at a documented subaddress
    /// separator (`+` or `-`) in a listed domain; its domain is the address's own or the one
    /// domain its alias names, which is no alias itself (no chain, no cycle).
    #[test]
    fn no_accepted_policy_turns_an_address_into_another(
        separator in prop_oneof![2 => Just("+".to_string()), 2 => Just("-".to_string()), 3 => "[-+._=~x@ ]{0,2}"],
        aliases in prop::collection::vec((0..POLICY_DOMAINS.len(), 0..POLICY_DOMAINS.len()), 0..3),
        subaddress_domains in prop::collection::vec(0..POLICY_DOMAINS.len(), 0..3),
        local in "[a-z]{1,3}([-+._=~x][a-z]{1,3}){0,2}",
        domain in 0..POLICY_DOMAINS.len(),
    ) {
        let mut policy = Policy::default();
        policy.email.subaddress_separator = separator.clone();
        policy.email.domain_aliases = aliases.iter().map(|&(a, b)| (POLICY_DOMAINS[a].to_string(), POLICY_DOMAINS[b].to_string())).collect();
        policy.email.subaddress_domains = subaddress_domains.iter().map(|&d| POLICY_DOMAINS[d].to_string()).collect();
        if policy.validate().is_err() {
            // Refused: nothing to check (the separator and alias tests say why each is).
            return Ok(());
        }
        prop_assert!(separator == "+" || separator == "-", "accepted separator {:?}", separator);
        let rules = DomainAliases::from_policy(&policy.email);
        let address = format!("{local}@{}", POLICY_DOMAINS[domain]);
        let key = normalize::email_key(&address, &rules).expect("a valid address").key;
        let (key_local, key_domain) = key.rsplit_once('@').expect("an @");
        let cut_at_separator = local.find(separator.as_str()).filter(|&at| at > 0).map(|at| &local[..at]);
        prop_assert!(key_local == local || Some(key_local) == cut_at_separator, "{} keyed as {}", address, key);
        let own = normalize::domain_key(POLICY_DOMAINS[domain]).unwrap();
        let aliased = policy.email.domain_aliases.iter()
            .find(|(from, _)| normalize::domain_key(from).as_deref() == Some(own.as_str()))
            .and_then(|(_, to)| normalize::domain_key(to));
        prop_assert!(key_domain == own || Some(key_domain) == aliased.as_deref(), "{} keyed as {}", address, key);
        // The canonical domain is final: keying an address in it again keeps it.
        let again = normalize::email_key(&format!("x@{key_domain}"), &rules).expect("a valid address").key;
        prop_assert_eq!(again.rsplit_once('@').map(|(_, d)| d), Some(key_domain), "{} is aliased again", key_domain);
    }
}
