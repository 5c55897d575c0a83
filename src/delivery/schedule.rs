//! When a failed delivery is tried again: exponential backoff with jitter, for up to a
//! maximum age (3 days unless set otherwise), then it is given up.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How retries are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The wait after the first failed attempt (`WEBHOOK_RETRY_INITIAL_DELAY_MS`).
    pub initial_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long after its event a delivery is still tried (`WEBHOOK_RETRY_MAX_AGE_SECS`).
    pub max_age: Duration,
}

impl Default for RetrySchedule {
    /// 5 s, then 4 times longer each time (20 s, 80 s, 5 min 20 s, ...), at most 6 hours
    /// apart, for 3 days: 18 attempts in all.
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(6 * 60 * 60),
            max_age: Duration::from_secs(3 * 24 * 60 * 60),
        }
    }
}

impl RetrySchedule {
    /// When to try again after failed attempt number `attempt` (from 1) of a delivery made
    /// at `created`; `None` once that would be past the maximum age. `jitter` in [0, 1)
    /// spreads retries of many deliveries that failed together over ±20% of the wait.
    pub fn next_attempt(
        &self,
        attempt: i32,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Option<DateTime<Utc>> {
        let exponent = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let wait = self
            .initial_delay
            .saturating_mul(4u32.saturating_pow(exponent))
            .min(self.max_delay);
        let wait = wait.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0));
        let next = now + chrono::Duration::from_std(wait).ok()?;
        let deadline = created + chrono::Duration::from_std(self.max_age).ok()?;
        (next <= deadline).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_four_times_up_to_six_hours_and_stop_after_three_days() {
        let schedule = RetrySchedule::default();
        let created = Utc::now();
        let wait = |attempt, jitter| {
            schedule
                .next_attempt(attempt, created, created, jitter)
                .map(|next| (next - created).num_milliseconds())
        };
        assert_eq!(wait(1, 0.5), Some(5_000));
        assert_eq!(wait(2, 0.5), Some(20_000));
        assert_eq!(wait(3, 0.5), Some(80_000));
        assert_eq!(wait(12, 0.5), Some(6 * 3_600_000));
        assert_eq!(wait(1, 0.0), Some(4_000));
        assert_eq!(wait(1, 0.999_999), Some(5_999));
        let late = created + chrono::Duration::days(3) - chrono::Duration::hours(1);
        assert_eq!(schedule.next_attempt(14, created, late, 0.5), None);
    }

    #[test]
    fn three_days_hold_eighteen_attempts() {
        let schedule = RetrySchedule::default();
        let created = Utc::now();
        let mut now = created;
        let mut attempts = 1;
        while let Some(next) = schedule.next_attempt(attempts, created, now, 0.5) {
            now = next;
            attempts += 1;
        }
        assert_eq!(attempts, 18);
    }
}
