//! API tokens as the store keeps them: a public id, the scope and role it grants, and the
//! SHA-256 of its secret (never the secret). Making, hashing and checking tokens is the
//! server's; the store only keeps the rows. Both backends keep them (table `api_tokens`,
//! times in whole seconds), so several servers on one PostgreSQL database share them.

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;

use super::error::{ScopeError, ScopeResult};
use super::postgres::PostgresScopeStore;
use super::sqlite::SqliteScopeStore;
use super::{StoreFuture, check_name};

/// What a token's holder may do in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads mappings, jobs, the change feed.
    Reader,
    /// Also writes app namespaces and exceptions, and runs jobs.
    Writer,
    /// Also manages the scope's tokens and retention.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> ScopeResult<Role> {
        match text {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "admin" => Ok(Role::Admin),
            _ => Err(ScopeError::invalid(format!(
                "{text:?} is not a role; use reader, writer or admin"
            ))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token as listed: everything but its secret (which is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub public_id: String,
    /// `None`: an instance admin token (every scope, and managing scopes and tokens).
    pub scope: Option<String>,
    pub role: Role,
    /// What the token is for, said by whoever made it.
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token with the hash its secret must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: TokenRow,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
}

/// What making a token stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub public_id: String,
    pub scope: Option<String>,
    pub role: Role,
    pub label: String,
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// Keeping tokens. Object-safe, like the scope traits.
pub trait TokenStore: Send + Sync {
    /// Stores a new token; its scope must exist (not found otherwise).
    fn create_token<'a>(&'a self, token: &'a NewToken) -> StoreFuture<'a, TokenRow>;

    /// The token with that public id, revoked or not; not found when there is none.
    fn token<'a>(&'a self, public_id: &'a str) -> StoreFuture<'a, TokenRecord>;

    /// The tokens of one scope, or (with `None`) every token, oldest first.
    fn tokens<'a>(&'a self, scope: Option<&'a str>) -> StoreFuture<'a, Vec<TokenRow>>;

    /// Revokes a token from `at` on; revoking a revoked token keeps the first time.
    fn revoke_token<'a>(
        &'a self,
        public_id: &'a str,
        at: OffsetDateTime,
    ) -> StoreFuture<'a, TokenRow>;
}

fn row_to_token(row: &sqlx::sqlite::SqliteRow) -> ScopeResult<TokenRecord> {
    let unreadable =
        |error: sqlx::Error| ScopeError::corrupt(format!("a stored token is unreadable: {error}"));
    let time = |seconds: i64| {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| ScopeError::corrupt(format!("a stored time {seconds} is out of range")))
    };
    let role: String = row.try_get("role").map_err(unreadable)?;
    let revoked_at: Option<i64> = row.try_get("revoked_at").map_err(unreadable)?;
    Ok(TokenRecord {
        token: TokenRow {
            public_id: row.try_get("public_id").map_err(unreadable)?,
            scope: row.try_get("scope_name").map_err(unreadable)?,
            role: Role::parse(&role).map_err(|e| ScopeError::corrupt(e.message().to_string()))?,
            label: row.try_get("label").map_err(unreadable)?,
            created_at: time(row.try_get("created_at").map_err(unreadable)?)?,
            created_by: row.try_get("created_by").map_err(unreadable)?,
            revoked_at: revoked_at.map(time).transpose()?,
        },
        secret_hash: row.try_get("secret_hash").map_err(unreadable)?,
    })
}

/// `at` in the whole seconds both backends store.
fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.unix_timestamp()).unwrap_or(at)
}

/// What [`TokenStore::create_token`] answers: the row as a later read gives it.
fn created_row(token: &NewToken) -> TokenRow {
    TokenRow {
        public_id: token.public_id.clone(),
        scope: token.scope.clone(),
        role: token.role,
        label: token.label.clone(),
        created_at: whole_seconds(token.created_at),
        created_by: token.created_by.clone(),
        revoked_at: None,
    }
}

/// The columns every token query reads, in one place (sqlx takes only `'static` SQL text).
macro_rules! columns {
    () => {
        "public_id, scope_name, role, label, secret_hash, created_at, created_by, revoked_at"
    };
}

impl TokenStore for SqliteScopeStore {
    fn create_token<'a>(&'a self, token: &'a NewToken) -> StoreFuture<'a, TokenRow> {
        Box::pin(async move {
            check_name("token label", &token.label)?;
            let db =
                |cause: sqlx::Error| ScopeError::database("store a token", &self.location, cause);
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
            if let Some(scope) = &token.scope {
                let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM scopes WHERE name = ?")
                    .bind(scope)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                if found.is_none() {
                    return Err(ScopeError::not_found(format!(
                        "scope {scope:?} does not exist"
                    )));
                }
            }
            sqlx::query(concat!(
                "INSERT INTO api_tokens (",
                columns!(),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, NULL)"
            ))
            .bind(&token.public_id)
            .bind(&token.scope)
            .bind(token.role.as_str())
            .bind(&token.label)
            .bind(&token.secret_hash)
            .bind(token.created_at.unix_timestamp())
            .bind(&token.created_by)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(created_row(token))
        })
    }

    fn token<'a>(&'a self, public_id: &'a str) -> StoreFuture<'a, TokenRecord> {
        Box::pin(async move {
            let row = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM api_tokens WHERE public_id = ?"
            ))
            .bind(public_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|cause| ScopeError::database("read a token", &self.location, cause))?;
            match row {
                Some(row) => row_to_token(&row),
                None => Err(ScopeError::not_found(format!(
                    "no token has public id {public_id:?}"
                ))),
            }
        })
    }

    fn tokens<'a>(&'a self, scope: Option<&'a str>) -> StoreFuture<'a, Vec<TokenRow>> {
        Box::pin(async move {
            let sql = match scope {
                Some(_) => concat!(
                    "SELECT ",
                    columns!(),
                    " FROM api_tokens WHERE scope_name = ? ORDER BY created_at, public_id"
                ),
                None => concat!(
                    "SELECT ",
                    columns!(),
                    " FROM api_tokens WHERE ? IS NULL ORDER BY created_at, public_id"
                ),
            };
            let rows = sqlx::query(sql)
                .bind(scope)
                .fetch_all(&self.pool)
                .await
                .map_err(|cause| ScopeError::database("list tokens", &self.location, cause))?;
            rows.iter()
                .map(|row| row_to_token(row).map(|record| record.token))
                .collect()
        })
    }

    fn revoke_token<'a>(
        &'a self,
        public_id: &'a str,
        at: OffsetDateTime,
    ) -> StoreFuture<'a, TokenRow> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = ? WHERE public_id = ? AND revoked_at IS NULL",
            )
            .bind(at.unix_timestamp())
            .bind(public_id)
            .execute(&self.pool)
            .await
            .map_err(|cause| ScopeError::database("revoke a token", &self.location, cause))?;
            Ok(self.token(public_id).await?.token)
        })
    }
}

fn pg_row_to_token(row: &sqlx::postgres::PgRow) -> ScopeResult<TokenRecord> {
    let unreadable =
        |error: sqlx::Error| ScopeError::corrupt(format!("a stored token is unreadable: {error}"));
    let role: String = row.try_get("role").map_err(unreadable)?;
    Ok(TokenRecord {
        token: TokenRow {
            public_id: row.try_get("public_id").map_err(unreadable)?,
            scope: row.try_get("scope_name").map_err(unreadable)?,
            role: Role::parse(&role).map_err(|e| ScopeError::corrupt(e.message().to_string()))?,
            label: row.try_get("label").map_err(unreadable)?,
            created_at: row.try_get("created_at").map_err(unreadable)?,
            created_by: row.try_get("created_by").map_err(unreadable)?,
            revoked_at: row.try_get("revoked_at").map_err(unreadable)?,
        },
        secret_hash: row.try_get("secret_hash").map_err(unreadable)?,
    })
}

impl TokenStore for PostgresScopeStore {
    fn create_token<'a>(&'a self, token: &'a NewToken) -> StoreFuture<'a, TokenRow> {
        Box::pin(async move {
            check_name("token label", &token.label)?;
            let db =
                |cause: sqlx::Error| ScopeError::database("store a token", &self.location, cause);
            let mut tx = self.pool.begin().await.map_err(db)?;
            if let Some(scope) = &token.scope {
                // Locked like every write to the scope, so the scope cannot change under us.
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM scopes WHERE name = $1 FOR SHARE")
                        .bind(scope)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                if found.is_none() {
                    return Err(ScopeError::not_found(format!(
                        "scope {scope:?} does not exist"
                    )));
                }
            }
            sqlx::query(concat!(
                "INSERT INTO api_tokens (",
                columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)"
            ))
            .bind(&token.public_id)
            .bind(&token.scope)
            .bind(token.role.as_str())
            .bind(&token.label)
            .bind(&token.secret_hash)
            .bind(whole_seconds(token.created_at))
            .bind(&token.created_by)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(created_row(token))
        })
    }

    fn token<'a>(&'a self, public_id: &'a str) -> StoreFuture<'a, TokenRecord> {
        Box::pin(async move {
            let row = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM api_tokens WHERE public_id = $1"
            ))
            .bind(public_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|cause| ScopeError::database("read a token", &self.location, cause))?;
            match row {
                Some(row) => pg_row_to_token(&row),
                None => Err(ScopeError::not_found(format!(
                    "no token has public id {public_id:?}"
                ))),
            }
        })
    }

    fn tokens<'a>(&'a self, scope: Option<&'a str>) -> StoreFuture<'a, Vec<TokenRow>> {
        Box::pin(async move {
            let query = match scope {
                Some(scope) => sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM api_tokens WHERE scope_name = $1 ORDER BY created_at, public_id"
                ))
                .bind(scope),
                None => sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM api_tokens ORDER BY created_at, public_id"
                )),
            };
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(|cause| ScopeError::database("list tokens", &self.location, cause))?;
            rows.iter()
                .map(|row| pg_row_to_token(row).map(|record| record.token))
                .collect()
        })
    }

    fn revoke_token<'a>(
        &'a self,
        public_id: &'a str,
        at: OffsetDateTime,
    ) -> StoreFuture<'a, TokenRow> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE public_id = $2 AND revoked_at IS NULL",
            )
            .bind(whole_seconds(at))
            .bind(public_id)
            .execute(&self.pool)
            .await
            .map_err(|cause| ScopeError::database("revoke a token", &self.location, cause))?;
            Ok(self.token(public_id).await?.token)
        })
    }
}
