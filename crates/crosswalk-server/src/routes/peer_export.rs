//! `GET /api/v1/scopes/{scope}/export?format=…`: the scope's decisions as another migration
//! tool's mapping file (`crosswalk_app::peer_export`), as `crosswalk export` writes it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use crosswalk_app::peer_export::PeerFormat;
use serde::Deserialize;
use utoipa::IntoParams;

use super::native::visible_scope;
use crate::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use crate::{Principal, ServerState};

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ExportQuery {
    /// spmt, gwm, google-dms, mover, movebot, sharegate, dryviq, dryviq-groups or jcma.
    format: String,
}

/// The scope's current decisions as a peer tool's mapping file (CSV). Identities without a
/// destination are left out or marked as the format expects; the response headers
/// `X-Crosswalk-Mapped` and `X-Crosswalk-Unmapped` count them.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/export", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ExportQuery),
    responses((status = 200, description = "The mapping file", content_type = "text/csv", body = String),
        (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn export(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let Some(format) = PeerFormat::parse(&query.format) else {
        return Err(ApiError::invalid(format!(
            "unknown format {:?}; the formats are {}",
            query.format,
            PeerFormat::names()
        )));
    };
    visible_scope(&state, &principal, &scope).await?;
    let (body, exported) = state
        .app
        .export_peer_map(&principal.caller()?, &scope, format)
        .await?;
    let filename = format!(
        "attachment; filename=\"{}-{}.csv\"",
        scope.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
        format.name()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
            (
                header::HeaderName::from_static("x-crosswalk-mapped"),
                exported.mapped.to_string(),
            ),
            (
                header::HeaderName::from_static("x-crosswalk-unmapped"),
                exported.unmapped.len().to_string(),
            ),
        ],
        body,
    )
        .into_response())
}
