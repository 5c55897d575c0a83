//! The in-process limiter: governor's keyed GCRA, one state per organization.

use std::fmt;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::{Decision, RateLimit, unix_now};
use crate::domain::ids::OrganizationId;

type Keyed<C> = RateLimiter<
    OrganizationId,
    DefaultKeyedStateStore<OrganizationId>,
    C,
    StateInformationMiddleware,
>;

/// Counters kept in this process's memory.
pub struct LocalLimiter<C: Clock = DefaultClock> {
    limit: RateLimit,
    limiter: Keyed<C>,
}

impl LocalLimiter {
    /// A limiter on the monotonic clock.
    pub fn new(limit: RateLimit) -> Self {
        Self::with_clock(limit, DefaultClock::default())
    }
}

impl<C: Clock> LocalLimiter<C> {
    /// A limiter on `clock` (a fake one in tests).
    pub fn with_clock(limit: RateLimit, clock: C) -> Self {
        // Never `Quota::per_second(n)` and the like: those mean one write per n seconds.
        // `with_period` only fails on a zero interval, which `RateLimit` rules out.
        let quota = Quota::with_period(limit.interval())
            .unwrap_or_else(|| unreachable!("a rate limit's interval is never zero"))
            .allow_burst(limit.requests);
        // StateInformationMiddleware: an admitted write tells how many remain.
        let limiter = Keyed::new(quota, DefaultKeyedStateStore::default(), clock);
        Self { limit, limiter }
    }

    /// Counts a write of `organization`, unless it is refused.
    pub fn check(&self, organization: &OrganizationId) -> Decision {
        match self.limiter.check_key(organization) {
            Ok(state) => Decision::admitted(self.limit, state.remaining_burst_capacity()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision::refused(self.limit, wait, unix_now())
            }
        }
    }

    /// Forgets organizations whose state is the same as a new one's.
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many organizations have a state.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no organization has a state.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

impl<C: Clock> fmt::Debug for LocalLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("limit", &self.limit)
            .field("organizations", &self.limiter.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(
        requests: u32,
        window_secs: u64,
    ) -> (LocalLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limit = RateLimit::new(requests, Duration::from_secs(window_secs))
            .unwrap()
            .unwrap();
        (LocalLimiter::with_clock(limit, clock.clone()), clock)
    }

    fn organization(id: &str) -> OrganizationId {
        OrganizationId::parse(id).unwrap()
    }

    #[test]
    fn a_burst_of_the_limit_is_admitted_counting_down_then_refused() {
        let (limiter, _clock) = limiter(3, 600);
        let org = organization("org_a");
        let remaining: Vec<u32> = (0..3).map(|_| limiter.check(&org).remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check(&org);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.limit, 3);
        let refusal = refused.refusal.unwrap();
        assert_eq!(refusal.wait, Duration::from_secs(200));
        assert_eq!(refusal.retry_after_secs(), 200);
    }

    #[test]
    fn refused_writes_do_not_count_and_the_budget_refills_one_interval_at_a_time() {
        let (limiter, clock) = limiter(3, 600);
        let org = organization("org_a");
        for _ in 0..3 {
            assert!(limiter.check(&org).is_admitted());
        }
        for _ in 0..5 {
            assert!(!limiter.check(&org).is_admitted());
        }
        clock.advance(Duration::from_secs(150));
        let refused = limiter.check(&org).refusal.unwrap();
        assert_eq!(refused.wait, Duration::from_secs(50));
        clock.advance(Duration::from_secs(50));
        // Five refusals changed nothing: one interval after the burst, one write is back.
        assert_eq!(limiter.check(&org).remaining, 0);
        assert!(!limiter.check(&org).is_admitted());
        clock.advance(Duration::from_secs(600));
        assert_eq!(
            limiter.check(&org).remaining,
            2,
            "a full window refills all"
        );
    }

    #[test]
    fn each_organization_has_its_own_budget() {
        let (limiter, _clock) = limiter(1, 600);
        assert!(limiter.check(&organization("org_a")).is_admitted());
        assert!(!limiter.check(&organization("org_a")).is_admitted());
        assert!(limiter.check(&organization("org_b")).is_admitted());
    }

    #[test]
    fn retain_recent_forgets_only_organizations_whose_budget_is_full_again() {
        let (limiter, clock) = limiter(3, 600);
        limiter.check(&organization("org_a"));
        clock.advance(Duration::from_secs(500));
        limiter.check(&organization("org_b"));
        clock.advance(Duration::from_secs(100));
        limiter.retain_recent();
        assert_eq!(limiter.len(), 1, "org_a is full again; org_b is not");
        assert_eq!(limiter.check(&organization("org_b")).remaining, 1);
    }
}
