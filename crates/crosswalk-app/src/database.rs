//! Which database a store lives in: an SQLite file (the embedded default) or a PostgreSQL
//! URL. Parsed here so the CLI's `--store` and `--database` and a server's configuration
//! mean the same thing.

use std::fmt;
use std::path::PathBuf;

use crosswalk_store::scope::without_password;

use crate::error::{AppError, AppResult};

#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Database {
    /// Reads a `--database` value: a `postgres://`/`postgresql://` URL, or `sqlite://PATH`
    /// (`sqlite:PATH`). Anything else is refused, naming the forms it takes.
    pub fn parse_url(text: &str) -> AppResult<Database> {
        for scheme in ["postgres://", "postgresql://"] {
            if let Some(rest) = strip_prefix_ignore_case(text, scheme) {
                if rest.trim().is_empty() {
                    return Err(AppError::invalid(format!(
                        "{text:?} names no server; write postgres://user@host:port/database"
                    )));
                }
                return Ok(Database::Postgres(text.to_string()));
            }
        }
        for scheme in ["sqlite://", "sqlite:"] {
            if let Some(path) = strip_prefix_ignore_case(text, scheme) {
                if path.is_empty() {
                    return Err(AppError::invalid(format!(
                        "{text:?} names no file; write sqlite://PATH"
                    )));
                }
                return Ok(Database::Sqlite(PathBuf::from(path)));
            }
        }
        Err(AppError::invalid(format!(
            "{text:?} is not a database URL; write postgres://user@host:port/database, or sqlite://PATH (or use --store PATH)"
        )))
    }

    /// Where it is, for messages: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => without_password(url),
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.as_bytes().get(..prefix.len())?;
    // An ASCII prefix matched byte for byte ends on a character boundary.
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| &text[prefix.len()..])
}

impl fmt::Debug for Database {
    // Never prints a password, even in a debug dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(_) => f.debug_tuple("Postgres").field(&self.describe()).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn urls_name_their_backend_and_passwords_are_never_shown() {
        let db =
            Database::parse_url("postgres://postgres:s3cret@127.0.0.1:5432/crosswalk").unwrap();
        assert_eq!(
            db.describe(),
            "postgres://postgres:***@127.0.0.1:5432/crosswalk"
        );
        assert!(!format!("{db:?}").contains("s3cret"));
        assert_eq!(
            Database::parse_url("postgresql://db/x").unwrap().describe(),
            "postgresql://db/x"
        );
        assert_eq!(
            Database::parse_url("sqlite://a/b.sqlite").unwrap(),
            Database::Sqlite("a/b.sqlite".into())
        );
        assert_eq!(
            Database::parse_url("sqlite:c.db").unwrap(),
            Database::Sqlite("c.db".into())
        );
        for bad in [
            "",
            "mysql://x/y",
            "postgres://",
            "sqlite://",
            "crosswalk.sqlite",
            "é://x",
        ] {
            let error = Database::parse_url(bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Invalid, "{bad}");
        }
    }
}
