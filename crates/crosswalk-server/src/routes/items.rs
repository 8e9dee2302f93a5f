//! Item references and what they tell: the upload, a mapping's affected items (keyset pages,
//! filters, counts per role, permission count) and the re-attribution list.

use axum::extract::State;
use axum::http::StatusCode;
use crosswalk_app::items::ItemsFormat;
use crosswalk_store::scope::{ItemFilter, ItemReferencesState, Namespace, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::limits::DEFAULT_PAGE_SIZE;
use crate::routes::native::{check_page_size, visible_scope};
use crate::{Principal, ServerState};

/// The formats an item-references upload may have.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ItemsUploadFormat {
    /// One reference a row: container,item,role,type,identity[,container_type,item_type,title,permissions].
    Csv,
    /// One item a line, with its references.
    Jsonl,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ItemsUpload {
    format: ItemsUploadFormat,
    /// The file's contents.
    content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ItemsState {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    state: ItemReferencesState,
    /// Set when a job has not run or no item references were imported: what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str = "No such scope for this token (a scope of another token reads the same)";

/// Replaces the scope's item references with the uploaded file's (a writer token). The
/// whole file is checked first: a bad row is answered 400 `invalid_items`, naming its line
/// and field, and nothing is stored.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/items", tag = "items", security(("token" = [])), params(("scope" = String, Path)),
    request_body = ItemsUpload,
    responses((status = 200, body = ItemsState), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody), (status = 413, body = crate::ErrorBody)))]
pub(crate) async fn import_items(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(upload): ApiJson<ItemsUpload>,
) -> ApiResult<ApiJson<ItemsState>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Writer)?;
    let (name, format) = match upload.format {
        ItemsUploadFormat::Csv => ("upload.csv", ItemsFormat::Csv),
        ItemsUploadFormat::Jsonl => ("upload.jsonl", ItemsFormat::Jsonl),
    };
    let references = crosswalk_app::items::parse_items(name, upload.content.as_bytes(), format)
        .map_err(|error| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_items", error.message())
        })?;
    let caller = principal.caller()?;
    let imported = state.app.import_items(&caller, &scope, &references).await?;
    let message = state.app.items_missing(&scope).await?;
    Ok(ApiJson(ItemsState {
        state: imported,
        message,
    }))
}

/// How many item references the scope holds, when and by whom they were imported; with a
/// message saying what to do when there are none or no job has run.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/items", tag = "items", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = ItemsState), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn items_state(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<ItemsState>> {
    visible_scope(&state, &principal, &scope).await?;
    let current = state
        .app
        .item_references(&principal.caller()?, &scope)
        .await?;
    let message = state.app.items_missing(&scope).await?;
    Ok(ApiJson(ItemsState {
        state: current,
        message,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ItemsQuery {
    /// Only references in this role: creator, modifier, owner, commenter, mentioned, assignee, reporter, watcher, permission.
    role: Option<String>,
    /// Only items in this container (space, project or drive key).
    container: Option<String>,
    /// Only items of this type (page, issue, file...).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    item_type: Option<String>,
    /// The previous page's `next`; none for the first page.
    after: Option<String>,
    /// Items per page, 1 to 10,000 (default 5,000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The items a mapping affects (the item references naming its identity), in (container,
/// item, role) order, as keyset pages, with its counts per role and its permission count
/// over all pages. Where no job has run or no item references were imported, `message`
/// says so and what to do, and `items` is empty.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/namespaces/{namespace}/mappings/{key}/items", tag = "items", security(("token" = [])),
    params(("scope" = String, Path), ("namespace" = String, Path, description = "identity:user or identity:group"), ("key" = String, Path), ItemsQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn affected_items(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, namespace_text, key)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<ItemsQuery>,
) -> ApiResult<ApiJson<crosswalk_app::AffectedItems>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(limit, "limit")?;
    let namespace = Namespace::parse(&namespace_text).map_err(ApiError::from)?;
    let role = match query.role.as_deref() {
        None => None,
        Some(text) => Some(
            crosswalk_plan_role(text)
                .ok_or_else(|| ApiError::invalid(format!("role {text:?} is not a role; use creator, modifier, owner, commenter, mentioned, assignee, reporter, watcher or permission")))?,
        ),
    };
    visible_scope(&state, &principal, &scope).await?;
    let filter = ItemFilter {
        role,
        container: query.container,
        item_type: query.item_type,
    };
    Ok(ApiJson(
        state
            .app
            .affected_items(
                &principal.caller()?,
                &scope,
                &namespace,
                &key,
                &filter,
                query.after.as_deref(),
                limit,
            )
            .await?,
    ))
}

/// A role as files and queries spell it, in its stored form.
fn crosswalk_plan_role(text: &str) -> Option<String> {
    crosswalk_app::items::role_name(text)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReattributionQuery {
    /// The previous answer's `cursor` (or any change-feed cursor); none: from the first change.
    since: Option<String>,
    /// Changes read per answer, 1 to 10,000 (default 5,000); every item of each changed mapping is listed.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The items to re-attribute: for each identity mapping whose destination changed after
/// `since`, each item referring to it, with the role, the old and the new destination.
/// Continue with `since=cursor` until `last_page`.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/reattribution", tag = "items", security(("token" = [])),
    params(("scope" = String, Path), ReattributionQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn reattribution(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReattributionQuery>,
) -> ApiResult<ApiJson<crosswalk_app::Reattribution>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(limit, "limit")?;
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state
            .app
            .reattribution(&principal.caller()?, &scope, query.since.as_deref(), limit)
            .await?,
    ))
}
