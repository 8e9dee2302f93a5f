//! Crosswalk's outgoing events and webhooks, the parts that need no store and no server:
//!
//! - [`event`]: the events (`job.completed`, `mappings.changed`, …) and their JSON;
//! - [`sign`]: Standard Webhooks signatures, secrets (`whsec_…`) and verification;
//! - [`retry`]: when a failed delivery is tried again, and when it is given up;
//! - [`target`]: which webhook URLs and addresses may be reached;
//! - [`deliver`]: one signed POST of one event to one target, and its outcome;
//! - [`order`]: which pending delivery of a subscription goes next.
//!
//! The application layer writes events to its outbox in the transaction of the change they
//! announce ([`Event::to_body`] gives the bytes to store); the server's worker reads
//! pending deliveries, asks [`order::plan`] what to send, sends with
//! [`Deliverer::deliver`] and records the outcome, scheduling the next attempt with
//! [`RetrySchedule::next_attempt`]. The protocol is documented in `docs/webhooks.md`.

pub mod deliver;
pub mod event;
pub mod order;
pub mod retry;
pub mod sign;
pub mod target;

pub use deliver::{
    Attempt, ClientError, DEFAULT_TIMEOUT, Deliverer, DeliveryConfig, DeliveryFailure,
    DeliveryOutcome, FailureKind,
};
pub use event::{
    ChangeCounts, Event, EventFilter, EventPayload, EventType, ExceptionRecorded, JobCompleted,
    JobFailed, JobStarted, JobSummary, MappingsChanged, PurgedNamespace, RetentionPurged,
    ReviewDecided, ReviewDecision, ScimGroupConflict, UnknownEventType,
};
pub use order::{PendingDelivery, PendingState, Plan, plan};
pub use retry::{NextAttempt, RetrySchedule, ScheduleError};
pub use sign::{SecretError, SignedHeaders, VerifyError, WebhookSecret, sign, verify};
pub use target::{
    InvalidRange, RefusedAddress, TargetError, TargetPolicy, WebhookUrl, parse_range,
};
