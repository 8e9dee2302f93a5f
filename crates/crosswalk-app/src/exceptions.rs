//! A scope's exception rules, one at a time: list, add (or replace, for the same kind and
//! source), remove. Each change is a new version of the rules, which the next run applies.

use crosswalk_store::scope::{ExceptionRow, ExceptionSet, MAX_KEY_LEN, check_key};

use crate::App;
use crate::access::Caller;
use crate::error::AppResult;
use crate::read::scope_error;
use crate::run::{row_from_rule, rule_from_row};

/// The rule as a run reads it back (`Id:42` becomes `id:42`), refusing an empty side.
fn canonical(rule: &ExceptionRow) -> AppResult<ExceptionRow> {
    check_key("exception's source", rule.source.trim(), MAX_KEY_LEN)?;
    check_key(
        "exception's destination",
        rule.destination.trim(),
        MAX_KEY_LEN,
    )?;
    Ok(row_from_rule(&rule_from_row(rule)))
}

impl App {
    /// The scope's exception rules and their version.
    pub async fn exceptions(&self, caller: &Caller, scope: &str) -> AppResult<ExceptionSet> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        Ok(self.store.exceptions(scope).await?)
    }

    /// Adds a rule, or replaces the one with the same kind and source: a new version.
    pub async fn add_exception(
        &self,
        caller: &Caller,
        scope: &str,
        rule: &ExceptionRow,
    ) -> AppResult<ExceptionSet> {
        caller.check_write(scope)?;
        let rule = canonical(rule)?;
        let context = caller.context(self.clock.now());
        self.store
            .add_exception(scope, &rule, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Adds (or replaces) several rules as one transaction (`crosswalk exceptions import`):
    /// every rule is checked first, then all are stored, or on any error none is.
    pub async fn add_exceptions(
        &self,
        caller: &Caller,
        scope: &str,
        rules: &[ExceptionRow],
    ) -> AppResult<ExceptionSet> {
        caller.check_write(scope)?;
        let rules = rules.iter().map(canonical).collect::<AppResult<Vec<_>>>()?;
        let context = caller.context(self.clock.now());
        self.store
            .add_exceptions(scope, &rules, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// [`App::add_exception`] recording a review decision: its events say so (issue 21).
    pub(crate) async fn add_exception_deciding(
        &self,
        caller: &Caller,
        scope: &str,
        rule: &ExceptionRow,
        note: crate::webhooks::DecisionNote,
    ) -> AppResult<ExceptionSet> {
        caller.check_write(scope)?;
        let rule = canonical(rule)?;
        let context = caller.context(self.clock.now());
        self.store
            .add_exception_noting(scope, &rule, &context, &note)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Removes the rule for that kind and source (the destination is not compared): a new
    /// version. Not found when there is none.
    pub async fn remove_exception(
        &self,
        caller: &Caller,
        scope: &str,
        rule: &ExceptionRow,
    ) -> AppResult<ExceptionSet> {
        caller.check_write(scope)?;
        check_key("exception's source", rule.source.trim(), MAX_KEY_LEN)?;
        let destination = if rule.destination.trim().is_empty() {
            "-".to_string()
        } else {
            rule.destination.clone()
        };
        let rule = row_from_rule(&rule_from_row(&ExceptionRow {
            destination,
            ..rule.clone()
        }));
        let context = caller.context(self.clock.now());
        self.store
            .remove_exception(scope, &rule, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }
}
