//! The native API under `/api/v1`: scopes, jobs, a namespace's mappings as keyset pages, batch
//! look-ups answering every key, one mapping with its history, app-namespace writes, the
//! change feed, and the scope's tokens.

use axum::extract::State;
use axum::http::StatusCode;
use crosswalk_store::scope::{
    FindAnswer, JobRow, MAX_APP_VALUE_LEN, MAX_KEY_LEN, MappingBrief, MappingHistory, MappingPage,
    Namespace, NewScope, RevisionRow, Role, ScopeRow, TokenRow, check_key,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::{Principal, ServerState};

/// Refuses a page size outside 1 to [`MAX_PAGE_SIZE`], naming the parameter and the limit.
pub(crate) fn check_page_size(size: usize, parameter: &str) -> ApiResult<()> {
    if size == 0 {
        return Err(ApiError::invalid(format!(
            "{parameter} is 0; ask for 1 to {MAX_PAGE_SIZE} mappings a page"
        )));
    }
    if size > MAX_PAGE_SIZE {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "page_size_too_large",
            format!(
                "{parameter} {size} is above the limit of {MAX_PAGE_SIZE}; ask for at most {MAX_PAGE_SIZE} a page"
            ),
        ));
    }
    Ok(())
}

/// Refuses a look-up or write of more than [`MAX_PAGE_SIZE`] keys, naming the limit.
pub(crate) fn check_key_count(count: usize) -> ApiResult<()> {
    if count > MAX_PAGE_SIZE {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too_many_keys",
            format!(
                "{count} keys is above the limit of {MAX_PAGE_SIZE} per request; split them into several requests"
            ),
        ));
    }
    Ok(())
}

fn namespace(text: &str) -> ApiResult<Namespace> {
    Namespace::parse(text).map_err(ApiError::from)
}

/// The scope, checked visible: for a scoped token another scope is refused word for word as
/// a scope that does not exist; for the instance admin a missing scope is refused so.
pub(crate) async fn visible_scope(
    state: &ServerState,
    principal: &Principal,
    scope: &str,
) -> ApiResult<()> {
    principal.check_scope(scope)?;
    if principal.is_instance_admin() {
        let caller = principal.caller()?;
        if let Err(error) = state.app.scope(&caller, scope).await {
            return Err(if error.kind() == crosswalk_app::ErrorKind::NotFound {
                ApiError::scope_not_found(scope)
            } else {
                error.into()
            });
        }
    }
    Ok(())
}

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str = "No such scope for this token (a scope of another token reads the same)";

/// The scopes this token sees (a scope token: its own).
#[utoipa::path(get, path = "/api/v1/scopes", tag = "scopes", security(("token" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody)))]
pub(crate) async fn list_scopes(
    State(state): State<ServerState>,
    principal: Principal,
) -> ApiResult<ApiJson<Vec<ScopeRow>>> {
    Ok(ApiJson(state.app.scopes(&principal.caller()?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CreateScope {
    name: String,
    /// The source instance, e.g. `jira-server https://jira.acme.local`; its first word decides the key forms.
    source_label: String,
    destination_label: String,
}

/// Creates a scope (the instance admin token only).
#[utoipa::path(post, path = "/api/v1/scopes", tag = "scopes", security(("token" = [])), request_body = CreateScope,
    responses((status = 201, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 409, body = crate::ErrorBody)))]
pub(crate) async fn create_scope(
    State(state): State<ServerState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateScope>,
) -> ApiResult<(StatusCode, ApiJson<ScopeRow>)> {
    principal.check_instance_admin()?;
    let scope = NewScope {
        name: body.name,
        source_label: body.source_label,
        destination_label: body.destination_label,
    };
    Ok((
        StatusCode::CREATED,
        ApiJson(state.app.create_scope(&principal.caller()?, &scope).await?),
    ))
}

/// A scope with its jobs, exceptions version and retention.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}", tag = "scopes", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn show_scope(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<crosswalk_app::ScopeOverview>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state.app.scope(&principal.caller()?, &scope).await?,
    ))
}

/// The scope's jobs, each with its transfer id.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/jobs", tag = "scopes", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn list_jobs(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<JobRow>>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(state.app.jobs(&principal.caller()?, &scope).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// The previous page's `next`; none for the first page.
    after: Option<String>,
    /// Mappings per page, 1 to 10,000 (default 5,000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// A page of the namespace's mappings in source-key order (removed ones included, marked).
/// Keyset paging: writes between two pages neither repeat nor skip a key that was there
/// throughout; the last page says `last_page: true`.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/mappings", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path, description = "identity:user, identity:group, or product:entity"), PageQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn mappings_page(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<ApiJson<MappingPage>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(limit, "limit")?;
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    let page = state
        .app
        .mappings(
            &principal.caller()?,
            &scope,
            &namespace,
            query.after.as_deref(),
            limit,
        )
        .await?;
    Ok(ApiJson(page))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct FindRequest {
    /// Up to 10,000 keys: source ids, usernames, addresses, or platform-prefixed forms.
    keys: Vec<String>,
}

/// How much of each found mapping a look-up answers.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FindView {
    /// The mapping's `source_key`, `destination_id`, `resolution` and `removed` (the default).
    #[default]
    Brief,
    /// The whole mapping, as `GET …/mappings/{key}` gives it (value with evidence,
    /// candidates and flags; revision; job), without its revisions.
    Full,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindQuery {
    /// `brief` (default): each found key's mapping is `{source_key, destination_id,
    /// resolution, removed}`; `full`: the whole mapping with its evidence and candidates
    /// (about eight times the bytes).
    #[param(inline)]
    view: Option<FindView>,
}

/// Answers in the order asked, briefs or whole mappings.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Answers {
    Brief(Vec<FindAnswer<MappingBrief>>),
    Full(Vec<FindAnswer>),
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindResponse {
    /// One answer per key, in the order given: `{key, outcome}` with `outcome` `found` (with
    /// `by`, the form that found it, and `mapping`), `not_found`, or `ambiguous` (with `by`
    /// and `source_keys`). `mapping` is `{source_key, destination_id, resolution, removed}`
    /// by default (`destination_id` empty when the mapping goes nowhere; in app namespaces
    /// the value, without `resolution`), the whole mapping with `view=full`.
    #[schema(value_type = Vec<Object>)]
    answers: Answers,
}

/// Looks up to 10,000 keys at once and answers every one.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/find", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path), FindQuery), request_body = FindRequest,
    responses((status = 200, body = FindResponse), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn find(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<FindQuery>,
    ApiJson(body): ApiJson<FindRequest>,
) -> ApiResult<ApiJson<FindResponse>> {
    check_key_count(body.keys.len())?;
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    let caller = principal.caller()?;
    // No keys, no answers (the use case takes 1 or more).
    let answers = match query.view.unwrap_or_default() {
        _ if body.keys.is_empty() => Answers::Brief(Vec::new()),
        FindView::Brief => Answers::Brief(
            state
                .app
                .find_brief(&caller, &scope, &namespace, &body.keys)
                .await?,
        ),
        FindView::Full => Answers::Full(
            state
                .app
                .find(&caller, &scope, &namespace, &body.keys)
                .await?,
        ),
    };
    Ok(ApiJson(FindResponse { answers }))
}

/// One mapping with its value (for identities: evidence, candidates, flags) and every
/// revision, oldest first. In `identity:user` the key may be any alternate key; percent-encode
/// a `/` in it.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/mappings/{key}", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn mapping(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text, key)): ApiPath<(String, String, String)>,
) -> ApiResult<ApiJson<MappingHistory>> {
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .history(&principal.caller()?, &scope, &namespace, &key)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Upsert {
    key: String,
    value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct WriteRequest {
    /// Set these keys' values.
    #[serde(default)]
    upsert: Vec<Upsert>,
    /// Mark these keys removed.
    #[serde(default)]
    delete: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WriteResponse {
    /// The revisions made (a change to the value a key already had makes none).
    #[schema(value_type = Vec<Object>)]
    revisions: Vec<RevisionRow>,
}

/// Bulk upsert and delete in an app namespace (a writer token); each change is a revision.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/mappings", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path)), request_body = WriteRequest,
    responses((status = 200, body = WriteResponse), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn write_mappings(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<WriteRequest>,
) -> ApiResult<ApiJson<WriteResponse>> {
    check_key_count(body.upsert.len() + body.delete.len())?;
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    if namespace.is_identity() {
        return Err(ApiError::invalid(format!(
            "{namespace} is written by runs; write an app namespace (product:entity, e.g. jira:issue)"
        )));
    }
    // Every change is checked before the first is written, so a bad one writes nothing.
    for (index, upsert) in body.upsert.iter().enumerate() {
        check_key(&format!("upsert[{index}].key"), &upsert.key, MAX_KEY_LEN)?;
        check_key(
            &format!("upsert[{index}].value"),
            &upsert.value,
            MAX_APP_VALUE_LEN,
        )?;
    }
    for (index, key) in body.delete.iter().enumerate() {
        check_key(&format!("delete[{index}]"), key, MAX_KEY_LEN)?;
    }
    let caller = principal.caller()?;
    let mut revisions = Vec::new();
    for upsert in &body.upsert {
        revisions.extend(
            state
                .app
                .set_app_mapping(&caller, &scope, &namespace, &upsert.key, &upsert.value)
                .await?,
        );
    }
    for key in &body.delete {
        revisions.extend(
            state
                .app
                .delete_app_mapping(&caller, &scope, &namespace, key)
                .await?,
        );
    }
    Ok(ApiJson(WriteResponse { revisions }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangesQuery {
    /// The previous page's `cursor`; none to start from the first revision.
    after: Option<String>,
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The scope's revisions after a cursor, in commit order; an identity revision carries
/// `affected_items`, the item references naming its mapping, when the scope has any.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/changes", tag = "mappings", security(("token" = [])),
    params(("scope" = String, Path), ChangesQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn changes(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> ApiResult<ApiJson<crosswalk_app::ChangeFeed>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(limit, "limit")?;
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .changes_with_items(&principal.caller()?, &scope, query.after.as_deref(), limit)
            .await?,
    ))
}

/// The scope's tokens, without their secrets (an admin token of the scope).
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/tokens", tag = "tokens", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn list_tokens(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<TokenRow>>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    Ok(ApiJson(state.tokens.tokens(Some(&scope)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CreateToken {
    /// reader, writer or admin
    #[schema(value_type = String)]
    role: Role,
    /// What the token is for.
    label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// The bearer token. Shown this once: only its hash is kept.
    token: String,
    #[schema(value_type = Object)]
    details: TokenRow,
}

/// Makes a token for the scope (an admin token of the scope); answers it once.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/tokens", tag = "tokens", security(("token" = [])), params(("scope" = String, Path)),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn create_token(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, ApiJson<CreatedToken>)> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    let by = format!("token:{}", principal.public_id());
    let issued = crate::tokens::issue(
        state.tokens.as_ref(),
        Some(&scope),
        body.role,
        &body.label,
        &by,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    tracing::info!(new_token = %issued.row.public_id, role = %issued.row.role, "token created");
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedToken {
            token: issued.token,
            details: issued.row,
        }),
    ))
}

/// Revokes one of the scope's tokens (an admin token of the scope).
#[utoipa::path(delete, path = "/api/v1/scopes/{scope}/tokens/{public_id}", tag = "tokens", security(("token" = [])),
    params(("scope" = String, Path), ("public_id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn revoke_token(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, public_id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<TokenRow>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    let unknown = || {
        ApiError::not_found(format!(
            "scope {scope:?} has no token {public_id:?}; list them with GET /api/v1/scopes/{scope}/tokens"
        ))
    };
    let record = match state.tokens.token(&public_id).await {
        Ok(record) => record,
        Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {
            return Err(unknown());
        }
        Err(error) => return Err(error.into()),
    };
    if record.token.scope.as_deref() != Some(scope.as_str()) {
        return Err(unknown());
    }
    Ok(ApiJson(
        state
            .tokens
            .revoke_token(&public_id, time::OffsetDateTime::now_utc())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RetentionRequest {
    /// Days a mapping marked removed is kept before a purge may remove it; null: forever.
    #[schema(minimum = 0)]
    keep_days: Option<u32>,
}

/// The retention of each namespace that has one (the others keep everything forever).
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/retention", tag = "retention", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn retention(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<crosswalk_store::scope::RetentionRow>>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .scope(&principal.caller()?, &scope)
            .await?
            .retention,
    ))
}

/// Sets how long a namespace's removed mappings are kept (an admin token). Nothing expires
/// on its own: a purge applies it.
#[utoipa::path(put, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/retention", tag = "retention", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path)), request_body = RetentionRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn set_retention(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RetentionRequest>,
) -> ApiResult<ApiJson<crosswalk_store::scope::RetentionRow>> {
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    let retention = body.keep_days.map_or(
        crosswalk_store::scope::Retention::Forever,
        crosswalk_store::scope::Retention::Days,
    );
    Ok(ApiJson(
        state
            .app
            .set_retention(&principal.caller()?, &scope, &namespace, retention)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PurgeQuery {
    /// Only say what would be removed.
    #[serde(default)]
    dry_run: bool,
}

/// Removes for good the namespace's mappings marked removed longer ago than its retention
/// allows, recording each removal (an admin token); with `dry_run`, only lists them.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/purge", tag = "retention", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path), PurgeQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn purge(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PurgeQuery>,
) -> ApiResult<ApiJson<crosswalk_store::scope::PurgeReport>> {
    let namespace = namespace(&namespace_text)?;
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(if query.dry_run {
        Role::Reader
    } else {
        Role::Admin
    })?;
    Ok(ApiJson(
        state
            .app
            .purge(&principal.caller()?, &scope, &namespace, query.dry_run)
            .await?,
    ))
}

/// The scope's exception rules and their version.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/exceptions", tag = "exceptions", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn exceptions(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<crosswalk_store::scope::ExceptionSet>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state.app.exceptions(&principal.caller()?, &scope).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ExceptionRequest {
    /// `account` or `group`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: crosswalk_core::IdentityKind,
    /// `id:…`, `username:…`, `email:…` (`name:…` for groups) or a bare value.
    source: String,
    destination: String,
}

/// Adds an exception rule, or replaces the one for the same type and source (a writer
/// token): a new version of the rules, applied by the next run.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/exceptions", tag = "exceptions", security(("token" = [])), params(("scope" = String, Path)),
    request_body = ExceptionRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn add_exception(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(body): ApiJson<ExceptionRequest>,
) -> ApiResult<ApiJson<crosswalk_store::scope::ExceptionSet>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    let rule = crosswalk_store::scope::ExceptionRow {
        kind: body.kind,
        source: body.source,
        destination: body.destination,
    };
    Ok(ApiJson(
        state
            .app
            .add_exception(&principal.caller()?, &scope, &rule)
            .await?,
    ))
}

/// Removes the exception rule for a type and source (a writer token; percent-encode the
/// source): a new version of the rules.
#[utoipa::path(delete, path = "/api/v1/scopes/{scope}/exceptions/{type}/{source}", tag = "exceptions", security(("token" = [])),
    params(("scope" = String, Path), ("type" = String, Path, description = "account or group"), ("source" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn remove_exception(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, kind, source)): ApiPath<(String, String, String)>,
) -> ApiResult<ApiJson<crosswalk_store::scope::ExceptionSet>> {
    let kind = match kind.as_str() {
        "account" => crosswalk_core::IdentityKind::Account,
        "group" => crosswalk_core::IdentityKind::Group,
        _ => {
            return Err(ApiError::invalid(format!(
                "{kind:?} is not an identity type; use account or group"
            )));
        }
    };
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    let rule = crosswalk_store::scope::ExceptionRow {
        kind,
        source,
        destination: String::new(),
    };
    Ok(ApiJson(
        state
            .app
            .remove_exception(&principal.caller()?, &scope, &rule)
            .await?,
    ))
}
