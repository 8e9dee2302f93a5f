//! When a failed delivery is tried again, and when it is given up.
//!
//! Exponential backoff with "equal jitter" (the name AWS's architecture blog gives it):
//! after the n-th failed attempt the ceiling is `first_delay × 2^(n-1)`, capped at
//! `max_delay`, and the delay is drawn uniformly from the ceiling's upper half,
//! `[ceiling/2, ceiling]`. Full jitter (`[0, ceiling]`) spreads many clients competing for
//! one server best, but it may also retry a receiver that is down almost at once; here a
//! subscription has one delivery in flight at a time (events go out in order, see
//! [`crate::order`]), so there is little contention to spread, and a receiver that is
//! recovering gets at least half the step. With this choice the delays never shrink until
//! the cap is reached: each lower bound is the previous ceiling.
//!
//! Attempts stop `max_period` after the first one: a retry that would fall later is moved
//! to the end of the period (one last try), and a failure at or after the end gives up, so
//! the delivery is marked failed.

use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;

/// The retry schedule's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The ceiling after the first failure (the delay is between half of it and it).
    pub first_delay: Duration,
    /// No delay is longer than this.
    pub max_delay: Duration,
    /// Attempts stop this long after the first one; the delivery is then marked failed.
    pub max_period: Duration,
}

impl Default for RetrySchedule {
    /// 10 s, doubling, at most 1 h apart, for 24 h: about 40 attempts.
    fn default() -> Self {
        RetrySchedule {
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(60 * 60),
            max_period: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// A schedule that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the first retry delay must be at least 1 ms")]
    FirstDelayTooShort,
    #[error("the longest retry delay ({max:?}) must not be shorter than the first ({first:?})")]
    MaxDelayBelowFirst { first: Duration, max: Duration },
    #[error("the retry period ({period:?}) must not be shorter than the first delay ({first:?})")]
    PeriodBelowFirst { first: Duration, period: Duration },
    #[error("the retry period must be under 10 years")]
    PeriodTooLong,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again at this time.
    RetryAt(OffsetDateTime),
    /// The period is over: mark the delivery failed.
    GiveUp,
}

impl RetrySchedule {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.first_delay < Duration::from_millis(1) {
            return Err(ScheduleError::FirstDelayTooShort);
        }
        if self.max_delay < self.first_delay {
            return Err(ScheduleError::MaxDelayBelowFirst {
                first: self.first_delay,
                max: self.max_delay,
            });
        }
        if self.max_period < self.first_delay {
            return Err(ScheduleError::PeriodBelowFirst {
                first: self.first_delay,
                period: self.max_period,
            });
        }
        if self.max_period > Duration::from_secs(10 * 366 * 24 * 60 * 60) {
            return Err(ScheduleError::PeriodTooLong);
        }
        Ok(())
    }

    /// The ceiling after `failures` failed attempts (1 for the first failure).
    pub fn ceiling(&self, failures: u32) -> Duration {
        match 2u32.checked_pow(failures.saturating_sub(1)) {
            Some(factor) => self.first_delay.saturating_mul(factor).min(self.max_delay),
            None => self.max_delay,
        }
    }

    /// The delay after `failures` failed attempts: uniform in `[ceiling/2, ceiling]`, in
    /// whole milliseconds. Deterministic for a seeded `rng`.
    pub fn delay(&self, failures: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = millis(self.ceiling(failures));
        let lower = ceiling - ceiling / 2;
        Duration::from_millis(rng.random_range(lower..=ceiling))
    }

    /// After the `failures`-th failed attempt, which ended at `failed_at`, of a delivery
    /// first attempted at `first_attempt_at`: when to try again, or give up. A receiver's
    /// `Retry-After` lengthens the delay (never beyond `max_delay`).
    pub fn next_attempt(
        &self,
        first_attempt_at: OffsetDateTime,
        failures: u32,
        failed_at: OffsetDateTime,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> NextAttempt {
        // A deadline past the calendar's end (year 9999) never comes.
        let deadline = add(first_attempt_at, self.max_period);
        if deadline.is_some_and(|deadline| failed_at >= deadline) {
            return NextAttempt::GiveUp;
        }
        let mut delay = self.delay(failures, rng);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(self.max_delay));
        }
        let next = add(failed_at, delay);
        match (next, deadline) {
            (Some(next), Some(deadline)) => NextAttempt::RetryAt(next.min(deadline)),
            (Some(next), None) => NextAttempt::RetryAt(next),
            (None, Some(deadline)) => NextAttempt::RetryAt(deadline),
            (None, None) => NextAttempt::GiveUp,
        }
    }
}

fn add(at: OffsetDateTime, duration: Duration) -> Option<OffsetDateTime> {
    at.checked_add(time::Duration::try_from(duration).ok()?)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
