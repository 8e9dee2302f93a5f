//! The resolution engine: every source identity walks the policy's chain of methods and
//! stops at the first that decides, or at the first that finds more than one answer.
//!
//! [`resolve`] prepares a run (keys, indexes, exception rules) and drives it; the decisions are
//! made elsewhere, each in a module of its own:
//! - `chain`: the chain of methods and the fallbacks, one source identity at a time;
//! - `evidence`: the name tier, its score and the near-miss pass;
//! - `claims`: what happens when several source identities claim one destination;
//! - `references`: how exception rules and the default account name identities;
//! - `keys`: how values become keys, and the indexes over them.
//!
//! `batch` holds what only makes the run faster (probing source accounts sixteen at a time,
//! reads issued ahead of use, compact bit sets): the chain reads its results and would decide
//! the same without it.
//!
//! Invariants (property-tested in `tests/it/properties.rs`):
//! - the same inputs give the same mappings whatever the order of the rows;
//! - an exception always wins;
//! - no method links an identity when it found more than one candidate;
//! - no look-alike address is ever linked;
//! - one destination is never silently claimed by two source identities.

mod batch;
mod chain;
mod claims;
mod evidence;
pub(crate) mod keys;
mod references;

pub use evidence::{LINK_THRESHOLD, REVIEW_FLOOR, RUNNER_UP_CEILING, Weights};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::directory::{Account, Directory, IdentityKind};
use crate::exceptions::{ExceptionRule, IdentityRef};
use crate::mapping::{Mapping, Summary};
use crate::normalize::{self, DomainAliases};
use crate::policy::{Method, Policy};
use crate::transform::{Side, TransformSet};
use batch::{Bits, Lookahead, id_prefix};
use claims::settle_shared_destinations;
use keys::{AccountIndex, AccountKeys, GroupIndex, HasId, KeyRules, Tables};
use references::{DefaultAccount, ExceptionTable, default_account, find_account};

/// Above this many destination accounts sharing one name, the name tier reports the name as
/// too common instead of listing candidates.
const NAME_BLOCK_CAP: usize = 50;

/// The engine's answer: one mapping per source identity, accounts first, each kind in
/// source-id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub mappings: Vec<Mapping>,
    pub summary: Summary,
    /// Problems that belong to no single mapping, e.g. an exception naming nobody.
    pub warnings: Vec<String>,
}

/// Resolves every account and group of `source` against `destination`.
// Never inlined: `BENCHMARKS.md` counts the engine's instructions from this function's entry
// to its return.
#[inline(never)]
pub fn resolve(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
    exceptions: &[ExceptionRule],
) -> Resolved {
    resolve_with_lookahead(source, destination, policy, exceptions, batch::LOOKAHEAD)
}

/// [`resolve`], probing `lookahead` source accounts together (0: each alone). For the test
/// that probing ahead changes nothing but speed.
#[doc(hidden)]
pub fn resolve_with_lookahead(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
    exceptions: &[ExceptionRule],
    lookahead: usize,
) -> Resolved {
    let mut warnings = Vec::new();
    let aliases = DomainAliases::from_policy(&policy.email);
    // `Policy::validate` refuses a transform that does not compile; one that still gets here
    // is left out, with a warning, rather than stopping the run.
    let (transforms, problems) = TransformSet::compile_lenient(policy);
    warnings.extend(
        problems
            .into_iter()
            .map(|p| format!("policy {p}: that transform was not applied")),
    );
    let src_rules = KeyRules::new(&aliases, Side::Source, &transforms);
    let dst_rules = KeyRules::new(&aliases, Side::Destination, &transforms);
    // Destination keys are derived once and indexed: every source account looks them up.
    // Source keys are derived where each account is resolved and dropped with it; of the
    // source side only the names that several accounts share are kept, for the name tier.
    let (dst_keys, src_shared_names) = rayon::join(
        || keys::account_keys(&destination.accounts, &dst_rules, Tables::ALL),
        || keys::shared_name_hashes(source),
    );
    let organisation_domains = folded_domains(&policy.name.organisation_domains);
    let name_tier = policy.order.contains(&Method::Name) && !organisation_domains.is_empty();
    let dst_index = AccountIndex::build(&destination.accounts, &dst_keys, Tables::ALL, dst_rules);
    let dst_transliterated = if name_tier {
        evidence::transliterated_index(&dst_index.by_name)
    } else {
        FxHashMap::default()
    };
    let src_group_names = keys::group_name_keys(&source.groups);
    let dst_group_names = keys::group_name_keys(&destination.groups);
    let src_groups = GroupIndex::build(&source.groups, &src_group_names);
    let dst_groups = GroupIndex::build(&destination.groups, &dst_group_names);

    let ctx = Context {
        source,
        destination,
        policy,
        src_rules,
        src_shared_names,
        dst_keys: &dst_keys,
        dst_index: &dst_index,
        dst_groups: &dst_groups,
        dst_group_names: &dst_group_names,
        dst_transliterated,
        dst_name_targets: if name_tier {
            evidence::name_targets(destination, &dst_keys, &organisation_domains)
        } else {
            Bits::default()
        },
        organisation_domains,
        external_domains: folded_domains(&policy.fallback.external_domains),
        reserved_groups: policy
            .groups
            .reserved
            .iter()
            .map(|g| normalize::skeleton(&normalize::fold(g)))
            .collect(),
        exceptions: {
            // Only exception rules look source accounts up: their keys and index are built
            // for that, when there are such rules, and dropped once the rules are resolved.
            let account_rules = exceptions
                .iter()
                .any(|rule| rule.kind == IdentityKind::Account);
            let looked_up: &[Account] = if account_rules { &source.accounts } else { &[] };
            let src_keys = keys::account_keys(looked_up, &src_rules, Tables::LOOKUPS);
            let src_index = AccountIndex::build(looked_up, &src_keys, Tables::LOOKUPS, src_rules);
            ExceptionTable::build(
                exceptions,
                (&src_index, &dst_index),
                (&src_groups, &dst_groups),
                &mut warnings,
            )
        },
        default_account: default_account(policy, &dst_index),
        no_match: no_match_message(policy),
    };

    // Identities are resolved in source-id order, straight into the vector that is returned:
    // the mappings are built in place, never copied, and the report order needs no sort.
    let account_order = id_order(&source.accounts);
    let group_order = id_order(&source.groups);
    let mut mappings: Vec<Mapping> = Vec::with_capacity(account_order.len() + group_order.len());
    account_order
        .par_iter()
        .enumerate()
        .with_min_len(512)
        .map_init(
            || Lookahead::new(lookahead),
            |probes, (position, &i)| {
                let probe = probes.probe(&ctx, &account_order, position);
                ctx.resolve_account(i, probe)
            },
        )
        .collect_into_vec(&mut mappings);
    settle_shared_destinations(&mut mappings, IdentityKind::Account, &ctx, &mut warnings);
    if policy.order.contains(&Method::Name) {
        ctx.offer_near_misses(&mut mappings);
    }
    let accounts = mappings.len();
    mappings.par_extend(
        group_order
            .par_iter()
            .with_min_len(512)
            .map(|&i| ctx.resolve_group(i)),
    );
    settle_shared_destinations(
        &mut mappings[accounts..],
        IdentityKind::Group,
        &ctx,
        &mut warnings,
    );
    // Keys and indexes are not needed to finish: free them before the last pass.
    drop(ctx);
    drop((dst_index, src_groups, dst_groups));
    // A million keys own a million strings: they are freed on every thread.
    dst_keys.into_par_iter().with_min_len(4096).for_each(drop);
    let (account_mappings, group_mappings) = mappings.split_at_mut(accounts);
    account_mappings
        .par_iter_mut()
        .with_min_len(512)
        .for_each(|m| {
            m.say_what_is_made(&source.account(m.source).id);
            m.finish(|j| destination.account(j).id.as_str());
        });
    group_mappings.iter_mut().for_each(|m| {
        m.say_what_is_made(&source.group(m.source).id);
        m.finish(|j| destination.group(j).id.as_str());
    });
    warnings.sort();
    let summary = Summary::of(&mappings);
    Resolved {
        mappings,
        summary,
        warnings,
    }
}

/// Positions of identities ordered by platform id (row position breaks ties, which only a
/// directory with repeated ids has).
fn id_order<I: HasId + Sync>(items: &[I]) -> Vec<u32> {
    // Sorted on the ids' first sixteen bytes, read once each in row order: most ids differ
    // there, and comparing whole ids would fetch two identities from anywhere in memory per
    // comparison. Equal prefixes fall back to the whole ids.
    let mut keyed: Vec<(u128, u32)> = items
        .par_iter()
        .enumerate()
        .map(|(i, item)| (id_prefix(item.id()), i as u32))
        .collect();
    keyed.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| items[a.1 as usize].id().cmp(items[b.1 as usize].id()))
            .then(a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The message of an account no method matched, naming the methods tried.
fn no_match_message(policy: &Policy) -> String {
    let names: Vec<&str> = policy
        .order
        .iter()
        .filter(|m| **m != Method::Exception)
        .map(|m| match m {
            Method::Id => "id",
            Method::Email => "email",
            Method::Username => "username",
            Method::Name => "name",
            Method::Exception => "exception",
        })
        .collect();
    let methods = if names.is_empty() {
        "any method (all are off)".into()
    } else {
        names.join(", ")
    };
    format!("no destination account matched by {methods}")
}

fn folded_domains(domains: &[String]) -> Vec<String> {
    domains
        .iter()
        .filter_map(|d| normalize::domain_key(d))
        .collect()
}

/// Checks what only the destination can tell about a policy: that its `default_account`
/// names exactly one destination account. Run it before anything is stored: the engine
/// would otherwise give every unmatched identity a Default pointing at nobody.
pub fn check_policy_against(
    destination: &Directory,
    policy: &Policy,
) -> Result<(), crate::PolicyError> {
    let Some(name) = &policy.fallback.default_account else {
        return Ok(());
    };
    let aliases = DomainAliases::from_policy(&policy.email);
    let (transforms, _) = TransformSet::compile_lenient(policy);
    let rules = KeyRules::new(&aliases, Side::Destination, &transforms);
    let keys = keys::account_keys(&destination.accounts, &rules, Tables::LOOKUPS);
    let index = AccountIndex::build(&destination.accounts, &keys, Tables::LOOKUPS, rules);
    match find_account(&index, &IdentityRef::parse(name)) {
        Ok(_) => Ok(()),
        Err(why) => Err(crate::policy::invalid(
            "fallback.default_account".into(),
            format!(
                "{name:?} is not one account of the destination directory ({why}); name an existing account (id:, \
                 username: or email:), or remove default_account to leave unmatched identities Unresolved"
            ),
        )),
    }
}

struct Context<'a> {
    source: &'a Directory,
    destination: &'a Directory,
    policy: &'a Policy,
    /// How source values become keys (for evidence notes and look-alike checks).
    src_rules: KeyRules<'a>,

    dst_keys: &'a [AccountKeys],
    /// [`normalize::name_key_hash`]es of the name keys more than one source account has.
    src_shared_names: rustc_hash::FxHashSet<u64>,
    dst_index: &'a AccountIndex<'a>,
    dst_groups: &'a GroupIndex<'a>,
    dst_group_names: &'a [String],
    /// Destination accounts the name tier may link to: active, in an organisation domain.
    dst_name_targets: Bits,
    /// Destination accounts by the accent-free form of a name written with accents.
    dst_transliterated: FxHashMap<String, Vec<u32>>,
    organisation_domains: Vec<String>,
    external_domains: Vec<String>,
    /// The look-alike forms ([`normalize::skeleton`]) of the reserved group names: a group
    /// named like a reserved one is treated as one.
    reserved_groups: Vec<String>,
    exceptions: ExceptionTable,
    default_account: DefaultAccount,
    /// [`no_match_message`], said of every account no method matched.
    no_match: String,
}
