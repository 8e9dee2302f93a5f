//! Matching-quality measurement for Crosswalk: score what a resolver decided against
//! labelled truth, counting false merges (a person linked to someone else's account, the
//! worst outcome), duplicates (a new account for someone who already had one) and misses
//! (left for review, or sent to a catch-all), and say honestly which misses nothing in the
//! data could have avoided.
//!
//! - [`febrl4_pair`] / [`load_febrl4`]: the public FEBRL4 set (5,000 people on each side,
//!   names with typos, no addresses) as a directory pair with truth. Only `load_febrl4`
//!   touches the file system.
//! - [`evaluate`]: classifies each truth row against a [`crosswalk_core::Resolved`] and
//!   returns an [`EvalReport`] (serde `Serialize`, and `Display` as a text table).
//! - [`email_only_baseline`]: the naive "same email (lowercased) or create" rule, built
//!   without the engine, so the same `evaluate` scores it.
//! - [`compare`]: the engine (with the policy as given, and again with provisioning on) and
//!   the email-only rule scored side by side as a [`Comparison`] (text table, Markdown for
//!   BENCHMARKS.md, JSON): what `crosswalk eval` prints.
//! - [`suggestion_tradeoff`]: how many review suggestions (core's rule) there are at each
//!   threshold, and how many would be wrong if all were accepted.
//! - [`Truth::linkable`] / [`confirm_linkable`]: whether anything in the data links the two
//!   records, independent of any resolver's rules; the same meaning as the generator's.

pub mod baseline;
pub mod compare;
pub mod error;
pub mod evaluate;
pub mod febrl;
pub mod suggestions;
pub mod truth;

pub use baseline::email_only_baseline;
pub use compare::{
    Comparison, RULE_EMAIL_ONLY, RULE_ENGINE, RULE_ENGINE_PROVISION, Scored, compare,
};
pub use error::EvalError;
pub use evaluate::{Counts, EvalReport, FalseMerge, Outcome, evaluate};
pub use febrl::{FEBRL4_ORG_DOMAIN, LabelledPair, febrl4_pair, load_febrl4};
pub use suggestions::{SuggestionReport, SuggestionTally, THRESHOLDS, suggestion_tradeoff};
pub use truth::{Truth, confirm_linkable, shares_a_key};
