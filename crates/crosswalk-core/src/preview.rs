//! What the policy's transforms would do to two directories, said before a run: what each
//! transform changes, which accounts it would make share a key, and which source accounts
//! would gain or lose a match. It derives keys as the engine does and runs the engine
//! without and with the transforms, so it sits above both `transform` and `engine`.

use std::fmt;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::directory::{Account, Directory};
use crate::engine::keys::{self, AccountIndex, AccountKeys, KeyRules, Tables};
use crate::exceptions::ExceptionRule;
use crate::mapping::Resolution;
use crate::normalize::DomainAliases;
use crate::policy::{Policy, Transform, TransformField, TransformSide};
use crate::transform::{self, Side, Step, TransformSet};

/// How many on each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SideCounts {
    pub source: usize,
    pub destination: usize,
}

impl SideCounts {
    fn add(&mut self, side: Side, n: usize) {
        match side {
            Side::Source => self.source += n,
            Side::Destination => self.destination += n,
        }
    }
}

/// One value one transform changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeExample {
    pub side: Side,
    /// Account id.
    pub account: String,
    /// `email`, `alias_emails[0]` or `username`.
    pub field: String,
    /// The value as this transform got it (after the transforms before it).
    pub before: String,
    pub after: String,
}

/// A key the transforms make several accounts of one side share, when no key of theirs
/// was shared before: after the transforms, an address or username that finds one of them
/// finds them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collision {
    pub side: Side,
    /// `email` or `username`.
    pub key_kind: String,
    /// The shared key, after the transforms.
    pub key: String,
    /// The accounts (up to 5, by id) and the values they have it from, as given.
    pub accounts: Vec<CollisionMember>,
    /// How many accounts share the key.
    pub total_accounts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollisionMember {
    pub account: String,
    pub field: String,
    pub value: String,
}

/// What one transform of the policy does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulePreview {
    /// From 1, in policy order: the number the evidence notes use (`transform 1 (...)`).
    pub number: usize,
    pub description: String,
    pub side: TransformSide,
    /// Why the transform is left out (it does not compile); `None` when it is used.
    pub problem: Option<String>,
    /// Values (addresses, usernames) it changed.
    pub changed: SideCounts,
    /// Up to 5 of them, source first, in directory order.
    pub examples: Vec<ChangeExample>,
    /// Keys it helped make shared by accounts that shared none before (see [`Collision`]).
    pub collisions: SideCounts,
    /// Up to 5 of them, by key.
    pub collision_examples: Vec<Collision>,
    /// Source accounts that gain a match through a value this transform changed (on
    /// either side). A gain can also come from a transform that only removed a competitor,
    /// so these need not add up to `matches.gained`.
    pub gained_matches: usize,
}

/// Where a source account goes in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub resolution: Resolution,
    /// Destination account id, when it links an existing one.
    pub destination: Option<String>,
}

/// A source account whose email/username match differs with the transforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchChange {
    /// Source account id.
    pub account: String,
    pub before: Outcome,
    pub after: Outcome,
    /// Numbers (from 1) of the transforms that changed a value the new link matched on.
    pub transforms: Vec<usize>,
}

/// Source accounts whose Email/Username links change, comparing `resolve` without the
/// transforms and with them (same directories, same exception rules, same policy otherwise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchChanges {
    /// Linked by Email or Username with the transforms, and not by either without them.
    pub gained: Vec<MatchChange>,
    /// Linked by Email or Username without the transforms, and not by either with them
    /// (typically: a collision made the key ambiguous).
    pub lost: Vec<MatchChange>,
    /// Linked by Email or Username both ways, to different destination accounts.
    pub changed: Vec<MatchChange>,
}

/// What the policy's transforms would do to these directories: per transform, what it
/// changes and what it makes collide, and overall which matches appear or disappear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransformPreview {
    pub rules: Vec<RulePreview>,
    pub matches: MatchChanges,
    /// How many exception rules both runs were given: an account an exception pins is
    /// resolved by it with or without the transforms, so it never shows in `matches`.
    pub exception_rules: usize,
}

impl TransformPreview {
    /// Ids of the source accounts that gain an Email/Username match.
    pub fn gained_accounts(&self) -> impl Iterator<Item = &str> {
        self.matches.gained.iter().map(|c| c.account.as_str())
    }
}

const EXAMPLES: usize = 5;

/// A value of an account that transforms rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueField {
    Email(keys::EmailField),
    Username,
}

impl ValueField {
    fn name(self) -> String {
        match self {
            ValueField::Email(field) => keys::email_field_name(field),
            ValueField::Username => "username".to_string(),
        }
    }

    /// Reads an evidence field name back: `email`, `alias_emails[n]`, `username`.
    fn parse(name: &str) -> Option<ValueField> {
        match name {
            "email" => Some(ValueField::Email(0)),
            "username" => Some(ValueField::Username),
            _ => {
                let n: u16 = name
                    .strip_prefix("alias_emails[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some(ValueField::Email(n.checked_add(1)?))
            }
        }
    }
}

/// Value identity for the preview: account index and field.
type ValueRef = (u32, ValueField);

/// The values of one account that transforms changed, with each transform's step.
type TracedValues = Vec<(ValueField, Vec<Step>)>;

/// Per side: which transforms changed each value.
struct SideView<'a> {
    side: Side,
    directory: &'a Directory,
    applied: FxHashMap<ValueRef, Vec<usize>>,
}

/// Previews the policy's transforms on these directories. Pure; it runs the engine twice
/// (without and with the transforms, each with the run's exception rules) so what it
/// reports about matches is what a run does, and derives keys exactly as the engine does.
pub fn preview(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
    exceptions: &[ExceptionRule],
) -> TransformPreview {
    let (set, _) = TransformSet::compile_lenient(policy);
    let none = TransformSet::default();
    let aliases = DomainAliases::from_policy(&policy.email);
    let mut rules: Vec<RulePreview> = policy
        .transforms
        .iter()
        .enumerate()
        .map(|(index, transform)| {
            let problem = transform::problem(index, transform).map(|e| e.to_string());
            RulePreview {
                number: index + 1,
                description: set
                    .describe(index)
                    .map_or_else(|| describe_uncompiled(transform), str::to_string),
                side: transform.side,
                problem,
                changed: SideCounts::default(),
                examples: Vec::new(),
                collisions: SideCounts::default(),
                collision_examples: Vec::new(),
                gained_matches: 0,
            }
        })
        .collect();

    let views: Vec<SideView<'_>> = [(Side::Source, source), (Side::Destination, destination)]
        .into_iter()
        .map(|(side, directory)| {
            let applied = trace_side(&set, side, directory, &mut rules);
            let view = SideView {
                side,
                directory,
                applied,
            };
            if !view.applied.is_empty() {
                // The keys as the run derives them, dropped before the runs below.
                let after_rules = KeyRules::new(&aliases, side, &set);
                let after = keys::account_keys(&directory.accounts, &after_rules, Tables::LOOKUPS);
                let index =
                    AccountIndex::build(&directory.accounts, &after, Tables::LOOKUPS, after_rules);
                find_collisions(
                    &view,
                    &after,
                    &index,
                    &KeyRules::new(&aliases, side, &none),
                    &mut rules,
                );
            }
            view
        })
        .collect();

    let matches = match_changes(source, destination, policy, exceptions, &views, &mut rules);
    TransformPreview {
        rules,
        matches,
        exception_rules: exceptions.len(),
    }
}

fn describe_uncompiled(transform: &Transform) -> String {
    let field = transform.field.map_or("", TransformField::as_str);
    format!("{} {field}", transform.kind.as_str())
        .trim_end()
        .to_string()
}

/// Every value's trace on one side: counts and examples into `rules`, and which
/// transforms changed which value.
fn trace_side(
    set: &TransformSet,
    side: Side,
    directory: &Directory,
    rules: &mut [RulePreview],
) -> FxHashMap<ValueRef, Vec<usize>> {
    let mut applied: FxHashMap<ValueRef, Vec<usize>> = FxHashMap::default();
    if !set.rewrites(side) {
        return applied;
    }
    // Traced in parallel, gathered in directory order so the examples are deterministic.
    let traced: Vec<(u32, TracedValues)> = directory
        .accounts
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .filter_map(|(i, account)| {
            let mut values: TracedValues = Vec::new();
            for (field, raw) in email_fields(account) {
                let steps = set.trace_email(side, raw);
                if !steps.is_empty() {
                    values.push((ValueField::Email(field), steps));
                }
            }
            if let Some(username) = &account.username {
                let steps = set.trace_username(side, username);
                if !steps.is_empty() {
                    values.push((ValueField::Username, steps));
                }
            }
            (!values.is_empty()).then_some((i as u32, values))
        })
        .collect();
    for (i, values) in traced {
        let account = directory.account(i);
        for (field, steps) in values {
            let field_name = field.name();
            for step in &steps {
                let rule = &mut rules[step.rule];
                rule.changed.add(side, 1);
                if rule.examples.len() < EXAMPLES {
                    rule.examples.push(ChangeExample {
                        side,
                        account: account.id.to_string(),
                        field: field_name.clone(),
                        before: step.before.clone(),
                        after: step.after.clone(),
                    });
                }
            }
            applied.insert((i, field), steps.iter().map(|s| s.rule).collect());
        }
    }
    applied
}

/// The same fields, in the same order, as the engine reads.
fn email_fields(account: &Account) -> impl Iterator<Item = (keys::EmailField, &str)> {
    keys::account_emails(account)
}

/// Keys that transformed values produce and that now join accounts no shared key joined
/// before. Accounts sharing a key before (directly or through each other) count as one.
fn find_collisions(
    view: &SideView<'_>,
    after: &[AccountKeys],
    after_index: &AccountIndex<'_>,
    before_rules: &KeyRules<'_>,
    rules: &mut [RulePreview],
) {
    // Keys produced by changed values.
    let mut email_keys: Vec<&str> = Vec::new();
    let mut username_keys: Vec<&str> = Vec::new();
    // The keys an account had without the transforms: only needed for a few accounts.
    let before = |i: u32| AccountKeys::without_names(view.directory.account(i), before_rules);
    for (i, keys) in after.iter().enumerate() {
        for email in &keys.emails {
            if view
                .applied
                .contains_key(&(i as u32, ValueField::Email(email.field)))
            {
                email_keys.push(&email.key);
            }
        }
        if let Some(username) = &keys.username
            && view.applied.contains_key(&(i as u32, ValueField::Username))
        {
            username_keys.push(username);
        }
    }
    let mut found: Vec<(Collision, Vec<usize>)> = Vec::new();
    email_keys.sort_unstable();
    email_keys.dedup();
    for key in email_keys {
        let Some(hits) = after_index.by_email.get(key) else {
            continue;
        };
        let holders: Vec<ValueRef> = hits
            .as_slice()
            .iter()
            .map(|&(i, field)| (i, ValueField::Email(field)))
            .collect();
        let before_keys = |i: u32| {
            before(i)
                .emails
                .into_iter()
                .map(|e| e.key.into_string())
                .collect::<Vec<_>>()
        };
        if let Some(collision) = collision(view, "email", key, &holders, before_keys) {
            found.push(collision);
        }
    }
    username_keys.sort_unstable();
    username_keys.dedup();
    for key in username_keys {
        let Some(hits) = after_index.by_username.get(key) else {
            continue;
        };
        let holders: Vec<ValueRef> = hits
            .as_slice()
            .iter()
            .map(|&i| (i, ValueField::Username))
            .collect();
        let before_keys = |i: u32| {
            before(i)
                .username
                .into_iter()
                .map(|u| u.into_string())
                .collect::<Vec<_>>()
        };
        if let Some(collision) = collision(view, "username", key, &holders, before_keys) {
            found.push(collision);
        }
    }
    for (collision, by) in found {
        for number in by {
            let rule = &mut rules[number];
            rule.collisions.add(view.side, 1);
            if rule.collision_examples.len() < EXAMPLES {
                rule.collision_examples.push(collision.clone());
            }
        }
    }
}

/// Whether the holders of `key` (distinct accounts) fall into more than one group of
/// accounts that shared a key before; if so the collision and the transforms behind it.
fn collision(
    view: &SideView<'_>,
    key_kind: &str,
    key: &str,
    holders: &[ValueRef],
    before_keys: impl Fn(u32) -> Vec<String>,
) -> Option<(Collision, Vec<usize>)> {
    let mut accounts: Vec<u32> = holders.iter().map(|(i, _)| *i).collect();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.len() < 2 {
        return None;
    }
    // Union-find over the holders, joined by the keys they had before.
    let mut parent: Vec<usize> = (0..accounts.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_holder: FxHashMap<String, usize> = FxHashMap::default();
    for (position, &account) in accounts.iter().enumerate() {
        for before in before_keys(account) {
            match first_holder.get(&before) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, position), root(&mut parent, other));
                    parent[a] = b;
                }
                None => {
                    first_holder.insert(before, position);
                }
            }
        }
    }
    let groups: FxHashSet<usize> = (0..accounts.len()).map(|i| root(&mut parent, i)).collect();
    if groups.len() < 2 {
        return None;
    }
    let mut by: Vec<usize> = holders
        .iter()
        .filter_map(|value| view.applied.get(value))
        .flatten()
        .copied()
        .collect();
    by.sort_unstable();
    by.dedup();
    let mut members: Vec<CollisionMember> = holders
        .iter()
        .map(|&(i, field)| {
            let account = view.directory.account(i);
            CollisionMember {
                account: account.id.to_string(),
                field: field.name(),
                value: field_value(account, field),
            }
        })
        .collect();
    members.sort_by(|a, b| a.account.cmp(&b.account));
    members.dedup_by(|a, b| a.account == b.account);
    members.truncate(EXAMPLES);
    Some((
        Collision {
            side: view.side,
            key_kind: key_kind.to_string(),
            key: key.to_string(),
            accounts: members,
            total_accounts: accounts.len(),
        },
        by,
    ))
}

/// The value of a field, as given.
fn field_value(account: &Account, field: ValueField) -> String {
    let value = match field {
        ValueField::Username => account.username.as_deref(),
        ValueField::Email(0) => account.email.as_deref(),
        ValueField::Email(n) => account
            .alias_emails
            .get(usize::from(n) - 1)
            .map(|e| e.as_str()),
    };
    value.unwrap_or_default().to_string()
}

fn by_email_or_username(resolution: Resolution) -> bool {
    matches!(resolution, Resolution::Email | Resolution::Username)
}

fn match_changes(
    source: &Directory,
    destination: &Directory,
    policy: &Policy,
    exceptions: &[ExceptionRule],
    views: &[SideView<'_>],
    rules: &mut [RulePreview],
) -> MatchChanges {
    let mut changes = MatchChanges::default();
    if policy.transforms.is_empty() {
        return changes;
    }
    let without = Policy {
        transforms: Vec::new(),
        ..policy.clone()
    };
    // Only the resolution and target of the first run are kept: a run's mappings are large.
    let mut before: Vec<Option<(Resolution, Option<u32>)>> = vec![None; source.accounts.len()];
    for m in crate::resolve(source, destination, &without, exceptions).mappings {
        if m.kind == crate::IdentityKind::Account {
            before[m.source as usize] = Some((m.resolution, m.destination_index()));
        }
    }
    let after = crate::resolve(source, destination, policy, exceptions).mappings;
    let outcome = |resolution: Resolution, target: Option<u32>| Outcome {
        resolution,
        destination: target.map(|i| destination.account(i).id.to_string()),
    };
    // Account mappings come first, in source-id order.
    for now in after
        .iter()
        .take_while(|m| m.kind == crate::IdentityKind::Account)
    {
        let i = now.source as usize;
        let Some((was, was_target)) = before[i] else {
            continue;
        };
        let (had, has) = (
            by_email_or_username(was),
            by_email_or_username(now.resolution),
        );
        let list = match (had, has) {
            (false, true) => &mut changes.gained,
            (true, false) => &mut changes.lost,
            (true, true) if was_target != now.destination_index() => &mut changes.changed,
            _ => continue,
        };
        // The transforms that changed a value this link matched on, on either side.
        let mut by: Vec<usize> = Vec::new();
        if has {
            let target = now.destination_index();
            for evidence in &now.evidence {
                let source_value = ValueField::parse(&evidence.source_field).map(|f| (i as u32, f));
                if let Some(rules) = source_value.and_then(|v| views[0].applied.get(&v)) {
                    by.extend(rules);
                }
                let destination_value = ValueField::parse(&evidence.destination_field)
                    .zip(target)
                    .map(|(f, t)| (t, f));
                if let Some(rules) = destination_value.and_then(|v| views[1].applied.get(&v)) {
                    by.extend(rules);
                }
            }
        }
        by.sort_unstable();
        by.dedup();
        if !had {
            for &rule in &by {
                rules[rule].gained_matches += 1;
            }
        }
        list.push(MatchChange {
            account: source.accounts[i].id.to_string(),
            before: outcome(was, was_target),
            after: outcome(now.resolution, now.destination_index()),
            transforms: by.iter().map(|r| r + 1).collect(),
        });
    }
    changes
}

impl fmt::Display for TransformPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return writeln!(f, "The policy has no transforms.");
        }
        let header = [
            "#",
            "transform",
            "side",
            "changed (src/dst)",
            "collisions (src/dst)",
            "gained matches",
        ];
        let rows: Vec<[String; 6]> = self
            .rules
            .iter()
            .map(|r| {
                [
                    r.number.to_string(),
                    match &r.problem {
                        Some(_) => format!("{} (not applied)", r.description),
                        None => r.description.clone(),
                    },
                    r.side.as_str().to_string(),
                    format!("{}/{}", r.changed.source, r.changed.destination),
                    format!("{}/{}", r.collisions.source, r.collisions.destination),
                    r.gained_matches.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                text.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(cell.chars().count()),
                ));
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, &header)?;
        for row in &rows {
            line(f, &row.each_ref().map(String::as_str))?;
        }
        for r in &self.rules {
            if r.problem.is_none() && r.examples.is_empty() && r.collision_examples.is_empty() {
                continue;
            }
            writeln!(f)?;
            writeln!(f, "transform {}: {}", r.number, r.description)?;
            if let Some(problem) = &r.problem {
                writeln!(f, "  not applied: {problem}")?;
            }
            for e in &r.examples {
                writeln!(
                    f,
                    "  {} {} {}: {} -> {}",
                    e.side, e.account, e.field, e.before, e.after
                )?;
            }
            for c in &r.collision_examples {
                let members: Vec<String> = c
                    .accounts
                    .iter()
                    .map(|m| format!("{} ({} {:?})", m.account, m.field, m.value))
                    .collect();
                let more = c.total_accounts.saturating_sub(c.accounts.len());
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "  collision: {} {} {:?} is shared by {}{more}",
                    c.side,
                    c.key_kind,
                    c.key,
                    members.join(", ")
                )?;
            }
        }
        writeln!(f)?;
        let m = &self.matches;
        let exceptions = match self.exception_rules {
            0 => "no exception rules given".to_string(),
            1 => "with the 1 exception rule given".to_string(),
            n => format!("with the {n} exception rules given"),
        };
        writeln!(
            f,
            "Source accounts linked by email or username ({exceptions}): {} gained, {} lost, {} changed",
            m.gained.len(),
            m.lost.len(),
            m.changed.len()
        )?;
        let show = |o: &Outcome| match &o.destination {
            Some(d) => format!("{} {d}", o.resolution),
            None => o.resolution.to_string(),
        };
        for (what, list) in [
            ("gained", &m.gained),
            ("lost", &m.lost),
            ("changed", &m.changed),
        ] {
            for c in list.iter().take(EXAMPLES) {
                let by = if c.transforms.is_empty() {
                    String::new()
                } else {
                    let numbers: Vec<String> = c.transforms.iter().map(|n| n.to_string()).collect();
                    format!(" (transform {})", numbers.join(", "))
                };
                writeln!(
                    f,
                    "  {what} {}: {} -> {}{by}",
                    c.account,
                    show(&c.before),
                    show(&c.after)
                )?;
            }
            if list.len() > EXAMPLES {
                writeln!(f, "  ... and {} more {what}", list.len() - EXAMPLES)?;
            }
        }
        Ok(())
    }
}
