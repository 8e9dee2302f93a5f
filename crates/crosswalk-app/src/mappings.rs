//! The use cases app developers call: a namespace's mappings a keyset page at a time, a batch
//! look-up answering every key, and writing app namespaces (each change a revision).

use crosswalk_store::scope::{FindAnswer, MAX_APP_VALUE_LEN, MAX_BATCH, MAX_KEY_LEN, MappingPage, Namespace, RevisionRow, check_key};

use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::App;

/// One change of a bulk write to an app namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppChange {
    Upsert { source_key: String, value: String },
    Delete { source_key: String },
}

impl App {
    /// A page of the namespace's mappings in source-key order after `after` (the previous
    /// page's `next`), at most `limit` (1 to [`MAX_BATCH`]).
    pub async fn mappings_page(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<MappingPage> {
        caller.check_read(scope)?;
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!("a page holds 1 to {MAX_BATCH} mappings, not {limit}")));
        }
        Ok(self.store.mappings_page(scope, namespace, after, limit).await?)
    }

    /// Looks up to [`MAX_BATCH`] keys at once and answers every one, in the order given.
    pub async fn find(&self, caller: &Caller, scope: &str, namespace: &Namespace, keys: &[String]) -> AppResult<Vec<FindAnswer>> {
        caller.check_read(scope)?;
        if keys.len() > MAX_BATCH {
            return Err(AppError::invalid(format!("a look-up takes at most {MAX_BATCH} keys, not {}; split it", keys.len())));
        }
        for (index, key) in keys.iter().enumerate() {
            check_key(&format!("key {index}"), key, MAX_KEY_LEN)?;
        }
        Ok(self.store.find(scope, namespace, keys).await?)
    }

    /// Writes app mappings, one revision per change that changes something; returns the
    /// revisions made. Identity namespaces are written by runs only. Every change is
    /// checked before the first is written.
    pub async fn write_app(&self, caller: &Caller, scope: &str, namespace: &Namespace, changes: &[AppChange]) -> AppResult<Vec<RevisionRow>> {
        caller.check_write(scope)?;
        if namespace.is_identity() {
            return Err(AppError::invalid(format!(
                "{namespace} is written by runs; write app namespaces (product:entity, e.g. jira:issue) instead"
            )));
        }
        if changes.len() > MAX_BATCH {
            return Err(AppError::invalid(format!("a write takes at most {MAX_BATCH} changes, not {}; split it", changes.len())));
        }
        for (index, change) in changes.iter().enumerate() {
            match change {
                AppChange::Upsert { source_key, value } => {
                    check_key(&format!("change {index}'s key"), source_key, MAX_KEY_LEN)?;
                    check_key(&format!("change {index}'s value"), value, MAX_APP_VALUE_LEN)?;
                }
                AppChange::Delete { source_key } => check_key(&format!("change {index}'s key"), source_key, MAX_KEY_LEN)?,
            }
        }
        let context = caller.context(self.clock.now());
        let mut revisions = Vec::new();
        for change in changes {
            let revision = match change {
                AppChange::Upsert { source_key, value } => self.store.upsert_app(scope, namespace, source_key, value, &context).await?,
                AppChange::Delete { source_key } => self.store.delete_app(scope, namespace, source_key, &context).await?,
            };
            revisions.extend(revision);
        }
        Ok(revisions)
    }
}
