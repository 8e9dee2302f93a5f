//! The web UI under `/ui/`: server-rendered HTML (maud) over the same application-layer calls
//! as the API routes, signed in with a scope token (or the instance admin token).
//!
//! - [`session`]: sign-in and sign-out, the server-side session store, and the guard every
//!   request to `/ui/` passes: security headers on every answer, and on every POST the Origin
//!   check and the form's CSRF token;
//! - [`layout`]: the page frame (skip link, header, sign-out) and small shared pieces
//!   (the bar chart, dates, links);
//! - [`scopes`]: the scopes, a scope with its jobs and runs, a job's runs;
//! - [`report`]: the report grid with its filters and paging;
//! - [`mapping`]: one mapping with its evidence, candidates, flags and revisions;
//! - [`review`]: the review queue and the decisions (accept, reject, resolve a mapping);
//! - [`items`]: a mapping's affected items and the re-attribution list with its downloads;
//! - [`planning`]: a job's pre-flight checks and dry run;
//! - [`scim`]: the SCIM service's held group conflicts, accepted or rejected;
//! - [`webhooks`]: a scope's webhook subscriptions and deliveries, failed ones redelivered.
//!
//! The stylesheet and the script are compiled into the binary (`assets/`); a page loads
//! nothing from anywhere but this server, and its Content-Security-Policy says so.
//!
//! A new page is a handler taking [`session::SignedIn`] (which redirects to the sign-in page
//! when there is no session) and answering [`Page`]; a form that changes something posts
//! with [`layout::csrf_field`] inside it and is checked by the guard before its handler runs.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;

use crate::ServerState;
use crate::error::ApiError;

pub mod items;
pub mod layout;
pub mod mapping;
pub mod planning;
pub mod report;
pub mod review;
pub mod scim;
pub mod scopes;
pub mod session;
pub mod webhooks;

pub use session::{Sessions, SignedIn};

/// The UI's routes, all under `/ui/`, and `/` sending a browser there.
pub(crate) fn router(state: ServerState) -> Router<ServerState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(scopes::scopes))
        .route(
            "/ui/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/ui/sign-out", post(session::sign_out))
        .route("/ui/assets/style.css", get(style))
        .route("/ui/assets/app.js", get(script))
        .route("/ui/scopes/{scope}", get(scopes::scope))
        .route("/ui/scopes/{scope}/jobs/{job}", get(scopes::job))
        .route("/ui/scopes/{scope}/report", get(report::report))
        .route("/ui/scopes/{scope}/report/export", get(report::export))
        .route(
            "/ui/scopes/{scope}/mappings/{kind}/{key}",
            get(mapping::mapping),
        )
        // Review and resolve, affected items, a job's check and plan.
        .route(
            "/ui/scopes/{scope}/review",
            get(review::queue).post(review::decide),
        )
        .route(
            "/ui/scopes/{scope}/mappings/{kind}/{key}/resolve",
            post(review::resolve),
        )
        .route(
            "/ui/scopes/{scope}/reattribution",
            get(items::reattribution),
        )
        .route(
            "/ui/scopes/{scope}/reattribution.csv",
            get(items::reattribution_csv),
        )
        .route(
            "/ui/scopes/{scope}/reattribution.json",
            get(items::reattribution_json),
        )
        .route(
            "/ui/scopes/{scope}/jobs/{job}/check",
            get(planning::check_and_plan),
        )
        .route("/ui/scopes/{scope}/scim/conflicts", get(scim::conflicts))
        .route(
            "/ui/scopes/{scope}/scim/conflicts/{group}",
            post(scim::decide),
        )
        .route("/ui/scopes/{scope}/webhooks", get(webhooks::webhooks))
        .route(
            "/ui/scopes/{scope}/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/ui/{*rest}", get(no_such_page).post(no_such_page))
        .layer(axum::middleware::from_fn_with_state(state, session::guard))
}

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// An embedded asset; an hour in the browser's cache (it changes only with the binary).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn no_such_page() -> UiError {
    UiError::page(
        StatusCode::NOT_FOUND,
        "There is no such page. Start again from the list of scopes.",
    )
}

/// A rendered page.
pub struct Page(pub Markup);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        axum::response::Html(self.0.into_string()).into_response()
    }
}

/// What a page answers instead of itself: the sign-in page (no session, or it ended), or an
/// error page with the status the API would give and a message saying what to do.
#[derive(Debug)]
pub enum UiError {
    /// Send the browser to sign in, coming back to `next` (a path under `/ui/`) after.
    SignIn {
        next: String,
    },
    Page {
        status: StatusCode,
        message: String,
    },
}

impl UiError {
    pub fn page(status: StatusCode, message: impl Into<String>) -> UiError {
        UiError::Page {
            status,
            message: message.into(),
        }
    }

    /// What a scope the session may not see and one that does not exist both answer.
    pub fn scope_not_found(scope: &str) -> UiError {
        UiError::from(ApiError::scope_not_found(scope))
    }
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> UiError {
        UiError::Page {
            status: error.status,
            message: error.message,
        }
    }
}

impl From<crosswalk_app::AppError> for UiError {
    fn from(error: crosswalk_app::AppError) -> UiError {
        UiError::from(ApiError::from(error))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn { next } => {
                Redirect::to(&session::sign_in_location(&next)).into_response()
            }
            UiError::Page { status, message } => {
                if status.is_server_error() {
                    tracing::error!(status = status.as_u16(), message = %message, "page failed");
                }
                (status, Page(layout::error_page(status, &message))).into_response()
            }
        }
    }
}

pub type UiResult<T> = Result<T, UiError>;
