//! The webhook delivery worker of `crosswalk serve` (issue 21): rounds of
//! [`App::deliver_due`] until the process ends. Each round claims the due deliveries (at most
//! one per subscription: events go out in order), sends them, and records the outcomes; in
//! between it sleeps until the next delivery is due, or for the poll interval at most, so
//! events committed by other processes (the CLI, another server) are picked up.
//!
//! Several servers on one PostgreSQL database share the work: a claim skips what another
//! holds, and a killed server's claims expire after the lease. On SQLite one process should
//! serve a store file.

use std::time::Duration;

use crosswalk_app::{App, DeliverySettings};
use crosswalk_events::{ClientError, Deliverer, DeliveryConfig};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

/// The worker's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The client: target policy (allowed ranges) and per-attempt timeout.
    pub delivery: DeliveryConfig,
    /// Retry schedule, lease and batch.
    pub settings: DeliverySettings,
    /// The longest sleep between two rounds.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            delivery: DeliveryConfig::default(),
            settings: DeliverySettings::default(),
            poll: Duration::from_millis(500),
        }
    }
}

/// Starts the worker on the current runtime; it runs until aborted (a delivery cut short
/// is sent again by the next worker whose claim finds it: at least once).
pub fn spawn_worker(app: App, config: WorkerConfig) -> Result<JoinHandle<()>, ClientError> {
    let deliverer = Deliverer::new(config.delivery.clone())?;
    Ok(tokio::spawn(async move {
        loop {
            let now = OffsetDateTime::now_utc();
            match app.deliver_due(&deliverer, &config.settings, now).await {
                Ok(round) if round.claimed > 0 => {
                    tracing::debug!(
                        claimed = round.claimed,
                        delivered = round.delivered,
                        retried = round.retried,
                        failed = round.failed,
                        lost = round.lost,
                        "webhook deliveries"
                    );
                    if round.failed > 0 {
                        tracing::warn!(
                            failed = round.failed,
                            "webhook deliveries marked failed; `crosswalk webhook deliveries` shows why"
                        );
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "a round of webhook deliveries failed; trying again")
                }
            }
            let wait = match app.next_delivery_due().await {
                Ok(Some(due)) => {
                    let until = due - OffsetDateTime::now_utc();
                    Duration::try_from(until)
                        .unwrap_or(Duration::ZERO)
                        .min(config.poll)
                }
                _ => config.poll,
            };
            tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
        }
    }))
}
