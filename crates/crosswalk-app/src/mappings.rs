//! App namespaces (`confluence:page`, `jira:issue`...): mappings callers write, one
//! revision per change, and the look-ups migration apps make (pages of a namespace, batch
//! find by any alternate key). The mapping API of the next issue is a front end to these.

use crosswalk_store::scope::{
    FindAnswer, MAX_BATCH, MappingBrief, MappingPage, Namespace, RevisionRow,
};

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::read::scope_error;

impl App {
    /// Sets an app mapping's value; `None` when it already had that value (no revision).
    pub async fn set_app_mapping(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        source_key: &str,
        value: &str,
    ) -> AppResult<Option<RevisionRow>> {
        caller.check_write(scope)?;
        let context = caller.context(self.clock.now());
        self.store
            .upsert_app(scope, namespace, source_key, value, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Marks an app mapping removed (kept with its history until a purge); `None` when it
    /// was not there.
    pub async fn delete_app_mapping(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        source_key: &str,
    ) -> AppResult<Option<RevisionRow>> {
        caller.check_write(scope)?;
        let context = caller.context(self.clock.now());
        self.store
            .delete_app(scope, namespace, source_key, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Looks up at most [`MAX_BATCH`] keys at once, answering every key in the order given.
    pub async fn find(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        keys: &[String],
    ) -> AppResult<Vec<FindAnswer>> {
        check_look_up(caller, scope, keys)?;
        self.store
            .find(scope, namespace, keys)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// [`App::find`], each found key answered with the mapping's brief (destination id,
    /// resolution, removed) instead of the whole mapping: what a look-up needs, read and
    /// sent without the evidence and candidates.
    pub async fn find_brief(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        keys: &[String],
    ) -> AppResult<Vec<FindAnswer<MappingBrief>>> {
        check_look_up(caller, scope, keys)?;
        self.store
            .find_brief(scope, namespace, keys)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// A page of a namespace's mappings in source-key order, after `after` (a page's `next`).
    pub async fn mappings(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<MappingPage> {
        caller.check_read(scope)?;
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "a page holds 1 to {MAX_BATCH} mappings, not {limit}"
            )));
        }
        self.store
            .mappings_page(scope, namespace, after, limit)
            .await
            .map_err(|e| scope_error(scope, e))
    }
}

/// What both kinds of look-up ask first: the caller reads the scope, and 1 to [`MAX_BATCH`] keys.
fn check_look_up(caller: &Caller, scope: &str, keys: &[String]) -> AppResult<()> {
    caller.check_read(scope)?;
    if keys.is_empty() || keys.len() > MAX_BATCH {
        return Err(AppError::invalid(format!(
            "a look-up takes 1 to {MAX_BATCH} keys, not {}",
            keys.len()
        )));
    }
    Ok(())
}
