//! Sign-in throttling per account and per client IP.
//!
//! Fixed windows: the first attempt opens a window; once `max_failures` attempts that did
//! not succeed land in it, further attempts are refused until the window closes. Attempts
//! are counted before the password is checked, atomically for the account and the client,
//! so a parallel burst cannot slip past the limit. A successful sign-in clears the
//! account's window (but not the IP's, so one good account cannot unlock a spraying IP).
//! IPv6 clients are counted per /64.
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
    /// Whether a refusal in this window was already reported (audited once, not per
    /// attempt).
    refusal_reported: bool,
}

#[derive(Debug, Default)]
struct Counters {
    windows: HashMap<String, Window>,
}

impl Counters {
    /// The open window of `key`, reset when it closed.
    fn window(&mut self, key: &str, limits: ThrottleLimits, now: Instant) -> &mut Window {
        if self.windows.len() > 100_000 {
            // Bound memory under a spraying attack: forget windows that already closed.
            self.windows.retain(|_, w| now < w.opened + limits.window);
        }
        let window = self.windows.entry(key.to_owned()).or_insert(Window {
            opened: now,
            failures: 0,
            refusal_reported: false,
        });
        if now >= window.opened + limits.window {
            *window = Window {
                opened: now,
                failures: 0,
                refusal_reported: false,
            };
        }
        window
    }
}

/// A sign-in attempt that must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub wait: Duration,
    /// The first refusal of this window: worth one audit event; later ones are not.
    pub first: bool,
}

/// Counts sign-in attempts and refuses them past the limits.
///
/// An attempt is *reserved* before the password is checked: the check takes a while
/// (argon2), and counting only after it would let a parallel burst all pass the limit
/// before the first failure is recorded. A successful sign-in gives its reservation back.
#[derive(Debug)]
pub struct SignInThrottle {
    account: ThrottleLimits,
    ip: ThrottleLimits,
    /// Both maps behind one lock, so a reservation counts against both or neither.
    counters: Mutex<(Counters, Counters)>,
}

impl SignInThrottle {
    pub fn new(account: ThrottleLimits, ip: ThrottleLimits) -> Self {
        Self {
            account,
            ip,
            counters: Mutex::default(),
        }
    }

    /// Counts an attempt for this account and client, or refuses it when either has used
    /// up its window.
    pub fn reserve(&self, account: &str, ip: &str, now: Instant) -> Result<(), Refusal> {
        let ip = ip_key(ip);
        let mut guard = lock(&self.counters);
        let (accounts, ips) = &mut *guard;
        let mut refusal: Option<Refusal> = None;
        for (counters, key, limits) in [
            (&mut *accounts, account, self.account),
            (&mut *ips, ip.as_str(), self.ip),
        ] {
            let window = counters.window(key, limits, now);
            if window.failures >= limits.max_failures {
                let wait = window.opened + limits.window - now;
                let first = !window.refusal_reported;
                window.refusal_reported = true;
                refusal = Some(match refusal {
                    Some(r) => Refusal {
                        wait: r.wait.max(wait),
                        first: r.first || first,
                    },
                    None => Refusal { wait, first },
                });
            }
        }
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        accounts.window(account, self.account, now).failures += 1;
        ips.window(&ip, self.ip, now).failures += 1;
        Ok(())
    }

    /// The attempt succeeded: the account's window closes and the client's reservation is
    /// returned (so a good sign-in never counts against its network), but earlier
    /// failures from that client still count.
    pub fn record_success(&self, account: &str, ip: &str) {
        let mut guard = lock(&self.counters);
        let (accounts, ips) = &mut *guard;
        accounts.windows.remove(account);
        if let Some(window) = ips.windows.get_mut(&ip_key(ip)) {
            window.failures = window.failures.saturating_sub(1);
        }
    }
}

/// The key a client is counted under: its address, or for IPv6 its /64 (one subscriber
/// usually holds a whole /64 and could otherwise rotate through it).
pub fn ip_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            let network = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{network}/64")
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(|| ip.to_owned(), |v4| v4.to_string()),
        _ => ip.to_owned(),
    }
}

fn lock(counters: &Mutex<(Counters, Counters)>) -> std::sync::MutexGuard<'_, (Counters, Counters)> {
    // A panic while holding this lock cannot leave the maps inconsistent; keep serving.
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
    fn account_is_refused_after_max_attempts_until_the_window_closes() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..3 {
            let at = start + Duration::from_secs(i);
            assert!(t.reserve("ada", &format!("10.0.0.{i}"), at).is_ok());
        }
        let refusal = t
            .reserve("ada", "10.0.0.9", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(
            refusal,
            Refusal {
                wait: Duration::from_secs(50),
                first: true
            }
        );
        let again = t
            .reserve("ada", "10.0.0.9", start + Duration::from_secs(11))
            .unwrap_err();
        assert!(
            !again.first,
            "only the first refusal of a window is reported"
        );
        let later = start + Duration::from_secs(10);
        assert!(
            t.reserve("bob", "10.0.0.9", later).is_ok(),
            "other accounts"
        );
        let closed = start + Duration::from_secs(60);
        assert!(
            t.reserve("ada", "10.0.0.8", closed).is_ok(),
            "window closed"
        );
    }

    #[test]
    fn a_parallel_burst_cannot_pass_the_limit() {
        let t = std::sync::Arc::new(throttle());
        let start = Instant::now();
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let t = t.clone();
                std::thread::spawn(move || t.reserve("ada", &format!("10.1.0.{i}"), start).is_ok())
            })
            .collect();
        let allowed = handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum::<usize>();
        assert_eq!(allowed, 3);
    }

    #[test]
    fn ip_is_refused_across_accounts_and_ipv6_counts_per_64() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..5 {
            let ip = format!("2001:db8:1:2::{i}");
            t.reserve(&format!("user{i}"), &ip, start).unwrap();
        }
        let refusal = t
            .reserve(
                "fresh",
                "2001:db8:1:2:ffff::1",
                start + Duration::from_secs(20),
            )
            .unwrap_err();
        assert_eq!(refusal.wait, Duration::from_secs(100));
        assert!(
            t.reserve("fresh", "2001:db8:1:3::1", start).is_ok(),
            "another /64"
        );
        assert_eq!(ip_key("2001:db8:1:2:a:b:c:d"), "2001:db8:1:2::/64");
        assert_eq!(ip_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(ip_key("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn success_resets_the_account_and_returns_the_ip_reservation() {
        let t = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            t.reserve("ada", "ip", start).unwrap();
        }
        assert!(t.reserve("ada", "elsewhere", start).is_err());
        t.record_success("ada", "ip");
        assert!(t.reserve("ada", "elsewhere", start).is_ok());
        for other in ["x", "y", "z"] {
            t.reserve(other, "ip", start).unwrap();
        }
        assert!(
            t.reserve("w", "ip", start).is_err(),
            "the IP used its 5 attempts (one was given back)"
        );
    }
}
