//! Crosswalk's core: the domain model, key normalisation and the resolution engine.
//!
//! Architecture invariant: this crate does no I/O. It takes directories, a policy and
//! exception rules as values and returns mappings as values, so every decision it makes
//! can be tested, replayed and explained without a file system, a clock or a database.

pub mod directory;
pub mod engine;
pub mod exceptions;
pub mod mapping;
pub mod normalize;
pub mod policy;
pub mod preview;
pub mod report;
pub mod review;
pub mod transform;

pub use directory::{Account, CompactString, Directory, DirectoryError, Group, IdentityKind};
pub use engine::{
    LINK_THRESHOLD, REVIEW_FLOOR, RUNNER_UP_CEILING, Resolved, Weights, check_policy_against,
    resolve,
};
pub use exceptions::{
    ExceptionDecision, ExceptionRule, FORMER_USER_DESTINATION, IdentityRef, PROVISION_DESTINATION,
};
pub use mapping::{
    Candidate, Confidence, Evidence, Flag, Flags, Mapping, Resolution, Summary, Target,
};
pub use policy::{
    DuplicateClaims, EmailPolicy, Method, Policy, PolicyError, Transform, TransformField,
    TransformKind, TransformSide,
};
pub use preview::{TransformPreview, preview};
pub use report::ReportRow;
pub use review::{ReviewCandidate, SUGGESTION_THRESHOLD, Suggestion, suggest, suggestion};
pub use transform::{Side, TransformSet};
