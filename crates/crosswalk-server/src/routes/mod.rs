//! The handlers, one module per part of the API.

pub(crate) mod compat;
pub(crate) mod health;
pub(crate) mod items;
pub(crate) mod native;
pub(crate) mod peer_export;
pub(crate) mod planning;
pub(crate) mod report;
pub(crate) mod review;
pub mod runs;
pub mod scim;
pub(crate) mod scim_conflicts;
pub(crate) mod webhooks;

use crate::error::ApiError;

/// Any path the API does not have.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_such_route",
        "no such route; the API's routes are listed in /api/openapi.json",
    )
}
