//! The policy's declarative transforms, compiled once.
//!
//! A [`TransformSet`] rewrites copies of an account's addresses and username before keys are
//! derived (`engine/keys.rs` is the only caller on the matching path); the directory is never
//! changed. This module knows nothing of keys or the engine: `crate::preview`, above both,
//! says what the transforms would do to two directories.

use std::borrow::Cow;
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use crate::normalize;
use crate::policy::{
    Policy, PolicyError, Transform, TransformField, TransformKind, TransformSide, check_domain,
    invalid,
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
    Domain {
        from: DomainPattern,
        to: String,
    },
    Regex {
        field: TransformField,
        regex: Regex,
        replacement: String,
    },
    StripPrefix {
        field: TransformField,
        value: String,
    },
    StripSuffix {
        field: TransformField,
        value: String,
    },
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
            Op::Regex { field, .. }
            | Op::StripPrefix { field, .. }
            | Op::StripSuffix { field, .. } => *field,
        }
    }

    /// The text rewrite of regex and strip rules; `None` when the value is left as it is.
    fn rewrite_text(&self, value: &str) -> Option<String> {
        match self {
            Op::Domain { .. } => None,
            Op::Regex {
                regex, replacement, ..
            } => match regex.replace_all(value, replacement.as_str()) {
                Cow::Owned(out) if out != value => Some(out),
                _ => None,
            },
            Op::StripPrefix { value: prefix, .. } => {
                strip_prefix_caseless(value, prefix).map(str::to_string)
            }
            Op::StripSuffix { value: suffix, .. } => {
                strip_suffix_caseless(value, suffix).map(str::to_string)
            }
        }
    }
}

/// `value` without a leading `prefix` (already folded), compared caselessly; `None` unless
/// it starts with it and something is left.
fn strip_prefix_caseless<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = if value.is_ascii() && prefix.is_ascii() {
        let head = value.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| &value[prefix.len()..])?
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
        value[start..]
            .eq_ignore_ascii_case(suffix)
            .then(|| &value[..start])?
    } else {
        if !normalize::fold(value).ends_with(suffix) {
            return None;
        }
        let start = value
            .char_indices()
            .map(|(i, _)| i)
            .rev()
            .find(|&start| normalize::fold(&value[start..]) == suffix)?;
        &value[..start]
    };
    (!rest.trim().is_empty()).then_some(rest)
}

impl TransformSet {
    /// Compiles the policy's transforms, or names the first field that is wrong
    /// (`transforms[2].pattern`). [`Policy::validate`] calls this.
    pub fn compile(policy: &Policy) -> Result<TransformSet, PolicyError> {
        let (set, mut problems) = TransformSet::compile_lenient(policy);
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(problems.swap_remove(0))
        }
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
                            TransformField::Username => {
                                set.username_rules[side.slot()].push(position)
                            }
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

    /// Whether any transform rewrites values of `side`.
    pub fn rewrites(&self, side: Side) -> bool {
        !self.address_rules[side.slot()].is_empty() || !self.username_rules[side.slot()].is_empty()
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
        self.rules
            .binary_search_by_key(&index, |r| r.index)
            .ok()
            .map(|i| &self.rules[i])
    }

    /// The evidence note for these transforms: `transform 1 (domain corp.a.com -> a.com)`.
    pub fn note(&self, applied: &[usize]) -> String {
        let mut out = String::new();
        for &index in applied {
            if !out.is_empty() {
                out.push_str(", ");
            }
            match self.describe(index) {
                Some(description) => {
                    out.push_str(&format!("transform {} ({description})", index + 1))
                }
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

    fn run_text(
        &self,
        rules: &[usize],
        raw: &str,
        mut trace: Option<&mut Vec<Step>>,
    ) -> Option<Rewrite> {
        let mut value: Cow<'_, str> = Cow::Borrowed(raw.trim());
        let mut applied = Vec::new();
        for rule in rules.iter().map(|&r| &self.rules[r]) {
            let Some(next) = rule
                .op
                .rewrite_text(&value)
                .filter(|next| !next.trim().is_empty())
            else {
                continue;
            };
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(Step {
                    rule: rule.index,
                    before: value.to_string(),
                    after: next.clone(),
                });
            }
            applied.push(rule.index);
            value = Cow::Owned(next);
        }
        (!applied.is_empty()).then(|| Rewrite {
            value: value.into_owned(),
            applied,
        })
    }

    fn run_email(
        &self,
        rules: &[usize],
        raw: &str,
        mut trace: Option<&mut Vec<Step>>,
    ) -> Option<Rewrite> {
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
                Op::Domain { from, to } => from
                    .matches(&domain_key)
                    .then(|| (local.to_string(), to.clone(), to.clone())),
                Op::Regex {
                    field: TransformField::Email,
                    ..
                } => rule
                    .op
                    .rewrite_text(&format!("{local}@{domain}"))
                    .and_then(|out| {
                        let (l, d) = normalize::split_address(&out).ok()?;
                        let key = normalize::domain_key(d)?;
                        Some((l.to_string(), d.to_string(), key))
                    }),
                _ => rule.op.rewrite_text(&local).and_then(|out| {
                    let whole = format!("{out}@{domain}");
                    let (l, _) = normalize::split_address(&whole).ok()?;
                    (l == out).then(|| (out, domain.to_string(), domain_key.to_string()))
                }),
            };
            let Some((next_local, next_domain, next_key)) = next else {
                continue;
            };
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
        Some(Rewrite {
            value: format!("{prefix}{local}@{domain}"),
            applied,
        })
    }
}

/// Why transform `index` of a policy does not compile (the policy's own words), or `None`.
pub fn problem(index: usize, transform: &Transform) -> Option<PolicyError> {
    compile_rule(index, transform).err()
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
                format!(
                    "is not used by a {kind_name} transform (it takes {})",
                    used.join(", ")
                ),
            ));
        }
    }
    let required = |name: &str, value: &Option<String>| -> Result<String, PolicyError> {
        value.clone().ok_or_else(|| {
            invalid(
                format!("transforms[{index}]"),
                format!("a {kind_name} transform needs `{name}`"),
            )
        })
    };
    let (op, description) = match kind {
        TransformKind::Domain => {
            if !matches!(transform.field, None | Some(TransformField::Email)) {
                return Err(invalid(
                    at("field"),
                    "a domain transform rewrites the domain of addresses: field must be \"email\""
                        .into(),
                ));
            }
            let from_text = required("from", &transform.from)?;
            let to_text = required("to", &transform.to)?;
            let from_trimmed = from_text.trim();
            let (from, from_shown) = match from_trimmed.strip_prefix("*.") {
                Some(base) => {
                    check_domain(&at("from"), base)?;
                    let base = normalize::domain_key(base).unwrap_or_default();
                    (
                        DomainPattern::Subdomains(format!(".{base}")),
                        format!("*.{base}"),
                    )
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
            let regex = RegexBuilder::new(&pattern)
                .case_insensitive(true)
                .build()
                .map_err(|e| {
                    invalid(
                        at("pattern"),
                        format!(
                            "{pattern:?} is not a valid regular expression: {}",
                            regex_problem(&e)
                        ),
                    )
                })?;
            let replacement = transform.replacement.clone().unwrap_or_default();
            check_replacement(&regex, &replacement)
                .map_err(|problem| invalid(at("replacement"), problem))?;
            let description = format!("regex {} {pattern:?} -> {replacement:?}", field.as_str());
            (
                Op::Regex {
                    field,
                    regex,
                    replacement,
                },
                description,
            )
        }
        TransformKind::StripPrefix | TransformKind::StripSuffix => {
            let field = transform.field.ok_or_else(|| {
                invalid(
                    format!("transforms[{index}]"),
                    format!("a {kind_name} transform needs `field` (username or local_part)"),
                )
            })?;
            if field == TransformField::Email {
                return Err(invalid(
                    at("field"),
                    format!("a {kind_name} transform applies to username or local_part"),
                ));
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
            (
                op,
                format!("strip {what} {:?} from {}", text.trim(), field.as_str()),
            )
        }
    };
    Ok(Rule {
        index,
        side: transform.side,
        op,
        description,
    })
}

/// The regex crate's message in one line: its syntax errors draw a caret diagram over several
/// lines and end with `error: <what>`.
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    match text
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
    {
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
                let len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
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
                format!(
                    " (to put text after group {digits}, write ${{{digits}}}{})",
                    &name[digits.len()..]
                )
            } else {
                String::new()
            };
            let groups = regex.captures_len() - 1;
            return Err(format!(
                "refers to group {name:?}, which the pattern does not have (it has {groups}){hint}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_with(transforms: Vec<Transform>) -> Policy {
        Policy {
            transforms,
            ..Policy::default()
        }
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
        let rewrite = set
            .rewrite_email(Side::Source, "SMTP:Jo_ext@Corp.A.com")
            .unwrap();
        assert_eq!(rewrite.value, "SMTP:Jo@a.com");
        assert_eq!(rewrite.applied, vec![0, 1]);
        assert_eq!(
            set.rewrite_email(Side::Source, "_ext@a.com"),
            None,
            "nothing left before the @"
        );
        assert_eq!(set.rewrite_email(Side::Source, "not an address"), None);
        assert_eq!(
            set.rewrite_email(Side::Source, "jo@a.com"),
            None,
            "a.com is not a subdomain of itself"
        );
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
        assert_eq!(
            set.rewrite_email(Side::Source, "ADM-jo@Acme.COM.")
                .unwrap()
                .value,
            "jo@Acme.COM."
        );
    }

    #[test]
    fn sides_are_respected() {
        let mut strip = rule(TransformKind::StripPrefix, Some(TransformField::Username));
        strip.value = Some("adm-".into());
        strip.side = TransformSide::Destination;
        let set = TransformSet::compile(&policy_with(vec![strip])).unwrap();
        assert_eq!(set.rewrite_username(Side::Source, "adm-jo"), None);
        assert_eq!(
            set.rewrite_username(Side::Destination, "adm-jo")
                .unwrap()
                .value,
            "jo"
        );
    }

    #[test]
    fn problems_name_their_field() {
        let mut missing = rule(TransformKind::Regex, Some(TransformField::Username));
        missing.replacement = Some("x".into());
        let error = TransformSet::compile(&policy_with(vec![missing])).unwrap_err();
        assert!(
            error.to_string().contains("transforms[0]") && error.to_string().contains("pattern"),
            "{error}"
        );

        let mut stray = rule(TransformKind::Domain, None);
        stray.from = Some("corp.a.com".into());
        stray.to = Some("a.com".into());
        stray.value = Some("x".into());
        let PolicyError::Invalid { field, .. } =
            TransformSet::compile(&policy_with(vec![stray])).unwrap_err();
        assert_eq!(field, "transforms[0].value");

        let mut email_strip = rule(TransformKind::StripPrefix, Some(TransformField::Email));
        email_strip.value = Some("x".into());
        let PolicyError::Invalid { field, .. } =
            TransformSet::compile(&policy_with(vec![email_strip])).unwrap_err();
        assert_eq!(field, "transforms[0].field");

        let mut same = rule(TransformKind::Domain, Some(TransformField::Email));
        same.from = Some("A.com".into());
        same.to = Some("a.com".into());
        let PolicyError::Invalid { field, .. } =
            TransformSet::compile(&policy_with(vec![same])).unwrap_err();
        assert_eq!(field, "transforms[0].to");
    }
}
