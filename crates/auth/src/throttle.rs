//! Sign-in throttling per account and per client IP.
//!
//! Fixed windows: the first failure opens a window; once `max_failures` failures land in it,
//! further attempts are refused until the window closes. A successful sign-in clears the
//! account's window (but not the IP's, so one good account cannot unlock a spraying IP).
//!
//! State is in memory, per process. With several instances behind one load balancer each
//! counts separately, which still bounds guessing to `instances × max_failures` per window;
//! see docs/decisions.md.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub max_failures: u32,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    failures: u32,
}

#[derive(Debug, Default)]
struct Counters {
    windows: HashMap<String, Window>,
}

impl Counters {
    fn blocked_for(&self, key: &str, limits: ThrottleLimits, now: Instant) -> Option<Duration> {
        let window = self.windows.get(key)?;
        let closes = window.opened + limits.window;
        (window.failures >= limits.max_failures && now < closes).then(|| closes - now)
    }

    fn record_failure(&mut self, key: String, limits: ThrottleLimits, now: Instant) {
        if self.windows.len() > 100_000 {
            // Bound memory under a spraying attack: forget windows that already closed.
            self.windows.retain(|_, w| now < w.opened + limits.window);
        }
        let window = self.windows.entry(key).or_insert(Window {
            opened: now,
            failures: 0,
        });
        if now >= window.opened + limits.window {
            *window = Window {
                opened: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }
}

/// Counts failed sign-ins and says when to refuse the next one.
#[derive(Debug)]
pub struct SignInThrottle {
    account: ThrottleLimits,
    ip: ThrottleLimits,
    accounts: Mutex<Counters>,
    ips: Mutex<Counters>,
}

impl SignInThrottle {
    pub fn new(account: ThrottleLimits, ip: ThrottleLimits) -> Self {
        Self {
            account,
            ip,
            accounts: Mutex::default(),
            ips: Mutex::default(),
        }
    }

    /// `Err(wait)` when this account or this IP must wait before trying again.
    pub fn check(&self, account: &str, ip: &str, now: Instant) -> Result<(), Duration> {
        let by_account = lock(&self.accounts).blocked_for(account, self.account, now);
        let by_ip = lock(&self.ips).blocked_for(ip, self.ip, now);
        match by_account.into_iter().chain(by_ip).max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, account: &str, ip: &str, now: Instant) {
        lock(&self.accounts).record_failure(account.to_owned(), self.account, now);
        lock(&self.ips).record_failure(ip.to_owned(), self.ip, now);
    }

    pub fn record_success(&self, account: &str) {
        lock(&self.accounts).windows.remove(account);
    }
}

fn lock(counters: &Mutex<Counters>) -> std::sync::MutexGuard<'_, Counters> {
    // A panic while holding this lock cannot leave the map inconsistent; keep serving.
    counters
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(
            ThrottleLimits {
                max_failures: 3,
                window: Duration::from_secs(60),
            },
            ThrottleLimits {
                max_failures: 5,
                window: Duration::from_secs(120),
            },
        )
    }

    #[test]
    fn account_is_blocked_after_max_failures_until_the_window_closes() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..3 {
            assert!(t.check("ada", &format!("ip{i}"), start).is_ok());
            t.record_failure("ada", &format!("ip{i}"), start + Duration::from_secs(i));
        }
        let wait = t
            .check("ada", "ip9", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            t.check("bob", "ip9", start + Duration::from_secs(10))
                .is_ok(),
            "other accounts unaffected"
        );
        assert!(
            t.check("ada", "ip9", start + Duration::from_secs(60))
                .is_ok(),
            "window closed"
        );
    }

    #[test]
    fn failures_in_an_old_window_do_not_count() {
        let t = throttle();
        let start = Instant::now();
        t.record_failure("ada", "ip", start);
        t.record_failure("ada", "ip", start + Duration::from_secs(1));
        t.record_failure("ada", "ip", start + Duration::from_secs(61));
        assert!(
            t.check("ada", "other", start + Duration::from_secs(62))
                .is_ok()
        );
    }

    #[test]
    fn ip_is_blocked_across_accounts() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..5 {
            t.record_failure(&format!("user{i}"), "10.0.0.1", start);
        }
        let wait = t
            .check("fresh", "10.0.0.1", start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(100));
        assert!(t.check("fresh", "10.0.0.2", start).is_ok());
    }

    #[test]
    fn success_resets_the_account_but_not_the_ip() {
        let t = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            t.record_failure("ada", "ip", start);
        }
        assert!(t.check("ada", "elsewhere", start).is_err());
        t.record_success("ada");
        assert!(t.check("ada", "elsewhere", start).is_ok());
        t.record_failure("x", "ip", start);
        t.record_failure("y", "ip", start);
        assert!(
            t.check("ada", "ip", start).is_err(),
            "the IP reached its 5 failures"
        );
    }
}
