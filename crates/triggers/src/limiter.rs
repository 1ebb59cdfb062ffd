//! A token bucket per trigger, in this process: `rate` deliveries a minute, refilled
//! continuously, with bursts up to `rate`. Several instances each apply it to what they
//! receive.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before idle ones are dropped (a full bucket is the same as none).
const KEEP: usize = 10_000;

impl RateLimiter {
    /// Takes one delivery from `key`'s bucket; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, key: &str, per_minute: u32, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(per_minute.max(1));
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= KEEP && !buckets.contains_key(key) {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = (bucket.tokens
            + now.saturating_duration_since(bucket.at).as_secs_f64() * per_second)
            .min(capacity);
        if refilled >= 1.0 {
            *bucket = Bucket {
                tokens: refilled - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket {
                tokens: refilled,
                at: now,
            };
            Err(((1.0 - refilled) / per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_up_to_the_rate_then_one_per_interval() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for _ in 0..6 {
            assert_eq!(limiter.take("t", 6, start), Ok(()));
        }
        assert_eq!(
            limiter.take("t", 6, start),
            Err(10),
            "one every 10 s at 6/min"
        );
        assert_eq!(
            limiter.take("other", 6, start),
            Ok(()),
            "buckets are per trigger"
        );
        assert!(
            limiter
                .take("t", 6, start + Duration::from_secs(5))
                .is_err()
        );
        assert_eq!(
            limiter.take("t", 6, start + Duration::from_secs(11)),
            Ok(())
        );
    }
}
