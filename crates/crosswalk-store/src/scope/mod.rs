//! The scope-centric store: durable per-scope mappings with revisions (issue 15).
//!
//! A **scope** pairs one source instance with one destination instance; its **jobs**
//! (transfers, each with a transfer id) all read and write the same current mappings. A
//! mapping is keyed by (scope, namespace, source key); every change to it is a **revision**,
//! and the revisions after a [`Cursor`] are the scope's change feed. A run *reconciles*
//! ([`reconcile`]): it writes only what differs from the scope's current state, and marks
//! mappings whose source identity is gone as removed. Nothing expires on its own.
//!
//! Callers reach a store through two object-safe traits split by capability: [`ScopeRead`]
//! (a read-only view: `Arc<dyn ScopeRead>`) and [`ScopeWrite`]. Row types are the store's
//! own ([`model`]); core's values come in through explicit conversions. SQL lives in the
//! backend modules ([`sqlite`]); everything else here is dialect-neutral.

use std::future::Future;
use std::pin::Pin;

use crosswalk_core::ReportRow;
use uuid::Uuid;

pub mod contents;
pub mod error;
pub mod find;
pub mod items;
pub mod keys;
pub mod model;
pub mod postgres;
pub mod reconcile;
pub mod report_query;
mod run_plan;
pub mod scim;
mod scope_cache;
pub mod sqlite;
pub mod tasks;
pub mod tokens;
pub mod webhooks;

pub use error::{ErrorKind, ScopeError, ScopeResult};
pub use items::{
    AffectedItem, ItemCounts, ItemFilter, ItemPage, ItemReferenceRow, ItemReferencesState,
};
pub use model::*;
pub use postgres::{PostgresScopeStore, without_password};
pub use report_query::{
    Rejections, ReportColumn, ReportCounts, ReportItem, ReportPage, ReportView, ResolutionCount,
};
pub use scim::{Expect, NewScimResource, ScimKey, ScimKind, ScimResource, ScimStore, ScimWrite};
pub use sqlite::SqliteScopeStore;
pub use tasks::{TaskError, TaskRow, TaskState};
pub use tokens::{NewToken, Role, TokenRecord, TokenRow, TokenStore};
pub use webhooks::{
    Announcer, AttemptResult, ClaimedDelivery, Committed, DeliveryRow, DeliveryState,
    ExceptionNote, NewSubscription, OutboxEvent, OutboxRow, RevisionBatch, SubscriptionRow,
    WebhookStore,
};

/// What every store method returns: a boxed future, so the traits stay object-safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = ScopeResult<T>> + Send + 'a>>;

/// Where [`ScopeRead::report_each`] hands report rows.
pub type ReportSink<'s> = dyn FnMut(ReportRow) -> ScopeResult<()> + Send + 's;

/// One identity mapping of the report as stored, before it becomes a row: what the report
/// query filters, searches and sorts by (flags and candidates included).
#[derive(Debug, Clone, Copy)]
pub struct ReportValueRef<'v> {
    pub kind: crosswalk_core::IdentityKind,
    /// The job the row is reported under.
    pub job: &'v str,
    pub source_key: &'v str,
    pub value: &'v IdentityValue,
}

/// Where [`ScopeRead::report_values_each`] hands the stored values.
pub type ReportValueSink<'s> = dyn for<'v> FnMut(ReportValueRef<'v>) -> ScopeResult<()> + Send + 's;

/// Reading a store. Every method names its scope; nothing crosses scopes.
pub trait ScopeRead: Send + Sync {
    /// Where the store lives (a file path, `:memory:`, a URL without its password).
    fn location(&self) -> &str;

    /// Every scope, by name.
    fn scopes(&self) -> StoreFuture<'_, Vec<ScopeRow>>;

    fn scope<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ScopeRow>;

    /// The scope's jobs, by name.
    fn jobs<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<JobRow>>;

    /// The job a transfer id names, with its scope: a transfer reads its scope's mappings.
    fn job_by_transfer(&self, transfer_id: Uuid) -> StoreFuture<'_, (ScopeRow, JobRow)>;

    /// The scope's runs (of one job, or all), oldest first.
    fn runs<'a>(&'a self, scope: &'a str, job: Option<&'a str>) -> StoreFuture<'a, Vec<RunRow>>;

    /// A page of a namespace's mappings (removed ones included, marked), in source-key order
    /// after `after` (a page's `next`), at most `limit` (1 to [`MAX_BATCH`]). Keyset paging:
    /// a write between two pages neither repeats nor skips a key that was there throughout.
    fn mappings_page<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, MappingPage>;

    /// Looks up at most [`MAX_BATCH`] keys at once; answers every key, in the order given:
    /// found (and by which form: source key, username, email, or a platform-prefixed form),
    /// not found, or ambiguous. A mapping marked removed is still found (it says so), unless
    /// a live one answers the same key: content made by someone who has left still needs
    /// its mapping.
    fn find<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        keys: &'a [String],
    ) -> StoreFuture<'a, Vec<FindAnswer>>;

    /// [`ScopeRead::find`], each found key answered with its [`MappingBrief`] (destination
    /// id, resolution, removed) instead of the whole mapping: the same answers, read without
    /// the evidence and candidates.
    fn find_brief<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        keys: &'a [String],
    ) -> StoreFuture<'a, Vec<FindAnswer<MappingBrief>>>;

    /// One mapping (by its source key) with every revision, oldest first.
    fn mapping<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
    ) -> StoreFuture<'a, MappingHistory>;

    /// The scope's revisions after `after`, in commit order, at most `limit` (1 to
    /// [`MAX_BATCH`]).
    fn changes<'a>(
        &'a self,
        scope: &'a str,
        after: Cursor,
        limit: usize,
    ) -> StoreFuture<'a, ChangePage>;

    /// The 12-column report: the scope's current identity mappings (not the removed ones),
    /// or those of the source identities one job's latest run resolved. By type, source id.
    fn report<'a>(&'a self, scope: &'a str, of: &'a ReportOf) -> StoreFuture<'a, Vec<ReportRow>> {
        Box::pin(async move {
            let mut rows = Vec::new();
            let mut push = |row: ReportRow| {
                rows.push(row);
                Ok(())
            };
            self.report_each(scope, of, &mut push).await?;
            Ok(rows)
        })
    }

    /// Like [`ScopeRead::report`], handing rows to `sink` one at a time as they are read, so
    /// an export of millions of rows runs in constant memory. Stops at the first error the
    /// sink returns (make it with [`ScopeError::stopped`]). Returns the rows handed over.
    fn report_each<'a>(
        &'a self,
        scope: &'a str,
        of: &'a ReportOf,
        sink: &'a mut ReportSink<'_>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut rows =
                |value: ReportValueRef<'_>| sink(value.value.report_row(value.kind, value.job)?);
            self.report_values_each(scope, of, &mut rows).await
        })
    }

    /// The report's mappings as stored values, in the report's natural order (users, then
    /// groups, each by source key), one at a time: what [`report_query`] works over.
    fn report_values_each<'a>(
        &'a self,
        scope: &'a str,
        of: &'a ReportOf,
        sink: &'a mut ReportValueSink<'_>,
    ) -> StoreFuture<'a, u64>;

    /// One keyset page of the report under `view` (filters, search, sort): at most `limit`
    /// (1 to [`MAX_BATCH`]) rows after `after` (a page's opaque `next`). `rejected` holds the
    /// candidates people rejected, so a rejected one is not a suggestion.
    fn report_page<'a>(
        &'a self,
        scope: &'a str,
        view: &'a ReportView,
        rejected: &'a Rejections,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, ReportPage> {
        Box::pin(report_query::page(
            self, scope, view, rejected, after, limit,
        ))
    }

    /// How many rows `view` matches, and per resolution how many match every filter but the
    /// resolution one (what the resolution boxes choose among).
    fn report_counts<'a>(
        &'a self,
        scope: &'a str,
        view: &'a ReportView,
        rejected: &'a Rejections,
    ) -> StoreFuture<'a, ReportCounts> {
        Box::pin(report_query::counts(self, scope, view, rejected))
    }

    /// The rows `view` matches, in the natural order (the sort is for pages: an export in
    /// any other order would have to hold the whole report), handed to `sink` one at a
    /// time, skipping the first `skip` (a later part of a split export), at most `take`.
    fn report_view_each<'a>(
        &'a self,
        scope: &'a str,
        view: &'a ReportView,
        rejected: &'a Rejections,
        skip: u64,
        take: Option<u64>,
        sink: &'a mut ReportSink<'_>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(report_query::each(
            self, scope, view, rejected, skip, take, sink,
        ))
    }

    /// The scope's current exception rules and their version.
    fn exceptions<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ExceptionSet>;

    /// Every add and remove of the scope's exception rules, oldest first.
    fn exception_changes<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<ExceptionChange>>;

    /// The scope's identity choices (how runs handled the identities they were given fixes
    /// for), by source key, and their version.
    fn choices<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ChoiceSet>;

    /// Every choice a run replaced with another, oldest first.
    fn choice_switches<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<ChoiceSwitchRow>>;

    /// The retention set for each namespace that has one (the rest keep forever).
    fn retention<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, Vec<RetentionRow>>;

    /// A directory's contents, by hash, if one of the scope's runs resolved it.
    fn content<'a>(&'a self, scope: &'a str, hash: &'a str) -> StoreFuture<'a, DirectoryContent>;

    /// How many item references the scope holds, and when they were imported.
    fn item_references<'a>(&'a self, scope: &'a str) -> StoreFuture<'a, ItemReferencesState>;

    /// A page of the item references that name one mapping's identity (see [`items`] for
    /// how they are matched), in (container, item, role, identity) order after `after` (a
    /// page's `next`), at most `limit` (1 to [`MAX_BATCH`]). Not found when the scope has no
    /// such mapping.
    fn affected_items<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        filter: &'a ItemFilter,
        after: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, ItemPage>;

    /// Per mapping (by source key, at most [`MAX_BATCH`]), in the order given: its
    /// references per role and its permission count. A key with no mapping counts nothing.
    fn item_counts<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_keys: &'a [String],
    ) -> StoreFuture<'a, Vec<ItemCounts>>;

    /// The policy text of one of the scope's policy versions (a run's `policy_version`), as
    /// the run recorded it: what resolving the same job again needs.
    fn policy<'a>(&'a self, scope: &'a str, version: u32) -> StoreFuture<'a, String>;

    /// One of the scope's background run tasks; not found for another scope's.
    fn task<'a>(&'a self, scope: &'a str, id: &'a str) -> StoreFuture<'a, TaskRow>;
}

/// Writing a store. Each method is one transaction: on any error nothing is written.
pub trait ScopeWrite: ScopeRead {
    /// Creates a scope; a name already taken is a conflict.
    fn create_scope<'a>(
        &'a self,
        scope: &'a NewScope,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ScopeRow>;

    /// The scope's job of that name, created (with a new transfer id) if it has none.
    fn job<'a>(
        &'a self,
        scope: &'a str,
        name: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, JobRow>;

    /// Records a run: reconciles its resolution with the scope's current state and writes
    /// only what differs, one revision per change. Runs on one scope are serialised: each
    /// diffs against the state the previous one left.
    fn record_run<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, RunRow> {
        self.record_run_choosing(run, None)
    }

    /// [`ScopeWrite::record_run`], recording `choices` in the same transaction: each one new
    /// or different from the scope's is written, a replaced one logged as a switch (with the
    /// run, so who and when). Refused as a conflict, writing nothing, when the scope's
    /// choices moved past `choices.version` meanwhile.
    fn record_run_choosing<'a>(
        &'a self,
        run: &'a RunRecord,
        choices: Option<&'a RunChoices>,
    ) -> StoreFuture<'a, RunRow>;

    /// Sets an app mapping's value; `None` when it already had that value (no revision).
    fn upsert_app<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        value: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, Option<RevisionRow>>;

    /// Marks an app mapping removed; `None` when it was not there (or already removed).
    fn delete_app<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        source_key: &'a str,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, Option<RevisionRow>>;

    /// Adds (or replaces, for the same kind and source) an exception rule: a new version.
    fn add_exception<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet>;

    /// Adds (or replaces) several exception rules in one transaction: every rule is stored,
    /// or on any error none is. Each rule that changes something is its own version and
    /// change record, as with [`ScopeWrite::add_exception`].
    fn add_exceptions<'a>(
        &'a self,
        scope: &'a str,
        rules: &'a [ExceptionRow],
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet>;

    /// [`ScopeWrite::add_exception`], passing `note` (the application layer's own value, a
    /// review decision) to the announcer with the change, so its event says why (issue 21).
    fn add_exception_noting<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
        note: &'a webhooks::ExceptionNote,
    ) -> StoreFuture<'a, ExceptionSet>;

    /// Removes the rule for that kind and source: a new version. Not found if there is none.
    fn remove_exception<'a>(
        &'a self,
        scope: &'a str,
        rule: &'a ExceptionRow,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ExceptionSet>;

    fn set_retention<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        retention: Retention,
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, RetentionRow>;

    /// Removes for good the namespace's mappings marked removed longer ago than its
    /// retention allows (with [`Retention::Forever`], none), recording one revision per
    /// mapping; says what it removed. With `dry_run`, says what it would remove and writes
    /// nothing.
    fn purge<'a>(
        &'a self,
        scope: &'a str,
        namespace: &'a Namespace,
        context: &'a ChangeContext,
        dry_run: bool,
    ) -> StoreFuture<'a, PurgeReport>;

    /// Replaces the scope's item references with these (exact repeats kept once), in one
    /// transaction: a bad reference stores nothing.
    fn replace_item_references<'a>(
        &'a self,
        scope: &'a str,
        references: &'a [ItemReferenceRow],
        context: &'a ChangeContext,
    ) -> StoreFuture<'a, ItemReferencesState>;

    /// Keeps a background run task's state (inserted, or its state, step, end, outcome and
    /// error replaced), so every server on the store answers its status.
    fn save_task<'a>(&'a self, task: &'a TaskRow) -> StoreFuture<'a, TaskRow>;

    /// The SCIM service's resources in this store (issue 19); `None` for a store without them.
    fn scim(&self) -> Option<&dyn ScimStore> {
        None
    }
}
