//! Crosswalk's application layer: the use cases the CLI and the server both call (import a
//! job's inputs, run a job, report, explain, history, change feed, purge, scopes, jobs, review
//! suggestions and decisions).
//!
//! It owns what the layers below refuse to: the clock ([`Clock`]), the actor and the scope
//! checks ([`Caller`]: a caller bound to scope S cannot touch scope T), and progress as
//! events ([`Progress`]) that the CLI draws and a server reports. Errors carry a kind
//! ([`ErrorKind`]) a server maps to a status. No HTTP, no terminal: printing is the
//! caller's.
//!
//! The store is reached through the scope store's traits, so any backend (SQLite today,
//! PostgreSQL later) serves every use case.

use std::sync::Arc;

use crosswalk_store::scope::{PostgresScopeStore, ScopeWrite, SqliteScopeStore, WebhookStore};

pub mod access;
pub mod check;
mod check_read;
pub mod clock;
pub mod database;
pub mod error;
pub mod exceptions;
pub mod import;
pub mod items;
pub mod job_check;
pub mod mappings;
pub mod peer_export;
pub mod plan;
mod plan_digest;
pub mod progress;
pub mod read;
pub mod report_query;
pub mod review;
pub mod run;
pub mod scim;
pub mod tasks;
pub mod webhooks;

pub use access::{Access, Caller};
pub use check::{CheckOutcome, CheckRequest, check};
pub use clock::{Clock, FixedClock, SystemClock};
/// The user scope a check takes (re-exported: callers need not depend on the planning crate).
pub use crosswalk_plan::UserScope;
pub use database::Database;
pub use error::{AppError, AppResult, ErrorKind};
pub use import::{InputFiles, JobInput, import, import_from};
pub use items::{AffectedItems, ChangeEntry, ChangeFeed, Reattribution, ReattributionEntry};
pub use job_check::JobCheck;
pub use plan::{PlanCounts, PlanOutcome, PlanRow, plan_new_scope};
pub use progress::{Progress, ProgressSink};
pub use read::{Explanation, ReportEntry, ReportFilter, ReportStop, ScopeOverview};
pub use report_query::{EXCEL_MAX_ROWS, ReportParts, report_part_rows};
pub use review::{
    Decision, DestinationIdentity, REJECTIONS_NAMESPACE, ResolveOutcome, ReviewOutcome,
    ReviewSelection, SuggestionEntry,
};
pub use run::{DEFAULT_SCOPE, RunOutcome, RunRequest};
pub use scim::{ConflictDecision, GroupConflict, ScimPage, ScimResourceType};
pub use webhooks::{DecisionNote, DeliveryRound, DeliverySettings, EventAnnouncer, NewWebhook};

/// The application: a store and a clock. Cheap to clone; a server holds one as shared state.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn ScopeWrite>,
    clock: Arc<dyn Clock>,
    /// Kept to close it: closing checkpoints SQLite's write-ahead log into the file, and
    /// ends PostgreSQL sessions cleanly.
    backend: Option<Backend>,
    /// Subscriptions, the outbox and deliveries (issue 21): the same store, when opened here.
    webhooks: Option<Arc<dyn WebhookStore>>,
    /// Which scopes' SCIM views this process saw seeded, and when (issue 19).
    scim_seeds: Arc<scim::SeedCache>,
}

/// The concrete store behind `store`, for what the traits do not cover (closing).
#[derive(Clone)]
enum Backend {
    Sqlite(SqliteScopeStore),
    Postgres(PostgresScopeStore),
}

impl App {
    pub fn new(store: Arc<dyn ScopeWrite>, clock: Arc<dyn Clock>) -> App {
        App {
            store,
            clock,
            backend: None,
            webhooks: None,
            scim_seeds: Default::default(),
        }
    }

    /// Keeps webhook subscriptions, the outbox and deliveries in `store` (the same store as
    /// the application's, with an [`EventAnnouncer`] installed, so its writes announce).
    pub fn with_webhooks(mut self, store: Arc<dyn WebhookStore>) -> App {
        self.webhooks = Some(store);
        self
    }

    /// Opens (creating it if missing) the store in `database` and brings its schema up to date.
    pub async fn open(database: &Database, clock: Arc<dyn Clock>) -> AppResult<App> {
        match database {
            Database::Sqlite(path) => {
                // The store's messages already name the file.
                let store = SqliteScopeStore::open(path)
                    .await?
                    .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
                Ok(App {
                    store: Arc::new(store.clone()),
                    clock,
                    backend: Some(Backend::Sqlite(store.clone())),
                    webhooks: Some(Arc::new(store)),
                    scim_seeds: Default::default(),
                })
            }
            Database::Postgres(url) => {
                // The store's messages name the server, never the password.
                let store = PostgresScopeStore::open(url)
                    .await?
                    .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
                Ok(App {
                    store: Arc::new(store.clone()),
                    clock,
                    backend: Some(Backend::Postgres(store.clone())),
                    webhooks: Some(Arc::new(store)),
                    scim_seeds: Default::default(),
                })
            }
        }
    }

    /// A private in-memory SQLite store, for tests.
    pub async fn open_in_memory(clock: Arc<dyn Clock>) -> AppResult<App> {
        let store = SqliteScopeStore::open_in_memory()
            .await?
            .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
        Ok(App {
            store: Arc::new(store.clone()),
            clock,
            backend: Some(Backend::Sqlite(store.clone())),
            webhooks: Some(Arc::new(store)),
            scim_seeds: Default::default(),
        })
    }

    /// Closes the store's connections (an SQLite file gets its write-ahead log back).
    pub async fn close(&self) {
        match &self.backend {
            Some(Backend::Sqlite(store)) => store.close().await,
            Some(Backend::Postgres(store)) => store.close().await,
            None => {}
        }
    }

    /// Where the store is, for messages (never a password).
    pub fn location(&self) -> &str {
        self.store.location()
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.store.location())
            .finish_non_exhaustive()
    }
}
