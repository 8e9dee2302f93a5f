//! Liveness and readiness; neither needs a token.

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ServerState;
use crate::error::{ApiError, ApiJson};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`
    status: &'static str,
}

/// The process is up and answering.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn health() -> ApiJson<Health> {
    ApiJson(Health { status: "ok" })
}

/// The store answers: the server can serve requests.
#[utoipa::path(get, path = "/ready", tag = "health", responses((status = 200, body = Health), (status = 503, body = crate::ErrorBody)))]
pub(crate) async fn ready(
    axum::extract::State(state): axum::extract::State<ServerState>,
) -> Result<ApiJson<Health>, ApiError> {
    // A primary-key read of a token that cannot exist: "not found" means the store answered.
    match state.tokens.token("readiness-probe").await {
        Err(error) if error.kind() != crosswalk_store::scope::ErrorKind::NotFound => {
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the store does not answer: {}", error.message()),
            ))
        }
        _ => Ok(ApiJson(Health { status: "ok" })),
    }
}
