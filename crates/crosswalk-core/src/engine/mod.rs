//! The resolution engine: every source identity walks the policy's chain of methods and
//! stops at the first that decides, or at the first that finds more than one answer.
//!
//! Invariants (property-tested in `tests/engine_properties.rs`):
//! - the same inputs give the same mappings whatever the order of the rows;
//! - an exception always wins;
//! - no method links an identity when it found more than one candidate;
//! - no look-alike address is ever linked;
//! - one destination is never silently claimed by two source identities.

mod evidence;
pub(crate) mod keys;

pub use evidence::{LINK_THRESHOLD, REVIEW_FLOOR, RUNNER_UP_CEILING, Weights};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use std::borrow::Cow;

use crate::directory::{Account, Directory, IdentityKind};
use crate::exceptions::{ExceptionRule, IdentityRef};
use crate::mapping::{Candidate, Confidence, Evidence, Flag, Flags, Mapping, Resolution, Summary, Target};
use crate::normalize::{self, DomainAliases};
use crate::policy::{DuplicateClaims, Method, Policy};
use crate::transform::{Side, TransformSet};
use keys::{AccountIndex, AccountKeys, GroupIndex, HasId, KeyRules, Tables, email_field_name};

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
pub fn resolve(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
    exceptions: &[ExceptionRule],
) -> Resolved {
    let mut warnings = Vec::new();
    let aliases = DomainAliases::from_policy(&policy.email);
    // `Policy::validate` refuses a transform that does not compile; one that still gets here
    // is left out, with a warning, rather than stopping the run.
    let (transforms, problems) = TransformSet::compile_lenient(policy);
    warnings.extend(problems.into_iter().map(|p| format!("policy {p}: that transform was not applied")));
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
    let dst_transliterated =
        if name_tier { evidence::transliterated_index(&dst_index.by_name) } else { FxHashMap::default() };
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
        reserved_groups: policy.groups.reserved.iter().map(|g| normalize::skeleton(&normalize::fold(g))).collect(),
        exceptions: {
            // Only exception rules look source accounts up: their keys and index are built
            // for that, when there are such rules, and dropped once the rules are resolved.
            let account_rules = exceptions.iter().any(|rule| rule.kind == IdentityKind::Account);
            let looked_up: &[Account] = if account_rules { &source.accounts } else { &[] };
            let src_keys = keys::account_keys(looked_up, &src_rules, Tables::LOOKUPS);
            let src_index = AccountIndex::build(looked_up, &src_keys, Tables::LOOKUPS, src_rules);
            ExceptionTable::build(exceptions, (&src_index, &dst_index), (&src_groups, &dst_groups), &mut warnings)
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
        .map_init(Lookahead::default, |lookahead, (position, &i)| {
            let probe = ctx.probe(lookahead, &account_order, position);
            ctx.resolve_account(i, probe)
        })
        .collect_into_vec(&mut mappings);
    settle_shared_destinations(&mut mappings, IdentityKind::Account, &ctx, &mut warnings);
    if policy.order.contains(&Method::Name) {
        ctx.offer_near_misses(&mut mappings);
    }
    let accounts = mappings.len();
    mappings.par_extend(group_order.par_iter().with_min_len(512).map(|&i| ctx.resolve_group(i)));
    settle_shared_destinations(&mut mappings[accounts..], IdentityKind::Group, &ctx, &mut warnings);
    // Keys and indexes are not needed to finish: free them before the last pass.
    drop(ctx);
    drop((dst_index, src_groups, dst_groups));
    // A million keys own a million strings: they are freed on every thread.
    dst_keys.into_par_iter().with_min_len(4096).for_each(drop);
    let (account_mappings, group_mappings) = mappings.split_at_mut(accounts);
    account_mappings.par_iter_mut().with_min_len(512).for_each(|m| {
        m.say_what_is_made(&source.account(m.source).id);
        m.finish(|j| destination.account(j).id.as_str());
    });
    group_mappings.iter_mut().for_each(|m| {
        m.say_what_is_made(&source.group(m.source).id);
        m.finish(|j| destination.group(j).id.as_str());
    });
    warnings.sort();
    let summary = Summary::of(&mappings);
    Resolved { mappings, summary, warnings }
}

/// Reads a value only so that it is in cache when it is needed. A loop of such reads over
/// records that do not depend on each other lets the processor fetch them all at once,
/// where using each record as it is reached waits out each fetch in turn. (`black_box`
/// keeps the read; a prefetch instruction would need `unsafe`, which the workspace forbids.)
#[inline(always)]
pub(crate) fn fetch<T>(value: T) {
    std::hint::black_box(value);
}

/// One bit per identity, for a property read of many identities in a random order: the bits
/// of a million accounts fit in a processor cache, the accounts do not.
#[derive(Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub(crate) fn from_bools(bools: impl IndexedParallelIterator<Item = bool>) -> Bits {
        let bools: Vec<bool> = bools.collect();
        Bits(bools.par_chunks(64).map(|chunk| chunk.iter().rev().fold(0u64, |word, &b| word << 1 | u64::from(b))).collect())
    }

    pub(crate) fn get(&self, index: u32) -> bool {
        self.0.get(index as usize / 64).is_some_and(|word| word >> (index % 64) & 1 == 1)
    }
}

/// An id's first sixteen bytes as a number, padded with zeros: ids in this order are in
/// the order of their text, but for those the prefix cannot tell apart, which must then be
/// compared whole. A comparison of two numbers is much cheaper than one of two strings.
pub(crate) fn id_prefix(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let head = &id.as_bytes()[..id.len().min(16)];
    bytes[..head.len()].copy_from_slice(head);
    u128::from_be_bytes(bytes)
}

/// Positions of identities ordered by platform id (row position breaks ties, which only a
/// directory with repeated ids has).
fn id_order<I: HasId + Sync>(items: &[I]) -> Vec<u32> {
    // Sorted on the ids' first sixteen bytes, read once each in row order: most ids differ
    // there, and comparing whole ids would fetch two identities from anywhere in memory per
    // comparison. Equal prefixes fall back to the whole ids.
    let mut keyed: Vec<(u128, u32)> = items.par_iter().enumerate().map(|(i, item)| (id_prefix(item.id()), i as u32)).collect();
    keyed.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| items[a.1 as usize].id().cmp(items[b.1 as usize].id())).then(a.1.cmp(&b.1))
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
    let methods = if names.is_empty() { "any method (all are off)".into() } else { names.join(", ") };
    format!("no destination account matched by {methods}")
}

fn folded_domains(domains: &[String]) -> Vec<String> {
    domains.iter().filter_map(|d| normalize::domain_key(d)).collect()
}

enum DefaultAccount {
    None,
    Existing(u32),
    Named(String),
}

/// Checks what only the destination can tell about a policy: that its `default_account`
/// names exactly one destination account. Run it before anything is stored: the engine
/// would otherwise give every unmatched identity a Default pointing at nobody.
pub fn check_policy_against(destination: &Directory, policy: &Policy) -> Result<(), crate::PolicyError> {
    let Some(name) = &policy.fallback.default_account else { return Ok(()) };
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

fn default_account(policy: &Policy, dst: &AccountIndex<'_>) -> DefaultAccount {
    match &policy.fallback.default_account {
        None => DefaultAccount::None,
        Some(name) => match find_account(dst, &IdentityRef::parse(name)) {
            Ok(index) => DefaultAccount::Existing(index),
            Err(_) => DefaultAccount::Named(name.trim().to_string()),
        },
    }
}

/// Finds the one account a reference names, or says why there is not exactly one. Usernames
/// and addresses are keyed as the index's own were (transforms included), as identity: a
/// value never finds an account that only looks like it.
fn find_account(index: &AccountIndex<'_>, reference: &IdentityRef) -> Result<u32, String> {
    let by_id = |v: &str| index.by_id.get(v.trim()).map(|&i| vec![i]).unwrap_or_default();
    let by_username = |v: &str| index.accounts_with_username(v);
    let by_email = |v: &str| index.accounts_with_email(v);
    let found = match reference {
        IdentityRef::Id(v) => by_id(v),
        IdentityRef::Username(v) => by_username(v),
        IdentityRef::Email(v) => by_email(v),
        IdentityRef::Any(v) => {
            let by_kind = [("id", by_id(v)), ("username", by_username(v)), ("email", by_email(v))];
            unambiguous(v, &by_kind, "account", |i| index.account_id(i))?
        }
    };
    one_of(found, reference, "account")
}

fn find_group(index: &GroupIndex<'_>, reference: &IdentityRef) -> Result<u32, String> {
    let by_id = |v: &str| index.by_id.get(v.trim()).map(|&i| vec![i]).unwrap_or_default();
    let by_name = |v: &str| index.by_name.get(&normalize::fold(v)).map(|h| h.as_slice().to_vec()).unwrap_or_default();
    let found = match reference {
        IdentityRef::Id(v) => by_id(v),
        IdentityRef::Username(v) | IdentityRef::Email(v) => by_name(v),
        IdentityRef::Any(v) => {
            let by_kind = [("id", by_id(v)), ("name", by_name(v))];
            unambiguous(v, &by_kind, "group", |i| index.group_id(i))?
        }
    };
    one_of(found, reference, "group")
}

/// The identities a bare value names, by each kind of name it can be (`by_kind`): an error
/// when it names one identity as one kind and another as another (`jdoe` the id of one
/// account and the username of another), because choosing between them would be a guess.
fn unambiguous<'i>(
    value: &str,
    by_kind: &[(&str, Vec<u32>)],
    what: &str,
    id_of: impl Fn(u32) -> &'i str,
) -> Result<Vec<u32>, String> {
    let mut all: Vec<u32> = by_kind.iter().flat_map(|(_, found)| found.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    let kinds: Vec<&(&str, Vec<u32>)> = by_kind.iter().filter(|(_, found)| !found.is_empty()).collect();
    if all.len() > 1 && kinds.len() > 1 {
        let named: Vec<String> = kinds
            .iter()
            .map(|(kind, found)| {
                let ids: Vec<&str> = found.iter().map(|&i| id_of(i)).collect();
                format!("{what} {} by {kind}", ids.join(", "))
            })
            .collect();
        let prefixes: Vec<String> = kinds.iter().map(|(kind, _)| format!("{kind}:{value}")).collect();
        return Err(format!(
            "{value:?} is ambiguous: it names {}; write {} to say which",
            named.join(" and "),
            prefixes.join(" or ")
        ));
    }
    Ok(all)
}

fn one_of(found: Vec<u32>, reference: &IdentityRef, what: &str) -> Result<u32, String> {
    match found.as_slice() {
        [] => Err(format!("no {what} is {reference}")),
        [one] => Ok(*one),
        many => Err(format!("{} {what}s match {reference}; name one by `id:`", many.len())),
    }
}

/// Exception rules, resolved to indices on both sides before any matching starts.
struct ExceptionTable {
    accounts: FxHashMap<u32, ExceptionOutcome>,
    groups: FxHashMap<u32, ExceptionOutcome>,
}

enum ExceptionOutcome {
    To { index: u32, rule: String },
    Bad(String),
}

impl ExceptionTable {
    fn build(
        rules: &[ExceptionRule],
        accounts: (&AccountIndex<'_>, &AccountIndex<'_>),
        groups: (&GroupIndex<'_>, &GroupIndex<'_>),
        warnings: &mut Vec<String>,
    ) -> ExceptionTable {
        let mut table = ExceptionTable { accounts: FxHashMap::default(), groups: FxHashMap::default() };
        for rule in rules {
            let (source, destination) = match rule.kind {
                IdentityKind::Account => {
                    (find_account(accounts.0, &rule.source), find_account(accounts.1, &rule.destination))
                }
                IdentityKind::Group => {
                    (find_group(groups.0, &rule.source), find_group(groups.1, &rule.destination))
                }
            };
            let source = match source {
                Ok(index) => index,
                Err(why) => {
                    warnings.push(format!("exception {}: source {why}; the rule was not used", rule.origin));
                    continue;
                }
            };
            let outcome = match destination {
                Ok(index) => ExceptionOutcome::To { index, rule: rule.origin.clone() },
                Err(why) => ExceptionOutcome::Bad(format!(
                    "exception {} was not applied: destination {why}; fix the rule or the destination directory",
                    rule.origin
                )),
            };
            let slot = match rule.kind {
                IdentityKind::Account => &mut table.accounts,
                IdentityKind::Group => &mut table.groups,
            };
            if let Some(previous) = slot.get(&source) {
                let earlier = match previous {
                    ExceptionOutcome::To { rule, .. } => rule.clone(),
                    ExceptionOutcome::Bad(_) => "an earlier rule".to_string(),
                };
                slot.insert(
                    source,
                    ExceptionOutcome::Bad(format!(
                        "exceptions {earlier} and {} both name this {}; neither was applied",
                        rule.origin, rule.kind
                    )),
                );
            } else {
                slot.insert(source, outcome);
            }
        }
        table
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

/// The slot of each of a source account's addresses (in [`AccountKeys::emails`] order) in one
/// of the destination's tables (addresses, or look-alike skeletons); `None` where that table
/// does not have it.
type EmailSlots = smallvec::SmallVec<[Option<u32>; 2]>;

/// A source account's keys, and where the destination's tables hold them.
struct Probe {
    keys: AccountKeys,
    /// Each address's slot in the destination's address table.
    email_slots: EmailSlots,
    /// Each address's slot in the destination's look-alike table.
    skeleton_slots: EmailSlots,
    /// The username's slot in the destination's username look-alike table.
    username_skeleton_slot: Option<u32>,
    /// The destination account with the same id (looked up when the ID method is on).
    same_id: Option<u32>,
}

impl Probe {
    /// The keys of source account `i`, nothing looked up yet.
    fn keys(ctx: &Context<'_>, i: u32) -> Probe {
        let keys = AccountKeys::without_names(ctx.source.account(i), &ctx.src_rules);
        Probe { keys, email_slots: EmailSlots::new(), skeleton_slots: EmailSlots::new(), username_skeleton_slot: None, same_id: None }
    }

    fn look_up_addresses(&mut self, ctx: &Context<'_>) {
        self.email_slots = self.keys.emails.iter().map(|e| ctx.dst_index.by_email.slot(e.key.as_str())).collect();
    }

    /// Fetches what the Email method reads of the account the first address leads to.
    fn fetch_email_target(&self, ctx: &Context<'_>) {
        let first = self.email_slots.iter().flatten().next();
        if let Some(&(index, _)) = first.and_then(|&slot| ctx.dst_index.by_email.hits(slot).as_slice().first()) {
            fetch(ctx.destination.account(index).email_verified);
            fetch(ctx.dst_keys[index as usize].emails.len());
        }
    }

    fn look_up_skeletons(&mut self, ctx: &Context<'_>) {
        self.skeleton_slots = self.keys.emails.iter().map(|e| ctx.dst_index.by_skeleton.slot(e.skeleton)).collect();
        if self.keys.username.is_some() {
            self.username_skeleton_slot = ctx.dst_index.by_username_skeleton.slot(self.keys.username_skeleton);
        }
    }

    fn look_up_id(&mut self, ctx: &Context<'_>, i: u32) {
        if ctx.policy.order.contains(&Method::Id) {
            self.same_id = ctx.dst_index.by_id.get(ctx.source.account(i).id.as_str()).copied();
        }
    }

    /// The probe of one account, step by step.
    fn alone(ctx: &Context<'_>, i: u32) -> Probe {
        let mut probe = Probe::keys(ctx, i);
        probe.look_up_addresses(ctx);
        probe.look_up_skeletons(ctx);
        probe.look_up_id(ctx, i);
        probe
    }
}

/// How many source accounts are probed together.
const LOOKAHEAD: usize = 16;

/// The probes of the next few source accounts of one rayon job, in resolution order.
#[derive(Default)]
struct Lookahead {
    /// The position, in resolution order, of `probes[0]`.
    start: usize,
    probes: Vec<Option<Probe>>,
}

/// A mapping being decided: the engine fills each [`Mapping`] in place and
/// [`Mapping::finish`]es it once every pass is done.
type Draft = Mapping;

/// What one method concluded.
enum Step {
    /// Nothing to say: try the next method.
    Next,
    /// Exactly one destination identity.
    Link { index: u32, method: Resolution, evidence: Vec<Evidence>, confidence: Confidence },
    /// Stop here and leave the identity for review (ambiguity, unverified address...).
    Stop,
}

impl Mapping {
    /// An undecided mapping for source identity `source` of kind `kind`.
    fn draft(kind: IdentityKind, source: u32) -> Draft {
        Mapping {
            kind,
            source,
            resolution: Resolution::Unresolved,
            target: None,
            message: String::new(),
            evidence: Vec::new(),
            candidates: Vec::new(),
            flags: Flags::new(),
            confidence: Confidence::NONE,
        }
    }

    /// Adds a sentence to the message; sentences are separated by `"; "`.
    fn say(&mut self, sentence: impl AsRef<str>) {
        let sentence = sentence.as_ref();
        if !self.message.is_empty() {
            self.message.push_str("; ");
        }
        self.message.push_str(sentence);
    }

    fn flag(&mut self, flag: Flag, message: String) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
        self.say(message);
    }

    fn candidate(&mut self, index: u32, method: Resolution, reason: impl Into<Cow<'static, str>>) {
        self.scored_candidate(index, method, reason, method_confidence(method));
    }

    fn scored_candidate(&mut self, index: u32, method: Resolution, reason: impl Into<Cow<'static, str>>, score: Confidence) {
        if !self.candidates.iter().any(|c| c.index == index && c.method == method) {
            self.candidates.push(Candidate { index, method, reason: reason.into(), score });
        }
    }

    /// Says, for a fallback that makes an identity rather than linking one, what the
    /// destination gets: the report shows it under Destination without a destination id,
    /// because there is no existing destination identity to name (`docs/formats.md`).
    fn say_what_is_made(&mut self, source_id: &str) {
        let kind = self.kind;
        match self.target {
            Some(Target::Provision) => self.say(format!(
                "a new destination {kind} will be created from this one's {}; it has no id until then",
                if kind == IdentityKind::Account { "username, address and display name" } else { "name" }
            )),
            Some(Target::Passthrough) => self.say(format!(
                "passed through: the destination gets this {kind} as it is, with the source's id {source_id}; it is not an existing destination {kind}"
            )),
            _ => {}
        }
    }

    /// `destination_id` names a destination identity of the mapping's kind: candidates are
    /// ranked best first, ties by destination id, so row order never shows.
    fn finish<'d>(&mut self, destination_id: impl Fn(u32) -> &'d str) {
        self.flags.sort_unstable();
        let order = |a: &Candidate, b: &Candidate| {
            b.score.cmp(&a.score).then_with(|| destination_id(a.index).cmp(destination_id(b.index))).then(a.method.cmp(&b.method))
        };
        // The name tier offers its candidates ranked already: checking reads fewer ids than
        // sorting, and each id read is a cache miss.
        if !self.candidates.is_sorted_by(|a, b| order(a, b).is_le()) {
            self.candidates.sort_by(order);
        }
        let links = matches!(self.target, Some(Target::Existing { .. })) && self.resolution != Resolution::Default;
        if !links {
            // Nothing linked: how sure the engine is that none of the candidates is this one.
            self.confidence = self.candidates.first().map_or(Confidence::CERTAIN, |c| c.score.complement());
        }
    }
}

impl Context<'_> {
    /// Compares the [`Context::dst_account_label`]s of two accounts without writing them.
    fn dst_account_label_cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        // Labels start with the id: ids that differ before either ends decide at once.
        let (id_a, id_b) = (self.destination.account(a).id.as_bytes(), self.destination.account(b).id.as_bytes());
        let common = id_a.len().min(id_b.len());
        match id_a[..common].cmp(&id_b[..common]) {
            std::cmp::Ordering::Equal => {}
            decided => return decided,
        }
        let label = |index: u32| {
            let account = self.destination.account(index);
            let email = account.email.as_deref().filter(|e| !e.is_empty());
            let (open, close) = if email.is_some() { (" <", ">") } else { ("", "") };
            [account.id.as_str(), open, email.unwrap_or_default(), close].into_iter().flat_map(str::bytes)
        };
        label(a).cmp(label(b))
    }

    fn dst_account_label(&self, index: u32) -> String {
        let mut label = String::new();
        self.push_dst_account_label(&mut label, index);
        label
    }

    /// [`Context::dst_account_label`] written onto the end of `text`, piece by piece: a
    /// common name lists dozens of these.
    fn push_dst_account_label(&self, text: &mut String, index: u32) {
        let account = self.destination.account(index);
        text.push_str(&account.id);
        if let Some(email) = account.email.as_deref().filter(|e| !e.is_empty()) {
            text.push_str(" <");
            text.push_str(email);
            text.push('>');
        }
    }

    /// The probe of the source account at `position` in `order`. Accounts are probed
    /// [`LOOKAHEAD`] at a time, one step after another: the look-ups of different accounts
    /// do not depend on each other, so the processor overlaps their cache misses instead of
    /// waiting out each in turn, as it must within one account's chain of look-ups.
    fn probe(&self, lookahead: &mut Lookahead, order: &[u32], position: usize) -> Probe {
        if let Some(probe) = lookahead.probes.get_mut(position.wrapping_sub(lookahead.start)).and_then(Option::take) {
            return probe;
        }
        let ahead = &order[position..order.len().min(position + LOOKAHEAD)];
        lookahead.start = position;
        lookahead.probes.clear();
        lookahead.probes.extend(ahead.iter().map(|&i| Some(Probe::keys(self, i))));
        for probe in lookahead.probes.iter_mut().flatten() {
            probe.look_up_addresses(self);
        }
        for probe in lookahead.probes.iter().flatten() {
            probe.fetch_email_target(self);
        }
        for probe in lookahead.probes.iter_mut().flatten() {
            probe.look_up_skeletons(self);
        }
        for (probe, &i) in lookahead.probes.iter_mut().flatten().zip(ahead) {
            probe.look_up_id(self, i);
        }
        lookahead.probes.first_mut().and_then(Option::take).unwrap_or_else(|| Probe::alone(self, order[position]))
    }

    fn resolve_account(&self, i: u32, probe: Probe) -> Draft {
        let account = self.source.account(i);
        let Probe { mut keys, email_slots, skeleton_slots, username_skeleton_slot, same_id } = probe;
        let mut draft = Draft::draft(IdentityKind::Account, i);
        for (field, why) in &keys.invalid_emails {
            let raw = keys::email_value(account, *field);
            draft.flag(
                Flag::InvalidEmail,
                format!("{} {raw:?} {} and was not used for matching", email_field_name(*field), why.describe()),
            );
        }
        let excluded = self.look_alikes(account, &keys, (&email_slots, &skeleton_slots), username_skeleton_slot, &mut draft);

        for method in &self.policy.order {
            let step = match method {
                Method::Exception => self.account_exception(i, &mut draft),
                Method::Id => self.by_id(same_id, account.id.as_str(), &excluded, &mut draft),
                Method::Email => self.by_email(account, &keys, &email_slots, &excluded, &mut draft),
                Method::Username => self.by_username(account, &keys, &excluded, &mut draft),
                Method::Name => {
                    keys.derive_names(account);
                    self.by_name(i, &keys, &excluded, &mut draft)
                }
            };
            match step {
                Step::Next => continue,
                Step::Stop => return draft,
                Step::Link { index, method, evidence, confidence } => {
                    draft.confidence = confidence;
                    let target = self.destination.account(index);
                    if !target.active {
                        draft.flag(
                            Flag::Inactive,
                            format!("destination account {} is deactivated", self.dst_account_label(index)),
                        );
                    }
                    draft.resolution = method;
                    draft.target = Some(Target::Existing { index });
                    draft.evidence = evidence;
                    return draft;
                }
            }
        }
        self.account_fallback(&keys, &excluded, draft)
    }

    /// Destination addresses and usernames that only look like one of the source's (see
    /// [`normalize::skeleton`]): flagged, listed as candidates, and those destination accounts
    /// are excluded from every method for this identity.
    fn look_alikes(
        &self,
        account: &Account,
        keys: &AccountKeys,
        slots: (&EmailSlots, &EmailSlots),
        username_skeleton_slot: Option<u32>,
        draft: &mut Draft,
    ) -> Vec<u32> {
        // (destination, its value, ours, found by username)
        let mut found: Vec<(u32, &str, &str, bool)> = Vec::new();
        for (email, slots) in keys.emails.iter().zip(slots.0.iter().copied().zip(slots.1.iter().copied())) {
            for (index, other) in self.dst_index.look_alikes(account, email, slots, &self.src_rules) {
                if !found.iter().any(|f| f.0 == index) {
                    found.push((index, other.key.as_str(), email.key.as_str(), false));
                }
            }
        }
        if let Some(username) = keys.username.as_deref() {
            for index in self.dst_index.username_look_alikes(username, username_skeleton_slot) {
                if !found.iter().any(|f| f.0 == index)
                    && let Some(theirs) = self.dst_keys[index as usize].username.as_deref()
                {
                    found.push((index, theirs, username, true));
                }
            }
        }
        // Destination ids, not row positions, order the messages: the report must not
        // change when the same directory is exported in another order.
        found.sort_by(|a, b| self.destination.account(a.0).id.cmp(&self.destination.account(b.0).id));
        for &(index, theirs, ours, by_username) in &found {
            let (method, what) = if by_username { (Resolution::Username, "username ") } else { (Resolution::Email, "") };
            draft.candidate(index, method, format!("look-alike of {what}{ours}"));
            draft.flag(
                Flag::LookAlike,
                format!(
                    "destination account {} has {what}{theirs:?}, which only looks like {ours:?} (confusable characters): never matched",
                    self.destination.account(index).id
                ),
            );
        }
        found.into_iter().map(|f| f.0).collect()
    }

    fn account_exception(&self, i: u32, draft: &mut Draft) -> Step {
        exception_step(self.exceptions.accounts.get(&i), draft)
    }

    /// A method whose hits include a look-alike account stops: which of them is the real
    /// person is for a human to say.
    fn stop_on_look_alike(&self, draft: &mut Draft, method: &str) -> Step {
        draft.say(format!("{method} also matches a look-alike account named above: not linked"));
        Step::Stop
    }

    /// `same_id`: the destination account with the source's `id`.
    fn by_id(&self, same_id: Option<u32>, id: &str, excluded: &[u32], draft: &mut Draft) -> Step {
        match same_id {
            Some(index) if excluded.contains(&index) => self.stop_on_look_alike(draft, "the id"),
            Some(index) => id_link(index, id),
            _ => Step::Next,
        }
    }

    fn by_email(&self, account: &Account, keys: &AccountKeys, email_slots: &EmailSlots, excluded: &[u32], draft: &mut Draft) -> Step {
        // Most accounts have one address, found on one account: no heap for either list.
        let mut found: SmallVec<[(u32, u16, &keys::KeyedEmail); 2]> = SmallVec::new();
        for (email, &slot) in keys.emails.iter().zip(email_slots) {
            if let Some(slot) = slot {
                for &(index, field) in self.dst_index.by_email.hits(slot).as_slice() {
                    if excluded.contains(&index) {
                        return self.stop_on_look_alike(draft, "the address");
                    }
                    found.push((index, field, email));
                }
            }
        }
        let mut indices: SmallVec<[u32; 2]> = found.iter().map(|f| f.0).collect();
        indices.sort_unstable();
        indices.dedup();
        match indices.as_slice() {
            [] => Step::Next,
            [index] => {
                let index = *index;
                let target = self.destination.account(index);
                if self.policy.email.require_verified && target.email_verified == Some(false) {
                    draft.candidate(index, Resolution::Email, "address not verified");
                    draft.flag(
                        Flag::UnverifiedEmail,
                        format!(
                            "destination account {} has this address but has not verified it; verify it or add an exception",
                            self.dst_account_label(index)
                        ),
                    );
                    return Step::Stop;
                }
                let evidence = found
                    .iter()
                    .map(|(_, field, email)| Evidence {
                        method: Resolution::Email,
                        source_field: keys::email_field(email.field),
                        destination_field: keys::email_field(*field),
                        key: email.key.clone(),
                        note: keys::evidence_note(
                            self.src_rules.email_note(account, email),
                            self.dst_keys[index as usize]
                                .email(*field)
                                .map_or(Cow::Borrowed(""), |e| self.dst_index.rules.email_note(target, e)),
                        ),
                    })
                    .collect();
                Step::Link { index, method: Resolution::Email, evidence, confidence: method_confidence(Resolution::Email) }
            }
            many => {
                for (index, _, email) in &found {
                    draft.candidate(*index, Resolution::Email, format!("has address {}", email.key));
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "{} destination accounts share this person's addresses ({}): none chosen; add an exception",
                        many.len(),
                        self.list_accounts(many)
                    ),
                );
                Step::Stop
            }
        }
    }

    /// Up to five destination accounts, by id, for a message. A common name can list fifty:
    /// the first five are chosen before any label is written.
    fn list_accounts(&self, indices: &[u32]) -> String {
        let mut list = String::new();
        self.write_accounts(&mut list, indices);
        list
    }

    /// [`Context::list_accounts`] written onto the end of `text`.
    fn write_accounts(&self, text: &mut String, indices: &[u32]) {
        let mut shown: SmallVec<[u32; 64]> = SmallVec::from_slice(indices);
        let by_label = |a: &u32, b: &u32| self.dst_account_label_cmp(*a, *b);
        if shown.len() > 5 {
            shown.select_nth_unstable_by(4, by_label);
            shown.truncate(5);
        }
        shown.sort_by(by_label);
        for (n, &index) in shown.iter().enumerate() {
            if n > 0 {
                text.push_str(", ");
            }
            self.push_dst_account_label(text, index);
        }
        if indices.len() > 5 {
            use std::fmt::Write;
            let _ = write!(text, ", and {} more", indices.len() - 5);
        }
    }

    fn by_username(&self, account: &Account, keys: &AccountKeys, excluded: &[u32], draft: &mut Draft) -> Step {
        let Some(username) = &keys.username else { return Step::Next };
        let Some(hits) = self.dst_index.by_username.get(username.as_str()) else { return Step::Next };
        if hits.as_slice().iter().any(|i| excluded.contains(i)) {
            return self.stop_on_look_alike(draft, "the username");
        }
        match hits.as_slice() {
            [] => Step::Next,
            [index] => Step::Link {
                index: *index,
                confidence: method_confidence(Resolution::Username),
                method: Resolution::Username,
                evidence: vec![Evidence {
                    method: Resolution::Username,
                    source_field: "username".into(),
                    destination_field: "username".into(),
                    key: username.clone(),
                    note: keys::evidence_note(
                        self.src_rules.username_note(account, keys.username_note),
                        self.dst_index
                            .rules
                            .username_note(self.destination.account(*index), self.dst_keys[*index as usize].username_note),
                    ),
                }],
            },
            many => {
                for &index in many {
                    draft.candidate(index, Resolution::Username, format!("username {username}"));
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "{} destination accounts have username {username:?} once case is ignored ({}): none chosen",
                        many.len(),
                        self.list_accounts(many)
                    ),
                );
                Step::Stop
            }
        }
    }

    fn account_fallback(&self, keys: &AccountKeys, excluded: &[u32], mut draft: Draft) -> Draft {
        if !excluded.is_empty() {
            // A look-alike needs a person to look at it: creating or defaulting could hand
            // the identity to the wrong side of an impersonation.
            return draft;
        }
        if let Some(email) =
            keys.emails.iter().find(|e| e.in_domains(&self.external_domains))
        {
            draft.resolution = Resolution::External;
            draft.target = Some(Target::External);
            draft.say(format!(
                "{} is in an external domain: kept as an external user, a guest under its own address, not an existing destination account",
                email.key
            ));
            return draft;
        }
        if self.policy.fallback.provision {
            draft.resolution = Resolution::Provision;
            draft.target = Some(Target::Provision);
            return draft;
        }
        if self.policy.fallback.passthrough {
            draft.resolution = Resolution::Passthrough;
            draft.target = Some(Target::Passthrough);
            return draft;
        }
        match &self.default_account {
            DefaultAccount::Existing(index) => {
                draft.resolution = Resolution::Default;
                draft.target = Some(Target::Existing { index: *index });
                return draft;
            }
            DefaultAccount::Named(id) => {
                draft.resolution = Resolution::Default;
                draft.target = Some(Target::Named { id: id.clone() });
                draft.say(format!("default account {id:?} is not in the destination directory"));
                return draft;
            }
            DefaultAccount::None => {}
        }
        draft.say(&self.no_match);
        draft
    }

    fn resolve_group(&self, i: u32) -> Draft {
        let group = self.source.group(i);
        let mut draft = Draft::draft(IdentityKind::Group, i);
        let excluded = self.group_look_alikes(group, &mut draft);
        let mut step = Step::Next;
        for method in &self.policy.order {
            step = match method {
                Method::Exception => exception_step(self.exceptions.groups.get(&i), &mut draft),
                Method::Id => match self.dst_groups.by_id.get(group.id.as_str()) {
                    Some(index) if excluded.contains(index) => {
                        draft.say("the id also matches a look-alike group named above: not linked");
                        Step::Stop
                    }
                    Some(&index) => id_link(index, &group.id),
                    None => Step::Next,
                },
                _ => Step::Next,
            };
            if !matches!(step, Step::Next) {
                break;
            }
        }
        if matches!(step, Step::Next) && self.policy.groups.match_by_name {
            step = self.group_by_name(group, &mut draft);
        }
        match step {
            Step::Stop => draft,
            Step::Link { index, method, evidence, confidence } => {
                draft.confidence = confidence;
                let name = &self.dst_group_names[index as usize];
                if self.is_reserved_group(name) {
                    let target = self.destination.group(index);
                    if method == Resolution::Exception {
                        draft.flag(
                            Flag::ReservedGroup,
                            format!("destination group {:?} is reserved by the platform; mapped only because an exception says so", target.name),
                        );
                    } else {
                        draft.candidate(index, method, "reserved group");
                        draft.flag(
                            Flag::ReservedGroup,
                            format!(
                                "destination group {:?} is reserved by the platform and is never merged into; its members are still mapped",
                                target.name
                            ),
                        );
                        return draft;
                    }
                }
                draft.resolution = method;
                draft.target = Some(Target::Existing { index });
                draft.evidence = evidence;
                draft
            }
            Step::Next => {
                if !excluded.is_empty() {
                    // A look-alike needs a person: creating the group could set up the
                    // impersonation it looks like.
                    return draft;
                }
                if self.is_reserved_group(&normalize::fold(&group.name)) {
                    draft.flag(
                        Flag::ReservedGroup,
                        format!("group {:?} is reserved on the destination and is not created there", group.name),
                    );
                } else if self.policy.fallback.provision {
                    draft.resolution = Resolution::Provision;
                    draft.target = Some(Target::Provision);
                } else if self.policy.fallback.passthrough {
                    draft.resolution = Resolution::Passthrough;
                    draft.target = Some(Target::Passthrough);
                } else {
                    draft.say("no destination group has this id or name");
                }
                draft
            }
        }
    }

    /// Whether a group name key is, or looks like, a reserved group's name.
    fn is_reserved_group(&self, name: &str) -> bool {
        !self.reserved_groups.is_empty() && self.reserved_groups.contains(&normalize::skeleton(name))
    }

    /// Destination groups whose name only looks like the source group's: flagged, listed as
    /// candidates, and excluded from every method but an exception.
    fn group_look_alikes(&self, group: &crate::directory::Group, draft: &mut Draft) -> Vec<u32> {
        let ours = normalize::fold(&group.name);
        let mut found = self.dst_groups.look_alikes(&ours);
        found.sort_by(|&a, &b| self.destination.group(a).id.cmp(&self.destination.group(b).id));
        for &index in &found {
            let target = self.destination.group(index);
            draft.candidate(index, Resolution::Name, format!("look-alike of group name {ours}"));
            draft.flag(
                Flag::LookAlike,
                format!(
                    "destination group {} is named {:?}, which only looks like {:?} (confusable characters): never matched",
                    target.id, target.name, group.name
                ),
            );
        }
        found
    }

    fn group_by_name(&self, group: &crate::directory::Group, draft: &mut Draft) -> Step {
        let key = normalize::fold(&group.name);
        let Some(hits) = self.dst_groups.by_name.get(&key) else { return Step::Next };
        match hits.as_slice() {
            [index] => Step::Link {
                index: *index,
                confidence: method_confidence(Resolution::Name),
                method: Resolution::Name,
                evidence: vec![Evidence {
                    method: Resolution::Name,
                    source_field: "name".into(),
                    destination_field: "name".into(),
                    key: key.as_ref().into(),
                    note: if self.destination.group(*index).name == group.name {
                        Cow::Borrowed("")
                    } else {
                        "case folded".into()
                    },
                }],
            },
            many => {
                for &index in many {
                    draft.candidate(index, Resolution::Name, format!("group name {key}"));
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!("{} destination groups are named {:?} once case is ignored: none chosen", many.len(), group.name),
                );
                Step::Stop
            }
        }
    }
}

/// How sure a link by `method` alone is: an exception is a person's word, an id or a verified
/// address is one person's, a username is usually one person's; a name is scored by the
/// evidence tier instead (this is its floor when nothing else agrees).
fn method_confidence(method: Resolution) -> Confidence {
    Confidence::from_probability(match method {
        Resolution::Exception => 1.0,
        Resolution::Id => 0.99,
        Resolution::Email => 0.98,
        Resolution::Username => 0.9,
        Resolution::Name => 0.95,
        _ => 0.5,
    })
}

/// The ID method's link, for accounts and groups alike: ids are compared exactly.
fn id_link(index: u32, id: &str) -> Step {
    Step::Link {
        index,
        method: Resolution::Id,
        confidence: method_confidence(Resolution::Id),
        evidence: vec![Evidence {
            method: Resolution::Id,
            source_field: "id".into(),
            destination_field: "id".into(),
            key: id.into(),
            note: Cow::Borrowed(""),
        }],
    }
}

/// The Exception method for accounts and groups alike: a rule links, a bad rule stops.
fn exception_step(outcome: Option<&ExceptionOutcome>, draft: &mut Draft) -> Step {
    match outcome {
        None => Step::Next,
        Some(ExceptionOutcome::Bad(message)) => {
            draft.flag(Flag::BadException, message.clone());
            Step::Stop
        }
        Some(ExceptionOutcome::To { index, rule }) => Step::Link {
            index: *index,
            method: Resolution::Exception,
            confidence: Confidence::CERTAIN,
            evidence: vec![exception_evidence(rule)],
        },
    }
}

fn exception_evidence(rule: &str) -> Evidence {
    Evidence {
        method: Resolution::Exception,
        source_field: "exception".into(),
        destination_field: "exception".into(),
        key: rule.into(),
        note: "explicit rule".into(),
    }
}

/// Several exception rules send different source identities (`kept`, in source-id order) to
/// one destination: an explicit merge, allowed, and said in each mapping's message and in
/// the run's warnings.
fn say_explicit_merge(
    drafts: &mut [Draft],
    kept: &[usize],
    kind: IdentityKind,
    destination: &str,
    source_id: &impl Fn(&[Draft], usize) -> String,
    warnings: &mut Vec<String>,
) {
    // The rule's origin is the key of an exception's evidence.
    let origin = |drafts: &[Draft], i: usize| drafts[i].evidence.first().map_or_else(String::new, |e| e.key.to_string());
    let labels: Vec<String> =
        kept.iter().map(|&i| format!("{} ({})", source_id(drafts, i), origin(drafts, i))).collect();
    warnings.push(format!(
        "exceptions send {} source {kind}s to destination {kind} {destination}: {}; an explicit merge",
        kept.len(),
        labels.join(", ")
    ));
    for (n, &i) in kept.iter().enumerate() {
        // Five others are named, as for shared claims.
        let others: Vec<&str> = labels.iter().enumerate().filter(|&(m, _)| m != n).take(5).map(|(_, l)| l.as_str()).collect();
        let more = kept.len() - 1 - others.len();
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        drafts[i].say(format!(
            "explicit merge: exceptions also send {}{more} to destination {kind} {destination}",
            others.join(", ")
        ));
    }
}

/// Two or more source identities linked to one destination identity: never left silent.
/// Exceptions are explicit and keep their link; automatic links are undone unless the
/// policy says to merge, in which case every claimant keeps it (no winner is picked).
fn settle_shared_destinations(drafts: &mut [Draft], kind: IdentityKind, ctx: &Context<'_>, warnings: &mut Vec<String>) {
    // (destination, position) pairs sorted: a run of equal destinations is one shared claim.
    // A flat vector, not a map of vectors: at a million claims that is 8 MB and one sort.
    let mut claims: Vec<(u32, u32)> = drafts
        .par_iter()
        .enumerate()
        .filter_map(|(position, draft)| match (&draft.target, draft.resolution != Resolution::Default) {
            (Some(Target::Existing { index }), true) => Some((*index, position as u32)),
            _ => None,
        })
        .collect();
    claims.par_sort_unstable();
    let shared: Vec<(u32, Vec<usize>)> = claims
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .map(|run| (run[0].0, run.iter().map(|&(_, position)| position as usize).collect()))
        .collect();
    drop(claims);
    let source_id = |drafts: &[Draft], i: usize| match kind {
        IdentityKind::Account => ctx.source.account(drafts[i].source).id.to_string(),
        IdentityKind::Group => ctx.source.group(drafts[i].source).id.to_string(),
    };
    let destination_id = |index: u32| match kind {
        IdentityKind::Account => ctx.destination.account(index).id.clone(),
        IdentityKind::Group => ctx.destination.group(index).id.clone(),
    };
    // Lower is stronger. An exception is explicit; an id or an address is about one person;
    // a name is the weakest claim there is.
    let strength = |r: Resolution| match r {
        Resolution::Exception => 0,
        Resolution::Id => 1,
        Resolution::Email => 2,
        Resolution::Username => 3,
        _ => 4,
    };
    // Positions follow source ids (mappings are built in id order), so each run of
    // claimants is in source-id order already.
    for (index, claimants) in shared {
        let best = claimants.iter().map(|&i| strength(drafts[i].resolution)).min().unwrap_or(4);
        let strongest: Vec<usize> =
            claimants.iter().copied().filter(|&i| strength(drafts[i].resolution) == best).collect();
        // Exceptions all keep their link; otherwise only a claim stronger than every other does.
        let kept: Vec<usize> = if best == 0 || strongest.len() == 1 { strongest } else { Vec::new() };
        let destination = destination_id(index);
        if best == 0 && kept.len() > 1 {
            say_explicit_merge(drafts, &kept, kind, &destination, &source_id, warnings);
        }
        for &i in claimants.iter().filter(|i| !kept.contains(i)) {
            // Five others are named: a shared mailbox can have thousands of claimants, and
            // naming them all to each of them would take the square of that.
            let others: Vec<String> = claimants.iter().filter(|&&j| j != i).take(5).map(|&j| source_id(drafts, j)).collect();
            let more = claimants.len() - 1 - others.len();
            let others_text = if more > 0 { format!("{} and {more} more", others.join(", ")) } else { others.join(", ") };
            let draft = &mut drafts[i];
            let method = draft.resolution;
            let tied = kept.is_empty();
            // Merging is the policy's explicit choice: every claimant keeps its link.
            if ctx.policy.duplicate_claims == DuplicateClaims::Merge {
                draft.flag(
                    Flag::SharedDestination,
                    format!("merged: destination {kind} {destination} also receives {others_text} (policy duplicate_claims = \"merge\")"),
                );
                continue;
            }
            let why = if tied {
                format!("{} source {kind}s claim destination {destination}", claimants.len())
            } else {
                let winner = kept.iter().map(|&j| source_id(drafts, j)).collect::<Vec<_>>().join(", ");
                format!("destination {kind} {destination} is linked to {winner} by {}", drafts[kept[0]].resolution)
            };
            let draft = &mut drafts[i];
            draft.candidate(index, method, format!("found by {method}, also claimed by {others_text}"));
            let advice = if tied { "add an exception, or set duplicate_claims = \"merge\"" } else { "add an exception if this is wrong" };
            draft.flag(Flag::SharedDestination, format!("{why} (with {others_text}): not linked by {method}; {advice}"));
            draft.resolution = Resolution::Unresolved;
            draft.target = None;
        }
    }
}
