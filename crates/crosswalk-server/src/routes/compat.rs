//! The mapping endpoints migration apps already call, in the shapes Atlassian documents:
//! a page of `serverKey -> cloudId` after `lastEntity`, and a look-up of a list of keys. A
//! transfer id reads its whole scope's mappings, whichever job made them; pages go far above
//! the 1,200 entries Atlassian now allows.

use std::collections::BTreeMap;

use axum::extract::State;
use crosswalk_store::scope::{
    FindOutcome, MappingRow, MappingValue, Namespace, ScopeRow, SourcePlatform, keys,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::limits::DEFAULT_PAGE_SIZE;
use crate::routes::native::{check_key_count, check_page_size};
use crate::{Principal, ServerState};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `identity:user`, `identity:group`, or an app namespace (`jira:issue`).
    namespace: String,
    /// Mappings per page, 1 to 10,000 (default 5,000).
    #[param(minimum = 1, maximum = 10000)]
    page_size: Option<usize>,
    /// The previous page's `meta.lastEntity`; none for the first page.
    last_entity: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindQuery {
    namespace: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageMeta {
    pub(crate) page_size: usize,
    pub(crate) has_next: bool,
    /// Send back as `lastEntity` for the next page; null on the last page.
    pub(crate) last_entity: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Page {
    pub(crate) meta: PageMeta,
    /// Server key (in each key form of the scope's source platform) to cloud id.
    pub(crate) items: BTreeMap<String, String>,
}

fn transfer_id(text: &str) -> ApiResult<Uuid> {
    // A malformed id names nothing: the same answer as an unknown one.
    Uuid::parse_str(text).map_err(|_| ApiError::transfer_not_found(text))
}

async fn scope_of_transfer(
    state: &ServerState,
    principal: &Principal,
    transfer: &str,
) -> ApiResult<ScopeRow> {
    let id = transfer_id(transfer)?;
    let caller = principal.caller()?;
    match state.app.job_by_transfer(&caller, id).await {
        Ok((scope, _)) => Ok(scope),
        Err(error) if error.kind() == crosswalk_app::ErrorKind::NotFound => {
            Err(ApiError::transfer_not_found(transfer))
        }
        Err(error) => Err(error.into()),
    }
}

fn namespace(text: &str) -> ApiResult<Namespace> {
    Namespace::parse(text).map_err(ApiError::from)
}

/// The cloud id a mapping gives, when it gives one.
fn cloud_id(mapping: &MappingRow) -> Option<&str> {
    match &mapping.value {
        MappingValue::Identity(value) => Some(value.destination.id.as_str()),
        MappingValue::App(value) => Some(value.as_str()),
    }
    .filter(|id| !id.is_empty())
}

/// Every key an app may know a mapping by: for `identity:user`, each of the platform's
/// prefixed forms (`jira.userkey/…`, `jira.username/…`, `email/…`); otherwise the source key.
fn server_keys(platform: SourcePlatform, mapping: &MappingRow) -> Vec<String> {
    let Some(value) = mapping
        .value
        .as_identity()
        .filter(|_| mapping.namespace.as_str() == Namespace::IDENTITY_USER)
    else {
        return vec![mapping.source_key.clone()];
    };
    let mut found = Vec::new();
    for (prefix, kind) in keys::prefixes(platform) {
        match kind {
            keys::AltKind::SourceKey => found.push(format!("{prefix}{}", mapping.source_key)),
            keys::AltKind::Username if !value.source.username.is_empty() => {
                found.push(format!("{prefix}{}", value.source.username))
            }
            keys::AltKind::Username => {}
            keys::AltKind::Email => found.extend(
                value
                    .source_emails
                    .iter()
                    .map(|email| format!("{prefix}{email}")),
            ),
        }
    }
    if platform == SourcePlatform::Other {
        // No prefix names the id on an unknown platform: give the plain source key too.
        found.push(mapping.source_key.clone());
    }
    found
}

/// A page of a namespace's mappings, `serverKey -> cloudId`.
#[utoipa::path(
    get,
    path = "/rest/atlassian-connect/1/migration/mapping/{transferId}/page",
    tag = "compatible",
    params(("transferId" = String, Path, description = "Any transfer id of the scope"), PageQuery),
    security(("token" = [])),
    responses(
        (status = 200, body = Page),
        (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody)
    )
)]
pub(crate) async fn page(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(transfer): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<ApiJson<Page>> {
    let page_size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    check_page_size(page_size, "pageSize")?;
    let namespace = namespace(&query.namespace)?;
    let scope = scope_of_transfer(&state, &principal, &transfer).await?;
    let caller = principal.caller()?;
    let after = query.last_entity.as_deref().filter(|text| !text.is_empty());
    let page = state
        .app
        .mappings(&caller, &scope.name, &namespace, after, page_size)
        .await?;
    let mut items = BTreeMap::new();
    for mapping in page.mappings.iter().filter(|m| !m.removed) {
        if let Some(id) = cloud_id(mapping) {
            for key in server_keys(scope.source_platform, mapping) {
                items.insert(key, id.to_string());
            }
        }
    }
    let has_next = !page.last_page;
    Ok(ApiJson(Page {
        meta: PageMeta {
            page_size,
            has_next,
            last_entity: if has_next { page.next } else { None },
        },
        items,
    }))
}

/// Looks up a list of server keys (any key form); answers `key -> cloudId` for each found.
#[utoipa::path(
    post,
    path = "/rest/atlassian-connect/1/migration/mapping/{transferId}/find",
    tag = "compatible",
    params(("transferId" = String, Path, description = "Any transfer id of the scope"), FindQuery),
    request_body(content = Vec<String>, description = "Up to 10,000 server keys"),
    security(("token" = [])),
    responses(
        (status = 200, body = BTreeMap<String, String>),
        (status = 400, body = crate::ErrorBody), (status = 401, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody),
        (status = 413, body = crate::ErrorBody)
    )
)]
pub(crate) async fn find(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(transfer): ApiPath<String>,
    ApiQuery(query): ApiQuery<FindQuery>,
    ApiJson(keys): ApiJson<Vec<String>>,
) -> ApiResult<ApiJson<BTreeMap<String, String>>> {
    check_key_count(keys.len())?;
    let namespace = namespace(&query.namespace)?;
    let scope = scope_of_transfer(&state, &principal, &transfer).await?;
    let caller = principal.caller()?;
    // Briefs: the cloud id is all this answer needs of a mapping.
    let answers = if keys.is_empty() {
        Vec::new()
    } else {
        state
            .app
            .find_brief(&caller, &scope.name, &namespace, &keys)
            .await?
    };
    let mut found = BTreeMap::new();
    for answer in answers {
        if let FindOutcome::Found { mapping, .. } = answer.outcome
            && !mapping.destination_id.is_empty()
        {
            found.insert(answer.key, mapping.destination_id);
        }
    }
    Ok(ApiJson(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SecurityMapQuery {
    /// `all` (the only view there is; accepted for compatibility).
    #[allow(dead_code)]
    include: Option<String>,
}

/// One side of a security-map entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct SecurityPrincipal {
    /// The display name.
    pub(crate) name: String,
    /// For accounts the address; for groups empty.
    pub(crate) email: String,
    pub(crate) id: String,
    /// `account` or `group`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct SecurityMapEntry {
    /// Stable per source identity: the same entry has the same id in every answer.
    pub(crate) id: String,
    pub(crate) source: SecurityPrincipal,
    /// Where it went; absent when it went nowhere (unresolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) destination: Option<SecurityPrincipal>,
    /// `exception`, `email`, `id`, `username`, `name`, `provision`, `passthrough`, `external`,
    /// `default` or `unresolved`.
    pub(crate) resolution: String,
    /// How many items are shared with it: the sum of the permission counts of the scope's
    /// item references naming it (0 when none were imported).
    pub(crate) permissions: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct SecurityMap {
    pub(crate) item: Vec<SecurityMapEntry>,
}

/// A job's user mappings (what its latest run resolved) in the security-map shape.
#[utoipa::path(
    get,
    path = "/v1/transfers/{jobId}/security_map",
    tag = "compatible",
    params(("jobId" = String, Path, description = "The job's transfer id"), SecurityMapQuery),
    security(("token" = [])),
    responses((status = 200, body = SecurityMap), (status = 401, body = crate::ErrorBody), (status = 404, body = crate::ErrorBody))
)]
pub(crate) async fn security_map(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(transfer): ApiPath<String>,
    ApiQuery(_query): ApiQuery<SecurityMapQuery>,
) -> ApiResult<ApiJson<SecurityMap>> {
    let id = transfer_id(&transfer)?;
    let caller = principal.caller()?;
    let (scope, job) = match state.app.job_by_transfer(&caller, id).await {
        Ok(found) => found,
        Err(error) if error.kind() == crosswalk_app::ErrorKind::NotFound => {
            return Err(ApiError::transfer_not_found(&transfer));
        }
        Err(error) => return Err(error.into()),
    };
    let of = crosswalk_store::scope::ReportOf::Job(job.name.clone());
    let rows = state
        .app
        .report(
            &caller,
            &scope.name,
            &of,
            &crosswalk_app::ReportFilter::default(),
        )
        .await?;
    let permissions = permission_counts(&state, &caller, &scope.name, &rows).await?;
    let item = rows
        .into_iter()
        .zip(permissions)
        .map(|(row, permissions)| {
            let kind = row.kind.to_string();
            let email = |name: &str| {
                if row.kind == crosswalk_core::IdentityKind::Account {
                    name.to_string()
                } else {
                    String::new()
                }
            };
            let destination = (!row.destination_id.is_empty()).then(|| SecurityPrincipal {
                name: row.destination_display_name.clone(),
                email: email(&row.destination_name),
                id: row.destination_id.clone(),
                kind: kind.clone(),
            });
            SecurityMapEntry {
                id: crosswalk_store::scope::content_hash(
                    format!("{kind}\u{0}{}", row.source_id).as_bytes(),
                )[..32]
                    .to_string(),
                source: SecurityPrincipal {
                    name: row.source_display_name.clone(),
                    email: email(&row.source_name),
                    id: row.source_id.clone(),
                    kind,
                },
                destination,
                resolution: row.resolution.as_str().to_ascii_lowercase(),
                permissions,
            }
        })
        .collect();
    Ok(ApiJson(SecurityMap { item }))
}

/// Each row's permission count, in the rows' order (accounts and groups looked up apart).
async fn permission_counts(
    state: &ServerState,
    caller: &crosswalk_app::Caller,
    scope: &str,
    rows: &[crosswalk_core::ReportRow],
) -> ApiResult<Vec<u64>> {
    let mut counts = vec![0; rows.len()];
    for kind in [
        crosswalk_core::IdentityKind::Account,
        crosswalk_core::IdentityKind::Group,
    ] {
        let positions: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].kind == kind).collect();
        let keys: Vec<String> = positions
            .iter()
            .map(|&i| rows[i].source_id.clone())
            .collect();
        let found = state
            .app
            .permission_counts(caller, scope, kind, &keys)
            .await?;
        for (position, count) in positions.into_iter().zip(found) {
            counts[position] = count;
        }
    }
    Ok(counts)
}
