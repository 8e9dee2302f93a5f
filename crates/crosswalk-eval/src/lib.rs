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

pub mod baseline;
pub mod error;
pub mod evaluate;
pub mod febrl;
pub mod truth;

pub use baseline::email_only_baseline;
pub use error::EvalError;
pub use evaluate::{Counts, EvalReport, FalseMerge, Outcome, evaluate};
pub use febrl::{FEBRL4_ORG_DOMAIN, LabelledPair, febrl4_pair, load_febrl4};
pub use truth::{Truth, shares_a_key};
