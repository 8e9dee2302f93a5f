//! Which pending delivery of a subscription goes next.
//!
//! Events of one scope reach a subscription in the order they were committed (the outbox's
//! sequence), one at a time: only the oldest delivery not yet delivered or failed, the
//! *head*, may be sent. A head that keeps failing blocks the later ones until it succeeds
//! or its retry period ends and it is marked failed; then the next one goes. This is what
//! lets a receiver apply `mappings.changed` batches in cursor order without sorting, at the
//! price that one bad event can hold the rest back for up to the retry period (24 h by
//! default). The alternative, sending later events past a failing one, would deliver a
//! job's `job.completed` before its `job.started` whenever a single attempt failed.
//!
//! Deliveries already delivered or marked failed are not pending and block nothing; an
//! admin's redelivery makes one pending again, at its old place in the order. A paused
//! subscription is not planned at all.

use time::OffsetDateTime;

/// A delivery of one event to one subscription that is neither delivered nor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDelivery {
    /// The delivery's id.
    pub id: i64,
    /// The event's scope.
    pub scope: i64,
    /// The event's place in the outbox: commit order.
    pub sequence: i64,
    pub state: PendingState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingState {
    /// Waiting for its next attempt, due at this time (for a first attempt: when the
    /// event was committed).
    Waiting { next_attempt_at: OffsetDateTime },
    /// A worker holds it until this time. A lease that has run out belongs to a worker
    /// that died (`kill -9`) mid-delivery: the delivery may be taken again.
    InFlight { lease_expires_at: OffsetDateTime },
}

/// What a worker should do for one subscription now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Deliveries to attempt now (claim each atomically first): at most one per scope.
    pub send: Vec<i64>,
    /// When something else becomes due, if nothing is sent sooner: the earliest head's
    /// next attempt or lease end.
    pub wake_at: Option<OffsetDateTime>,
}

/// Plans one subscription's pending deliveries (in any order) at `now`.
pub fn plan(pending: &[PendingDelivery], now: OffsetDateTime) -> Plan {
    let mut heads: Vec<&PendingDelivery> = Vec::new();
    for delivery in pending {
        match heads.iter_mut().find(|head| head.scope == delivery.scope) {
            Some(head) => {
                if (delivery.sequence, delivery.id) < (head.sequence, head.id) {
                    *head = delivery;
                }
            }
            None => heads.push(delivery),
        }
    }
    heads.sort_by_key(|head| (head.sequence, head.id));
    let mut plan = Plan::default();
    for head in heads {
        let due_at = match head.state {
            PendingState::Waiting { next_attempt_at } => next_attempt_at,
            PendingState::InFlight { lease_expires_at } => lease_expires_at,
        };
        if due_at <= now {
            plan.send.push(head.id);
        } else {
            plan.wake_at = Some(plan.wake_at.map_or(due_at, |wake| wake.min(due_at)));
        }
    }
    plan
}
