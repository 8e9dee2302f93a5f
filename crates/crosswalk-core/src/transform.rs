//! The policy's declarative transforms, compiled once, and the preview of what they do.
//!
//! A [`TransformSet`] rewrites copies of an account's addresses and username before keys are
//! derived (`engine/keys.rs` is the only caller on the matching path); the directory is never
//! changed. [`preview`] says, before a run, what each transform would change, which accounts
//! it would make share a key, and which source accounts would gain or lose a match.

use std::borrow::Cow;
use std::fmt;

use rayon::prelude::*;
use regex::{Regex, RegexBuilder};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::directory::{Account, Directory};
use crate::engine::keys::{self, AccountIndex, AccountKeys, KeyRules, Tables};
use crate::exceptions::ExceptionRule;
use crate::mapping::Resolution;
use crate::normalize::{self, DomainAliases};
use crate::policy::{
    Policy, PolicyError, Transform, TransformField, TransformKind, TransformSide, check_domain, invalid,
};

/// Which directory a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Source, Side::Destination];

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }

    fn slot(self) -> usize {
        match self {
            Side::Source => 0,
            Side::Destination => 1,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value some transforms changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The rewritten value: an address keeps any `SMTP:`/`mailto:` prefix it had.
    pub value: String,
    /// Positions in `policy.transforms` (from 0) of the transforms that changed it, in order.
    pub applied: Vec<usize>,
}

/// One transform's change to one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Position in `policy.transforms`, from 0.
    pub rule: usize,
    pub before: String,
    pub after: String,
}

/// The policy's transforms, compiled: regexes built once, domains keyed once, rules sorted
/// by what they rewrite and on which side. Empty (and free) when the policy has none.
#[derive(Debug, Clone, Default)]
pub struct TransformSet {
    rules: Vec<Rule>,
    /// Positions in `rules` of the rules that rewrite addresses, per side, in policy order.
    address_rules: [Vec<usize>; 2],
    username_rules: [Vec<usize>; 2],
}

#[derive(Debug, Clone)]
struct Rule {
    /// Position in `policy.transforms`.
    index: usize,
    side: TransformSide,
    op: Op,
    description: String,
}

#[derive(Debug, Clone)]
enum Op {
    Domain { from: DomainPattern, to: String },
    Regex { field: TransformField, regex: Regex, replacement: String },
    StripPrefix { field: TransformField, value: String },
    StripSuffix { field: TransformField, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DomainPattern {
    Exact(String),
    /// `*.a.com`, kept as `.a.com`: any subdomain, not `a.com` itself.
    Subdomains(String),
}

impl DomainPattern {
    /// Whether an ASCII domain (a `domain_key`, or an ASCII domain as given, compared
    /// caselessly) is this one or under it.
    fn matches(&self, domain: &str) -> bool {
        match self {
            DomainPattern::Exact(exact) => exact.eq_ignore_ascii_case(domain),
            DomainPattern::Subdomains(suffix) => {
                domain.len() > suffix.len()
                    && domain.is_char_boundary(domain.len() - suffix.len())
                    && domain[domain.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
        }
    }
}

impl Op {
    fn field(&self) -> TransformField {
        match self {
            Op::Domain { .. } => TransformField::Email,
            Op::Regex { field, .. } | Op::StripPrefix { field, .. } | Op::StripSuffix { field, .. } => *field,
        }
    }

    /// The text rewrite of regex and strip rules; `None` when the value is left as it is.
    fn rewrite_text(&self, value: &str) -> Option<String> {
        match self {
            Op::Domain { .. } => None,
            Op::Regex { regex, replacement, .. } => match regex.replace_all(value, replacement.as_str()) {
                Cow::Owned(out) if out != value => Some(out),
                _ => None,
            },
            Op::StripPrefix { value: prefix, .. } => strip_prefix_caseless(value, prefix).map(str::to_string),
            Op::StripSuffix { value: suffix, .. } => strip_suffix_caseless(value, suffix).map(str::to_string),
        }
    }
}

/// `value` without a leading `prefix` (already folded), compared caselessly; `None` unless
/// it starts with it and something is left.
fn strip_prefix_caseless<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = if value.is_ascii() && prefix.is_ascii() {
        let head = value.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix).then(|| &value[prefix.len()..])?
    } else {
        // One fold says no to almost everything; only a match looks for where it ends.
        if !normalize::fold(value).starts_with(prefix) {
            return None;
        }
        let end = value
            .char_indices()
            .map(|(i, _)| i)
            .skip(1)
            .chain(std::iter::once(value.len()))
            .find(|&end| normalize::fold(&value[..end]) == prefix)?;
        &value[end..]
    };
    (!rest.trim().is_empty()).then_some(rest)
}

/// `value` without a trailing `suffix` (already folded), compared caselessly; `None` unless
/// it ends with it and something is left.
fn strip_suffix_caseless<'a>(value: &'a str, suffix: &str) -> Option<&'a str> {
    let rest = if value.is_ascii() && suffix.is_ascii() {
        let start = value.len().checked_sub(suffix.len())?;
        value[start..].eq_ignore_ascii_case(suffix).then(|| &value[..start])?
    } else {
        if !normalize::fold(value).ends_with(suffix) {
            return None;
        }
        let start =
            value.char_indices().map(|(i, _)| i).rev().find(|&start| normalize::fold(&value[start..]) == suffix)?;
        &value[..start]
    };
    (!rest.trim().is_empty()).then_some(rest)
}

impl TransformSet {
    /// Compiles the policy's transforms, or names the first field that is wrong
    /// (`transforms[2].pattern`). [`Policy::validate`] calls this.
    pub fn compile(policy: &Policy) -> Result<TransformSet, PolicyError> {
        let (set, mut problems) = TransformSet::compile_lenient(policy);
        if problems.is_empty() { Ok(set) } else { Err(problems.swap_remove(0)) }
    }

    /// Compiles what compiles: a transform with a problem is left out and its problem
    /// returned. What `resolve` uses, since a run never fails.
    pub fn compile_lenient(policy: &Policy) -> (TransformSet, Vec<PolicyError>) {
        let mut set = TransformSet::default();
        let mut problems = Vec::new();
        for (index, transform) in policy.transforms.iter().enumerate() {
            match compile_rule(index, transform) {
                Ok(rule) => {
                    let position = set.rules.len();
                    for side in Side::BOTH {
                        let on_side = match rule.side {
                            TransformSide::Both => true,
                            TransformSide::Source => side == Side::Source,
                            TransformSide::Destination => side == Side::Destination,
                        };
                        if !on_side {
                            continue;
                        }
                        match rule.op.field() {
                            TransformField::Username => set.username_rules[side.slot()].push(position),
                            TransformField::Email | TransformField::LocalPart => {
                                set.address_rules[side.slot()].push(position)
                            }
                        }
                    }
                    set.rules.push(rule);
                }
                Err(problem) => problems.push(problem),
            }
        }
        (set, problems)
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Number of compiled transforms.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// `domain corp.a.com -> a.com`, for the transform at this position in the policy.
    pub fn describe(&self, index: usize) -> Option<&str> {
        self.rule(index).map(|r| r.description.as_str())
    }

    fn rule(&self, index: usize) -> Option<&Rule> {
        self.rules.binary_search_by_key(&index, |r| r.index).ok().map(|i| &self.rules[i])
    }

    /// The evidence note for these transforms: `transform 1 (domain corp.a.com -> a.com)`.
    pub fn note(&self, applied: &[usize]) -> String {
        let mut out = String::new();
        for &index in applied {
            if !out.is_empty() {
                out.push_str(", ");
            }
            match self.describe(index) {
                Some(description) => out.push_str(&format!("transform {} ({description})", index + 1)),
                None => out.push_str(&format!("transform {}", index + 1)),
            }
        }
        out
    }

    /// An address after this side's transforms, or `None` when none changed it (always
    /// `None`, at no cost, when there are none). Addresses that are not addresses are left
    /// alone, and a rewrite that would make one is not made.
    pub fn rewrite_email(&self, side: Side, raw: &str) -> Option<Rewrite> {
        let rules = &self.address_rules[side.slot()];
        if rules.is_empty() {
            return None;
        }
        self.run_email(rules, raw, None)
    }

    /// A username after this side's transforms, or `None` when none changed it. A rewrite
    /// that would leave it blank is not made.
    pub fn rewrite_username(&self, side: Side, raw: &str) -> Option<Rewrite> {
        let rules = &self.username_rules[side.slot()];
        if rules.is_empty() {
            return None;
        }
        self.run_text(rules, raw, None)
    }

    /// Each transform's change to an address, in order (empty when none changed it).
    pub fn trace_email(&self, side: Side, raw: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        let rules = &self.address_rules[side.slot()];
        if !rules.is_empty() {
            self.run_email(rules, raw, Some(&mut steps));
        }
        steps
    }

    /// Each transform's change to a username, in order (empty when none changed it).
    pub fn trace_username(&self, side: Side, raw: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        let rules = &self.username_rules[side.slot()];
        if !rules.is_empty() {
            self.run_text(rules, raw, Some(&mut steps));
        }
        steps
    }

    fn run_text(&self, rules: &[usize], raw: &str, mut trace: Option<&mut Vec<Step>>) -> Option<Rewrite> {
        let mut value: Cow<'_, str> = Cow::Borrowed(raw.trim());
        let mut applied = Vec::new();
        for rule in rules.iter().map(|&r| &self.rules[r]) {
            let Some(next) = rule.op.rewrite_text(&value).filter(|next| !next.trim().is_empty()) else { continue };
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(Step { rule: rule.index, before: value.to_string(), after: next.clone() });
            }
            applied.push(rule.index);
            value = Cow::Owned(next);
        }
        (!applied.is_empty()).then(|| Rewrite { value: value.into_owned(), applied })
    }

    fn run_email(&self, rules: &[usize], raw: &str, mut trace: Option<&mut Vec<Step>>) -> Option<Rewrite> {
        let trimmed = raw.trim();
        let address = normalize::strip_address_prefix(raw);
        let prefix = trimmed.get(..trimmed.len().checked_sub(address.len())?)?;
        let (local, domain) = normalize::split_address(address).ok()?;
        // Compared as given when ASCII (caselessly, see `DomainPattern::matches`), so that an
        // address no rule touches costs no allocation; IDNA only for the others.
        let mut domain_key: Cow<'_, str> = if domain.is_ascii() {
            Cow::Borrowed(domain.trim_end_matches('.'))
        } else {
            Cow::Owned(normalize::domain_key(domain)?)
        };
        let original_domain = domain;
        let traced_before = trace.as_deref().map_or(0, Vec::len);
        let mut local: Cow<'_, str> = Cow::Borrowed(local);
        let mut domain: Cow<'_, str> = Cow::Borrowed(domain);
        let mut applied = Vec::new();
        for rule in rules.iter().map(|&r| &self.rules[r]) {
            let next: Option<(String, String, String)> = match &rule.op {
                Op::Domain { from, to } => {
                    from.matches(&domain_key).then(|| (local.to_string(), to.clone(), to.clone()))
                }
                Op::Regex { field: TransformField::Email, .. } => {
                    rule.op.rewrite_text(&format!("{local}@{domain}")).and_then(|out| {
                        let (l, d) = normalize::split_address(&out).ok()?;
                        let key = normalize::domain_key(d)?;
                        Some((l.to_string(), d.to_string(), key))
                    })
                }
                _ => rule.op.rewrite_text(&local).and_then(|out| {
                    let whole = format!("{out}@{domain}");
                    let (l, _) = normalize::split_address(&whole).ok()?;
                    (l == out).then(|| (out, domain.to_string(), domain_key.to_string()))
                }),
            };
            let Some((next_local, next_domain, next_key)) = next else { continue };
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(Step {
                    rule: rule.index,
                    before: format!("{local}@{domain}"),
                    after: format!("{next_local}@{next_domain}"),
                });
            }
            applied.push(rule.index);
            local = Cow::Owned(next_local);
            domain = Cow::Owned(next_domain);
            domain_key = Cow::Owned(next_key);
        }
        if applied.is_empty() {
            return None;
        }
        if normalize::domain_key(original_domain).is_none() {
            // An address that was not one stays as it was, for the engine to report.
            if let Some(trace) = trace {
                trace.truncate(traced_before);
            }
            return None;
        }
        Some(Rewrite { value: format!("{prefix}{local}@{domain}"), applied })
    }
}

fn compile_rule(index: usize, transform: &Transform) -> Result<Rule, PolicyError> {
    let at = |name: &str| format!("transforms[{index}].{name}");
    let kind = transform.kind;
    let kind_name = kind.as_str();
    let used: &[&str] = match kind {
        TransformKind::Domain => &["from", "to"],
        TransformKind::Regex => &["pattern", "replacement"],
        TransformKind::StripPrefix | TransformKind::StripSuffix => &["value"],
    };
    let given = [
        ("from", transform.from.is_some()),
        ("to", transform.to.is_some()),
        ("pattern", transform.pattern.is_some()),
        ("replacement", transform.replacement.is_some()),
        ("value", transform.value.is_some()),
    ];
    for (name, present) in given {
        if present && !used.contains(&name) {
            return Err(invalid(
                at(name),
                format!("is not used by a {kind_name} transform (it takes {})", used.join(", ")),
            ));
        }
    }
    let required = |name: &str, value: &Option<String>| -> Result<String, PolicyError> {
        value
            .clone()
            .ok_or_else(|| invalid(format!("transforms[{index}]"), format!("a {kind_name} transform needs `{name}`")))
    };
    let (op, description) = match kind {
        TransformKind::Domain => {
            if !matches!(transform.field, None | Some(TransformField::Email)) {
                return Err(invalid(
                    at("field"),
                    "a domain transform rewrites the domain of addresses: field must be \"email\"".into(),
                ));
            }
            let from_text = required("from", &transform.from)?;
            let to_text = required("to", &transform.to)?;
            let from_trimmed = from_text.trim();
            let (from, from_shown) = match from_trimmed.strip_prefix("*.") {
                Some(base) => {
                    check_domain(&at("from"), base)?;
                    let base = normalize::domain_key(base).unwrap_or_default();
                    (DomainPattern::Subdomains(format!(".{base}")), format!("*.{base}"))
                }
                None => {
                    check_domain(&at("from"), from_trimmed)?;
                    let domain = normalize::domain_key(from_trimmed).unwrap_or_default();
                    (DomainPattern::Exact(domain.clone()), domain)
                }
            };
            check_domain(&at("to"), &to_text)?;
            let to = normalize::domain_key(&to_text).unwrap_or_default();
            if from == DomainPattern::Exact(to.clone()) {
                return Err(invalid(
                    at("to"),
                    format!("is the same domain as `from` ({to}): the transform would do nothing"),
                ));
            }
            let description = format!("domain {from_shown} -> {to}");
            (Op::Domain { from, to }, description)
        }
        TransformKind::Regex => {
            let field = transform.field.ok_or_else(|| {
                invalid(
                    format!("transforms[{index}]"),
                    "a regex transform needs `field` (email, username or local_part)".into(),
                )
            })?;
            let pattern = required("pattern", &transform.pattern)?;
            let regex = RegexBuilder::new(&pattern).case_insensitive(true).build().map_err(|e| {
                invalid(at("pattern"), format!("{pattern:?} is not a valid regular expression: {}", regex_problem(&e)))
            })?;
            let replacement = transform.replacement.clone().unwrap_or_default();
            check_replacement(&regex, &replacement).map_err(|problem| invalid(at("replacement"), problem))?;
            let description = format!("regex {} {pattern:?} -> {replacement:?}", field.as_str());
            (Op::Regex { field, regex, replacement }, description)
        }
        TransformKind::StripPrefix | TransformKind::StripSuffix => {
            let field = transform.field.ok_or_else(|| {
                invalid(
                    format!("transforms[{index}]"),
                    format!("a {kind_name} transform needs `field` (username or local_part)"),
                )
            })?;
            if field == TransformField::Email {
                return Err(invalid(at("field"), format!("a {kind_name} transform applies to username or local_part")));
            }
            let text = required("value", &transform.value)?;
            let value = normalize::fold(&text).into_owned();
            if value.is_empty() {
                return Err(invalid(at("value"), "is empty".into()));
            }
            let (op, what) = if kind == TransformKind::StripPrefix {
                (Op::StripPrefix { field, value }, "prefix")
            } else {
                (Op::StripSuffix { field, value }, "suffix")
            };
            (op, format!("strip {what} {:?} from {}", text.trim(), field.as_str()))
        }
    };
    Ok(Rule { index, side: transform.side, op, description })
}

/// The regex crate's message in one line: its syntax errors draw a caret diagram over several
/// lines and end with `error: <what>`.
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    match text.lines().rev().find_map(|line| line.trim().strip_prefix("error: ")) {
        Some(what) => what.to_string(),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Every `$group` in a replacement names a group the pattern has: the regex crate would
/// silently insert nothing, and `$1a` (group "1a") is an easy slip for `${1}a`.
fn check_replacement(regex: &Regex, replacement: &str) -> Result<(), String> {
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
            continue;
        }
        let (name, braced) = match rest.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], true),
                None => continue,
            },
            None => {
                let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                (&rest[..len], false)
            }
        };
        if name.is_empty() {
            continue;
        }
        rest = &rest[name.len() + if braced { 2 } else { 0 }..];
        let exists = match name.parse::<usize>() {
            Ok(n) => n < regex.captures_len(),
            Err(_) => regex.capture_names().flatten().any(|n| n == name),
        };
        if !exists {
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            let hint = if !braced && !digits.is_empty() && digits.len() < name.len() {
                format!(" (to put text after group {digits}, write ${{{digits}}}{})", &name[digits.len()..])
            } else {
                String::new()
            };
            let groups = regex.captures_len() - 1;
            return Err(format!("refers to group {name:?}, which the pattern does not have (it has {groups}){hint}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Preview

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
                let n: u16 = name.strip_prefix("alias_emails[")?.strip_suffix(']')?.parse().ok()?;
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
            let problem = compile_rule(index, transform).err().map(|e| e.to_string());
            RulePreview {
                number: index + 1,
                description: set.describe(index).map_or_else(|| describe_uncompiled(transform), str::to_string),
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
            let view = SideView { side, directory, applied };
            if !view.applied.is_empty() {
                // The keys as the run derives them, dropped before the runs below.
                let after_rules = KeyRules::new(&aliases, side, &set);
                let after = keys::account_keys(&directory.accounts, &after_rules, Tables::LOOKUPS);
                let index = AccountIndex::build(&directory.accounts, &after, Tables::LOOKUPS, after_rules);
                find_collisions(&view, &after, &index, &KeyRules::new(&aliases, side, &none), &mut rules);
            }
            view
        })
        .collect();

    let matches = match_changes(source, destination, policy, exceptions, &views, &mut rules);
    TransformPreview { rules, matches, exception_rules: exceptions.len() }
}

fn describe_uncompiled(transform: &Transform) -> String {
    let field = transform.field.map_or("", TransformField::as_str);
    format!("{} {field}", transform.kind.as_str()).trim_end().to_string()
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
    if set.address_rules[side.slot()].is_empty() && set.username_rules[side.slot()].is_empty() {
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
            if view.applied.contains_key(&(i as u32, ValueField::Email(email.field))) {
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
        let Some(hits) = after_index.by_email.get(key) else { continue };
        let holders: Vec<ValueRef> = hits.as_slice().iter().map(|&(i, field)| (i, ValueField::Email(field))).collect();
        let before_keys = |i: u32| before(i).emails.into_iter().map(|e| e.key.into_string()).collect::<Vec<_>>();
        if let Some(collision) = collision(view, "email", key, &holders, before_keys) {
            found.push(collision);
        }
    }
    username_keys.sort_unstable();
    username_keys.dedup();
    for key in username_keys {
        let Some(hits) = after_index.by_username.get(key) else { continue };
        let holders: Vec<ValueRef> = hits.as_slice().iter().map(|&i| (i, ValueField::Username)).collect();
        let before_keys = |i: u32| before(i).username.into_iter().map(|u| u.into_string()).collect::<Vec<_>>();
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
    let mut by: Vec<usize> = holders.iter().filter_map(|value| view.applied.get(value)).flatten().copied().collect();
    by.sort_unstable();
    by.dedup();
    let mut members: Vec<CollisionMember> = holders
        .iter()
        .map(|&(i, field)| {
            let account = view.directory.account(i);
            CollisionMember { account: account.id.to_string(), field: field.name(), value: field_value(account, field) }
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
        ValueField::Email(n) => account.alias_emails.get(usize::from(n) - 1).map(|e| e.as_str()),
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
    let without = Policy { transforms: Vec::new(), ..policy.clone() };
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
    for now in after.iter().take_while(|m| m.kind == crate::IdentityKind::Account) {
        let i = now.source as usize;
        let Some((was, was_target)) = before[i] else { continue };
        let (had, has) = (by_email_or_username(was), by_email_or_username(now.resolution));
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
                let destination_value = ValueField::parse(&evidence.destination_field).zip(target).map(|(f, t)| (t, f));
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
        let header = ["#", "transform", "side", "changed (src/dst)", "collisions (src/dst)", "gained matches"];
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
                text.extend(std::iter::repeat_n(' ', w.saturating_sub(cell.chars().count())));
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
                writeln!(f, "  {} {} {}: {} -> {}", e.side, e.account, e.field, e.before, e.after)?;
            }
            for c in &r.collision_examples {
                let members: Vec<String> =
                    c.accounts.iter().map(|m| format!("{} ({} {:?})", m.account, m.field, m.value)).collect();
                let more = c.total_accounts.saturating_sub(c.accounts.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
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
        for (what, list) in [("gained", &m.gained), ("lost", &m.lost), ("changed", &m.changed)] {
            for c in list.iter().take(EXAMPLES) {
                let by = if c.transforms.is_empty() {
                    String::new()
                } else {
                    let numbers: Vec<String> = c.transforms.iter().map(|n| n.to_string()).collect();
                    format!(" (transform {})", numbers.join(", "))
                };
                writeln!(f, "  {what} {}: {} -> {}{by}", c.account, show(&c.before), show(&c.after))?;
            }
            if list.len() > EXAMPLES {
                writeln!(f, "  ... and {} more {what}", list.len() - EXAMPLES)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_with(transforms: Vec<Transform>) -> Policy {
        Policy { transforms, ..Policy::default() }
    }

    fn rule(kind: TransformKind, field: Option<TransformField>) -> Transform {
        Transform::new(kind, field)
    }

    #[test]
    fn caseless_prefix_and_suffix() {
        assert_eq!(strip_prefix_caseless("ADM-jo", "adm-"), Some("jo"));
        assert_eq!(strip_prefix_caseless("adm-", "adm-"), None);
        assert_eq!(strip_prefix_caseless("ad", "adm-"), None);
        assert_eq!(strip_prefix_caseless("ÄDM-jö", "ädm-"), Some("jö"));
        assert_eq!(strip_suffix_caseless("jo_EXT", "_ext"), Some("jo"));
        assert_eq!(strip_suffix_caseless("jö_EXT", "_ext"), Some("jö"));
        assert_eq!(strip_suffix_caseless("_ext", "_ext"), None);
    }

    #[test]
    fn replacement_groups_are_checked() {
        let regex = Regex::new(r"^(?P<user>.+)\.(ext)$").unwrap();
        assert!(check_replacement(&regex, "$1").is_ok());
        assert!(check_replacement(&regex, "${user}-$2$$").is_ok());
        let error = check_replacement(&regex, "$1a").unwrap_err();
        assert!(error.contains("${1}a"), "{error}");
        assert!(check_replacement(&regex, "$3").is_err());
        assert!(check_replacement(&regex, "${nobody}").is_err());
    }

    #[test]
    fn no_transforms_cost_nothing() {
        let set = TransformSet::compile(&Policy::default()).unwrap();
        assert!(set.is_empty());
        assert_eq!(set.rewrite_email(Side::Source, "jo@acme.com"), None);
        assert_eq!(set.rewrite_username(Side::Destination, "jo"), None);
    }

    #[test]
    fn email_rewrites_keep_the_prefix_and_refuse_to_break_addresses() {
        let mut strip = rule(TransformKind::StripSuffix, Some(TransformField::LocalPart));
        strip.value = Some("_ext".into());
        let mut domain = rule(TransformKind::Domain, None);
        domain.from = Some("*.a.com".into());
        domain.to = Some("a.com".into());
        let set = TransformSet::compile(&policy_with(vec![strip, domain])).unwrap();
        let rewrite = set.rewrite_email(Side::Source, "SMTP:Jo_ext@Corp.A.com").unwrap();
        assert_eq!(rewrite.value, "SMTP:Jo@a.com");
        assert_eq!(rewrite.applied, vec![0, 1]);
        assert_eq!(set.rewrite_email(Side::Source, "_ext@a.com"), None, "nothing left before the @");
        assert_eq!(set.rewrite_email(Side::Source, "not an address"), None);
        assert_eq!(set.rewrite_email(Side::Source, "jo@a.com"), None, "a.com is not a subdomain of itself");
        assert_eq!(
            set.note(&[0, 1]),
            "transform 1 (strip suffix \"_ext\" from local_part), transform 2 (domain *.a.com -> a.com)"
        );
    }

    #[test]
    fn invalid_addresses_are_not_traced_or_rewritten() {
        let mut strip = rule(TransformKind::StripPrefix, Some(TransformField::LocalPart));
        strip.value = Some("adm-".into());
        let set = TransformSet::compile(&policy_with(vec![strip])).unwrap();
        for raw in ["adm-jo@localhost", "adm-jo@a..com", "adm-jo"] {
            assert_eq!(set.rewrite_email(Side::Source, raw), None, "{raw}");
            assert!(set.trace_email(Side::Source, raw).is_empty(), "{raw}");
        }
        assert_eq!(set.rewrite_email(Side::Source, "ADM-jo@Acme.COM.").unwrap().value, "jo@Acme.COM.");
    }

    #[test]
    fn sides_are_respected() {
        let mut strip = rule(TransformKind::StripPrefix, Some(TransformField::Username));
        strip.value = Some("adm-".into());
        strip.side = TransformSide::Destination;
        let set = TransformSet::compile(&policy_with(vec![strip])).unwrap();
        assert_eq!(set.rewrite_username(Side::Source, "adm-jo"), None);
        assert_eq!(set.rewrite_username(Side::Destination, "adm-jo").unwrap().value, "jo");
    }

    #[test]
    fn problems_name_their_field() {
        let mut missing = rule(TransformKind::Regex, Some(TransformField::Username));
        missing.replacement = Some("x".into());
        let error = TransformSet::compile(&policy_with(vec![missing])).unwrap_err();
        assert!(error.to_string().contains("transforms[0]") && error.to_string().contains("pattern"), "{error}");

        let mut stray = rule(TransformKind::Domain, None);
        stray.from = Some("corp.a.com".into());
        stray.to = Some("a.com".into());
        stray.value = Some("x".into());
        let PolicyError::Invalid { field, .. } = TransformSet::compile(&policy_with(vec![stray])).unwrap_err();
        assert_eq!(field, "transforms[0].value");

        let mut email_strip = rule(TransformKind::StripPrefix, Some(TransformField::Email));
        email_strip.value = Some("x".into());
        let PolicyError::Invalid { field, .. } = TransformSet::compile(&policy_with(vec![email_strip])).unwrap_err();
        assert_eq!(field, "transforms[0].field");

        let mut same = rule(TransformKind::Domain, Some(TransformField::Email));
        same.from = Some("A.com".into());
        same.to = Some("a.com".into());
        let PolicyError::Invalid { field, .. } = TransformSet::compile(&policy_with(vec![same])).unwrap_err();
        assert_eq!(field, "transforms[0].to");
    }
}
