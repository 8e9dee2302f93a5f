//! What can go wrong loading labelled data or scoring against it.

use crosswalk_core::{DirectoryError, IdentityKind};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    // The causes below are part of the message, and so deliberately not `source()`s: a
    // reporter that prints the chain would say them twice.
    #[error("cannot read {path}: {cause}")]
    Io {
        path: String,
        cause: std::io::Error,
    },
    #[error("{file}: {problem}")]
    Csv { file: String, problem: String },
    #[error("{file}: {cause}")]
    Directory {
        file: String,
        cause: DirectoryError,
    },
    #[error("truth row {row}: source {kind} {id:?} is not in the source directory")]
    UnknownSource {
        row: usize,
        kind: IdentityKind,
        id: String,
    },
    #[error("truth row {row}: destination {kind} {id:?} is not in the destination directory")]
    UnknownDestination {
        row: usize,
        kind: IdentityKind,
        id: String,
    },
    #[error("truth row {row}: source {kind} {id:?} already has a truth row")]
    DuplicateTruth {
        row: usize,
        kind: IdentityKind,
        id: String,
    },
    #[error("truth row {row}: the resolver produced no mapping for source {kind} {id:?}")]
    NoMapping {
        row: usize,
        kind: IdentityKind,
        id: String,
    },
}
