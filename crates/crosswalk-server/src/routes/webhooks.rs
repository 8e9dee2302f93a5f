//! Webhooks (issue 21): a scope's subscriptions (add, list, remove, pause, resume), their
//! deliveries (attempts, last error, redeliver) and the scope's events as committed. Managing
//! subscriptions takes an admin token of the scope; reading takes any of its tokens.

use axum::extract::State;
use axum::http::StatusCode;
use crosswalk_events::{Event, EventFilter};
use crosswalk_store::scope::{DeliveryRow, DeliveryState, Role, SubscriptionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::routes::native::visible_scope;
use crate::{Principal, ServerState};

const UNAUTHORIZED: &str = "Missing or invalid bearer token";
const NOT_FOUND: &str = "No such scope for this token (a scope of another token reads the same), or no such subscription or delivery";

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct WebhookRequest {
    /// `https://…` (or `http://`); no user name or password. Addresses in internal ranges
    /// are refused unless the server allows them (`crosswalk serve --webhook-allow CIDR`).
    url: String,
    /// Event types to receive (`job.completed`, `mappings.changed`, …); absent or empty: all.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    events: Vec<String>,
}

/// A subscription just made: its secret is in this answer and nowhere else, ever.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewWebhookBody {
    #[schema(value_type = Object)]
    subscription: SubscriptionRow,
    /// `whsec_…`: the key a receiver checks signatures with (docs/webhooks.md).
    secret: String,
}

/// Subscribes a URL to the scope's events (an admin token). The answer holds the
/// subscription's secret, shown this once.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/webhooks", tag = "webhooks", security(("token" = [])), params(("scope" = String, Path)),
    request_body = WebhookRequest,
    responses((status = 201, body = NewWebhookBody), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody), (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn add_webhook(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> ApiResult<(StatusCode, ApiJson<NewWebhookBody>)> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    let filter = EventFilter::parse(&body.events.join(","))
        .map_err(|error| ApiError::invalid(format!("/events: {error}")))?;
    let made = state
        .app
        .add_webhook(
            &principal.caller()?,
            &scope,
            &body.url,
            &filter,
            &state.webhook_policy,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(NewWebhookBody {
            subscription: made.subscription,
            secret: made.secret,
        }),
    ))
}

/// The scope's subscriptions, oldest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/webhooks", tag = "webhooks", security(("token" = [])), params(("scope" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn list_webhooks(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<SubscriptionRow>>> {
    visible_scope(&state, &principal, &scope).await?;
    Ok(ApiJson(
        state.app.webhooks(&principal.caller()?, &scope).await?,
    ))
}

fn subscription_id(text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::invalid(format!(
            "{text:?} is not a subscription id; `GET /api/v1/scopes/{{scope}}/webhooks` lists them"
        ))
    })
}

/// Removes a subscription and its deliveries (an admin token).
#[utoipa::path(delete, path = "/api/v1/scopes/{scope}/webhooks/{id}", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn remove_webhook(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    state
        .app
        .remove_webhook(&principal.caller()?, &scope, subscription_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a subscription (an admin token): its events wait, in order, until it is resumed.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/webhooks/{id}/pause", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn pause_webhook(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<SubscriptionRow>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    Ok(ApiJson(
        state
            .app
            .pause_webhook(&principal.caller()?, &scope, subscription_id(&id)?, true)
            .await?,
    ))
}

/// Resumes a paused subscription (an admin token).
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/webhooks/{id}/resume", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn resume_webhook(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<SubscriptionRow>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    Ok(ApiJson(
        state
            .app
            .pause_webhook(&principal.caller()?, &scope, subscription_id(&id)?, false)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct DeliveryQuery {
    /// Only this subscription's deliveries.
    subscription: Option<String>,
    /// `pending`, `delivered` or `failed`.
    state: Option<String>,
    /// At most this many (1 to 1000; default 100), newest first.
    limit: Option<usize>,
}

/// The scope's deliveries, newest first: state, attempts, the last status and error.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/webhooks/deliveries", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), DeliveryQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn list_deliveries(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> ApiResult<ApiJson<Vec<DeliveryRow>>> {
    visible_scope(&state, &principal, &scope).await?;
    let subscription = query
        .subscription
        .as_deref()
        .map(subscription_id)
        .transpose()?;
    let delivery_state = match query.state.as_deref() {
        None => None,
        Some("pending") => Some(DeliveryState::Pending),
        Some("delivered") => Some(DeliveryState::Delivered),
        Some("failed") => Some(DeliveryState::Failed),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "state {other:?} is not one of pending, delivered, failed"
            )));
        }
    };
    let limit = query.limit.unwrap_or(100);
    Ok(ApiJson(
        state
            .app
            .webhook_deliveries(
                &principal.caller()?,
                &scope,
                subscription,
                delivery_state,
                limit,
            )
            .await?,
    ))
}

/// Sends a delivered or failed event again (an admin token), at its place in the order,
/// with a new retry period.
#[utoipa::path(post, path = "/api/v1/scopes/{scope}/webhooks/deliveries/{id}/redeliver", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 400, description = "The delivery id is not a number", body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody), (status = 403, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody), (status = 409, body = crate::ErrorBody)))]
pub(crate) async fn redeliver(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath((scope, id)): ApiPath<(String, i64)>,
) -> ApiResult<ApiJson<DeliveryRow>> {
    visible_scope(&state, &principal, &scope).await?;
    principal.check_role(Role::Admin)?;
    Ok(ApiJson(
        state
            .app
            .redeliver(&principal.caller()?, &scope, id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct EventQuery {
    /// The `sequence` of the last event read; absent: from the first.
    after: Option<i64>,
    /// At most this many (1 to 1000; default 100).
    limit: Option<usize>,
}

/// One committed event with its place in the scope's outbox.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventEntry {
    /// Commit order within the scope: pass the last one back as `after`.
    sequence: i64,
    /// The event exactly as webhooks deliver it (their signed body).
    event: Event,
}

/// The scope's events in commit order, whether or not they were delivered: what a receiver
/// that was away can catch up on. Each event's `data` is documented by the `Event` schema.
#[utoipa::path(get, path = "/api/v1/scopes/{scope}/events", tag = "webhooks", security(("token" = [])),
    params(("scope" = String, Path), EventQuery),
    responses((status = 200, body = Vec<EventEntry>), (status = 400, body = crate::ErrorBody), (status = 401, description = UNAUTHORIZED, body = crate::ErrorBody),
        (status = 404, description = NOT_FOUND, body = crate::ErrorBody)))]
pub(crate) async fn list_events(
    State(state): State<ServerState>,
    principal: Principal,
    ApiPath(scope): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<ApiJson<Vec<EventEntry>>> {
    visible_scope(&state, &principal, &scope).await?;
    let rows = state
        .app
        .outbox(
            &principal.caller()?,
            &scope,
            query.after.unwrap_or(0),
            query.limit.unwrap_or(100),
        )
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let event = Event::from_body(row.body.as_bytes()).map_err(|error| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "corrupt_event",
                format!("a stored event is unreadable: {error}"),
            )
        })?;
        entries.push(EventEntry {
            sequence: row.sequence,
            event,
        });
    }
    Ok(ApiJson(entries))
}
