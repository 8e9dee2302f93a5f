//! `crosswalk serve`: the mapping API over HTTP. The only crate that knows HTTP; every
//! request becomes a call to the application layer (crosswalk-app) with a [`Caller`] made from
//! the request's bearer token.
//!
//! - [`router`] builds the whole service (handler tests call it in process);
//! - [`serve`] runs it on a listener until a shutdown signal, finishing requests in flight;
//! - [`tokens`] makes and checks the bearer tokens;
//! - `routes/` holds the handlers: health and readiness, the native API under `/api/v1`, and
//!   the Atlassian-compatible mapping endpoints;
//! - [`ui`] is the web UI under `/ui/` (server-rendered HTML, signed in with a token).
//!
//! [`Caller`]: crosswalk_app::Caller

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::get;
use crosswalk_app::{App, AppError, Database, EventAnnouncer, SystemClock};
use crosswalk_store::scope::{PostgresScopeStore, SqliteScopeStore, TokenStore};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod error;
pub mod limits;
mod openapi;
pub mod routes;
pub mod token_cache;
pub mod tokens;
pub mod ui;
pub mod webhooks;

pub use error::{ApiError, ErrorBody};
pub use tokens::{IssuedToken, Principal};

/// What every handler shares: the application and the token store. Cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    pub app: App,
    /// The token store behind a short-lived cache of verified tokens ([`token_cache`]):
    /// revoking through it is seen at once by this process, by others within its time to live.
    pub tokens: Arc<dyn TokenStore>,
    /// The same cache, for [`ServerState::with_token_cache`] to replace.
    token_cache: Arc<token_cache::CachedTokens>,
    /// The web UI's sign-in sessions.
    pub sessions: Arc<ui::Sessions>,
    /// Which webhook targets may be subscribed (the worker checks again on every connection).
    pub webhook_policy: Arc<crosswalk_events::TargetPolicy>,
    /// The SCIM routes' rate limit (`crosswalk serve --scim-rate`); `None`: unlimited.
    pub scim_rate: Option<Arc<routes::scim::RateLimit>>,
    /// Kept to close it: closing checkpoints SQLite's write-ahead log into the file, and
    /// ends PostgreSQL sessions cleanly.
    store: Option<OpenedStore>,
}

/// The store [`ServerState::open`] opened, for closing it.
#[derive(Clone)]
enum OpenedStore {
    Sqlite(SqliteScopeStore),
    Postgres(PostgresScopeStore),
}

impl ServerState {
    pub fn new(app: App, tokens: Arc<dyn TokenStore>) -> ServerState {
        let cache = Arc::new(token_cache::CachedTokens::new(
            tokens,
            token_cache::DEFAULT_TOKEN_TTL,
        ));
        ServerState {
            app,
            tokens: cache.clone(),
            token_cache: cache,
            sessions: Arc::new(ui::Sessions::new(false)),
            webhook_policy: Arc::new(crosswalk_events::TargetPolicy::default()),
            scim_rate: None,
            store: None,
        }
    }

    /// Marks the web UI's cookies `Secure`: for a server reached over TLS (behind a proxy
    /// that terminates it), so a browser never sends them over plain HTTP.
    pub fn with_secure_cookies(mut self, secure: bool) -> ServerState {
        self.sessions = Arc::new(ui::Sessions::new(secure));
        self
    }

    /// Keeps verified tokens for `ttl` (`crosswalk serve --token-cache-ms`): a token revoked
    /// by another process is refused here at most `ttl` later. Zero reads every request's
    /// token from the store.
    pub fn with_token_cache(mut self, ttl: std::time::Duration) -> ServerState {
        let cache = Arc::new(token_cache::CachedTokens::new(
            self.token_cache.inner().clone(),
            ttl,
        ));
        self.tokens = cache.clone();
        self.token_cache = cache;
        self
    }

    /// The webhook targets subscriptions may name (`--webhook-allow`).
    pub fn with_webhook_policy(mut self, policy: crosswalk_events::TargetPolicy) -> ServerState {
        self.webhook_policy = Arc::new(policy);
        self
    }

    /// Answers SCIM requests beyond `per_second` a second with 429 and `Retry-After`.
    pub fn with_scim_rate(mut self, per_second: Option<u32>) -> ServerState {
        self.scim_rate = per_second.map(|rate| Arc::new(routes::scim::RateLimit::new(rate)));
        self
    }

    /// Opens (creating it if missing) the store in `database`, schema brought up to date.
    /// Several processes may open one PostgreSQL database: they share its data and tokens.
    pub async fn open(database: &Database) -> Result<ServerState, AppError> {
        let clock = Arc::new(SystemClock);
        let state = match database {
            Database::Sqlite(path) => {
                let store = SqliteScopeStore::open_for_serving(path)
                    .await?
                    .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
                let app =
                    App::new(Arc::new(store.clone()), clock).with_webhooks(Arc::new(store.clone()));
                let mut state = ServerState::new(app, Arc::new(store.clone()));
                state.store = Some(OpenedStore::Sqlite(store));
                state
            }
            Database::Postgres(url) => {
                let store = PostgresScopeStore::open(url)
                    .await?
                    .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
                let app =
                    App::new(Arc::new(store.clone()), clock).with_webhooks(Arc::new(store.clone()));
                let mut state = ServerState::new(app, Arc::new(store.clone()));
                state.store = Some(OpenedStore::Postgres(store));
                state
            }
        };
        Ok(state)
    }

    /// Closes the store's connections.
    pub async fn close(&self) {
        match &self.store {
            Some(OpenedStore::Sqlite(store)) => store.close().await,
            Some(OpenedStore::Postgres(store)) => store.close().await,
            None => {}
        }
    }
}

impl FromRequestParts<ServerState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Principal, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or(""));
        let principal = tokens::authenticate(&state.tokens, header).await?;
        // The public id only: the secret never reaches a log.
        tracing::Span::current().record("token", principal.public_id());
        Ok(principal)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole service: routes, the OpenAPI document at `/api/openapi.json`, the web UI under
/// `/ui/` (not in the API document), JSON errors for unknown routes, the body limit, request ids (taken from `x-request-id` or made, and
/// echoed), one log span per request, and the request timeout.
pub fn router(state: ServerState) -> Router {
    let (routes, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(routes::health::health))
        .routes(routes!(routes::health::ready))
        .routes(routes!(routes::compat::page))
        .routes(routes!(routes::compat::find))
        .routes(routes!(routes::compat::security_map))
        .routes(routes!(
            routes::native::list_scopes,
            routes::native::create_scope
        ))
        .routes(routes!(routes::native::show_scope))
        .routes(routes!(routes::native::list_jobs))
        .routes(routes!(
            routes::native::mappings_page,
            routes::native::write_mappings
        ))
        .routes(routes!(routes::native::find))
        .routes(routes!(routes::native::mapping))
        .routes(routes!(routes::native::changes))
        .routes(routes!(
            routes::items::import_items,
            routes::items::items_state
        ))
        .routes(routes!(routes::items::affected_items))
        .routes(routes!(routes::items::reattribution))
        .routes(routes!(
            routes::native::list_tokens,
            routes::native::create_token
        ))
        .routes(routes!(routes::native::revoke_token))
        .routes(routes!(routes::native::retention))
        .routes(routes!(routes::native::set_retention))
        .routes(routes!(routes::native::purge))
        .routes(routes!(
            routes::native::exceptions,
            routes::native::add_exception
        ))
        .routes(routes!(routes::native::remove_exception))
        .routes(routes!(routes::review::suggestions))
        .routes(routes!(routes::review::accept))
        .routes(routes!(routes::review::reject))
        .routes(routes!(routes::review::resolve))
        .routes(routes!(routes::review::destination_accounts))
        .routes(routes!(routes::review::destination_groups))
        .routes(routes!(routes::runs::start_run))
        .routes(routes!(routes::runs::task_status))
        .routes(routes!(routes::planning::check))
        .routes(routes!(routes::planning::plan))
        .routes(routes!(
            routes::webhooks::list_webhooks,
            routes::webhooks::add_webhook
        ))
        .routes(routes!(routes::webhooks::remove_webhook))
        .routes(routes!(routes::webhooks::pause_webhook))
        .routes(routes!(routes::webhooks::resume_webhook))
        .routes(routes!(routes::webhooks::list_deliveries))
        .routes(routes!(routes::webhooks::redeliver))
        .routes(routes!(routes::webhooks::list_events))
        // Peer tools' mapping files (issue 20).
        .routes(routes!(routes::peer_export::export))
        .routes(routes!(routes::report::report_page))
        .routes(routes!(routes::report::report_counts))
        .routes(routes!(routes::report::report_export))
        .routes(routes!(routes::scim_conflicts::conflicts))
        .routes(routes!(routes::scim_conflicts::accept))
        .routes(routes!(routes::scim_conflicts::reject))
        .split_for_parts();
    let document = Arc::new(api);
    let routes = routes
        .route(
            "/api/openapi.json",
            get(move || std::future::ready(axum::Json(document.as_ref().clone()))),
        )
        .merge(ui::router(state.clone()))
        .merge(routes::scim::router())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .with_state(state);
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        // The path only: queries hold no secrets, but keys can be personal data.
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %request_id,
                            token = tracing::field::Empty,
                        )
                    })
                    // One line per request at info: status and latency, inside the request's span.
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits::REQUEST_TIMEOUT,
            )),
    )
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then stops accepting
/// and finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a handler there is nothing to wait for; SIGTERM still works.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Structured logs: one JSON object per line on standard error, filtered by `RUST_LOG`
/// (default `info`). Calling it twice keeps the first.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
