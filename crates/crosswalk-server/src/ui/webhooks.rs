//! A scope's webhooks in the browser (issue 21): its subscriptions (URL, event types, paused,
//! how many deliveries wait and how many failed) and its deliveries, newest first, with their
//! state, attempts, last status and last error. A failed delivery has a Redeliver button (an
//! admin token of the scope, as the API's `POST …/deliveries/{id}/redeliver` asks): it posts
//! with the session's CSRF token, goes to the same application-layer call as the API, and
//! comes back to this page saying what it did.
//!
//! Subscriptions are made, paused and removed with `crosswalk webhook` or the API: a secret
//! is shown once, which a page that may be reloaded or left open is no place for.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use crosswalk_store::scope::{DeliveryRow, DeliveryState, Role, SubscriptionRow};
use maud::{Markup, html};
use uuid::Uuid;

use super::layout::{self, csrf_field, segment, when};
use super::scopes::{check_scope, scope_link};
use super::{Page, SignedIn, UiError, UiResult};
use crate::ServerState;

/// The most deliveries the page lists (newest first); `crosswalk webhook deliveries --limit`
/// and the API give more.
pub const DELIVERIES_SHOWN: usize = 200;

pub(crate) fn webhooks_link(scope: &str) -> String {
    format!("/ui/scopes/{}/webhooks", segment(scope))
}

fn redeliver_action(scope: &str, delivery: i64) -> String {
    format!("{}/deliveries/{delivery}/redeliver", webhooks_link(scope))
}

/// Whether this session may redeliver: an admin token of the scope, or the instance admin
/// (what the API asks).
fn may_redeliver(signed_in: &SignedIn) -> bool {
    signed_in.principal.check_role(Role::Admin).is_ok()
}

fn parse_state(text: &str) -> Result<Option<DeliveryState>, UiError> {
    match text.trim() {
        "" | "all" => Ok(None),
        "pending" => Ok(Some(DeliveryState::Pending)),
        "delivered" => Ok(Some(DeliveryState::Delivered)),
        "failed" => Ok(Some(DeliveryState::Failed)),
        other => Err(UiError::page(
            StatusCode::BAD_REQUEST,
            format!("state={other:?} is not a delivery state; use pending, delivered or failed"),
        )),
    }
}

/// What the page was asked: which deliveries, and what a redeliver just did.
struct WebhooksQuery {
    state: Option<DeliveryState>,
    redelivered: Option<i64>,
}

impl WebhooksQuery {
    fn parse(raw: &str) -> Result<WebhooksQuery, UiError> {
        let mut query = WebhooksQuery {
            state: None,
            redelivered: None,
        };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "state" => query.state = parse_state(&value)?,
                "redelivered" => {
                    query.redelivered = Some(value.trim().parse().map_err(|_| {
                        UiError::page(
                            StatusCode::BAD_REQUEST,
                            format!("redelivered={value:?} is not a delivery number"),
                        )
                    })?);
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

/// `/ui/scopes/{scope}/webhooks`: the scope's subscriptions and deliveries.
pub(crate) async fn webhooks(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path(scope): Path<String>,
    RawQuery(raw): RawQuery,
) -> UiResult<Page> {
    check_scope(&state, &signed_in, &scope).await?;
    let query = WebhooksQuery::parse(raw.as_deref().unwrap_or_default())?;
    let caller = signed_in.caller()?;
    let subscriptions = state.app.webhooks(&caller, &scope).await?;
    let deliveries = state
        .app
        .webhook_deliveries(&caller, &scope, None, query.state, DELIVERIES_SHOWN)
        .await?;
    let urls: HashMap<Uuid, &str> = subscriptions
        .iter()
        .map(|s| (s.id, s.url.as_str()))
        .collect();
    let redeliver = may_redeliver(&signed_in);
    let body = html! {
        h1 { "Webhooks" }
        p.help {
            "Each subscription gets the scope's events (of the types it chose), signed, in commit order. A delivery that gets no 2xx "
            "is retried with backoff for the server's retry period, then marked failed; redelivering sends it again at its place in the order. "
            "Subscriptions are made, paused and removed with " code { "crosswalk webhook --scope " (scope) } " or the API (a subscription's secret is shown once, there); "
            "docs/webhooks.md shows how a receiver checks a signature."
        }
        @if let Some(id) = query.redelivered {
            p.notice #redeliver-note role="status" {
                "Delivery " (id) " is pending again: the server sends it when it is due, in order. Reload to see how it went."
            }
        }
        (subscription_table(&scope, &subscriptions))
        h2 #deliveries-heading { "Deliveries" }
        form.inline-filters method="get" action=(webhooks_link(&scope)) aria-label="Which deliveries" {
            label for="delivery-state" { "State" }
            select #delivery-state name="state" {
                option value="" selected[query.state.is_none()] { "All" }
                @for option in [DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed] {
                    option value=(option.as_str()) selected[query.state == Some(option)] { (option.as_str()) }
                }
            }
            button #deliveries-show type="submit" { "Show" }
        }
        @if !redeliver && deliveries.iter().any(|d| d.state == DeliveryState::Failed) {
            p.notice.reader-note role="status" {
                "Redelivering needs an admin token of this scope ("
                code { "crosswalk token create --scope " (scope) " --role admin" } ")."
            }
        }
        (delivery_table(&scope, &signed_in, &deliveries, &urls, redeliver, query.state))
    };
    let crumbs = [
        (format!("Scope {scope}"), scope_link(&scope)),
        ("Webhooks".to_string(), webhooks_link(&scope)),
    ];
    Ok(Page(layout::frame(
        &format!("Webhooks of {scope}"),
        Some(&signed_in),
        &crumbs,
        body,
    )))
}

fn subscription_table(scope: &str, subscriptions: &[SubscriptionRow]) -> Markup {
    html! {
        h2 #subscriptions-heading { "Subscriptions" }
        @if subscriptions.is_empty() {
            p #no-subscriptions {
                "No subscriptions: " code { "crosswalk webhook add --scope " (scope) " https://receiver.example/hooks" }
                " makes one (and prints its secret, once)."
            }
        } @else {
            div.table-scroll {
                table.data #subscription-table {
                    caption.visually-hidden { "Subscriptions, each with its event types and deliveries" }
                    thead {
                        tr {
                            th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "Status" }
                            th scope="col" { "Waiting" } th scope="col" { "Failed" } th scope="col" { "Created" } th scope="col" { "Id" }
                        }
                    }
                    tbody {
                        @for subscription in subscriptions {
                            tr data-subscription=(subscription.id) {
                                td.url { code { (subscription.url) } }
                                td.events {
                                    @if subscription.events.is_empty() { "all" } @else { (subscription.events.join(", ")) }
                                }
                                td.status {
                                    @if subscription.paused { span.badge.state-paused { "paused" } } @else { span.badge.state-active { "active" } }
                                }
                                td.number.pending { (subscription.pending) }
                                td.number.failed { (subscription.failed) }
                                td { (when(subscription.created_at)) " by " (subscription.created_by) }
                                td { code { (subscription.id) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn delivery_table(
    scope: &str,
    signed_in: &SignedIn,
    deliveries: &[DeliveryRow],
    urls: &HashMap<Uuid, &str>,
    redeliver: bool,
    state: Option<DeliveryState>,
) -> Markup {
    html! {
        @if deliveries.is_empty() {
            p #delivery-count role="status" {
                @match state {
                    None => "No deliveries yet: a subscription's deliveries appear here as the scope's events are committed.",
                    Some(state) => { "No " (state.as_str()) " deliveries." }
                }
            }
        } @else {
            p #delivery-count role="status" {
                @if deliveries.len() >= DELIVERIES_SHOWN { "The newest " (deliveries.len()) " deliveries" }
                @else if deliveries.len() == 1 { "1 delivery" } @else { (deliveries.len()) " deliveries" }
                @if let Some(state) = state { " (" (state.as_str()) ")" }
                ", newest first."
            }
            div.table-scroll {
                table.data #delivery-table {
                    caption.visually-hidden { "Deliveries, newest first, with their state, attempts and last error" }
                    thead {
                        tr {
                            th scope="col" { "Delivery" } th scope="col" { "Event" } th scope="col" { "Sequence" } th scope="col" { "To" }
                            th scope="col" { "State" } th scope="col" { "Attempts" } th scope="col" { "Last attempt" }
                            th scope="col" { "Last status" } th scope="col" { "Last error" } th scope="col" { "Next attempt or delivered" }
                            @if redeliver { th scope="col" { span.visually-hidden { "Redeliver" } } }
                        }
                    }
                    tbody {
                        @for delivery in deliveries {
                            tr data-delivery=(delivery.id) data-state=(delivery.state.as_str()) data-message-id=(delivery.message_id) {
                                td.number { (delivery.id) }
                                td.event { code { (delivery.event_type) } }
                                td.number { (delivery.sequence) }
                                td.url { code { (urls.get(&delivery.subscription).copied().unwrap_or("(removed)")) } }
                                td.state { span class={ "badge state-" (delivery.state.as_str()) } { (delivery.state.as_str()) } }
                                td.number.attempts { (delivery.attempts) }
                                td { @if let Some(at) = delivery.last_attempt_at { (when(at)) } @else { "—" } }
                                td.number.status { @if let Some(status) = delivery.last_status { (status) } @else { "—" } }
                                td.message.last-error { @if let Some(error) = &delivery.last_error { (error) } @else { "—" } }
                                td {
                                    @match (delivery.state, delivery.delivered_at, delivery.next_attempt_at) {
                                        (DeliveryState::Delivered, Some(at), _) => { "delivered " (when(at)) }
                                        (DeliveryState::Pending, _, Some(at)) => { "next " (when(at)) }
                                        _ => { "—" }
                                    }
                                }
                                @if redeliver {
                                    td.decide {
                                        @if delivery.state == DeliveryState::Failed {
                                            form.choose method="post" action=(redeliver_action(scope, delivery.id)) {
                                                (csrf_field(signed_in))
                                                button.redeliver type="submit" aria-label={ "Redeliver delivery " (delivery.id) } { "Redeliver" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /ui/scopes/{scope}/webhooks/deliveries/{id}/redeliver`: sends a failed delivery
/// again (the API's redeliver), then back to the page, which says so.
pub(crate) async fn redeliver(
    State(state): State<ServerState>,
    signed_in: SignedIn,
    Path((scope, id)): Path<(String, String)>,
) -> UiResult<Response> {
    check_scope(&state, &signed_in, &scope).await?;
    signed_in.principal.check_role(Role::Admin)?;
    let id: i64 = id.trim().parse().map_err(|_| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            format!(
                "{id:?} is not a delivery number; the scope's webhooks page lists its deliveries"
            ),
        )
    })?;
    state
        .app
        .redeliver(&signed_in.caller()?, &scope, id)
        .await?;
    Ok(Redirect::to(&format!("{}?redelivered={id}", webhooks_link(&scope))).into_response())
}
