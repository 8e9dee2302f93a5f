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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailPolicy {
    /// Domains that are the same organisation under another name: `"acme-corp.com" = "acme.com"`
    /// makes `jo@acme-corp.com` and `jo@acme.com` one key.
    pub domain_aliases: std::collections::BTreeMap<String, String>,
    /// Refuse to link to a destination account whose address is known to be unverified.
    pub require_verified: bool,
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
            order: vec![Method::Exception, Method::Id, Method::Email, Method::Username, Method::Name],
            duplicate_claims: DuplicateClaims::Unresolved,
            email: EmailPolicy::default(),
            name: NamePolicy::default(),
            groups: GroupPolicy::default(),
            fallback: FallbackPolicy::default(),
        }
    }
}

impl Default for EmailPolicy {
    fn default() -> Self {
        EmailPolicy { domain_aliases: Default::default(), require_verified: true }
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
    /// Checks what the types cannot: no method twice, domains that are domains.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (i, method) in self.order.iter().enumerate() {
            if self.order[..i].contains(method) {
                return Err(invalid(format!("order[{i}]"), format!("{method:?} is listed twice")));
            }
        }
        for (from, to) in &self.email.domain_aliases {
            check_domain(&format!("email.domain_aliases.{from:?}"), from)?;
            check_domain(&format!("email.domain_aliases.{from:?}"), to)?;
        }
        for (i, domain) in self.name.organisation_domains.iter().enumerate() {
            check_domain(&format!("name.organisation_domains[{i}]"), domain)?;
        }
        for (i, domain) in self.fallback.external_domains.iter().enumerate() {
            check_domain(&format!("fallback.external_domains[{i}]"), domain)?;
        }
        if let Some(account) = &self.fallback.default_account {
            if account.trim().is_empty() {
                return Err(invalid("fallback.default_account".into(), "is empty".into()));
            }
        }
        Ok(())
    }

    pub fn enabled(&self, method: Method) -> bool {
        self.order.contains(&method)
    }
}

fn invalid(field: String, problem: String) -> PolicyError {
    PolicyError::Invalid { field, problem }
}

fn check_domain(field: &str, domain: &str) -> Result<(), PolicyError> {
    match crate::normalize::domain_key(domain) {
        Some(_) => Ok(()),
        None => Err(invalid(field.to_string(), format!("{domain:?} is not a domain name"))),
    }
}
