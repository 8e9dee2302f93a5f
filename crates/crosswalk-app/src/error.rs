//! The application layer's error: a kind a server maps to a status (NotFound 404, Invalid
//! 400/422, Conflict 409, Forbidden 403, Unavailable 503) and a message a person can act on.

use std::fmt;

use crosswalk_store::scope::{ErrorKind as StoreKind, ScopeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The scope, job, mapping or transfer named does not exist.
    NotFound,
    /// The request or its input is wrong (a bad file, name, namespace, cursor...).
    Invalid,
    /// It already exists, or changed since the caller read it.
    Conflict,
    /// The caller may not do this (another scope, or a read-only caller writing).
    Forbidden,
    /// The store could not be reached, or a backend is missing.
    Unavailable,
    /// The store holds something this version cannot read.
    Corrupt,
}

#[derive(Debug)]
pub struct AppError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Invalid, message)
    }

    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Forbidden, message)
    }

    pub fn unavailable(message: impl Into<String>) -> AppError {
        AppError::new(ErrorKind::Unavailable, message)
    }

    /// An input the formats crate refused: its message already names file, line and field.
    pub fn input(error: crosswalk_formats::FormatError) -> AppError {
        AppError {
            kind: ErrorKind::Invalid,
            message: error.to_string(),
            source: None,
        }
    }

    /// The same error, its message led by `context` (`could not open the store x: ...`).
    pub fn prefixed(mut self, context: &str) -> AppError {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> AppError {
        self.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<ScopeError> for AppError {
    fn from(error: ScopeError) -> AppError {
        let kind = match error.kind() {
            StoreKind::NotFound => ErrorKind::NotFound,
            StoreKind::Conflict => ErrorKind::Conflict,
            StoreKind::Invalid => ErrorKind::Invalid,
            StoreKind::Corrupt => ErrorKind::Corrupt,
            // Unavailable, and any kind a later store adds: the store could not answer.
            _ => ErrorKind::Unavailable,
        };
        // The message is kept and the store error is not chained: a chain printer would
        // say the same text twice.
        AppError::new(kind, error.message())
    }
}

pub type AppResult<T> = Result<T, AppError>;
