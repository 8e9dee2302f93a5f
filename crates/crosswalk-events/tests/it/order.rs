//! Which pending delivery goes next: per-scope commit order, one at a time.

use std::collections::HashMap;

use crosswalk_events::{PendingDelivery, PendingState, Plan, plan};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-05-04 10:00 UTC);

fn waiting(id: i64, scope: i64, sequence: i64, due_in_s: i64) -> PendingDelivery {
    PendingDelivery {
        id,
        scope,
        sequence,
        state: PendingState::Waiting {
            next_attempt_at: NOW + Duration::seconds(due_in_s),
        },
    }
}

#[test]
fn a_failing_event_blocks_the_later_ones_of_its_scope() {
    // Event 1 failed and waits 60 s for its retry; 2 and 3 are due but must wait behind it.
    let pending = [
        waiting(13, 1, 3, 0),
        waiting(11, 1, 1, 60),
        waiting(12, 1, 2, 0),
    ];
    assert_eq!(
        plan(&pending, NOW),
        Plan {
            send: vec![],
            wake_at: Some(NOW + Duration::seconds(60))
        }
    );
    // When its retry is due, it alone goes.
    assert_eq!(plan(&pending, NOW + Duration::seconds(60)).send, [11]);
    // Once it is delivered or marked failed it is no longer pending: the next goes.
    assert_eq!(plan(&pending[..1], NOW).send, [13]);
    assert_eq!(plan(&[pending[0], pending[2]], NOW).send, [12]);
}

#[test]
fn scopes_do_not_wait_for_each_other() {
    let pending = [
        waiting(1, 7, 10, 30),
        waiting(2, 8, 11, 0),
        waiting(3, 7, 12, 0),
        waiting(4, 9, 9, 0),
    ];
    let plan = plan(&pending, NOW);
    assert_eq!(
        plan.send,
        [4, 2],
        "heads of scopes 9 and 8, in commit order"
    );
    assert_eq!(plan.wake_at, Some(NOW + Duration::seconds(30)));
}

#[test]
fn an_event_in_flight_blocks_until_its_lease_runs_out() {
    let leased = PendingDelivery {
        id: 5,
        scope: 1,
        sequence: 1,
        state: PendingState::InFlight {
            lease_expires_at: NOW + Duration::seconds(10),
        },
    };
    let pending = [leased, waiting(6, 1, 2, 0)];
    assert_eq!(
        plan(&pending, NOW),
        Plan {
            send: vec![],
            wake_at: Some(NOW + Duration::seconds(10))
        }
    );
    // The worker holding it died (kill -9): after the lease it is sent again, first.
    assert_eq!(plan(&pending, NOW + Duration::seconds(10)).send, [5]);
}

#[test]
fn nothing_pending_plans_nothing() {
    assert_eq!(plan(&[], NOW), Plan::default());
}

fn pending_deliveries() -> impl Strategy<Value = Vec<PendingDelivery>> {
    proptest::collection::vec((0i64..4, -50i64..50, any::<bool>()), 0..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (scope, due_in_s, in_flight))| {
                let at = NOW + Duration::seconds(due_in_s);
                PendingDelivery {
                    id: 1000 + i as i64,
                    scope,
                    // Unique sequences, not in id order.
                    sequence: (i as i64 * 7919) % 1009,
                    state: if in_flight {
                        PendingState::InFlight {
                            lease_expires_at: at,
                        }
                    } else {
                        PendingState::Waiting {
                            next_attempt_at: at,
                        }
                    },
                }
            })
            .collect()
    })
}

fn due_at(delivery: &PendingDelivery) -> OffsetDateTime {
    match delivery.state {
        PendingState::Waiting { next_attempt_at } => next_attempt_at,
        PendingState::InFlight { lease_expires_at } => lease_expires_at,
    }
}

proptest! {
    #[test]
    fn only_each_scopes_oldest_pending_delivery_is_ever_sent(pending in pending_deliveries()) {
        let plan = plan(&pending, NOW);
        let mut heads: HashMap<i64, &PendingDelivery> = HashMap::new();
        for delivery in &pending {
            let head = heads.entry(delivery.scope).or_insert(delivery);
            if delivery.sequence < head.sequence {
                *head = delivery;
            }
        }
        let mut sent_scopes = Vec::new();
        for id in &plan.send {
            let delivery = pending.iter().find(|d| d.id == *id).unwrap();
            prop_assert_eq!(heads[&delivery.scope].id, *id, "sent past an older pending delivery");
            prop_assert!(due_at(delivery) <= NOW);
            sent_scopes.push(delivery.scope);
        }
        let sent_count = sent_scopes.len();
        sent_scopes.sort_unstable();
        sent_scopes.dedup();
        prop_assert_eq!(sent_scopes.len(), sent_count, "two of one scope at once");
        for head in heads.values() {
            prop_assert_eq!(plan.send.contains(&head.id), due_at(head) <= NOW, "a due head left waiting");
        }
        let next = heads.values().map(|h| due_at(h)).filter(|at| *at > NOW).min();
        prop_assert_eq!(plan.wake_at, next);
    }
}
