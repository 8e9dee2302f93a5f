//! Migration planning: which identities a job takes and why, what must be fixed before it
//! runs, and the fixes an admin chooses.
//!
//! Architecture invariant: like `crosswalk-core`, this crate does no I/O. It takes a source
//! directory, an optional destination directory and the content references as values and
//! returns scopes, findings and fixed directories as values; the application layer reads the
//! files and stores the results.

pub mod checks;
pub mod fixes;
pub mod references;
pub mod scope;
pub mod waves;

pub use checks::{CheckKind, CheckOptions, Finding, FindingRow, Severity, run_checks};
pub use fixes::{Fix, FixError, FixOutcome, MergeRule, apply_fixes, suggested_fixes};
pub use references::{ItemDetails, Reference, Role};
pub use scope::{
    GroupPull, InScope, MappingConsequence, NotMapped, Reason, ScopeResult, UserScope,
    resolve_scope,
};
pub use waves::{Handling, Switch, WaveChoices, handling_of_fixes, judge_wave};
