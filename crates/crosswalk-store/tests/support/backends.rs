//! The two backends as every contract suite opens them, so each suite runs the same cases
//! on a fresh SQLite file and on a fresh PostgreSQL database (see `postgres.rs` for how a
//! missing server is treated).

#![allow(dead_code)]

use std::sync::Arc;

use crosswalk_store::scope::{PostgresScopeStore, ScopeWrite, SqliteScopeStore};

#[path = "postgres.rs"]
mod postgres_support;

/// A backend under test, with whatever must live as long as it (a temporary folder, a test
/// database) and where it is, to open a second handle on the same data.
pub(crate) struct Backend {
    pub(crate) store: Arc<dyn ScopeWrite>,
    location: Location,
    _guard: Box<dyn std::any::Any + Send>,
}

enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Backend {
    /// Another handle on the same data, opened separately: what a second process sees.
    pub(crate) async fn other(&self) -> Arc<dyn ScopeWrite> {
        match &self.location {
            Location::Sqlite(path) => Arc::new(SqliteScopeStore::open(path).await.unwrap()),
            Location::Postgres(url) => Arc::new(PostgresScopeStore::open(url).await.unwrap()),
        }
    }
}

pub(crate) async fn sqlite_store() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scopes.sqlite");
    let store = SqliteScopeStore::open(&path).await.unwrap();
    Some(Backend {
        store: Arc::new(store),
        location: Location::Sqlite(path),
        _guard: Box::new(dir),
    })
}

/// A fresh database on the PostgreSQL test server; `None` (a loud skip) only outside CI.
pub(crate) async fn postgres_store() -> Option<Backend> {
    let database = postgres_support::fresh_database().await?;
    let store = PostgresScopeStore::open(&database.url).await.unwrap();
    Some(Backend {
        store: Arc::new(store),
        location: Location::Postgres(database.url.clone()),
        _guard: Box::new(database),
    })
}
