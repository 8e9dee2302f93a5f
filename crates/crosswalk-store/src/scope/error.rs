//! The scope store's one error type: a kind a caller can act on (a server maps it to an HTTP
//! status) and a message a person can act on.

use std::fmt;

/// What kind of failure, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The scope, job, run, mapping or exception named does not exist.
    NotFound,
    /// It already exists, or it changed since the caller read it.
    Conflict,
    /// The request itself is wrong (a bad namespace, key, page size, cursor...).
    Invalid,
    /// The database could not be reached or answered with an error.
    Unavailable,
    /// The database holds something this version cannot read.
    Corrupt,
    /// The caller's sink stopped a streamed read (a closed pipe, a full disk).
    Stopped,
}

/// A scope store failure.
#[derive(Debug)]
pub struct ScopeError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ScopeError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ScopeError {
        ScopeError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> ScopeError {
        ScopeError::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ScopeError {
        ScopeError::new(ErrorKind::Conflict, message)
    }

    pub fn invalid(message: impl Into<String>) -> ScopeError {
        ScopeError::new(ErrorKind::Invalid, message)
    }

    pub fn corrupt(message: impl Into<String>) -> ScopeError {
        ScopeError::new(ErrorKind::Corrupt, message)
    }

    /// A sink's own failure, kept as the source so the caller can take it back out.
    pub fn stopped(source: impl std::error::Error + Send + Sync + 'static) -> ScopeError {
        ScopeError::new(ErrorKind::Stopped, source.to_string()).with_source(source)
    }

    /// A database failure while doing `operation`; the cause is part of the message (and so
    /// deliberately not a `source()`, which a chain printer would say twice).
    pub fn database(operation: &str, location: &str, cause: impl fmt::Display) -> ScopeError {
        ScopeError::new(
            ErrorKind::Unavailable,
            format!("cannot {operation} in store {location}: {cause}"),
        )
    }

    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ScopeError {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type ScopeResult<T> = Result<T, ScopeError>;
