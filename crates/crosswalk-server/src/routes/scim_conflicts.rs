//! The SCIM service's held group conflicts under `/api/v1/scopes/{scope}/scim/conflicts`:
//! list them (reader), accept or reject one (writer). The same use cases as
//! `crosswalk scim conflicts|accept|reject`.

use axum::extract::State;
use crosswalk_app::{ConflictDecision, GroupConflict};
use crosswalk_store::scope::Role;

use super::native::visible_scope;
use crate::error::{ApiJson, ApiPath, ApiResult};
use crate::{Principal, ServerState};

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str = "No such scope for this token (a scope of another token reads the same), or no conflict held for that group";

/// The group conflicts held in the scope: a provider pushed members to a migrated group
/// that differ from the migration's; each with the migrated and pushed members.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/scim/conflicts", tag = "scim", security(("token" = [])),
    params(("scope" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn conflicts(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<GroupConflict>>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .scim_conflicts(&principal.caller()?, &scope)
            .await?,
    ))
}

async fn decide(
    state: &ServerState,
    principal: &Principal,
    scope: &str,
    group: &str,
    decision: ConflictDecision,
) -> ApiResult<ApiJson<GroupConflict>> {
    visible_scope(state, principal, scope).await?;
    principal.check_role(Role::Writer)?;
    Ok(ApiJson(
        state
            .app
            .scim_settle_conflict(&principal.caller()?, scope, group, decision)
            .await?,
    ))
}

/// Accepts a held conflict: the provider's members become the group's.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/scim/conflicts/{group}/accept", tag = "scim", security(("token" = [])),
    params(("scope" = String, Path), ("group" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn accept(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, group)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<GroupConflict>> {
    decide(&state, &principal, &scope, &group, ConflictDecision::Accept).await
}

/// Rejects a held conflict: the migrated members stay; the provider's later pushes to the
/// group are answered but change nothing.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/scim/conflicts/{group}/reject", tag = "scim", security(("token" = [])),
    params(("scope" = String, Path), ("group" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn reject(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, group)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<GroupConflict>> {
    decide(&state, &principal, &scope, &group, ConflictDecision::Reject).await
}
