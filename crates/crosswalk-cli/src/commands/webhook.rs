//! `crosswalk webhook add|list|remove|pause|resume|deliveries|redeliver`: a scope's webhook
//! subscriptions and their deliveries, on the store `crosswalk serve` delivers from.

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use crosswalk_app::App;
use crosswalk_events::{EventFilter, TargetPolicy, parse_range};
use crosswalk_store::scope::{DeliveryRow, DeliveryState, SubscriptionRow};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{block_on, caller, open_app};
use crate::cli::StoreArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Subscribe a URL to a scope's events; prints the subscription's id and its secret, once.
    #[command(after_help = "Examples:\n  \
crosswalk webhook add --scope acme https://hooks.example.com/crosswalk\n  \
crosswalk webhook add --scope acme https://hooks.example.com/x --events job.completed,mappings.changed\n  \
crosswalk webhook add --scope acme http://127.0.0.1:9000/hook --webhook-allow 127.0.0.0/8\n\n\
Event types: job.started, job.completed, job.failed, mappings.changed, exception.recorded, review.decided, \
scim.group_conflict.held, scim.group_conflict.accepted, scim.group_conflict.rejected, retention.purged.\n\
Each delivery is signed (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature); \
docs/webhooks.md shows how a receiver checks the signature with the secret printed here.")]
    Add(WebhookAddArgs),
    /// List a scope's subscriptions: URL, event types, paused, deliveries pending and failed.
    List(WebhookScopeArgs),
    /// Remove a subscription and its deliveries.
    Remove(WebhookIdArgs),
    /// Pause a subscription: its events wait, in order, until it is resumed.
    Pause(WebhookIdArgs),
    /// Resume a paused subscription.
    Resume(WebhookIdArgs),
    /// List a scope's deliveries, newest first: state, attempts, last status and error.
    Deliveries(WebhookDeliveriesArgs),
    /// Send a delivered or failed event again, at its place in the order.
    Redeliver(WebhookRedeliverArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WebhookAddArgs {
    #[arg(long, default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    /// Where to POST the events: an http(s) URL, without user name or password.
    pub(crate) url: String,
    /// Only these event types, comma-separated; without it, every type.
    #[arg(long, value_name = "TYPE,...")]
    pub(crate) events: Option<String>,
    /// Allow targets in this address range although it is internal (repeatable), as
    /// `crosswalk serve --webhook-allow` does when delivering: the server must allow it too.
    #[arg(long, value_name = "CIDR")]
    pub(crate) webhook_allow: Vec<String>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WebhookScopeArgs {
    #[arg(long, default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WebhookIdArgs {
    #[arg(long, default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    /// The subscription's id (`crosswalk webhook list` shows it).
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WebhookDeliveriesArgs {
    #[arg(long, default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    /// Only this subscription's deliveries.
    #[arg(long, value_name = "ID")]
    pub(crate) subscription: Option<String>,
    /// Only deliveries in this state.
    #[arg(long, value_parser = ["pending", "delivered", "failed"])]
    pub(crate) state: Option<String>,
    /// At most this many (1 to 1000).
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WebhookRedeliverArgs {
    #[arg(long, default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
    /// The delivery's number (`crosswalk webhook deliveries` shows it).
    pub(crate) delivery: i64,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// Opens the application, runs `work` with it, and closes it whatever `work` returned.
fn with_app<T>(store: &StoreArgs, work: impl AsyncFnOnce(&App) -> Result<T>) -> Result<T> {
    block_on(async {
        let app = open_app(store).await?;
        let result = work(&app).await;
        app.close().await;
        result
    })
}

fn subscription_id(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        anyhow!(
            "{text:?} is not a subscription id; `crosswalk webhook list --scope SCOPE` shows them"
        )
    })
}

fn when(at: Option<time::OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

fn print_subscription(row: &SubscriptionRow) -> Result<()> {
    let events = if row.events.is_empty() {
        "all".to_owned()
    } else {
        row.events.join(",")
    };
    let paused = if row.paused { " (paused)" } else { "" };
    outln!("{}  {}{paused}", row.id, row.url)?;
    outln!(
        "    events: {events}; secret {}…; {} pending, {} failed; added by {} at {}",
        row.secret_fingerprint,
        row.pending,
        row.failed,
        row.created_by,
        when(Some(row.created_at))
    )?;
    Ok(())
}

fn print_delivery(row: &DeliveryRow) -> Result<()> {
    let state = match row.state {
        DeliveryState::Pending => format!("pending (next {})", when(row.next_attempt_at)),
        DeliveryState::Delivered => format!("delivered {}", when(row.delivered_at)),
        DeliveryState::Failed => "FAILED".to_owned(),
    };
    outln!(
        "{}  {}  {}  #{}  {state}  attempts {}",
        row.id,
        row.event_type,
        row.message_id,
        row.sequence,
        row.attempts
    )?;
    if let Some(error) = &row.last_error {
        let status = row
            .last_status
            .map(|s| format!("HTTP {s}, "))
            .unwrap_or_default();
        outln!(
            "    last attempt {}: {status}{error}",
            when(row.last_attempt_at)
        )?;
    }
    Ok(())
}

pub(crate) fn webhook(command: WebhookCommand) -> Result<()> {
    let caller = caller();
    match command {
        WebhookCommand::Add(args) => {
            let filter = EventFilter::parse(args.events.as_deref().unwrap_or(""))?;
            let mut policy = TargetPolicy::default();
            for range in &args.webhook_allow {
                policy = policy.allow(parse_range(range)?);
            }
            with_app(&args.store, async |app| {
                let made = app
                    .add_webhook(&caller, &args.scope, &args.url, &filter, &policy)
                    .await?;
                outln!("id: {}", made.subscription.id)?;
                outln!("secret: {}", made.secret)?;
                outln!(
                    "subscribed {} to scope {:?} ({} events). The secret is shown this once: give it to the receiver, \
                     which checks each delivery's signature with it (docs/webhooks.md).",
                    made.subscription.url,
                    args.scope,
                    filter
                )?;
                outln!(
                    "next: `crosswalk serve` delivers the events; `crosswalk webhook deliveries --scope {}` shows how it went",
                    args.scope
                )?;
                Ok(())
            })
        }
        WebhookCommand::List(args) => with_app(&args.store, async |app| {
            let rows = app.webhooks(&caller, &args.scope).await?;
            if rows.is_empty() {
                outln!(
                    "scope {:?} has no webhook subscriptions; `crosswalk webhook add --scope {} URL` adds one",
                    args.scope,
                    args.scope
                )?;
            }
            for row in &rows {
                print_subscription(row)?;
            }
            Ok(())
        }),
        WebhookCommand::Remove(args) => {
            let id = subscription_id(&args.id)?;
            with_app(&args.store, async |app| {
                app.remove_webhook(&caller, &args.scope, id).await?;
                outln!("removed subscription {id} and its deliveries")?;
                Ok(())
            })
        }
        WebhookCommand::Pause(args) => pause(&caller, args, true),
        WebhookCommand::Resume(args) => pause(&caller, args, false),
        WebhookCommand::Deliveries(args) => {
            let subscription = args
                .subscription
                .as_deref()
                .map(subscription_id)
                .transpose()?;
            let state = match args.state.as_deref() {
                Some("pending") => Some(DeliveryState::Pending),
                Some("delivered") => Some(DeliveryState::Delivered),
                Some("failed") => Some(DeliveryState::Failed),
                _ => None,
            };
            with_app(&args.store, async |app| {
                let rows = app
                    .webhook_deliveries(&caller, &args.scope, subscription, state, args.limit)
                    .await?;
                if rows.is_empty() {
                    outln!("no deliveries")?;
                }
                for row in &rows {
                    print_delivery(row)?;
                }
                Ok(())
            })
        }
        WebhookCommand::Redeliver(args) => with_app(&args.store, async |app| {
            let row = app.redeliver(&caller, &args.scope, args.delivery).await?;
            outln!(
                "delivery {} of event {} is pending again; `crosswalk serve` sends it at its place in the order",
                row.id,
                row.message_id
            )?;
            Ok(())
        }),
    }
}

fn pause(caller: &crosswalk_app::Caller, args: WebhookIdArgs, paused: bool) -> Result<()> {
    let id = subscription_id(&args.id)?;
    with_app(&args.store, async |app| {
        let row = app.pause_webhook(caller, &args.scope, id, paused).await?;
        print_subscription(&row)
    })
}
