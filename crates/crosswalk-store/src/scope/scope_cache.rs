//! Scope rows kept in memory once read, so a look-up does not ask the database for its
//! scope's row every time (docs/performance.md, "The mapping API").
//!
//! Nothing goes stale: what is kept (the id, name, labels, creation) never changes once a
//! scope is made, and scopes are never deleted or renamed. Only scopes that were found are
//! kept, and only from reads outside a transaction (a scope made in a transaction that rolls
//! back is never seen here), so a scope made by another process is found at once. The map
//! holds at most one entry per scope in the store.

use std::collections::HashMap;
use std::sync::RwLock;

use super::model::ScopeRow;

#[derive(Debug, Default)]
pub(crate) struct ScopeCache {
    rows: RwLock<HashMap<String, (i64, ScopeRow)>>,
}

impl ScopeCache {
    pub(crate) fn get(&self, name: &str) -> Option<(i64, ScopeRow)> {
        let rows = self.rows.read().unwrap_or_else(|e| e.into_inner());
        rows.get(name).cloned()
    }

    pub(crate) fn keep(&self, id: i64, row: &ScopeRow) {
        let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
        rows.insert(row.name.clone(), (id, row.clone()));
    }
}
