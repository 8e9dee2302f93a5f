//! Review and resolve under `/api/v1/scopes/{scope}`: the suggestions, accepting and
//! rejecting them (one, several, or all above a score), resolving any identity mapping, and
//! the searchable list of destination identities. Decisions need a writer token and record
//! the token as their actor; a decision is applied by resolving the job again, which runs the
//! engine on a blocking thread.

use axum::extract::State;
use axum::http::StatusCode;
use crosswalk_app::{
    AppResult, Decision, DestinationIdentity, ResolveOutcome, ReviewOutcome, ReviewSelection,
    SuggestionEntry,
};
use crosswalk_core::{Confidence, IdentityKind, SUGGESTION_THRESHOLD};
use crosswalk_store::scope::{Namespace, Role};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::native::visible_scope;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::{Principal, ServerState};

/// A score from 0 to 1, or the default threshold.
fn score(value: Option<f64>, parameter: &str) -> ApiResult<Confidence> {
    match value {
        None => Ok(SUGGESTION_THRESHOLD),
        Some(score) if (0.0..=1.0).contains(&score) => Ok(Confidence::from_probability(score)),
        Some(score) => Err(ApiError::invalid(format!(
            "{parameter} {score} is not a score; give a number from 0 to 1, e.g. 0.9"
        ))),
    }
}

fn kind(value: Option<&str>) -> ApiResult<Option<IdentityKind>> {
    match value {
        None => Ok(None),
        Some("user") => Ok(Some(IdentityKind::Account)),
        Some("group") => Ok(Some(IdentityKind::Group)),
        Some(other) => Err(ApiError::invalid(format!(
            "kind {other:?} is not user or group"
        ))),
    }
}

/// Runs a decision (which resolves a job again: CPU-bound) on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce(&tokio::runtime::Handle) -> AppResult<T> + Send + 'static,
) -> ApiResult<T> {
    let runtime = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || work(&runtime)).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the decision failed unexpectedly; nothing was half-written, try again",
        )),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReviewQuery {
    /// Only suggestions scored at least this (0 to 1; default 0.9).
    #[param(minimum = 0, maximum = 1)]
    min_score: Option<f64>,
    /// `user` or `group`; both when absent.
    kind: Option<String>,
}

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str = "No such scope for this token (a scope of another token reads the same), or no such mapping or suggestion";

/// The scope's review suggestions: Unresolved mappings whose best candidate is strong, with
/// that candidate and why (docs/matching.md, "Review suggestions").
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/review", tag = "review", security(("token" = [])),
    params(("scope" = String, Path), ReviewQuery),
    responses((status = 200, body = Vec<Object>), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn suggestions(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReviewQuery>,
) -> ApiResult<ApiJson<Vec<SuggestionEntry>>> {
    visible_scope(&state, &principal, &scope).await?;
    let (min_score, kind) = (
        score(query.min_score, "min_score")?,
        kind(query.kind.as_deref())?,
    );
    Ok(ApiJson(
        state
            .app
            .suggestions(&principal.caller()?, &scope, min_score, kind)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewDecisionRequest {
    /// Only suggestions scored at least this (0 to 1; default 0.9).
    #[schema(minimum = 0, maximum = 1)]
    min_score: Option<f64>,
    /// `user` or `group`; both when absent.
    kind: Option<String>,
    /// Every suggestion at or above `min_score` (then give no `keys`).
    #[serde(default)]
    all: bool,
    /// The source keys of the suggestions to decide.
    #[serde(default)]
    keys: Vec<String>,
}

impl ReviewDecisionRequest {
    fn selection(self) -> ApiResult<ReviewSelection> {
        crate::routes::native::check_key_count(self.keys.len())?;
        Ok(ReviewSelection {
            min_score: score(self.min_score, "min_score")?,
            kind: kind(self.kind.as_deref())?,
            all: self.all,
            keys: self.keys,
        })
    }
}

/// Accepts suggestions (a writer token): each becomes an exception rule (who and when kept)
/// and is applied at once by resolving its job again. Nothing is written if a key is not a
/// suggestion.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/review/accept", tag = "review", security(("token" = [])),
    params(("scope" = String, Path)), request_body = ReviewDecisionRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn accept(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewDecisionRequest>,
) -> ApiResult<ApiJson<ReviewOutcome>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    let (selection, caller, app) = (body.selection()?, principal.caller()?, state.app.clone());
    let outcome = blocking(move |runtime| {
        runtime.block_on(app.accept_suggestions(&caller, &scope, &selection))
    })
    .await?;
    Ok(ApiJson(outcome))
}

/// Rejects suggestions (a writer token): the candidate is remembered and not suggested again;
/// the mapping stays as it is.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/review/reject", tag = "review", security(("token" = [])),
    params(("scope" = String, Path)), request_body = ReviewDecisionRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn reject(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewDecisionRequest>,
) -> ApiResult<ApiJson<ReviewOutcome>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    Ok(ApiJson(
        state
            .app
            .reject_suggestions(&principal.caller()?, &scope, &body.selection()?)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveRequest {
    /// Link to this destination identity: its id, `email:…`, `username:…` (`name:…` for a
    /// group) or a bare value.
    to: Option<String>,
    /// Create it on the destination.
    #[serde(default)]
    provision: bool,
    /// Migrate it as a former user (users only).
    #[serde(default)]
    former_user: bool,
}

/// Resolves one identity mapping (a writer token): to a destination identity, to be
/// provisioned, or as a former user. Stored as an exception rule and applied at once; the
/// answer holds the mapping as it now stands and the revision the decision made.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/mappings/{namespace}/{key}/resolve", tag = "review", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path, description = "identity:user or identity:group"),
        ("key" = String, Path, description = "the source key, or for users any alternate key (percent-encoded)")),
    request_body = ResolveRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn resolve(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace, key)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> ApiResult<ApiJson<ResolveOutcome>> {
    let namespace = Namespace::parse(&namespace)?;
    if !namespace.is_identity() {
        return Err(ApiError::invalid(format!(
            "{namespace} is not identity:user or identity:group; only identity mappings are resolved"
        )));
    }
    let decision = match (body.to, body.provision, body.former_user) {
        (Some(to), false, false) => Decision::To(to),
        (None, true, false) => Decision::Provision,
        (None, false, true) => Decision::FormerUser,
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of to (a destination identity), provision: true or former_user: true",
            ));
        }
    };
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    let (caller, app) = (principal.caller()?, state.app.clone());
    let outcome = blocking(move |runtime| {
        runtime.block_on(app.resolve_mapping(&caller, &scope, &namespace, &key, &decision))
    })
    .await?;
    Ok(ApiJson(outcome))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DestinationQuery {
    /// Only identities whose id, username, address, alias or name contains this (ignoring case).
    search: Option<String>,
    /// At most this many (1 to 1000; default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// The destination accounts the scope's jobs last resolved against, searchable: what a
/// mapping can be resolved to.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/destination/accounts", tag = "review", security(("token" = [])),
    params(("scope" = String, Path), DestinationQuery),
    responses((status = 200, body = Vec<Object>), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn destination_accounts(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<DestinationQuery>,
) -> ApiResult<ApiJson<Vec<DestinationIdentity>>> {
    destinations(state, principal, scope, query, IdentityKind::Account).await
}

/// The destination groups, searchable, likewise.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/destination/groups", tag = "review", security(("token" = [])),
    params(("scope" = String, Path), DestinationQuery),
    responses((status = 200, body = Vec<Object>), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn destination_groups(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<DestinationQuery>,
) -> ApiResult<ApiJson<Vec<DestinationIdentity>>> {
    destinations(state, principal, scope, query, IdentityKind::Group).await
}

async fn destinations(
    state: ServerState,
    principal: Principal,
    scope: String,
    query: DestinationQuery,
    kind: IdentityKind,
) -> ApiResult<ApiJson<Vec<DestinationIdentity>>> {
    visible_scope(&state, &principal, &scope).await?;
    let limit = query.limit.unwrap_or(50);
    Ok(ApiJson(
        state
            .app
            .destination_identities(
                &principal.caller()?,
                &scope,
                kind,
                query.search.as_deref(),
                limit,
            )
            .await?,
    ))
}
