//! The policy: which matching methods run, in what order, and what happens to the rest.
//!
//! The policy is plain data (deserialised from TOML by `crosswalk-formats`); [`Policy::validate`]
//! checks what serde cannot, so an engine run never starts on a contradictory policy.

use serde::{Deserialize, Serialize};

/// A matching method that can be ordered and switched off. Fallbacks are not methods: they
/// apply, in a fixed order, to whatever no method resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Exception,
    Id,
    Email,
    Username,
    Name,
}

/// What to do when several source identities would claim one destination identity
/// (a shared mailbox, a duplicated email).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateClaims {
    /// Leave every claimant Unresolved, with the others listed as candidates. Never guesses.
    #[default]
    Unresolved,
    /// Map every claimant to the one destination (many to one), saying so in each message.
    Merge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Matching methods in the order they are tried; a method not listed is off.
    pub order: Vec<Method>,
    pub duplicate_claims: DuplicateClaims,
    pub email: EmailPolicy,
    pub name: NamePolicy,
    pub groups: GroupPolicy,
    pub fallback: FallbackPolicy,
    /// Rewrites of usernames and addresses applied before matching, in order: see
    /// [`Transform`]. Written as `[[transforms]]` tables; none by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailPolicy {
    /// Domains that are the same organisation under another name: `"acme-corp.com" = "acme.com"`
    /// makes `jo@acme-corp.com` and `jo@acme.com` one key.
    pub domain_aliases: std::collections::BTreeMap<String, String>,
    /// Refuse to link to a destination account whose address is known to be unverified.
    pub require_verified: bool,
    /// Domains whose mail servers deliver `jo+anything@domain` to `jo@domain`: there the
    /// subaddress (separator and tag) is removed from the key, so `jo+jira@acme.com` matches
    /// `jo@acme.com`. Exact domains (an alias counts under either name); none by default,
    /// because elsewhere `+` is an ordinary character of a different mailbox.
    /// Gmail's dots need no entry: gmail.com and googlemail.com always ignore dots in the
    /// local part and are one domain (Google Workspace domains do neither). Gmail's `+tags`
    /// are like any other domain's: list `gmail.com` here to remove them.
    pub subaddress_domains: Vec<String>,
    /// What starts a subaddress in `subaddress_domains`: `"+"` by default (Exchange, Gmail,
    /// Postfix); `"-"` for qmail-style systems.
    pub subaddress_separator: String,
}

/// One rewrite applied before matching, as a `[[transforms]]` table:
///
/// ```toml
/// [[transforms]]
/// kind = "domain"            # domain | regex | strip_prefix | strip_suffix
/// field = "email"            # email | username | local_part
/// side = "source"            # source | destination | both (default both)
/// from = "corp.a.com"        # domain: the domain to rewrite, exact or "*.a.com" (any subdomain)
/// to = "a.com"               # domain: what it becomes
///
/// [[transforms]]
/// kind = "regex"             # every non-overlapping match is replaced; case-insensitive
/// field = "username"         # (write (?-i) in the pattern to make it case-sensitive)
/// pattern = '^(.+)\.ext$'
/// replacement = "$1"         # $1, ${name}; $$ is a dollar sign; default ""
///
/// [[transforms]]
/// kind = "strip_prefix"      # or strip_suffix; case-insensitive
/// field = "username"         # username | local_part
/// value = "adm-"
/// ```
///
/// Transforms run in the order listed, each on the output of the one before, on every
/// address of an account (primary and aliases) or on its username, on the sides named.
/// They work on the values as given (case-insensitively) and before the email rules:
/// domain aliases, subaddresses and Gmail's dots apply to what they produce. A rewrite
/// that would leave an empty username or an address that is not an address is not made.
/// Originals are never changed: the keys are, and the evidence names the transform
/// (`transform 1 (domain corp.a.com -> a.com)`, numbered from 1 in file order). Exception
/// rules name accounts by their values as given: the same transforms apply to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transform {
    pub kind: TransformKind,
    /// What is rewritten. `domain` transforms need `email` (the default for them); `regex`
    /// takes any of the three; `strip_prefix`/`strip_suffix` take `username` or `local_part`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<TransformField>,
    /// Which directory's values are rewritten; both by default.
    #[serde(default)]
    pub side: TransformSide,
    /// `domain`: the domain rewritten, exact (`corp.a.com`) or every subdomain (`*.a.com`,
    /// which does not include `a.com` itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `domain`: the domain it becomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `regex`: the pattern (Rust `regex` syntax), matched case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// `regex`: what each match becomes; `$1`/`${name}` insert groups. Empty by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// `strip_prefix`/`strip_suffix`: the text removed (case-insensitively) when the value
    /// starts/ends with it and something is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Transform {
    /// A rule of `kind` on `field` for both sides, every other setting left unset; callers
    /// building rules in code fill in the one or two settings the kind needs.
    pub fn new(kind: TransformKind, field: Option<TransformField>) -> Transform {
        Transform {
            kind,
            field,
            side: TransformSide::Both,
            from: None,
            to: None,
            pattern: None,
            replacement: None,
            value: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformKind {
    Domain,
    Regex,
    StripPrefix,
    StripSuffix,
}

impl TransformKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransformKind::Domain => "domain",
            TransformKind::Regex => "regex",
            TransformKind::StripPrefix => "strip_prefix",
            TransformKind::StripSuffix => "strip_suffix",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformField {
    /// Every address, whole (`local@domain`).
    Email,
    Username,
    /// The part of every address before the `@`.
    LocalPart,
}

impl TransformField {
    pub fn as_str(self) -> &'static str {
        match self {
            TransformField::Email => "email",
            TransformField::Username => "username",
            TransformField::LocalPart => "local_part",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformSide {
    Source,
    Destination,
    #[default]
    Both,
}

impl TransformSide {
    pub fn as_str(self) -> &'static str {
        match self {
            TransformSide::Source => "source",
            TransformSide::Destination => "destination",
            TransformSide::Both => "both",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamePolicy {
    /// Name matching only links to destination accounts with an address in one of these
    /// domains; with none listed, the Name method never matches.
    pub organisation_domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupPolicy {
    /// Destination group names that are never merged into (case-insensitive).
    pub reserved: Vec<String>,
    /// Link groups by name (case-insensitive) when no id or exception decided.
    pub match_by_name: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackPolicy {
    /// Source accounts with an address in these domains become External.
    pub external_domains: Vec<String>,
    /// Create destination identities for what no method resolved.
    pub provision: bool,
    /// Use unresolved source identities as-is on the destination.
    pub passthrough: bool,
    /// Destination account (id, username or email) that takes whatever is left.
    pub default_account: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            order: vec![
                Method::Exception,
                Method::Id,
                Method::Email,
                Method::Username,
                Method::Name,
            ],
            duplicate_claims: DuplicateClaims::Unresolved,
            email: EmailPolicy::default(),
            name: NamePolicy::default(),
            groups: GroupPolicy::default(),
            fallback: FallbackPolicy::default(),
            transforms: Vec::new(),
        }
    }
}

impl Default for EmailPolicy {
    fn default() -> Self {
        EmailPolicy {
            domain_aliases: Default::default(),
            require_verified: true,
            subaddress_domains: Vec::new(),
            subaddress_separator: "+".into(),
        }
    }
}

impl Default for GroupPolicy {
    fn default() -> Self {
        GroupPolicy {
            reserved: [
                "site-admins",
                "system-administrators",
                "atlassian-addons",
                "atlassian-addons-admin",
                "org-admins",
            ]
            .map(String::from)
            .to_vec(),
            match_by_name: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("field `{field}`: {problem}")]
    Invalid { field: String, problem: String },
}

impl Policy {
    /// Checks what the types cannot: no method twice, domains that are domains, transforms
    /// that are complete and whose patterns compile (compiled here once to find out).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.order.is_empty() {
            return Err(invalid(
                "order".into(),
                "is empty, so no method would run and every identity would fall to the fallbacks; list the methods to \
                 try, e.g. order = [\"exception\", \"id\", \"email\", \"username\", \"name\"] (or just [\"exception\"])"
                    .into(),
            ));
        }
        for (i, method) in self.order.iter().enumerate() {
            if self.order[..i].contains(method) {
                return Err(invalid(
                    format!("order[{i}]"),
                    format!("{method:?} is listed twice"),
                ));
            }
        }
        for (from, to) in &self.email.domain_aliases {
            check_domain(&format!("email.domain_aliases.{from:?}"), from)?;
            check_domain(&format!("email.domain_aliases.{from:?}"), to)?;
        }
        check_domain_aliases(&self.email.domain_aliases)?;
        for (i, domain) in self.email.subaddress_domains.iter().enumerate() {
            check_domain(&format!("email.subaddress_domains[{i}]"), domain)?;
        }
        let separator = &self.email.subaddress_separator;
        if !SUBADDRESS_SEPARATORS.contains(&separator.as_str()) {
            return Err(invalid(
                "email.subaddress_separator".into(),
                format!(
                    "{separator:?} is not a subaddress separator: write \"+\" (Exchange, Gmail, Postfix) or \"-\" (qmail); \
                     any other character is an ordinary part of a mailbox's name, and cutting at it would turn one \
                     person's address into another's (john.doe@ into john@)"
                ),
            ));
        }
        for (i, domain) in self.name.organisation_domains.iter().enumerate() {
            check_domain(&format!("name.organisation_domains[{i}]"), domain)?;
        }
        for (i, domain) in self.fallback.external_domains.iter().enumerate() {
            check_domain(&format!("fallback.external_domains[{i}]"), domain)?;
        }
        if let Some(account) = &self.fallback.default_account
            && account.trim().is_empty()
        {
            return Err(invalid(
                "fallback.default_account".into(),
                "is empty".into(),
            ));
        }
        crate::transform::TransformSet::compile(self)?;
        Ok(())
    }

    pub fn enabled(&self, method: Method) -> bool {
        self.order.contains(&method)
    }
}

/// The subaddress separators mail systems use. Any other character is an ordinary part of a
/// mailbox's name: cutting a local part at `.` would make `john.doe@` into `john@`.
pub const SUBADDRESS_SEPARATORS: [&str; 2] = ["+", "-"];

/// Domain aliases must each name their canonical domain in one step: an alias whose target
/// is itself an alias (a chain, `a -> b`, `b -> c`) or a cycle (`a -> b`, `b -> a`, which
/// swaps the two and stops either from matching) is refused, and so are two spellings of
/// one domain (`Acme.com`, `acme.com`), which would leave it to chance which one applies.
fn check_domain_aliases(
    aliases: &std::collections::BTreeMap<String, String>,
) -> Result<(), PolicyError> {
    use crate::normalize::domain_key;
    let mut keyed: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for from in aliases.keys() {
        let Some(key) = domain_key(from) else {
            continue;
        };
        if let Some(other) = keyed.insert(key.clone(), from) {
            return Err(invalid(
                format!("email.domain_aliases.{from:?}"),
                format!("{from:?} and {other:?} are the same domain ({key}); keep one of the two"),
            ));
        }
    }
    for (from, to) in aliases {
        let (Some(from_key), Some(to_key)) = (domain_key(from), domain_key(to)) else {
            continue;
        };
        if from_key == to_key {
            return Err(invalid(
                format!("email.domain_aliases.{from:?}"),
                format!("{from:?} is aliased to itself, which does nothing; remove the line"),
            ));
        }
        if let Some(&next_from) = keyed.get(&to_key) {
            let next = &aliases[next_from];
            let problem = if domain_key(next).as_deref() == Some(from_key.as_str()) {
                format!(
                    "{from:?} -> {to:?} and {next_from:?} -> {next:?} form a cycle, which would swap the two domains and \
                     stop either from matching; alias both to one canonical domain, e.g. {from:?} = {to:?} alone"
                )
            } else {
                format!(
                    "{to:?} is itself aliased to {next:?} (a chain): aliases are applied once, so write {from:?} = {next:?}"
                )
            };
            return Err(invalid(format!("email.domain_aliases.{from:?}"), problem));
        }
    }
    Ok(())
}

pub(crate) fn invalid(field: String, problem: String) -> PolicyError {
    PolicyError::Invalid { field, problem }
}

pub(crate) fn check_domain(field: &str, domain: &str) -> Result<(), PolicyError> {
    match crate::normalize::domain_key(domain) {
        Some(_) => Ok(()),
        None => Err(invalid(
            field.to_string(),
            format!("{domain:?} is not a domain name"),
        )),
    }
}
