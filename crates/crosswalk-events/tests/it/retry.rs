//! The retry schedule: growth, the cap, the period, determinism.

use std::time::Duration;

use crosswalk_events::{NextAttempt, RetrySchedule, ScheduleError};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;
use time::macros::datetime;

const START: OffsetDateTime = datetime!(2026-05-04 10:00 UTC);

/// Every attempt's time, from the first to the one after which the schedule gives up,
/// each attempt taking `attempt_takes`.
fn simulate(schedule: &RetrySchedule, seed: u64, attempt_takes: Duration) -> Vec<OffsetDateTime> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut attempts = vec![START];
    loop {
        let failed_at = *attempts.last().unwrap() + attempt_takes;
        let failures = attempts.len() as u32;
        match schedule.next_attempt(START, failures, failed_at, None, &mut rng) {
            NextAttempt::RetryAt(at) => {
                assert!(at >= failed_at, "a retry before the failure it follows");
                attempts.push(at);
            }
            NextAttempt::GiveUp => return attempts,
        }
        assert!(attempts.len() < 100_000, "the schedule never ends");
    }
}

fn schedules() -> impl Strategy<Value = RetrySchedule> {
    (1u64..=60_000, 1u64..=64, 1u64..=2_000).prop_map(|(first_ms, cap_factor, period_factor)| {
        let first_delay = Duration::from_millis(first_ms);
        RetrySchedule {
            first_delay,
            max_delay: first_delay * cap_factor as u32,
            max_period: first_delay * period_factor as u32,
        }
    })
}

proptest! {
    #[test]
    fn delays_stay_in_the_upper_half_of_their_ceiling_and_under_the_cap(
        schedule in schedules(), seed: u64, failures in 1u32..200,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ceiling = schedule.ceiling(failures);
        let delay = schedule.delay(failures, &mut rng);
        prop_assert!(ceiling <= schedule.max_delay);
        prop_assert!(delay <= ceiling, "{delay:?} above {ceiling:?}");
        prop_assert!(delay * 2 >= ceiling - Duration::from_millis(1), "{delay:?} below half of {ceiling:?}");
    }

    #[test]
    fn ceilings_double_until_the_cap_and_never_shrink(schedule in schedules()) {
        let mut previous = Duration::ZERO;
        for failures in 1..80 {
            let ceiling = schedule.ceiling(failures);
            prop_assert!(ceiling >= previous);
            if previous > Duration::ZERO && ceiling < schedule.max_delay {
                prop_assert_eq!(ceiling, previous * 2);
            }
            previous = ceiling;
        }
        prop_assert_eq!(schedule.ceiling(1), schedule.first_delay);
        prop_assert_eq!(schedule.ceiling(u32::MAX), schedule.max_delay);
    }

    #[test]
    fn delays_grow_until_the_cap(schedule in schedules(), seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut previous = Duration::ZERO;
        for failures in 1..80 {
            let delay = schedule.delay(failures, &mut rng);
            if schedule.ceiling(failures) < schedule.max_delay {
                prop_assert!(delay >= previous, "delay {failures} shrank: {delay:?} after {previous:?}");
            }
            previous = delay;
        }
    }

    #[test]
    fn every_attempt_falls_within_the_period_and_the_last_at_its_end(
        schedule in schedules(), seed: u64, attempt_ms in 0u64..5_000,
    ) {
        let attempt_takes = Duration::from_millis(attempt_ms);
        let deadline = START + schedule.max_period;
        let attempts = simulate(&schedule, seed, attempt_takes);
        for pair in attempts.windows(2) {
            prop_assert!(pair[1] > pair[0]);
            let gap = pair[1] - pair[0];
            prop_assert!(gap <= attempt_takes + schedule.max_delay);
        }
        let last = *attempts.last().unwrap();
        prop_assert!(last <= deadline, "an attempt after the period");
        // One last try at the end: a receiver back just before the deadline still gets it.
        prop_assert!(last == deadline || last + attempt_takes >= deadline);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule(schedule in schedules(), seed: u64) {
        prop_assert_eq!(simulate(&schedule, seed, Duration::ZERO), simulate(&schedule, seed, Duration::ZERO));
    }

    #[test]
    fn retry_after_lengthens_a_delay_but_never_past_the_cap(schedule in schedules(), seed: u64, asked_s in 0u64..100_000) {
        let failed_at = START + Duration::from_millis(1);
        let asked = Duration::from_secs(asked_s);
        let plain = schedule.next_attempt(START, 1, failed_at, None, &mut ChaCha8Rng::seed_from_u64(seed));
        let told = schedule.next_attempt(START, 1, failed_at, Some(asked), &mut ChaCha8Rng::seed_from_u64(seed));
        if let (NextAttempt::RetryAt(plain), NextAttempt::RetryAt(told)) = (plain, told) {
            prop_assert!(told >= plain);
            prop_assert!(told - failed_at <= schedule.max_delay);
            prop_assert!(told <= START + schedule.max_period);
        } else {
            prop_assert!(false, "a first failure inside the period is retried");
        }
    }
}

#[test]
fn the_default_schedule_tries_for_a_day_about_forty_times() {
    let schedule = RetrySchedule::default();
    schedule.validate().unwrap();
    let attempts = simulate(&schedule, 7, Duration::from_secs(5));
    assert!(
        (35..=50).contains(&attempts.len()),
        "{} attempts",
        attempts.len()
    );
    assert_eq!(
        *attempts.last().unwrap(),
        START + Duration::from_secs(24 * 3600)
    );
    let first_gap = attempts[1] - attempts[0] - Duration::from_secs(5);
    assert!(
        first_gap >= Duration::from_secs(5) && first_gap <= Duration::from_secs(10),
        "{first_gap}"
    );
    // Different seeds spread retries differently.
    assert_ne!(
        simulate(&schedule, 7, Duration::ZERO),
        simulate(&schedule, 8, Duration::ZERO)
    );
}

#[test]
fn a_failure_after_the_period_gives_up() {
    let schedule = RetrySchedule::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let end = START + schedule.max_period;
    assert_eq!(
        schedule.next_attempt(START, 30, end, None, &mut rng),
        NextAttempt::GiveUp
    );
    assert_eq!(
        schedule.next_attempt(START, 30, end + Duration::from_secs(1), None, &mut rng),
        NextAttempt::GiveUp
    );
    // Far calendar dates do not overflow.
    let late = datetime!(9999-12-31 23:00 UTC);
    assert!(matches!(
        schedule.next_attempt(late, 1, late, None, &mut rng),
        NextAttempt::RetryAt(_)
    ));
}

#[test]
fn impossible_schedules_are_refused() {
    let ok = RetrySchedule::default();
    let zero = RetrySchedule {
        first_delay: Duration::ZERO,
        ..ok
    };
    assert_eq!(zero.validate(), Err(ScheduleError::FirstDelayTooShort));
    let inverted = RetrySchedule {
        max_delay: Duration::from_secs(1),
        ..ok
    };
    assert!(matches!(
        inverted.validate(),
        Err(ScheduleError::MaxDelayBelowFirst { .. })
    ));
    let short = RetrySchedule {
        max_period: Duration::from_secs(1),
        ..ok
    };
    assert!(matches!(
        short.validate(),
        Err(ScheduleError::PeriodBelowFirst { .. })
    ));
    let long = RetrySchedule {
        max_period: Duration::from_secs(20 * 366 * 86_400),
        ..ok
    };
    assert_eq!(long.validate(), Err(ScheduleError::PeriodTooLong));
}
