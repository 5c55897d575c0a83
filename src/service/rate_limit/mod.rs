//! Rate limits on writes, per organization: GCRA (the generic cell rate algorithm), in process
//! or shared between replicas through Redis.
//!
//! A limit of N writes per window W admits a burst of N, then one more write every W / N (the
//! emission interval): the budget refills continuously rather than all at once at the end of a
//! window. Both backends work on the same figures ([`RateLimit::interval`]), so a server
//! answers the same `X-RateLimit-*` numbers whichever one it uses.

mod local;
mod shared;

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use self::local::LocalLimiter;
pub use self::shared::{SharedLimiter, SharedLimiterError};
use crate::domain::ids::OrganizationId;

/// The limit when `RATE_LIMIT_REQUESTS` is not set: Rebilly's sandbox allowance.
pub const DEFAULT_REQUESTS: u32 = 3000;
/// The window when `RATE_LIMIT_WINDOW_SECS` is not set.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(600);
/// The most writes a window may allow: the emission interval stays at least a microsecond
/// for a window of one second, which is what Redis's clock can tell apart.
pub const MAX_REQUESTS: u32 = 1_000_000;
/// The longest window: a year, far below where microsecond counts stop being exact in the
/// Lua doubles the Redis script computes with.
pub const MAX_WINDOW: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How many writes an organization may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    requests: NonZeroU32,
    window: Duration,
}

/// Why a limit cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    /// More than [`MAX_REQUESTS`] writes per window.
    #[error("at most {MAX_REQUESTS} writes per window")]
    TooManyRequests,
    /// A window shorter than a second or longer than [`MAX_WINDOW`].
    #[error("the window must be 1 to {} seconds", MAX_WINDOW.as_secs())]
    Window,
}

impl RateLimit {
    /// `requests` writes per `window`; `Ok(None)` when `requests` is 0 (no limit).
    pub fn new(requests: u32, window: Duration) -> Result<Option<Self>, RateLimitError> {
        if requests > MAX_REQUESTS {
            return Err(RateLimitError::TooManyRequests);
        }
        if window < Duration::from_secs(1) || window > MAX_WINDOW {
            return Err(RateLimitError::Window);
        }
        Ok(NonZeroU32::new(requests).map(|requests| Self { requests, window }))
    }

    /// The most writes per window, as `X-RateLimit-Limit` shows it.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The emission interval: the window divided by the number of writes, in whole
    /// microseconds so that both backends use exactly the same figure.
    pub fn interval(&self) -> Duration {
        let micros = self.window.as_micros() / u128::from(self.requests.get());
        // The bounds of `new` keep this between 1 and the window's microseconds.
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// The tolerance: how far ahead of now the theoretical arrival time may run before a
    /// write is refused, `interval * (requests - 1)`; the burst is N writes.
    pub fn tolerance(&self) -> Duration {
        self.interval() * (self.requests.get() - 1)
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests: NonZeroU32::new(DEFAULT_REQUESTS).unwrap_or(NonZeroU32::MIN),
            window: DEFAULT_WINDOW,
        }
    }
}

/// What the limiter said about one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The most writes per window (`X-RateLimit-Limit`).
    pub limit: u32,
    /// The window.
    pub window: Duration,
    /// How many more writes the organization may make right now (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Set when the write is refused.
    pub refusal: Option<Refusal>,
}

impl Decision {
    /// An admitted write, leaving `remaining`.
    pub fn admitted(limit: RateLimit, remaining: u32) -> Self {
        Self {
            limit: limit.requests(),
            window: limit.window(),
            remaining,
            refusal: None,
        }
    }

    /// A refused write: one will be admitted after `wait`, measured at `now` (since the Unix
    /// epoch, by the clock of whoever decided).
    pub fn refused(limit: RateLimit, wait: Duration, now: Duration) -> Self {
        Self {
            limit: limit.requests(),
            window: limit.window(),
            remaining: 0,
            refusal: Some(Refusal {
                wait,
                admitted_at: now + wait,
            }),
        }
    }

    /// Whether the write may go ahead.
    pub fn is_admitted(&self) -> bool {
        self.refusal.is_none()
    }
}

/// When a refused organization may write again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How long from the decision until a write is admitted.
    pub wait: Duration,
    /// When that is, since the Unix epoch.
    pub admitted_at: Duration,
}

impl Refusal {
    /// Whole seconds to wait, rounded up and at least 1, as `Retry-After` says it (waiting
    /// less would be refused again).
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.wait).max(1)
    }

    /// The Unix time, in whole seconds rounded up, when a write is admitted again, as
    /// Rebilly's `X-RateLimit-Retry-After` says it.
    pub fn admitted_at_unix_secs(&self) -> u64 {
        ceil_secs(self.admitted_at)
    }

    /// The same moment in RFC 3339 (`2026-11-21T14:15:22Z`), for people.
    pub fn admitted_at_rfc3339(&self) -> String {
        i64::try_from(self.admitted_at_unix_secs())
            .ok()
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
            .map_or_else(String::new, |time| {
                time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The time since the Unix epoch by this machine's clock.
fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The server's rate limiter: off, in process, or shared through Redis (with an in-process
/// fallback while Redis cannot be reached).
#[derive(Debug)]
pub enum RateLimiter {
    /// No limits, and no rate-limit headers.
    Off,
    /// Counters in this process only.
    InProcess(LocalLimiter),
    /// Counters in Redis, shared by every replica.
    Shared(SharedLimiter),
}

impl RateLimiter {
    /// Counters in this process.
    pub fn in_process(limit: RateLimit) -> Self {
        Self::InProcess(LocalLimiter::new(limit))
    }

    /// Counters in the Redis at `redis_url`. Nothing is connected yet: the first write (or
    /// [`RateLimiter::check_backend`]) connects, so the server starts even when Redis is down.
    /// Every Redis call gives up after `timeout`.
    pub fn shared(
        limit: RateLimit,
        redis_url: &str,
        timeout: Duration,
    ) -> Result<Self, SharedLimiterError> {
        Ok(Self::Shared(SharedLimiter::new(limit, redis_url, timeout)?))
    }

    /// Counts a write of `organization`; `None` when limits are off.
    pub async fn check(&self, organization: &OrganizationId) -> Option<Decision> {
        match self {
            Self::Off => None,
            Self::InProcess(limiter) => Some(limiter.check(organization)),
            Self::Shared(limiter) => Some(limiter.check(organization).await),
        }
    }

    /// Forgets the organizations whose budget is full again (their state is the same as a
    /// new one's), so that the in-process state does not grow forever.
    pub fn retain_recent(&self) {
        match self {
            Self::Off => {}
            Self::InProcess(limiter) => limiter.retain_recent(),
            Self::Shared(limiter) => limiter.retain_recent(),
        }
    }

    /// Checks once whether Redis answers, logging the outcome (and falling back if not);
    /// does nothing for the other kinds.
    pub async fn check_backend(&self) {
        if let Self::Shared(limiter) = self {
            limiter.check_connection().await;
        }
    }
}

impl Default for RateLimiter {
    /// In process, [`DEFAULT_REQUESTS`] per [`DEFAULT_WINDOW`].
    fn default() -> Self {
        Self::in_process(RateLimit::default())
    }
}

/// Keeps the in-process state small: calls [`RateLimiter::retain_recent`] every `every`,
/// until the limiter is dropped everywhere else.
pub async fn retain_recent_periodically(limiter: std::sync::Weak<RateLimiter>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match limiter.upgrade() {
            Some(limiter) => limiter.retain_recent(),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: u32, window_secs: u64) -> RateLimit {
        RateLimit::new(requests, Duration::from_secs(window_secs))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_interval_is_the_window_over_the_requests_in_whole_microseconds() {
        assert_eq!(limit(3000, 600).interval(), Duration::from_millis(200));
        assert_eq!(limit(3, 600).interval(), Duration::from_secs(200));
        // 600 s / 7 = 85.714285714... s, cut to the microsecond.
        assert_eq!(limit(7, 600).interval(), Duration::from_micros(85_714_285));
        assert_eq!(limit(MAX_REQUESTS, 1).interval(), Duration::from_micros(1));
    }

    #[test]
    fn the_tolerance_leaves_room_for_a_burst_of_the_whole_limit() {
        assert_eq!(limit(3, 600).tolerance(), Duration::from_secs(400));
        assert_eq!(limit(1, 600).tolerance(), Duration::ZERO);
    }

    #[test]
    fn zero_requests_means_no_limit_and_bad_bounds_are_refused() {
        assert_eq!(RateLimit::new(0, DEFAULT_WINDOW), Ok(None));
        assert_eq!(
            RateLimit::new(MAX_REQUESTS + 1, DEFAULT_WINDOW),
            Err(RateLimitError::TooManyRequests)
        );
        assert_eq!(
            RateLimit::new(10, Duration::from_millis(999)),
            Err(RateLimitError::Window)
        );
        assert_eq!(
            RateLimit::new(10, MAX_WINDOW + Duration::from_secs(1)),
            Err(RateLimitError::Window)
        );
        assert_eq!(RateLimit::default(), limit(3000, 600));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        let refusal = |wait: Duration| {
            Decision::refused(limit(3, 600), wait, Duration::from_secs(1_000))
                .refusal
                .unwrap()
        };
        assert_eq!(refusal(Duration::from_secs(200)).retry_after_secs(), 200);
        assert_eq!(
            refusal(Duration::from_micros(199_000_001)).retry_after_secs(),
            200
        );
        assert_eq!(refusal(Duration::from_micros(1)).retry_after_secs(), 1);
        assert_eq!(refusal(Duration::ZERO).retry_after_secs(), 1);
    }

    #[test]
    fn the_retry_time_is_the_decision_time_plus_the_wait_rounded_up() {
        let now = Duration::from_millis(1_800_000_000_250);
        let decision = Decision::refused(limit(3, 600), Duration::from_millis(199_500), now);
        let refusal = decision.refusal.unwrap();
        assert_eq!(refusal.admitted_at_unix_secs(), 1_800_000_200);
        assert_eq!(refusal.admitted_at_rfc3339(), "2027-01-15T08:03:20Z");
        assert_eq!(decision.remaining, 0);
        assert!(!decision.is_admitted());
    }
}
