//! What can go wrong loading labelled data or scoring against it.

use crosswalk_core::{DirectoryError, IdentityKind};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    // The causes below are part of the message, and so deliberately not `source()`s: a
    // reporter that prints the chain would say them twice.
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{file}{}: {problem}", line.map(|line| format!(":{line}")).unwrap_or_default())]
    Csv {
        file: String,
        line: Option<u64>,
        problem: String,
    },
    #[error("{file}: {cause}")]
    Directory { file: String, cause: DirectoryError },
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

impl EvalError {
    /// The truth row (1-based, in the order given) an error is about, when it is about one.
    pub fn truth_row(&self) -> Option<usize> {
        match self {
            EvalError::UnknownSource { row, .. }
            | EvalError::UnknownDestination { row, .. }
            | EvalError::DuplicateTruth { row, .. }
            | EvalError::NoMapping { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The message without the `truth row N: ` it starts with, for a caller that knows the
    /// row's file and line and says those instead.
    pub fn problem(&self) -> String {
        let message = self.to_string();
        match self.truth_row() {
            Some(row) => message
                .strip_prefix(&format!("truth row {row}: "))
                .map_or(message.clone(), str::to_string),
            None => message,
        }
    }
}
