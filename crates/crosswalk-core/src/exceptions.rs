//! Exception rules: explicit source-to-destination mappings that always win.

use serde::{Deserialize, Serialize};

use crate::directory::IdentityKind;

/// How an exception names an identity: by id, username or email, or by any of them
/// when the file does not say which (`id:`, `username:`, `email:` prefixes say which).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "lowercase")]
pub enum IdentityRef {
    Id(String),
    Username(String),
    Email(String),
    /// Matched against id, then username, then email (and for groups, name).
    Any(String),
}

impl IdentityRef {
    /// Reads `id:42`, `username:jdoe`, `email:j@x.com`, `name:devs`, or a bare value.
    pub fn parse(text: &str) -> IdentityRef {
        let text = text.trim();
        if let Some((prefix, rest)) = text.split_once(':') {
            let rest = rest.trim().to_string();
            match prefix.trim().to_ascii_lowercase().as_str() {
                "id" => return IdentityRef::Id(rest),
                "username" | "user" => return IdentityRef::Username(rest),
                "email" | "mail" => return IdentityRef::Email(rest),
                // A group's name is what `username` is to an account.
                "name" => return IdentityRef::Username(rest),
                _ => {}
            }
        }
        IdentityRef::Any(text.to_string())
    }

    pub fn value(&self) -> &str {
        match self {
            IdentityRef::Id(v)
            | IdentityRef::Username(v)
            | IdentityRef::Email(v)
            | IdentityRef::Any(v) => v,
        }
    }
}

impl std::fmt::Display for IdentityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityRef::Id(v) => write!(f, "id:{v}"),
            IdentityRef::Username(v) => write!(f, "username:{v}"),
            IdentityRef::Email(v) => write!(f, "email:{v}"),
            IdentityRef::Any(v) => f.write_str(v),
        }
    }
}

/// The destination an exception writes to say the source identity is created on the
/// destination (a person's decision, unlike the policy's provisioning fallback).
pub const PROVISION_DESTINATION: &str = "!provision";
/// The destination an exception writes to say the source account is migrated as a former
/// (deactivated) user: its content keeps the name, no live account is linked or created.
pub const FORMER_USER_DESTINATION: &str = "!former-user";

/// What an exception rule decides for its source identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionDecision<'r> {
    /// Link it to the destination identity this names.
    To(&'r IdentityRef),
    /// Create it on the destination ([`PROVISION_DESTINATION`]).
    Provision,
    /// Migrate it as a former user ([`FORMER_USER_DESTINATION`]).
    FormerUser,
}

/// One row of the exceptions file (`type,source,destination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRule {
    pub kind: IdentityKind,
    pub source: IdentityRef,
    pub destination: IdentityRef,
    /// Where the rule came from (`exceptions.csv:7`), quoted in messages.
    pub origin: String,
}

impl ExceptionRule {
    /// What the rule decides: a destination identity, or one of the two decisions written as
    /// a `!` keyword (`!provision`, `!former-user`, any case) in place of a destination.
    pub fn decision(&self) -> ExceptionDecision<'_> {
        match &self.destination {
            IdentityRef::Any(value) if value.trim().eq_ignore_ascii_case(PROVISION_DESTINATION) => {
                ExceptionDecision::Provision
            }
            IdentityRef::Any(value)
                if value.trim().eq_ignore_ascii_case(FORMER_USER_DESTINATION) =>
            {
                ExceptionDecision::FormerUser
            }
            other => ExceptionDecision::To(other),
        }
    }
}
