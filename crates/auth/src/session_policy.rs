//! How long a signed-in session lives.
//!
//! The idle timeout slides: tower-sessions pushes the record's expiry forward on every
//! request. The absolute lifetime does not: it counts from the moment of sign-in, which is
//! stored in the session, so a session kept busy still ends.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(12 * 3600),
            absolute_lifetime: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl SessionPolicy {
    /// Whether a session that signed in at `signed_in_at` (UTC ms) has outlived its
    /// absolute lifetime at `now` (UTC ms). A sign-in time in the future is treated as
    /// expired: it can only come from a clock jump or tampering.
    pub fn is_past_lifetime(&self, signed_in_at: i64, now: i64) -> bool {
        let age = now - signed_in_at;
        age < 0 || age as u128 >= self.absolute_lifetime.as_millis()
    }

    /// The idle expiry of a record touched at `now` (UTC ms).
    pub fn idle_expiry(&self, now: i64) -> i64 {
        now + self.idle_timeout.as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_lifetime_counts_from_sign_in() {
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(60),
            absolute_lifetime: Duration::from_secs(3600),
        };
        let t0 = 1_700_000_000_000;
        assert!(!policy.is_past_lifetime(t0, t0));
        assert!(!policy.is_past_lifetime(t0, t0 + 3_599_999));
        assert!(policy.is_past_lifetime(t0, t0 + 3_600_000));
        assert!(
            policy.is_past_lifetime(t0, t0 - 1),
            "future sign-in time is rejected"
        );
        assert_eq!(policy.idle_expiry(t0), t0 + 60_000);
    }

    #[test]
    fn defaults_are_twelve_hours_idle_and_seven_days_absolute() {
        let policy = SessionPolicy::default();
        assert_eq!(policy.idle_timeout, Duration::from_secs(43_200));
        assert_eq!(policy.absolute_lifetime, Duration::from_secs(604_800));
    }
}
