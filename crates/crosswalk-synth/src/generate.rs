//! The generator, in four passes:
//!
//! 1. plan: one compact [`Plan`] per person (category, name indices, which sides they are
//!    on), source people first, then destination-only people;
//! 2. names: count every display-name key per side and give `name_only` people a name
//!    nobody else has, so their truth holds;
//! 3. build: the accounts, in plan order, with addresses and logins made unique by one
//!    allocator (a counter per base, `john.smith`, `john.smith2`...), and the truth rows;
//! 4. groups: source groups with members, their destination counterparts, truth rows.
//!
//! Strings are built once at their final size; nothing is formatted per record beyond that.

use std::hash::Hasher;

use crosswalk_core::normalize::DomainAliases;
use crosswalk_core::{Account, CompactString, Directory, Group, IdentityKind};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use crate::names::{Order, Tables, tables};
use crate::rng::{Rand, mix48, push_decimal, push_hex};
use crate::{
    Category, EXTERNAL_DOMAIN, GenerateOptions, GeneratedPair, OLD_DOMAIN, ORGANISATION_DOMAIN,
    TruthRow,
};

pub(crate) const BUILTIN_GROUPS: usize = 8;

const NONE: u8 = u8::MAX;
const NO_DEST: u32 = u32::MAX;

/// Share of destination accounts with given and family names.
const SCIM_MANAGED: f64 = 0.5;

const DIRECTORIES: [&str; 3] = ["internal", "ldap", "crowd"];
const INTERNAL: u8 = 0;
const LDAP: u8 = 1;

// Sub-cases.
const NAMESAKE_LINKED: u8 = 0;
const NAMESAKE_PARTNER: u8 = 1;
const NAMESAKE_SOLO: u8 = 2;
const LOOKALIKE_WITH_REAL: u8 = 0;
const WITH_DEST: u8 = 0;
const WITHOUT_DEST: u8 = 1;

// Allocator namespaces: the organisation's two domains share one, since the domain alias
// makes `jo@acme-corp.com` and `jo@acme.com` the same key.
const NS_ORG: u32 = 0;
const NS_LOGIN: u32 = 1;
const NS_EXTERNAL: u32 = 2;
const NS_PERSONAL: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Name {
    locale: u8,
    female: bool,
    given: u8,
    given2: u8,
    family: u8,
    family2: u8,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    name: Name,
    src_romanised: bool,
    /// `Family, Given` on the source (some LDAP directories).
    src_comma: bool,
    dst_romanised: bool,
    /// Whether the destination account has given and family names (SCIM-managed accounts
    /// do; accounts people signed up for themselves only have a display name).
    dst_names: bool,
    /// `None` for a destination-only person.
    category: Option<Category>,
    sub: u8,
    directory: u8,
    has_dest: bool,
    src_active: bool,
    dst_active: bool,
    /// Shared mailbox number.
    link: u32,
}

/// Generates a source and a destination directory and the truth about them. Deterministic:
/// the same options give the same output.
pub fn generate(options: &GenerateOptions) -> GeneratedPair {
    let t = tables();
    let mut rng = Rand::new(options.seed);
    let n = options.accounts;
    let mut plans = plan_people(options, &mut rng, t);
    unique_names(&mut plans, n, &mut rng, t);

    let dest_capacity = plans.iter().filter(|p| p.has_dest).count()
        + plans
            .iter()
            .filter(|p| p.category == Some(Category::Lookalike))
            .count()
        + plans
            .iter()
            .filter(|p| p.category == Some(Category::SharedMailbox))
            .map(|p| p.link as usize + 1)
            .max()
            .unwrap_or(0);
    let group_count = options.group_count();
    let mut b = Builder {
        options,
        t,
        rng,
        taken: FxHashMap::default(),
        scratch: String::with_capacity(64),
        aliases: crate::data_domain_aliases(),
        source: Vec::with_capacity(n),
        destination: Vec::with_capacity(dest_capacity),
        truth: Vec::with_capacity(n + group_count),
        dest_of: vec![NO_DEST; plans.len()],
        jira_seq: 0,
        dest_counter: 0,
        id_salt: 0,
        employee: 0,
        shared: Vec::new(),
    };
    b.jira_seq = 10_000 + b.rng.below(300) as u64;
    b.id_salt = b.rng.u64();
    b.employee = 100_000 + b.rng.below(50_000) as u64;
    b.taken.reserve(n + n / 2);
    for (index, plan) in plans.iter().enumerate() {
        if index < n {
            b.source_person(index, plan);
        } else {
            b.destination_person(index, plan);
        }
    }
    b.taken = FxHashMap::default();
    drop(plans);
    let (source_groups, mut destination_groups) = b.groups(n, group_count);
    let Builder {
        mut rng,
        source,
        mut destination,
        truth,
        ..
    } = b;
    rng.shuffle(&mut destination);
    rng.shuffle(&mut destination_groups);
    GeneratedPair {
        source: Directory {
            name: "jira-server".into(),
            accounts: source,
            groups: source_groups,
        },
        destination: Directory {
            name: "atlassian-cloud".into(),
            accounts: destination,
            groups: destination_groups,
        },
        truth,
    }
}

/// How many source accounts get each category: rounded shares, `Exact` takes the rest,
/// shared mailboxes come in twos or threes.
fn quotas(options: &GenerateOptions, n: usize) -> Vec<(Category, usize)> {
    let mut counts: Vec<(Category, usize)> = Category::ACCOUNTS[1..]
        .iter()
        .map(|&c| (c, (options.rates.rate(c) * n as f64).round() as usize))
        .collect();
    let mut total: usize = counts.iter().map(|(_, k)| k).sum();
    while total > n {
        let largest = counts
            .iter_mut()
            .max_by_key(|(_, k)| *k)
            .expect("categories");
        largest.1 -= 1;
        total -= 1;
    }
    if let Some(shared) = counts
        .iter_mut()
        .find(|(c, _)| *c == Category::SharedMailbox)
        && shared.1 == 1
    {
        if total < n {
            shared.1 = 2;
            total += 1;
        } else {
            shared.1 = 0;
            total -= 1;
        }
    }
    counts.insert(0, (Category::Exact, n - total));
    counts
}

fn fraction(value: f64) -> f64 {
    if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn draw_name(rng: &mut Rand, t: &Tables) -> Name {
    let r = rng.below(t.total_weight as usize) as u32;
    let locale = t.cumulative.iter().position(|&c| r < c).unwrap_or(0);
    draw_name_in(rng, t, locale)
}

fn draw_name_in(rng: &mut Rand, t: &Tables, locale: usize) -> Name {
    let loc = &t.locales[locale];
    let female = rng.chance(0.5);
    let given = rng.below(loc.given(female).len()) as u8;
    let family = rng.below(loc.family.len()) as u8;
    let family2 = if loc.double_family > 0.0 && rng.chance(loc.double_family) {
        let mut f2 = rng.below(loc.family.len() - 1) as u8;
        if f2 >= family {
            f2 += 1;
        }
        f2
    } else {
        NONE
    };
    Name {
        locale: locale as u8,
        female,
        given,
        given2: NONE,
        family,
        family2,
    }
}

fn draw_directory(rng: &mut Rand, category: Category) -> u8 {
    match category {
        Category::External => INTERNAL,
        Category::SharedMailbox if rng.chance(0.5) => INTERNAL,
        _ => {
            let u = rng.unit();
            if u < 0.6 {
                LDAP
            } else if u < 0.9 {
                INTERNAL
            } else {
                2
            }
        }
    }
}

fn plan_people(options: &GenerateOptions, rng: &mut Rand, t: &Tables) -> Vec<Plan> {
    let n = options.accounts;
    let quotas = quotas(options, n);
    let shared_total = quotas
        .iter()
        .find(|(c, _)| *c == Category::SharedMailbox)
        .map_or(0, |q| q.1);
    let mut categories: Vec<Category> = Vec::with_capacity(n);
    for (category, count) in quotas {
        categories.extend(std::iter::repeat_n(category, count));
    }
    rng.shuffle(&mut categories);
    let destination_only = (fraction(options.destination_only) * n as f64).round() as usize;
    let mut plans: Vec<Plan> = Vec::with_capacity(n + destination_only + n / 64);
    let mut shared_seen = 0usize;
    let mut pending_namesake: Option<usize> = None;
    let mut solo_namesakes: Vec<usize> = Vec::new();
    for (index, &category) in categories.iter().enumerate() {
        let directory = draw_directory(rng, category);
        let name = draw_name(rng, t);
        let loc = &t.locales[name.locale as usize];
        let src_romanised = !rng.chance(loc.native_display);
        let src_comma = loc.order == Order::GivenFamily && directory == LDAP && rng.chance(0.15);
        let dst_romanised = if rng.chance(0.85) {
            src_romanised
        } else {
            !src_romanised
        };
        let mut p = Plan {
            name,
            src_romanised,
            src_comma,
            dst_romanised,
            dst_names: rng.chance(SCIM_MANAGED),
            category: Some(category),
            sub: 0,
            directory,
            has_dest: false,
            src_active: true,
            dst_active: true,
            link: 0,
        };
        match category {
            Category::Exact
            | Category::CaseNoise
            | Category::RenamedDomain
            | Category::UsernameOnly => {
                p.has_dest = true;
            }
            Category::AliasOnly | Category::IdMatch => {
                p.has_dest = true;
                p.sub = rng.below(2) as u8;
            }
            Category::NameOnly => {
                p.has_dest = true;
                p.dst_romanised = p.src_romanised;
            }
            Category::SharedMailbox => {
                p.link = (shared_seen / 2).min(shared_total / 2 - 1) as u32;
                shared_seen += 1;
            }
            Category::Namesake => {
                if let Some(first) = pending_namesake.take() {
                    let first = plans[first];
                    p.name = first.name;
                    p.src_romanised = first.src_romanised;
                    p.sub = NAMESAKE_PARTNER;
                    p.src_active = false;
                } else if rng.chance(0.5) {
                    p.sub = NAMESAKE_LINKED;
                    p.has_dest = true;
                    pending_namesake = Some(index);
                } else {
                    p.sub = NAMESAKE_SOLO;
                    p.src_active = false;
                    solo_namesakes.push(index);
                }
            }
            Category::Lookalike => {
                p.sub = rng.below(2) as u8;
                p.has_dest = p.sub == LOOKALIKE_WITH_REAL;
            }
            Category::MissingEmail | Category::InvalidEmail => {
                p.sub = if rng.chance(0.8) {
                    WITH_DEST
                } else {
                    WITHOUT_DEST
                };
                p.has_dest = p.sub == WITH_DEST;
            }
            Category::External | Category::NewPerson => {}
            Category::Departed => {
                p.src_active = false;
                p.sub = if rng.chance(0.6) {
                    WITH_DEST
                } else {
                    WITHOUT_DEST
                };
                p.has_dest = p.sub == WITH_DEST;
                p.dst_active = rng.chance(0.5);
            }
            Category::GroupSame
            | Category::GroupCase
            | Category::GroupReserved
            | Category::GroupNew => {
                unreachable!("group category for an account")
            }
        }
        plans.push(p);
    }
    if let Some(first) = pending_namesake {
        // No partner came: the first of the pair becomes a departed person with a
        // destination-only namesake instead.
        let p = &mut plans[first];
        p.sub = NAMESAKE_SOLO;
        p.has_dest = false;
        p.src_active = false;
        solo_namesakes.push(first);
    }
    let destination_person = |name: Name, romanised: bool, rng: &mut Rand| Plan {
        name,
        src_romanised: romanised,
        src_comma: false,
        dst_romanised: romanised,
        dst_names: rng.chance(SCIM_MANAGED),
        category: None,
        sub: 0,
        directory: 0,
        has_dest: true,
        src_active: false,
        dst_active: rng.chance(0.97),
        link: 0,
    };
    let namesakes = fraction(options.destination_only_namesakes);
    for _ in 0..destination_only {
        let plan = if n > 0 && rng.chance(namesakes) {
            let source = plans[rng.below(n)];
            destination_person(source.name, source.src_romanised, rng)
        } else {
            let name = draw_name(rng, t);
            let romanised = !rng.chance(t.locales[name.locale as usize].native_display);
            destination_person(name, romanised, rng)
        };
        plans.push(plan);
    }
    for index in solo_namesakes {
        let source = plans[index];
        let plan = destination_person(source.name, source.src_romanised, rng);
        plans.push(Plan {
            dst_active: true,
            ..plan
        });
    }
    plans
}

/// The engine's name keys for one spelling of a name, as packed sorted lists of interned
/// folded words: equal keys here mean equal `crosswalk_core::normalize::name_key`s (table
/// words are single words, folded once with the engine's own `fold`). The engine keys both
/// the display name and `given family`; they differ only for joined Chinese names
/// (`王小明` against `小明 王`), which therefore have two keys.
fn name_keys(t: &Tables, name: &Name, romanised: bool, given_family: bool) -> (u128, Option<u128>) {
    let loc = &t.locales[name.locale as usize];
    let givens = loc.given(name.female);
    let given = &givens[name.given as usize];
    let family = loc.family(name.family, name.female);
    let mut tokens = [0u32; 4];
    let mut k = 0;
    let mut push = |token: u32| {
        tokens[k] = token;
        k += 1;
    };
    push(given.token(romanised));
    if name.given2 != NONE {
        push(givens[name.given2 as usize].token(romanised));
    }
    push(family.token(romanised));
    if name.family2 != NONE {
        push(loc.family(name.family2, name.female).token(romanised));
    }
    let split = pack(tokens);
    if loc.order == Order::FamilyGivenJoined && !romanised {
        let joined = pack([
            (1 << 31) | (family.native_token << 15) | given.native_token,
            0,
            0,
            0,
        ]);
        (joined, given_family.then_some(split))
    } else {
        (split, None)
    }
}

fn pack(mut tokens: [u32; 4]) -> u128 {
    tokens.sort_unstable();
    tokens.iter().fold(0u128, |acc, &t| (acc << 32) | t as u128)
}

fn key_list(keys: (u128, Option<u128>)) -> impl Iterator<Item = u128> {
    std::iter::once(keys.0).chain(keys.1)
}

fn sorted_keys(plans: &[Plan], t: &Tables) -> (Vec<u128>, Vec<u128>) {
    let mut src = Vec::with_capacity(plans.len());
    let mut dst = Vec::with_capacity(plans.len());
    for p in plans {
        if p.category.is_some() {
            src.extend(key_list(name_keys(t, &p.name, p.src_romanised, true)));
        }
        if p.has_dest {
            dst.extend(key_list(name_keys(
                t,
                &p.name,
                p.dst_romanised,
                p.dst_names,
            )));
        }
        if p.category == Some(Category::Lookalike) {
            // The look-alike account copies the person's display name.
            dst.extend(key_list(name_keys(t, &p.name, p.dst_romanised, false)));
        }
    }
    src.sort_unstable();
    dst.sort_unstable();
    (src, dst)
}

fn count(sorted: &[u128], key: u128) -> usize {
    let start = sorted.partition_point(|k| *k < key);
    sorted[start..].partition_point(|k| *k == key)
}

/// Whether the engine's Name method links this person's source account to their own
/// destination account: both active, no other source account shares a name key, and the
/// destination accounts sharing one are exactly theirs. (Their destination address is
/// always in the organisation domain.)
fn name_links(t: &Tables, plan: &Plan, src: &[u128], dst: &[u128]) -> bool {
    if !(plan.has_dest && plan.src_active && plan.dst_active) {
        return false;
    }
    let theirs = name_keys(t, &plan.name, plan.dst_romanised, plan.dst_names);
    let mut shared = false;
    for key in key_list(name_keys(t, &plan.name, plan.src_romanised, true)) {
        let on_their_account = key_list(theirs).any(|k| k == key);
        if count(src, key) != 1 || count(dst, key) != on_their_account as usize {
            return false;
        }
        shared |= on_their_account;
    }
    shared
}

/// Gives every `name_only` person whose name is not unique on both sides a fresh
/// three-part name (given, second given, family) nobody else has.
fn unique_names(plans: &mut [Plan], n: usize, rng: &mut Rand, t: &Tables) {
    let (src, dst) = sorted_keys(plans, t);
    let western: Vec<usize> = (0..t.locales.len())
        .filter(|&l| t.locales[l].order == Order::GivenFamily)
        .collect();
    let mut fresh: FxHashSet<u128> = FxHashSet::default();
    for p in plans[..n]
        .iter_mut()
        .filter(|p| p.category == Some(Category::NameOnly))
    {
        if name_links(t, p, &src, &dst) {
            continue;
        }
        for _ in 0..1000 {
            let mut locale = p.name.locale as usize;
            if t.locales[locale].order != Order::GivenFamily {
                locale = *rng.pick(&western);
            }
            let mut name = draw_name_in(rng, t, locale);
            let givens = t.locales[locale].given(name.female).len();
            let mut second = rng.below(givens - 1) as u8;
            if second >= name.given {
                second += 1;
            }
            name.given2 = second;
            let (key, _) = name_keys(t, &name, p.src_romanised, true);
            if count(&src, key) == 0 && count(&dst, key) == 0 && fresh.insert(key) {
                p.name = name;
                p.dst_romanised = p.src_romanised;
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

enum UsernameRule {
    /// The login with the configured probability, else the address or nothing.
    Natural,
    Login,
    NotLogin,
}

struct DestDraft {
    email: String,
    aliases: Vec<String>,
    username: UsernameRule,
    /// Whether this account may be one of the few with an unverified address.
    may_be_unverified: bool,
    id: Option<String>,
}

impl DestDraft {
    fn new(email: String, username: UsernameRule) -> DestDraft {
        DestDraft {
            email,
            aliases: Vec::new(),
            username,
            may_be_unverified: false,
            id: None,
        }
    }
}

const FUNCTIONS: [(&str, &str); 20] = [
    ("support", "Support"),
    ("helpdesk", "Helpdesk"),
    ("it-support", "IT Support"),
    ("servicedesk", "Service Desk"),
    ("finance", "Finance Team"),
    ("payroll", "Payroll"),
    ("hr", "HR Team"),
    ("sales", "Sales"),
    ("marketing", "Marketing"),
    ("noc", "Network Operations Centre"),
    ("build", "Build Robot"),
    ("jira-admin", "Jira Admin"),
    ("qa", "QA Team"),
    ("security", "Security Team"),
    ("devops", "DevOps"),
    ("facilities", "Facilities"),
    ("legal", "Legal"),
    ("procurement", "Procurement"),
    ("reception", "Reception"),
    ("info", "Info"),
];

/// Latin letters and the Cyrillic letters that look the same.
const CONFUSABLES: [(char, char); 12] = [
    ('a', '\u{430}'),
    ('c', '\u{441}'),
    ('e', '\u{435}'),
    ('o', '\u{43e}'),
    ('p', '\u{440}'),
    ('x', '\u{445}'),
    ('y', '\u{443}'),
    ('i', '\u{456}'),
    ('j', '\u{458}'),
    ('s', '\u{455}'),
    ('h', '\u{4bb}'),
    ('l', '\u{4cf}'),
];

struct Builder<'a> {
    options: &'a GenerateOptions,
    t: &'static Tables,
    rng: Rand,
    /// Allocator: hash of (namespace, domain, base) -> how many took that base so far.
    taken: FxHashMap<u64, u32>,
    scratch: String,
    /// The data's own domain equivalence, for `linkable`.
    aliases: DomainAliases,
    source: Vec<Account>,
    destination: Vec<Account>,
    truth: Vec<TruthRow>,
    /// Per plan: index (in creation order) of the person's own destination account.
    dest_of: Vec<u32>,
    jira_seq: u64,
    dest_counter: u64,
    id_salt: u64,
    employee: u64,
    /// Per shared mailbox: its address.
    shared: Vec<String>,
}

fn exact(text: &str) -> String {
    String::from(text)
}

fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

impl Builder<'_> {
    // ----- names --------------------------------------------------------------------

    /// `(display name, given name, family name)`; the last two only when `parts` is set.
    /// Given and family name are written once into `scratch` and the display name is
    /// composed from them, so nothing temporary is allocated.
    fn names(
        &mut self,
        name: &Name,
        romanised: bool,
        comma: bool,
        parts: bool,
    ) -> (String, Option<String>, Option<String>) {
        let t: &'static Tables = self.t;
        let loc = &t.locales[name.locale as usize];
        let givens = loc.given(name.female);
        let s = &mut self.scratch;
        s.clear();
        s.push_str(givens[name.given as usize].text(romanised));
        if name.given2 != NONE {
            s.push(' ');
            s.push_str(givens[name.given2 as usize].text(romanised));
        }
        let given_end = s.len();
        s.push_str(loc.family(name.family, name.female).text(romanised));
        if name.family2 != NONE {
            s.push(' ');
            s.push_str(loc.family(name.family2, name.female).text(romanised));
        }
        let (given, family) = s.split_at(given_end);
        let display = match (loc.order, romanised) {
            (Order::GivenFamily, _) if comma => join(&[family, ", ", given]),
            (Order::FamilyGivenSpaced, false) => join(&[family, " ", given]),
            (Order::FamilyGivenJoined, false) => join(&[family, given]),
            _ => join(&[given, " ", family]),
        };
        if parts {
            (display, Some(exact(given)), Some(exact(family)))
        } else {
            (display, None, None)
        }
    }

    // ----- unique addresses and logins ------------------------------------------------

    /// Appends the allocator's disambiguator to the base in `scratch` (`john.smith`,
    /// `john.smith2`, ...): bases never end in a digit, so the results never collide.
    fn take(&mut self, namespace: u32, domain: &str) {
        let mut h = FxHasher::default();
        h.write_u32(namespace);
        h.write(domain.as_bytes());
        h.write_u8(0xff);
        h.write(self.scratch.as_bytes());
        let seen = self.taken.entry(h.finish()).or_insert(0);
        let n = *seen;
        *seen += 1;
        if n > 0 {
            push_decimal(&mut self.scratch, n as u64 + 1);
        }
    }

    /// `scratch@domain`.
    fn at(&self, domain: &str) -> String {
        join(&[&self.scratch, "@", domain])
    }

    fn parts(&self, name: &Name) -> (&'static str, &'static str, &'static str) {
        let t: &'static Tables = self.t;
        let loc = &t.locales[name.locale as usize];
        let given = loc.given(name.female)[name.given as usize].local.as_str();
        let family = loc.family(name.family, name.female).local.as_str();
        let family2 = if name.family2 != NONE {
            loc.family(name.family2, name.female).local.as_str()
        } else {
            ""
        };
        (given, family, family2)
    }

    /// A unique local part in the organisation's domains, in address style `pattern`, left
    /// in `scratch`.
    fn org_local(&mut self, name: &Name, pattern: u8) {
        let (g, f, f2) = self.parts(name);
        let s = &mut self.scratch;
        s.clear();
        let initial = |x: &'static str| &x[..1];
        match pattern {
            0 => s.extend([g, ".", f]),
            1 => s.extend([initial(g), f]),
            2 => s.extend([g, "_", f]),
            3 => s.extend([f, ".", g]),
            _ if !f2.is_empty() => s.extend([g, ".", f, "-", f2]),
            _ => s.extend([g, ".", f]),
        }
        self.take(NS_ORG, "");
    }

    fn draw_org_pattern(&mut self) -> u8 {
        let u = self.rng.unit();
        match u {
            _ if u < 0.65 => 0,
            _ if u < 0.80 => 1,
            _ if u < 0.85 => 2,
            _ if u < 0.90 => 3,
            _ => 4,
        }
    }

    /// The person's main address in `domain`.
    fn main_email(&mut self, name: &Name, domain: &str) -> String {
        let pattern = self.draw_org_pattern();
        self.org_local(name, pattern);
        self.at(domain)
    }

    /// The person's main address (organisation domain) and a second, different one in
    /// `alt_domain` (an older address, an alias).
    fn two_emails(&mut self, name: &Name, alt_domain: &str) -> (String, String) {
        let main = self.draw_org_pattern();
        self.org_local(name, main);
        let main_email = self.at(ORGANISATION_DOMAIN);
        self.org_local(name, if main == 1 { 0 } else { 1 });
        (main_email, self.at(alt_domain))
    }

    fn login(&mut self, name: &Name) -> String {
        let u = self.rng.unit();
        if u < 0.08 {
            let mut s = String::with_capacity(8);
            s.push('e');
            push_decimal(&mut s, self.employee);
            self.employee += 1 + self.rng.below(3) as u64;
            return s;
        }
        let (g, f, _) = self.parts(name);
        let s = &mut self.scratch;
        s.clear();
        match u {
            _ if u < 0.53 => s.extend([&g[..1], f]),
            _ if u < 0.78 => s.extend([g, ".", f]),
            _ if u < 0.90 => s.extend([f, &g[..1]]),
            _ => s.extend([g, &f[..1]]),
        }
        self.take(NS_LOGIN, "");
        exact(&self.scratch)
    }

    /// A personal address at one of the locale's mail providers.
    fn personal_email(&mut self, name: &Name) -> String {
        let loc = &self.t.locales[name.locale as usize];
        let domain = self.rng.pick_str(loc.personal_domains);
        let (g, f, _) = self.parts(name);
        let pattern = self.rng.below(5);
        let s = &mut self.scratch;
        s.clear();
        match pattern {
            0 => s.extend([g, ".", f]),
            1 => s.extend([g, f]),
            2 => s.extend([&g[..1], f]),
            3 => s.extend([g, "_", f]),
            _ => s.extend([f, g]),
        }
        self.take(NS_PERSONAL, domain);
        self.at(domain)
    }

    fn external_email(&mut self, name: &Name) -> String {
        let (g, f, _) = self.parts(name);
        let initial_only = self.rng.chance(0.4);
        let s = &mut self.scratch;
        s.clear();
        if initial_only {
            s.extend([&g[..1], f]);
        } else {
            s.extend([g, ".", f]);
        }
        self.take(NS_EXTERNAL, EXTERNAL_DOMAIN);
        self.at(EXTERNAL_DOMAIN)
    }

    // ----- ids ------------------------------------------------------------------------

    fn jira_key(&mut self) -> String {
        let mut s = String::with_capacity(16);
        s.push_str("JIRAUSER");
        push_decimal(&mut s, self.jira_seq);
        self.jira_seq += 1;
        if self.rng.chance(0.05) {
            self.jira_seq += 1 + self.rng.below(4) as u64;
        }
        s
    }

    /// An Atlassian account id: 24 hex digits (ObjectId-like) or `712020:` and a UUID. The
    /// last 12 hex digits are a bijection of a counter, so ids never repeat.
    fn account_id(&mut self) -> String {
        let tail = mix48(self.dest_counter ^ self.id_salt);
        self.dest_counter += 1;
        let r = self.rng.u64();
        if self.rng.chance(0.8) {
            let mut s = String::with_capacity(24);
            push_hex(&mut s, 0x5000_0000 + (r >> 32) % 0x1500_0000, 8);
            push_hex(&mut s, r, 4);
            push_hex(&mut s, tail, 12);
            s
        } else {
            let mut s = String::with_capacity(43);
            s.push_str("712020:");
            push_uuid(&mut s, r, self.rng.u64(), tail);
            s
        }
    }

    fn group_id(&mut self, counter: u64) -> String {
        let mut s = String::with_capacity(36);
        let r1 = self.rng.u64();
        let r2 = self.rng.u64();
        push_uuid(
            &mut s,
            r1,
            r2,
            mix48(counter ^ self.id_salt.rotate_left(17)),
        );
        s
    }

    // ----- accounts -------------------------------------------------------------------

    fn source_person(&mut self, index: usize, plan: &Plan) {
        let category = plan.category.expect("source person");
        let name = plan.name;
        let login = self.login(&name);
        let source_id = if self.rng.chance(fraction(self.options.legacy_user_keys)) {
            login.clone()
        } else {
            self.jira_key()
        };
        let mut source_username: Option<String> = None;
        let source_email: Option<String>;
        let mut source_aliases: Vec<String> = Vec::new();
        let mut dest: Option<DestDraft> = None;
        let mut email_link = false;
        let mut impostor_of: Option<String> = None;
        let org = ORGANISATION_DOMAIN;
        match category {
            Category::Exact => {
                let email = self.main_email(&name, org);
                source_email = Some(email.clone());
                dest = Some(DestDraft {
                    may_be_unverified: true,
                    ..DestDraft::new(email, UsernameRule::Natural)
                });
                email_link = true;
            }
            Category::CaseNoise => {
                let email = self.main_email(&name, org);
                let noisy = case_variant(&mut self.rng, &email);
                let (src, dst) = if self.rng.chance(0.5) {
                    (noisy, email)
                } else {
                    (email, noisy)
                };
                source_email = Some(src);
                dest = Some(DestDraft::new(dst, UsernameRule::Natural));
                source_username = Some(login_case_variant(&mut self.rng, &login));
                email_link = true;
            }
            Category::RenamedDomain => {
                let pattern = self.draw_org_pattern();
                self.org_local(&name, pattern);
                source_email = Some(self.at(OLD_DOMAIN));
                dest = Some(DestDraft::new(self.at(org), UsernameRule::Natural));
                email_link = true;
            }
            Category::AliasOnly => {
                let alt_domain = if self.rng.chance(0.5) {
                    OLD_DOMAIN
                } else {
                    org
                };
                let (main_email, alt_email) = self.two_emails(&name, alt_domain);
                let mut draft = DestDraft::new(main_email, UsernameRule::Natural);
                if plan.sub == 0 {
                    let prefix = if self.rng.chance(0.4) { "smtp:" } else { "" };
                    draft.aliases = vec![join(&[prefix, &alt_email])];
                } else {
                    source_aliases = vec![draft.email.clone()];
                }
                source_email = Some(alt_email);
                dest = Some(draft);
                email_link = true;
            }
            Category::IdMatch => {
                let (main_email, alt_email) = self.two_emails(&name, org);
                email_link = plan.sub == 0;
                source_email = Some(if email_link {
                    main_email.clone()
                } else {
                    alt_email
                });
                dest = Some(DestDraft {
                    id: Some(source_id.clone()),
                    ..DestDraft::new(main_email, UsernameRule::Natural)
                });
            }
            Category::UsernameOnly => {
                let alt_domain = if self.rng.chance(0.5) {
                    OLD_DOMAIN
                } else {
                    org
                };
                let (main_email, alt_email) = self.two_emails(&name, alt_domain);
                source_email = Some(alt_email);
                dest = Some(DestDraft::new(main_email, UsernameRule::Login));
            }
            Category::NameOnly => {
                source_email = Some(self.personal_email(&name));
                let email = self.main_email(&name, org);
                dest = Some(DestDraft::new(email, UsernameRule::NotLogin));
            }
            Category::SharedMailbox => {
                let link = plan.link as usize;
                let first = link >= self.shared.len();
                if first {
                    self.shared_mailbox();
                }
                let email = &self.shared[link];
                source_email = Some(if !first && self.rng.chance(0.3) {
                    case_variant(&mut self.rng, email)
                } else {
                    email.clone()
                });
            }
            Category::Namesake => {
                let old = plan.sub == NAMESAKE_SOLO && self.rng.chance(0.3);
                let email = self.main_email(&name, if old { OLD_DOMAIN } else { org });
                if plan.sub == NAMESAKE_LINKED {
                    dest = Some(DestDraft::new(email.clone(), UsernameRule::Natural));
                    email_link = true;
                }
                source_email = Some(email);
            }
            Category::Lookalike => {
                let email = self.main_email(&name, org);
                if plan.sub == LOOKALIKE_WITH_REAL {
                    dest = Some(DestDraft::new(email.clone(), UsernameRule::Natural));
                    email_link = true;
                }
                impostor_of = Some(email.clone());
                source_email = Some(email);
            }
            Category::MissingEmail | Category::InvalidEmail => {
                let pattern = self.draw_org_pattern();
                self.org_local(&name, pattern);
                source_email = if category == Category::MissingEmail {
                    if self.rng.chance(0.8) {
                        None
                    } else {
                        Some(String::new())
                    }
                } else {
                    Some(invalid_email(&mut self.rng, &self.scratch, org))
                };
                if plan.sub == WITH_DEST {
                    dest = Some(DestDraft {
                        may_be_unverified: true,
                        ..DestDraft::new(self.at(org), UsernameRule::Natural)
                    });
                }
            }
            Category::External => {
                source_email = Some(self.external_email(&name));
            }
            Category::NewPerson | Category::Departed => {
                let old = self.rng.chance(if category == Category::NewPerson {
                    0.2
                } else {
                    0.15
                });
                let pattern = self.draw_org_pattern();
                self.org_local(&name, pattern);
                source_email = Some(self.at(if old { OLD_DOMAIN } else { org }));
                if category == Category::Departed && plan.sub == WITH_DEST {
                    dest = Some(DestDraft {
                        may_be_unverified: true,
                        ..DestDraft::new(self.at(org), UsernameRule::Natural)
                    });
                    email_link = true;
                }
            }
            Category::GroupSame
            | Category::GroupCase
            | Category::GroupReserved
            | Category::GroupNew => {
                unreachable!("group category for an account")
            }
        }

        let mut destination_id = None;
        let mut planted_link = false;
        if let Some(draft) = dest {
            let id_link = draft.id.is_some();
            let (at, username_link, _verified) = self.push_destination(draft, &name, plan, &login);
            self.dest_of[index] = at;
            destination_id = Some(self.destination[at as usize].id.to_string());
            planted_link = email_link || id_link || username_link;
        }
        if let Some(real) = impostor_of {
            self.impostor(&real, &name, plan);
        }
        let (display, given, family) = self.names(&name, plan.src_romanised, plan.src_comma, true);
        self.source.push(Account {
            id: source_id.clone().into(),
            username: Some(source_username.unwrap_or(login).into()),
            email: source_email.map(Into::into),
            alias_emails: source_aliases.into_iter().map(Into::into).collect(),
            display_name: Some(display.into()),
            given_name: given.map(Into::into),
            family_name: family.map(Into::into),
            active: plan.src_active,
            source_directory: Some(exact(DIRECTORIES[plan.directory as usize]).into()),
            email_verified: None,
        });
        // Linkable: anything in the data links the two (see `truth`), whatever the engine's
        // rules make of it.
        let linkable = destination_id.is_some() && {
            let at = self.dest_of[index] as usize;
            let (ours, theirs) = (&self.source[self.source.len() - 1], &self.destination[at]);
            crate::accounts_share_evidence(ours, theirs, &self.aliases)
        };
        debug_assert!(
            linkable || !planted_link,
            "a planted link is evidence in the data"
        );
        self.truth.push(TruthRow {
            kind: IdentityKind::Account,
            source_id,
            destination_id,
            category: exact(category.as_str()),
            linkable,
        });
    }

    /// Creates the person's destination account. Returns its index, whether its username is
    /// the person's login, and whether its address is verified.
    fn push_destination(
        &mut self,
        draft: DestDraft,
        name: &Name,
        plan: &Plan,
        login: &str,
    ) -> (u32, bool, bool) {
        let same_username = fraction(self.options.same_username);
        let username = match draft.username {
            UsernameRule::Login => Some(exact(login)),
            UsernameRule::Natural if self.rng.chance(same_username) => Some(exact(login)),
            UsernameRule::Natural | UsernameRule::NotLogin => {
                if self.rng.chance(0.6) {
                    Some(draft.email.clone())
                } else {
                    None
                }
            }
        };
        let username_link = username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(login));
        let verified =
            !(draft.may_be_unverified && self.rng.chance(fraction(self.options.unverified_email)));
        let mut aliases = draft.aliases;
        if aliases.is_empty() && self.rng.chance(0.05) {
            // An old-domain proxy address for the same mailbox: harmless, it folds to the
            // primary address under the domain alias. Only for organisation addresses: the
            // local part of a personal address is not reserved in the organisation's domains.
            if let Some(local) = draft
                .email
                .strip_suffix(ORGANISATION_DOMAIN)
                .and_then(|l| l.strip_suffix('@'))
            {
                aliases = vec![join(&["smtp:", local, "@", OLD_DOMAIN])];
            }
        }
        let id = match draft.id {
            Some(id) => id,
            None => self.account_id(),
        };
        let (display, given, family) = self.names(name, plan.dst_romanised, false, plan.dst_names);
        let index = self.destination.len() as u32;
        self.destination.push(Account {
            id: id.into(),
            username: username.map(Into::into),
            email: Some(draft.email.into()),
            alias_emails: aliases.into_iter().map(Into::into).collect(),
            display_name: Some(display.into()),
            given_name: given.map(Into::into),
            family_name: family.map(Into::into),
            active: plan.dst_active,
            source_directory: None,
            email_verified: Some(verified),
        });
        (index, username_link, verified)
    }

    fn destination_person(&mut self, index: usize, plan: &Plan) {
        let name = plan.name;
        let login = self.login(&name);
        let email = if self.rng.chance(0.9) {
            self.main_email(&name, ORGANISATION_DOMAIN)
        } else {
            self.personal_email(&name)
        };
        let draft = DestDraft {
            may_be_unverified: true,
            ..DestDraft::new(email, UsernameRule::Natural)
        };
        let (at, _, _) = self.push_destination(draft, &name, plan, &login);
        self.dest_of[index] = at;
    }

    /// A new shared mailbox address and its destination account.
    fn shared_mailbox(&mut self) {
        let (base, display) = *self.rng.pick(&FUNCTIONS);
        self.scratch.clear();
        self.scratch.push_str(base);
        self.take(NS_ORG, "");
        let email = self.at(ORGANISATION_DOMAIN);
        let id = self.account_id();
        self.destination.push(Account {
            id: id.into(),
            username: None,
            email: Some(email.clone().into()),
            alias_emails: Vec::new(),
            display_name: Some(exact(display).into()),
            given_name: None,
            family_name: None,
            active: true,
            source_directory: None,
            email_verified: Some(true),
        });
        self.shared.push(email);
    }

    /// A destination account whose address differs from `real` by one confusable letter,
    /// with the person's display name (and no given or family name).
    fn impostor(&mut self, real: &str, name: &Name, plan: &Plan) {
        let email = confusable(&mut self.rng, real);
        let id = self.account_id();
        let username = if self.rng.chance(0.5) {
            Some(email.clone())
        } else {
            None
        };
        let verified = self.rng.chance(0.5);
        let (display, _, _) = self.names(name, plan.dst_romanised, false, false);
        self.destination.push(Account {
            id: id.into(),
            username: username.map(Into::into),
            email: Some(email.into()),
            alias_emails: Vec::new(),
            display_name: Some(display.into()),
            given_name: None,
            family_name: None,
            active: true,
            source_directory: None,
            email_verified: Some(verified),
        });
    }

    // ----- groups ---------------------------------------------------------------------

    /// Source groups (`n` source people; plan `i` is source account `i`) and destination
    /// groups, with their truth rows.
    fn groups(&mut self, n: usize, count: usize) -> (Vec<Group>, Vec<Group>) {
        let mut taken: FxHashSet<String> = FxHashSet::default();
        let mut names: Vec<String> = Vec::with_capacity(count);
        for (name, _) in BUILTINS.iter().take(count) {
            taken.insert(name.to_string());
            names.push(exact(name));
        }
        while names.len() < count {
            let name = self.custom_group_name(&mut taken);
            names.push(name);
        }
        let custom_start = BUILTIN_GROUPS.min(count);
        let customs = count - custom_start;

        // Source memberships, as plan indices.
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); count];
        let active: Vec<u32> = (0..n as u32)
            .filter(|&i| self.source[i as usize].active)
            .collect();
        for i in 0..n {
            if self.source[i].active {
                // Product access: large instances have many unlicensed accounts.
                for (g, share) in [(0, 0.6), (1, 0.3), (2, 0.05)] {
                    if g < count && self.rng.chance(share) {
                        members[g].push(i as u32);
                    }
                }
            }
            if customs > 0 && self.rng.chance(0.6) {
                let a = custom_start + self.skewed(customs);
                members[a].push(i as u32);
                if self.rng.chance(0.1) {
                    let b = custom_start + self.skewed(customs);
                    if b != a {
                        members[b].push(i as u32);
                    }
                }
            }
        }
        for (g, k) in [
            (3, 3 + n / 2000),
            (4, 2 + n / 4000),
            (5, 2 + n / 50_000),
            (6, 1 + n / 100_000),
        ] {
            if g < count && !active.is_empty() {
                let mut chosen: Vec<u32> = (0..k).map(|_| *self.rng.pick(&active)).collect();
                chosen.sort_unstable();
                chosen.dedup();
                members[g] = chosen;
            }
        }
        // all-engineering nests a few team groups.
        let nested: Vec<usize> = if count > 7 {
            (custom_start..count)
                .filter(|&g| names[g].starts_with("team-"))
                .take(6)
                .collect()
        } else {
            Vec::new()
        };

        // Fates and destination ids.
        let fates: Vec<Fate> = (0..count)
            .map(|g| match BUILTINS.get(g) {
                Some((_, fate)) => *fate,
                None => {
                    let u = self.rng.unit();
                    if u < 0.65 {
                        Fate::Same
                    } else if u < 0.75 {
                        Fate::Case
                    } else {
                        Fate::New
                    }
                }
            })
            .collect();
        let mut group_counter = 0u64;
        let dest_ids: Vec<Option<String>> = fates
            .iter()
            .map(|fate| {
                (*fate != Fate::New).then(|| {
                    group_counter += 1;
                    self.group_id(group_counter)
                })
            })
            .collect();

        let source_groups: Vec<Group> = (0..count)
            .map(|g| {
                let mut ids: Vec<CompactString> =
                    Vec::with_capacity(members[g].len() + if g == 7 { nested.len() } else { 0 });
                ids.extend(
                    members[g]
                        .iter()
                        .map(|&p| self.source[p as usize].id.clone()),
                );
                if g == 7 {
                    ids.extend(nested.iter().map(|&s| source_group_id(s).into()));
                }
                Group {
                    id: source_group_id(g).into(),
                    name: names[g].clone().into(),
                    display_name: None,
                    members: ids,
                }
            })
            .collect();

        // Destination groups: counterparts of source groups, then destination-only ones.
        let mut dest_members: Vec<Vec<u32>> = Vec::with_capacity(count + count / 10 + 4);
        let mut dest_names: Vec<String> = Vec::with_capacity(count + count / 10 + 4);
        let mut dest_group_ids: Vec<String> = Vec::with_capacity(count + count / 10 + 4);
        let mut dest_index_of: Vec<Option<usize>> = vec![None; count];
        let mut custom_dest: Vec<usize> = Vec::new();
        for g in 0..count {
            let fate = fates[g];
            let (destination_id, category, linkable) = match fate {
                Fate::New => (None, Category::GroupNew, false),
                Fate::Reserved => (None, Category::GroupReserved, false),
                Fate::Same => (dest_ids[g].clone(), Category::GroupSame, true),
                Fate::Case => (dest_ids[g].clone(), Category::GroupCase, true),
            };
            self.truth.push(TruthRow {
                kind: IdentityKind::Group,
                source_id: source_group_id(g),
                destination_id,
                category: exact(category.as_str()),
                linkable,
            });
            if fate == Fate::New {
                continue;
            }
            let name = if fate == Fate::Case {
                group_case_variant(&mut self.rng, &names[g])
            } else {
                names[g].clone()
            };
            let mapped: Vec<u32> = members[g]
                .iter()
                .filter_map(|&p| {
                    let d = self.dest_of[p as usize];
                    (d != NO_DEST && self.rng.chance(0.92)).then_some(d)
                })
                .collect();
            dest_index_of[g] = Some(dest_names.len());
            if g >= custom_start {
                custom_dest.push(dest_names.len());
            }
            dest_members.push(mapped);
            dest_names.push(name);
            dest_group_ids.push(dest_ids[g].clone().expect("destination group id"));
        }
        let mut push_extra = |this: &mut Self, name: String, members: Vec<u32>| -> usize {
            group_counter += 1;
            dest_group_ids.push(this.group_id(group_counter));
            dest_names.push(name);
            dest_members.push(members);
            dest_names.len() - 1
        };
        let destination_count = self.destination.len();
        let org_admins: Vec<u32> = if destination_count > 0 {
            let mut chosen: Vec<u32> = (0..2 + n / 100_000)
                .map(|_| self.rng.below(destination_count) as u32)
                .collect();
            chosen.sort_unstable();
            chosen.dedup();
            chosen
        } else {
            Vec::new()
        };
        push_extra(self, exact("org-admins"), org_admins);
        push_extra(self, exact("atlassian-addons-admin"), Vec::new());
        for (g, name) in [(3, "jira-admins-acme"), (4, "confluence-admins-acme")] {
            let mapped: Vec<u32> = members
                .get(g)
                .map(|m| {
                    m.iter()
                        .map(|&p| self.dest_of[p as usize])
                        .filter(|&d| d != NO_DEST)
                        .collect()
                })
                .unwrap_or_default();
            push_extra(self, exact(name), mapped);
        }
        for _ in 0..count / 10 {
            let name = self.custom_group_name(&mut taken);
            let at = push_extra(self, name, Vec::new());
            custom_dest.push(at);
        }
        // Destination-only people join the product group and a team.
        let product = dest_index_of.first().copied().flatten();
        for plan_index in n..self.dest_of.len() {
            let d = self.dest_of[plan_index];
            if d == NO_DEST {
                continue;
            }
            if let Some(product) = product
                && self.rng.chance(0.9)
            {
                dest_members[product].push(d);
            }
            if !custom_dest.is_empty() && self.rng.chance(0.7) {
                let g = custom_dest[self.rng.below(custom_dest.len())];
                dest_members[g].push(d);
            }
        }
        let nested_dest: Vec<usize> = nested.iter().filter_map(|&s| dest_index_of[s]).collect();
        let all_engineering = dest_index_of.get(7).copied().flatten();
        let destination_groups: Vec<Group> = (0..dest_names.len())
            .map(|g| {
                let extra = if Some(g) == all_engineering {
                    nested_dest.len()
                } else {
                    0
                };
                let mut ids: Vec<CompactString> = Vec::with_capacity(dest_members[g].len() + extra);
                ids.extend(
                    dest_members[g]
                        .iter()
                        .map(|&d| self.destination[d as usize].id.clone()),
                );
                if Some(g) == all_engineering {
                    ids.extend(
                        nested_dest
                            .iter()
                            .map(|&h| CompactString::from(dest_group_ids[h].as_str())),
                    );
                }
                Group {
                    id: dest_group_ids[g].clone().into(),
                    name: std::mem::take(&mut dest_names[g]).into(),
                    display_name: None,
                    members: ids,
                }
            })
            .collect();
        (source_groups, destination_groups)
    }

    /// Group sizes fall off steeply: a few large teams, many small ones.
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.rng.unit();
        ((n as f64 * u * u) as usize).min(n - 1)
    }

    fn custom_group_name(&mut self, taken: &mut FxHashSet<String>) -> String {
        let u = self.rng.unit();
        let mut name = String::with_capacity(40);
        match u {
            _ if u < 0.40 => {
                name.push_str("team-");
                name.push_str(self.rng.pick_str(&TEAM_WORDS));
            }
            _ if u < 0.65 => {
                name.push_str("proj-");
                name.push_str(self.rng.pick_str(&CODENAMES));
                name.push('-');
                name.push_str(self.rng.pick_str(&ROLES));
            }
            _ if u < 0.80 => {
                name.push_str("dept-");
                name.push_str(self.rng.pick_str(&DEPARTMENTS));
                name.push('-');
                name.push_str(self.rng.pick_str(&REGIONS));
            }
            _ if u < 0.90 => {
                name.push_str(self.rng.pick_str(&LOCATIONS));
                name.push_str("-staff");
            }
            _ => {
                name.push_str("space-");
                name.push_str(self.rng.pick_str(&CODENAMES));
                name.push_str("-editors");
            }
        }
        if taken.contains(&name) {
            let stem_len = name.len();
            let mut k = 2u64;
            loop {
                name.truncate(stem_len);
                name.push('-');
                push_decimal(&mut name, k);
                if !taken.contains(&name) {
                    break;
                }
                k += 1;
            }
        }
        taken.insert(name.clone());
        name.shrink_to_fit();
        name
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Same,
    Case,
    Reserved,
    New,
}

const BUILTINS: [(&str, Fate); BUILTIN_GROUPS] = [
    ("jira-software-users", Fate::Same),
    ("confluence-users", Fate::Same),
    ("jira-servicedesk-users", Fate::Case),
    ("jira-administrators", Fate::New),
    ("confluence-administrators", Fate::New),
    ("site-admins", Fate::Reserved),
    ("system-administrators", Fate::Reserved),
    ("all-engineering", Fate::Same),
];

const TEAM_WORDS: [&str; 40] = [
    "platform",
    "payments",
    "search",
    "mobile",
    "web",
    "data",
    "infra",
    "security",
    "billing",
    "identity",
    "growth",
    "checkout",
    "onboarding",
    "analytics",
    "reporting",
    "integrations",
    "api",
    "frontend",
    "backend",
    "sre",
    "qa",
    "release",
    "tooling",
    "docs",
    "support",
    "sales-ops",
    "marketing-ops",
    "finance-systems",
    "hr-systems",
    "design",
    "research",
    "ml",
    "edge",
    "storage",
    "network",
    "compliance",
    "localisation",
    "accessibility",
    "performance",
    "observability",
];
const CODENAMES: [&str; 40] = [
    "apollo", "gemini", "mercury", "atlas", "orion", "phoenix", "hermes", "zeus", "athena",
    "neptune", "pegasus", "titan", "nova", "aurora", "comet", "falcon", "horizon", "kestrel",
    "lynx", "maverick", "nimbus", "odyssey", "polaris", "quasar", "raptor", "sirius", "tempest",
    "unity", "vega", "zenith", "borealis", "cobalt", "dynamo", "ember", "fjord", "glacier",
    "harbor", "iris", "jade", "kraken",
];
const ROLES: [&str; 6] = [
    "developers",
    "users",
    "admins",
    "testers",
    "viewers",
    "leads",
];
const DEPARTMENTS: [&str; 16] = [
    "finance",
    "hr",
    "legal",
    "sales",
    "marketing",
    "engineering",
    "operations",
    "support",
    "procurement",
    "facilities",
    "it",
    "product",
    "design",
    "research",
    "security",
    "compliance",
];
const REGIONS: [&str; 12] = [
    "emea", "amer", "apac", "dach", "nordics", "uk", "fr", "in", "jp", "cn", "latam", "anz",
];
const LOCATIONS: [&str; 30] = [
    "berlin",
    "london",
    "paris",
    "madrid",
    "lisbon",
    "warsaw",
    "istanbul",
    "oslo",
    "stockholm",
    "athens",
    "moscow",
    "kyiv",
    "shanghai",
    "beijing",
    "tokyo",
    "osaka",
    "dubai",
    "cairo",
    "bangalore",
    "mumbai",
    "pune",
    "new-york",
    "austin",
    "toronto",
    "sydney",
    "singapore",
    "zurich",
    "munich",
    "krakow",
    "gothenburg",
];

/// Source group ids: Jira Server's numeric directory ids.
fn source_group_id(index: usize) -> String {
    let mut s = String::with_capacity(8);
    push_decimal(&mut s, 10_000 + index as u64);
    s
}

fn push_uuid(s: &mut String, r1: u64, r2: u64, tail: u64) {
    push_hex(s, r1 >> 32, 8);
    s.push('-');
    push_hex(s, r1 >> 16, 4);
    s.push('-');
    s.push('4');
    push_hex(s, r1, 3);
    s.push('-');
    s.push(['8', '9', 'a', 'b'][(r2 & 3) as usize]);
    push_hex(s, r2 >> 2, 3);
    s.push('-');
    push_hex(s, tail, 12);
}

/// The same address with different letter case: `John.Smith@Acme.com`, `JOHN.SMITH@ACME.COM`,
/// `john.smith@ACME.COM` or `John.smith@acme.com`.
fn case_variant(rng: &mut Rand, email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    match rng.below(4) {
        0 => {
            let mut upper_next = true;
            for c in email.chars() {
                out.push(if upper_next {
                    c.to_ascii_uppercase()
                } else {
                    c
                });
                upper_next = matches!(c, '.' | '-' | '_' | '@') && !out.contains('@') || c == '@';
            }
        }
        1 => out.push_str(&email.to_ascii_uppercase()),
        2 => match email.split_once('@') {
            Some((local, domain)) => {
                out.push_str(local);
                out.push('@');
                out.push_str(&domain.to_ascii_uppercase());
            }
            None => out.push_str(&email.to_ascii_uppercase()),
        },
        _ => {
            let mut chars = email.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
            }
            out.push_str(chars.as_str());
        }
    }
    if out == email {
        out = email.to_ascii_uppercase();
    }
    out
}

/// `JSmith`-style login noise: `Jsmith`, `JSMITH` or `John.Smith`.
fn login_case_variant(rng: &mut Rand, login: &str) -> String {
    let mut out = String::with_capacity(login.len());
    match rng.below(3) {
        0 => {
            let mut chars = login.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
            }
            out.push_str(chars.as_str());
        }
        1 => out.push_str(&login.to_ascii_uppercase()),
        _ => {
            let mut upper_next = true;
            for c in login.chars() {
                out.push(if upper_next {
                    c.to_ascii_uppercase()
                } else {
                    c
                });
                upper_next = matches!(c, '.' | '-' | '_');
            }
        }
    }
    if out == login {
        out = login.to_ascii_uppercase();
    }
    out
}

fn group_case_variant(rng: &mut Rand, name: &str) -> String {
    if rng.chance(0.3) {
        return name.to_ascii_uppercase();
    }
    let mut out = String::with_capacity(name.len());
    let mut upper_next = true;
    for c in name.chars() {
        out.push(if upper_next {
            c.to_ascii_uppercase()
        } else {
            c
        });
        upper_next = c == '-';
    }
    if out == name {
        out = name.to_ascii_uppercase();
    }
    out
}

/// An address the engine cannot use: no `@`, nothing after it, a space, no TLD, two `@`,
/// an empty domain label.
fn invalid_email(rng: &mut Rand, local: &str, domain: &str) -> String {
    match rng.below(6) {
        0 => exact(local),
        1 => join(&[local, "@"]),
        2 => {
            let spaced = if local.contains('.') {
                local.replacen('.', " ", 1)
            } else {
                join(&[&local[..1], " ", &local[1..]])
            };
            join(&[&spaced, "@", domain])
        }
        3 => join(&[local, "@", domain.split('.').next().unwrap_or(domain)]),
        4 => join(&[local, "@@", domain]),
        _ => join(&[local, "@", &domain.replacen('.', "..", 1)]),
    }
}

/// `real` with one letter replaced by its Cyrillic look-alike, in the local part (70%) or
/// the domain.
fn confusable(rng: &mut Rand, real: &str) -> String {
    let at = real.find('@').unwrap_or(real.len());
    let mappable = |range: std::ops::Range<usize>| -> Vec<usize> {
        real[range.clone()]
            .char_indices()
            .filter(|(_, c)| CONFUSABLES.iter().any(|(l, _)| l == c))
            .map(|(i, _)| range.start + i)
            .collect()
    };
    let local = mappable(0..at);
    let domain = if at < real.len() {
        mappable(at + 1..real.len())
    } else {
        Vec::new()
    };
    let candidates = if (rng.chance(0.3) && !domain.is_empty()) || local.is_empty() {
        domain
    } else {
        local
    };
    if candidates.is_empty() {
        // Nothing to swap (never happens with the name tables): an invisible character.
        return join(&[&real[..at], "\u{200b}", &real[at..]]);
    }
    let i = candidates[rng.below(candidates.len())];
    let latin = real[i..].chars().next().expect("char");
    let cyrillic = CONFUSABLES
        .iter()
        .find(|(l, _)| *l == latin)
        .map(|(_, c)| *c)
        .expect("mappable");
    let mut out = String::with_capacity(real.len() + 1);
    out.push_str(&real[..i]);
    out.push(cyrillic);
    out.push_str(&real[i + latin.len_utf8()..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crosswalk_core::normalize::{DomainAliases, email_key, fold, skeleton};

    #[test]
    fn confusables_look_the_same_to_the_engine() {
        let mut rng = Rand::new(1);
        let none = DomainAliases::default();
        for real in [
            "john.smith@acme.com",
            "lukasz.wojcik@acme.com",
            "x@acme.com",
            "hui.li@acme.com",
        ] {
            for _ in 0..50 {
                let fake = confusable(&mut rng, real);
                assert_ne!(fake, real);
                let a = email_key(real, &none).unwrap();
                let b = email_key(&fake, &none).unwrap();
                assert_ne!(a.key, b.key);
                assert_eq!(
                    skeleton(&a.lookalike_form),
                    skeleton(&b.lookalike_form),
                    "{fake}"
                );
            }
        }
    }

    #[test]
    fn invalid_emails_are_invalid() {
        let mut rng = Rand::new(2);
        let none = DomainAliases::default();
        for local in ["john.smith", "jsmith", "jean-pierre.martin"] {
            for _ in 0..40 {
                let bad = invalid_email(&mut rng, local, "acme.com");
                assert!(email_key(&bad, &none).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn case_variants_fold_to_the_original() {
        let mut rng = Rand::new(3);
        for _ in 0..100 {
            let v = case_variant(&mut rng, "john.smith@acme.com");
            assert_ne!(v, "john.smith@acme.com");
            assert_eq!(v.to_ascii_lowercase(), "john.smith@acme.com");
            let l = login_case_variant(&mut rng, "jsmith");
            assert_ne!(l, "jsmith");
            assert_eq!(fold(&l), "jsmith");
        }
    }

    #[test]
    fn name_keys_agree_with_the_engine() {
        let t = tables();
        let mut rng = Rand::new(4);
        let mut by_ours: FxHashMap<u128, String> = FxHashMap::default();
        let mut by_engine: FxHashMap<String, u128> = FxHashMap::default();
        let scratch_builder = |name: &Name, romanised: bool, comma: bool| -> String {
            let loc = &t.locales[name.locale as usize];
            let mut g = loc.given(name.female)[name.given as usize]
                .text(romanised)
                .to_string();
            if name.given2 != NONE {
                g = format!(
                    "{g} {}",
                    loc.given(name.female)[name.given2 as usize].text(romanised)
                );
            }
            let mut f = loc
                .family(name.family, name.female)
                .text(romanised)
                .to_string();
            if name.family2 != NONE {
                f = format!(
                    "{f} {}",
                    loc.family(name.family2, name.female).text(romanised)
                );
            }
            match (loc.order, romanised) {
                (Order::GivenFamily, _) if comma => format!("{f}, {g}"),
                (Order::FamilyGivenSpaced, false) => format!("{f} {g}"),
                (Order::FamilyGivenJoined, false) => format!("{f}{g}"),
                _ => format!("{g} {f}"),
            }
        };
        let mut check = |engine: String, ours: u128, text: &str| {
            if let Some(previous) = by_ours.insert(ours, engine.clone()) {
                assert_eq!(previous, engine, "{text}");
            }
            if let Some(previous) = by_engine.insert(engine.clone(), ours) {
                assert_eq!(previous, ours, "{text} / {engine}");
            }
        };
        for _ in 0..20_000 {
            let mut name = draw_name(&mut rng, t);
            if rng.chance(0.1) && t.locales[name.locale as usize].order == Order::GivenFamily {
                name.given2 = (name.given + 1) % 20;
            }
            let romanised = rng.chance(0.5);
            let comma = rng.chance(0.2);
            let display = scratch_builder(&name, romanised, comma);
            let (ours, given_family) = name_keys(t, &name, romanised, true);
            check(
                crosswalk_core::normalize::name_key(&display).unwrap(),
                ours,
                &display,
            );
            let loc = &t.locales[name.locale as usize];
            let mut g = loc.given(name.female)[name.given as usize]
                .text(romanised)
                .to_string();
            if name.given2 != NONE {
                g = format!(
                    "{g} {}",
                    loc.given(name.female)[name.given2 as usize].text(romanised)
                );
            }
            let f = loc.family(name.family, name.female).text(romanised);
            let f2 = if name.family2 != NONE {
                loc.family(name.family2, name.female).text(romanised)
            } else {
                ""
            };
            let gf = format!("{g} {f} {f2}");
            check(
                crosswalk_core::normalize::name_key(&gf).unwrap(),
                given_family.unwrap_or(ours),
                &gf,
            );
        }
    }
}
