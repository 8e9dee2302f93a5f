//! Synthetic directory pairs with ground truth, for demos, benchmarks and accuracy measurement.
//!
//! [`generate`] models a migration from an on-premises platform (Jira/Confluence Server with
//! an internal directory, LDAP and Crowd) to a cloud platform: every source person gets
//! exactly one noise [`Category`], most already have a destination account, some do not,
//! and the destination holds people the source never had. The [`TruthRow`]s say, for each
//! source identity, which destination identity is the same one (if any) and whether the data
//! justifies linking them automatically.
//!
//! Output is a pure function of the [`GenerateOptions`]: the same options (seed included)
//! give identical directories and truth on every platform. Randomness comes from ChaCha8,
//! drawn through this crate's own helpers so that a change in `rand`'s sampling algorithms
//! cannot change the data.
//!
//! The generated domains are fixed: people work at [`ORGANISATION_DOMAIN`], the source still
//! uses the pre-rename [`OLD_DOMAIN`] for part of them, and contractors come from
//! [`EXTERNAL_DOMAIN`]. [`POLICY_TOML`] / [`policy`] is the policy that fits the data.

mod generate;
mod items;
mod names;
mod rng;
mod truth;

use crosswalk_core::{Directory, IdentityKind, Policy};
use serde::{Deserialize, Serialize};

pub use generate::generate;
pub use items::write_items_csv;
pub use truth::{
    MAX_TRUTH_LINE_BYTES, TRUTH_COLUMNS, TruthCsvError, accounts_share_evidence,
    groups_share_evidence, read_truth_csv, read_truth_csv_lines, write_truth_csv,
};

/// The organisation's mail domain, on the destination and for most source addresses.
pub const ORGANISATION_DOMAIN: &str = "acme.com";
/// The organisation's previous domain: still on part of the source; an alias of
/// [`ORGANISATION_DOMAIN`] in the policy.
pub const OLD_DOMAIN: &str = "acme-corp.com";
/// A partner's domain: contractors' source accounts, kept as external identities.
pub const EXTERNAL_DOMAIN: &str = "partner.example";

/// The policy for generated data, as TOML (what `crosswalk generate` writes next to it).
pub const POLICY_TOML: &str = r#"# Policy for directories written by crosswalk-synth.
order = ["exception", "id", "email", "username", "name"]
duplicate_claims = "unresolved"

[email]
require_verified = true

[email.domain_aliases]
"acme-corp.com" = "acme.com"

[name]
organisation_domains = ["acme.com"]

[groups]
reserved = ["site-admins", "system-administrators", "atlassian-addons", "atlassian-addons-admin", "org-admins"]

[fallback]
external_domains = ["partner.example"]
provision = false
passthrough = false
"#;

/// [`POLICY_TOML`] as a value.
pub fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.email.domain_aliases = [(OLD_DOMAIN.to_string(), ORGANISATION_DOMAIN.to_string())]
        .into_iter()
        .collect();
    policy.email.require_verified = true;
    policy.name.organisation_domains = vec![ORGANISATION_DOMAIN.to_string()];
    policy.fallback.external_domains = vec![EXTERNAL_DOMAIN.to_string()];
    policy.fallback.provision = false;
    policy.fallback.passthrough = false;
    policy.fallback.default_account = None;
    policy
}

/// The domain equivalence that is a fact of every generated pair: the organisation renamed
/// [`OLD_DOMAIN`] to [`ORGANISATION_DOMAIN`]. What `linkable` in the truth applies when it
/// compares addresses (see [`accounts_share_evidence`]).
pub fn data_domain_aliases() -> crosswalk_core::normalize::DomainAliases {
    crosswalk_core::normalize::DomainAliases::new(
        &[(OLD_DOMAIN.to_string(), ORGANISATION_DOMAIN.to_string())]
            .into_iter()
            .collect(),
    )
}

/// The policy that fits a generated pair (the domains are fixed, so it is [`policy`]).
pub fn policy_for(_pair: &GeneratedPair) -> Policy {
    policy()
}

/// What the generator planted for one source identity. Account categories come first in
/// [`Category::ACCOUNTS`]; group categories are in [`Category::GROUPS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The same address, byte for byte, on both sides.
    Exact,
    /// The addresses (and often the usernames) differ only in letter case.
    CaseNoise,
    /// Source address on [`OLD_DOMAIN`], destination on [`ORGANISATION_DOMAIN`], same local part.
    RenamedDomain,
    /// The source's primary address is only an alias (`proxyAddresses`, often `smtp:`-prefixed)
    /// of the destination account, or the destination's primary is only a source alias.
    AliasOnly,
    /// A previous migration carried the source id over: the destination id equals the source
    /// id. Half of them also changed address since.
    IdMatch,
    /// Different addresses on each side; the same login on both.
    UsernameOnly,
    /// A personal source address; the display name is unique on both sides and the
    /// destination account is in the organisation domain.
    NameOnly,
    /// Two or three source accounts share one mailbox (support@...). No safe link: the truth
    /// has no destination.
    SharedMailbox,
    /// Two people with one display name. Either a pair on the source (one active and linked
    /// by address, one departed with no destination account), or a departed source person
    /// whose namesake exists only on the destination. Only the address link is real.
    Namesake,
    /// The destination has an address that differs from the source's by one confusable
    /// (Cyrillic) character. Half the time the real account exists too (the truth names
    /// it), otherwise there is nothing to link to.
    Lookalike,
    /// No source address (absent or empty). Most have a destination account: the truth names
    /// it, and it is linkable when the username or the name leads there.
    MissingEmail,
    /// An unusable source address (`john.smith`, `john.smith@`, `john smith@acme.com`...).
    /// Same truth rules as [`Category::MissingEmail`].
    InvalidEmail,
    /// A contractor with a [`EXTERNAL_DOMAIN`] address and no destination account.
    External,
    /// Someone with no destination account yet: provision or leave unresolved, never link.
    NewPerson,
    /// Inactive on the source. Most still have a destination account with the same
    /// address (active or not), some do not.
    Departed,
    /// A group with the same name on the destination.
    GroupSame,
    /// A group whose destination name differs only in case.
    GroupCase,
    /// A group whose name is reserved on the destination (site-admins...): never merged into.
    GroupReserved,
    /// A group with no destination counterpart.
    GroupNew,
}

impl Category {
    pub const ACCOUNTS: [Category; 15] = [
        Category::Exact,
        Category::CaseNoise,
        Category::RenamedDomain,
        Category::AliasOnly,
        Category::IdMatch,
        Category::UsernameOnly,
        Category::NameOnly,
        Category::SharedMailbox,
        Category::Namesake,
        Category::Lookalike,
        Category::MissingEmail,
        Category::InvalidEmail,
        Category::External,
        Category::NewPerson,
        Category::Departed,
    ];

    pub const GROUPS: [Category; 4] = [
        Category::GroupSame,
        Category::GroupCase,
        Category::GroupReserved,
        Category::GroupNew,
    ];

    /// The spelling used in the truth file's `category` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exact => "exact",
            Category::CaseNoise => "case_noise",
            Category::RenamedDomain => "renamed_domain",
            Category::AliasOnly => "alias_only",
            Category::IdMatch => "id_match",
            Category::UsernameOnly => "username_only",
            Category::NameOnly => "name_only",
            Category::SharedMailbox => "shared_mailbox",
            Category::Namesake => "namesake",
            Category::Lookalike => "lookalike",
            Category::MissingEmail => "missing_email",
            Category::InvalidEmail => "invalid_email",
            Category::External => "external",
            Category::NewPerson => "new_person",
            Category::Departed => "departed",
            Category::GroupSame => "group_same",
            Category::GroupCase => "group_case",
            Category::GroupReserved => "group_reserved",
            Category::GroupNew => "group_new",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        let text = text.trim();
        Category::ACCOUNTS
            .into_iter()
            .chain(Category::GROUPS)
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
    }

    pub fn kind(self) -> IdentityKind {
        if Category::GROUPS.contains(&self) {
            IdentityKind::Group
        } else {
            IdentityKind::Account
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Share of source accounts in each category (0.0 to 1.0). [`Category::Exact`] takes what
/// the others leave; if they add up to more than 1 they are scaled down to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategoryRates {
    pub case_noise: f64,
    pub renamed_domain: f64,
    pub alias_only: f64,
    pub id_match: f64,
    pub username_only: f64,
    pub name_only: f64,
    pub shared_mailbox: f64,
    pub namesake: f64,
    pub lookalike: f64,
    pub missing_email: f64,
    pub invalid_email: f64,
    pub external: f64,
    pub new_person: f64,
    pub departed: f64,
}

impl Default for CategoryRates {
    fn default() -> Self {
        CategoryRates {
            case_noise: 0.05,
            renamed_domain: 0.08,
            alias_only: 0.04,
            id_match: 0.01,
            username_only: 0.02,
            name_only: 0.02,
            shared_mailbox: 0.01,
            namesake: 0.02,
            lookalike: 0.005,
            missing_email: 0.01,
            invalid_email: 0.01,
            external: 0.02,
            new_person: 0.05,
            departed: 0.05,
        }
    }
}

impl CategoryRates {
    /// The configured share of a category; for [`Category::Exact`], what the others leave
    /// (after scaling them to fit); 0 for group categories.
    pub fn rate(&self, category: Category) -> f64 {
        let raw = |c: Category| -> f64 {
            let r = match c {
                Category::CaseNoise => self.case_noise,
                Category::RenamedDomain => self.renamed_domain,
                Category::AliasOnly => self.alias_only,
                Category::IdMatch => self.id_match,
                Category::UsernameOnly => self.username_only,
                Category::NameOnly => self.name_only,
                Category::SharedMailbox => self.shared_mailbox,
                Category::Namesake => self.namesake,
                Category::Lookalike => self.lookalike,
                Category::MissingEmail => self.missing_email,
                Category::InvalidEmail => self.invalid_email,
                Category::External => self.external,
                Category::NewPerson => self.new_person,
                Category::Departed => self.departed,
                _ => 0.0,
            };
            if r.is_finite() && r > 0.0 { r } else { 0.0 }
        };
        let others: f64 = Category::ACCOUNTS[1..].iter().map(|c| raw(*c)).sum();
        let scale = if others > 1.0 { 1.0 / others } else { 1.0 };
        match category {
            Category::Exact => (1.0 - others * scale).max(0.0),
            c => raw(c) * scale,
        }
    }
}

/// What to generate. `GenerateOptions { accounts, seed, ..Default::default() }` is the usual
/// way to build one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    /// Source accounts. The destination gets about as many (see `destination_only`).
    pub accounts: usize,
    /// Source groups; 0 means `accounts / 50` (at least the eight built-in groups).
    pub groups: usize,
    pub seed: u64,
    pub rates: CategoryRates,
    /// Destination-only people (never on the source), as a share of `accounts`.
    pub destination_only: f64,
    /// Share of destination-only people who copy the name of a source person (namesakes).
    pub destination_only_namesakes: f64,
    /// Share of destination accounts whose username is the person's source login.
    pub same_username: f64,
    /// Share of destination accounts whose address is unverified (`email_verified = false`),
    /// among categories that do not depend on a verified address.
    pub unverified_email: f64,
    /// Share of source accounts keyed by their old username (pre-Jira 7 user keys) rather
    /// than `JIRAUSER<n>`.
    pub legacy_user_keys: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            accounts: 1000,
            groups: 0,
            seed: 0,
            rates: CategoryRates::default(),
            destination_only: 0.12,
            destination_only_namesakes: 0.10,
            same_username: 0.30,
            unverified_email: 0.02,
            legacy_user_keys: 0.15,
        }
    }
}

impl GenerateOptions {
    pub fn new(accounts: usize, seed: u64) -> Self {
        GenerateOptions {
            accounts,
            seed,
            ..GenerateOptions::default()
        }
    }

    /// The number of source groups `generate` will write.
    pub fn group_count(&self) -> usize {
        if self.groups > 0 {
            self.groups
        } else {
            (self.accounts / 50).max(generate::BUILTIN_GROUPS)
        }
    }

    /// Refuses rates outside 0..=1 (NaN included) and category rates adding up to more
    /// than 1. [`generate`] itself never fails: it clamps and scales instead.
    pub fn validate(&self) -> Result<(), String> {
        let check = |name: &str, value: f64| -> Result<(), String> {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, not {value}"))
            }
        };
        check("destination_only", self.destination_only)?;
        check(
            "destination_only_namesakes",
            self.destination_only_namesakes,
        )?;
        check("same_username", self.same_username)?;
        check("unverified_email", self.unverified_email)?;
        check("legacy_user_keys", self.legacy_user_keys)?;
        let mut sum = 0.0;
        let r = &self.rates;
        for (name, value) in [
            ("case_noise", r.case_noise),
            ("renamed_domain", r.renamed_domain),
            ("alias_only", r.alias_only),
            ("id_match", r.id_match),
            ("username_only", r.username_only),
            ("name_only", r.name_only),
            ("shared_mailbox", r.shared_mailbox),
            ("namesake", r.namesake),
            ("lookalike", r.lookalike),
            ("missing_email", r.missing_email),
            ("invalid_email", r.invalid_email),
            ("external", r.external),
            ("new_person", r.new_person),
            ("departed", r.departed),
        ] {
            check(&format!("rates.{name}"), value)?;
            sum += value;
        }
        if sum > 1.0 + 1e-9 {
            return Err(format!(
                "the category rates add up to {sum:.3}, more than 1"
            ));
        }
        Ok(())
    }
}

/// The expected outcome for one source identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRow {
    pub kind: IdentityKind,
    pub source_id: String,
    /// The correct existing destination identity, or `None` if there is none or no safe
    /// automatic link (shared mailbox, reserved group).
    pub destination_id: Option<String>,
    /// A [`Category`] name (`exact`, `case_noise`, ... `group_new`).
    pub category: String,
    /// Whether anything in the data links the two records: the same id, an address key in
    /// common (case folded, the [`OLD_DOMAIN`] rename applied, aliases included), the same
    /// folded username, or a name key in common; for groups, the same id or folded name.
    /// Independent of the engine's rules (uniqueness, activity, verified addresses,
    /// organisation domains): see [`accounts_share_evidence`]. False when `destination_id`
    /// is `None`.
    pub linkable: bool,
}

/// A source directory, a destination directory and the truth about how they correspond.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedPair {
    pub source: Directory,
    pub destination: Directory,
    /// One row per source account (in source order), then one per source group.
    pub truth: Vec<TruthRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_toml_is_the_policy() {
        let parsed: Policy = toml::from_str(POLICY_TOML).unwrap();
        assert_eq!(parsed, policy());
        parsed.validate().unwrap();
    }

    #[test]
    fn categories_round_trip() {
        for c in Category::ACCOUNTS.into_iter().chain(Category::GROUPS) {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert_eq!(Category::GroupNew.kind(), IdentityKind::Group);
        assert_eq!(Category::Namesake.kind(), IdentityKind::Account);
    }

    #[test]
    fn rates_scale_to_fit() {
        let defaults = CategoryRates::default();
        assert!((defaults.rate(Category::Exact) - 0.605).abs() < 1e-9);
        let too_much = CategoryRates {
            new_person: 2.0,
            ..CategoryRates::default()
        };
        assert_eq!(too_much.rate(Category::Exact), 0.0);
        let total: f64 = Category::ACCOUNTS.iter().map(|c| too_much.rate(*c)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(
            GenerateOptions {
                rates: too_much,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        GenerateOptions::default().validate().unwrap();
    }
}
