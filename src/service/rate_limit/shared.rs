//! Counters in Redis, shared by every replica; the in-process limiter stands in while Redis
//! cannot be reached.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, Script};

use super::{Decision, LocalLimiter, RateLimit};
use crate::domain::ids::OrganizationId;

/// How often Redis is asked whether it answers again while the fallback is in use.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The prefix of the organizations' keys in Redis.
pub const KEY_PREFIX: &str = "invoice-api:rate:";

/// The GCRA step, run atomically inside Redis (EVALSHA, loading it on first use).
const GCRA_SCRIPT: &str = include_str!("gcra.lua");

/// Why a shared limiter cannot be made: the URL is not one Redis understands.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SharedLimiterError(#[from] RedisError);

/// Counters in Redis, with an in-process fallback.
pub struct SharedLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    limit: RateLimit,
    connection: ConnectionManager,
    script: Script,
    timeout: Duration,
    /// Host and port, for the logs (the URL may hold a password).
    address: String,
    fallback: LocalLimiter,
    /// False from a failed call until a probe gets an answer again.
    reachable: AtomicBool,
}

/// What went wrong with one call to Redis.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("unexpected reply from the rate-limit script: {0:?}")]
    Reply(Vec<i64>),
}

impl SharedLimiter {
    /// A limiter on the Redis at `url`. Nothing is connected here: the first call connects,
    /// and until Redis answers, writes are counted in process. Every call to Redis (connecting
    /// included) gives up after `timeout`, so an outage never stalls a write for longer.
    /// Must be called inside a Tokio runtime (the connection keeps a task of its own).
    pub fn new(limit: RateLimit, url: &str, timeout: Duration) -> Result<Self, SharedLimiterError> {
        let client = Client::open(url)?;
        let address = client.get_connection_info().addr().to_string();
        // No retries of its own: while Redis is away the fallback serves, and a probe every
        // PROBE_INTERVAL reconnects.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                limit,
                connection,
                script: Script::new(GCRA_SCRIPT),
                timeout,
                address,
                fallback: LocalLimiter::new(limit),
                reachable: AtomicBool::new(true),
            }),
        })
    }

    /// Counts a write of `organization` in Redis, or in process while Redis cannot be reached.
    pub async fn check(&self, organization: &OrganizationId) -> Decision {
        if self.inner.reachable.load(Ordering::Acquire) {
            match self.inner.check_in_redis(organization).await {
                Ok(decision) => return decision,
                Err(error) => self.inner.lost(&error),
            }
        }
        self.inner.fallback.check(organization)
    }

    /// Whether calls go to Redis (rather than to the in-process fallback).
    pub fn is_using_redis(&self) -> bool {
        self.inner.reachable.load(Ordering::Acquire)
    }

    /// Asks Redis once whether it answers, and logs the outcome; if it does not, the
    /// fallback takes over until it does.
    pub async fn check_connection(&self) {
        match self.inner.ping().await {
            Ok(()) => tracing::info!(
                redis = %self.inner.address,
                "rate limits are shared through Redis"
            ),
            Err(error) => self.inner.lost(&error),
        }
    }

    /// Forgets the fallback's organizations whose budget is full again.
    pub fn retain_recent(&self) {
        self.inner.fallback.retain_recent();
    }
}

impl Inner {
    async fn check_in_redis(&self, organization: &OrganizationId) -> Result<Decision, CallError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{KEY_PREFIX}{organization}"))
            .arg(micros(self.limit.interval()))
            .arg(micros(self.limit.tolerance()));
        let reply: Vec<i64> =
            tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| CallError::TimedOut(self.timeout))??;
        decision_from_reply(self.limit, &reply)
    }

    async fn ping(&self) -> Result<(), CallError> {
        let mut connection = self.connection.clone();
        tokio::time::timeout(
            self.timeout,
            redis::cmd("PING").query_async::<()>(&mut connection),
        )
        .await
        .map_err(|_| CallError::TimedOut(self.timeout))?
        .map_err(CallError::from)
    }

    /// Switches to the fallback, once per outage: one warning, and one task probing Redis
    /// until it answers.
    fn lost(self: &Arc<Self>, error: &CallError) {
        if self.reachable.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                redis = %self.address,
                %error,
                "Redis cannot be reached: rate limits are counted in this process until it answers"
            );
            tokio::spawn(probe_until_reachable(Arc::downgrade(self)));
        }
    }
}

/// Pings Redis every [`PROBE_INTERVAL`] until it answers, then switches back to it; stops
/// early when the limiter is dropped.
async fn probe_until_reachable(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if inner.ping().await.is_ok() {
            inner.reachable.store(true, Ordering::Release);
            tracing::info!(
                redis = %inner.address,
                "Redis answers again: rate limits are shared through it again"
            );
            return;
        }
    }
}

fn micros(duration: Duration) -> u64 {
    // `RateLimit` bounds its window to a year, far below u64's range of microseconds.
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Reads the script's `{admitted, remaining, wait, now}` (microseconds, Redis's clock).
fn decision_from_reply(limit: RateLimit, reply: &[i64]) -> Result<Decision, CallError> {
    let bad = || CallError::Reply(reply.to_vec());
    let &[admitted, remaining, wait, now] = reply else {
        return Err(bad());
    };
    let non_negative = |value: i64| u64::try_from(value).map_err(|_| bad());
    match admitted {
        1 => {
            let remaining = u32::try_from(remaining).map_err(|_| bad())?;
            Ok(Decision::admitted(limit, remaining))
        }
        0 => Ok(Decision::refused(
            limit,
            Duration::from_micros(non_negative(wait)?),
            Duration::from_micros(non_negative(now)?),
        )),
        _ => Err(bad()),
    }
}

impl fmt::Debug for SharedLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLimiter")
            .field("limit", &self.inner.limit)
            .field("redis", &self.inner.address)
            .field("timeout", &self.inner.timeout)
            .field("using_redis", &self.is_using_redis())
            .field("fallback", &self.inner.fallback)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> RateLimit {
        RateLimit::new(3, Duration::from_secs(600))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_script_gets_the_interval_and_tolerance_in_microseconds() {
        assert_eq!(micros(limit().interval()), 200_000_000);
        assert_eq!(micros(limit().tolerance()), 400_000_000);
    }

    #[test]
    fn an_admitting_reply_gives_the_remaining_writes() {
        let decision = decision_from_reply(limit(), &[1, 2, 0, 1_800_000_000_000_000]).unwrap();
        assert_eq!(decision, Decision::admitted(limit(), 2));
        assert_eq!((decision.limit, decision.remaining), (3, 2));
    }

    #[test]
    fn a_refusing_reply_gives_the_wait_and_the_time_by_redis_clock() {
        let now = 1_800_000_000_250_000;
        let decision = decision_from_reply(limit(), &[0, 0, 199_999_999, now]).unwrap();
        let refusal = decision.refusal.unwrap();
        assert_eq!(refusal.wait, Duration::from_micros(199_999_999));
        assert_eq!(refusal.retry_after_secs(), 200);
        // 1_800_000_000.25 s + 199.999999 s = 1_800_000_200.249999 s, rounded up.
        assert_eq!(refusal.admitted_at_unix_secs(), 1_800_000_201);
        assert_eq!(decision.remaining, 0);
    }

    #[test]
    fn a_malformed_reply_is_an_error() {
        for reply in [
            &[1, 2, 0][..],
            &[2, 0, 0, 0],
            &[0, 0, -1, 0],
            &[1, -1, 0, 0],
        ] {
            assert!(decision_from_reply(limit(), reply).is_err(), "{reply:?}");
        }
    }
}
