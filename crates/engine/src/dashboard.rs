//! The dashboard: one owner's runs over a range, in buckets (UTC hours for a day, UTC days
//! otherwise), with the success rate, run durations, the workflows that fail most, model
//! tokens and cost, and the newest runs. Everything is aggregated in the database.

use crate::{Engine, WorkflowError};
use aura_store::{FailingWorkflow, Principal, RunDurations, RunFilter, RunSummary};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How far back the dashboard looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Range {
    /// The last 24 hours, by hour.
    Day,
    /// The last 7 days, by day.
    #[default]
    Week,
    /// The last 30 days, by day.
    Month,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::Day, Range::Week, Range::Month];

    /// `24h`, `7d` or `30d`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Day => "24 hours",
            Range::Week => "7 days",
            Range::Month => "30 days",
        }
    }

    pub fn bucket_ms(self) -> i64 {
        match self {
            Range::Day => HOUR_MS,
            Range::Week | Range::Month => DAY_MS,
        }
    }

    fn buckets(self) -> i64 {
        match self {
            Range::Day => 24,
            Range::Week => 7,
            Range::Month => 30,
        }
    }

    /// The first bucket's start: the buckets end with the one holding `now`.
    pub fn since(self, now: i64) -> i64 {
        let bucket = self.bucket_ms();
        now.div_euclid(bucket) * bucket - (self.buckets() - 1) * bucket
    }
}

/// One bucket's runs by status, and its model use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bucket {
    /// The bucket's start (milliseconds since the epoch, UTC).
    pub start: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Queued, running or waiting.
    pub active: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
}

impl Bucket {
    pub fn runs(&self) -> i64 {
        self.succeeded + self.failed + self.cancelled + self.active
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub range: Range,
    pub bucket_ms: i64,
    /// Oldest first, one per hour or day of the range, empty ones included.
    pub buckets: Vec<Bucket>,
    /// The sums of `buckets`.
    pub totals: Bucket,
    /// Succeeded among succeeded and failed; `None` before any run ended so.
    pub success_rate: Option<f64>,
    pub durations: RunDurations,
    pub failing: Vec<FailingWorkflow>,
    /// The newest runs, whatever their age.
    pub recent: Vec<RunSummary>,
}

/// How many failing workflows and recent runs the dashboard lists.
const LISTED: i64 = 5;
const RECENT: i64 = 8;

impl Engine {
    /// The dashboard of `owner`'s runs over `range`, ending at `now`.
    pub async fn dashboard(
        &self,
        owner: &Principal,
        range: Range,
        now: i64,
    ) -> Result<Dashboard, WorkflowError> {
        let store = self.store();
        let user = owner.user_id();
        let since = range.since(now);
        let bucket_ms = range.bucket_ms();
        let mut buckets: Vec<Bucket> = (0..range.buckets())
            .map(|i| Bucket {
                start: since + i * bucket_ms,
                ..Bucket::default()
            })
            .collect();
        let index = |start: i64| usize::try_from((start - since) / bucket_ms).ok();
        for count in store.run_counts_by_bucket(user, since, bucket_ms).await? {
            let Some(bucket) = index(count.bucket).and_then(|i| buckets.get_mut(i)) else {
                continue;
            };
            match count.status.as_str() {
                "succeeded" => bucket.succeeded += count.runs,
                "failed" => bucket.failed += count.runs,
                "cancelled" => bucket.cancelled += count.runs,
                _ => bucket.active += count.runs,
            }
        }
        for tokens in store.tokens_by_bucket(user, since, bucket_ms).await? {
            let Some(bucket) = index(tokens.bucket).and_then(|i| buckets.get_mut(i)) else {
                continue;
            };
            bucket.input_tokens += tokens.input_tokens;
            bucket.output_tokens += tokens.output_tokens;
            bucket.cost_micros += tokens.cost_micros;
        }
        let totals = buckets.iter().fold(Bucket::default(), |sum, b| Bucket {
            start: since,
            succeeded: sum.succeeded + b.succeeded,
            failed: sum.failed + b.failed,
            cancelled: sum.cancelled + b.cancelled,
            active: sum.active + b.active,
            input_tokens: sum.input_tokens + b.input_tokens,
            output_tokens: sum.output_tokens + b.output_tokens,
            cost_micros: sum.cost_micros + b.cost_micros,
        });
        let ended = totals.succeeded + totals.failed;
        let recent = store
            .list_runs(
                user,
                &RunFilter {
                    limit: RECENT,
                    ..RunFilter::default()
                },
            )
            .await?;
        Ok(Dashboard {
            range,
            bucket_ms,
            buckets,
            totals,
            success_rate: (ended > 0).then(|| totals.succeeded as f64 / ended as f64),
            durations: store.run_durations(user, since).await?,
            failing: store.failing_workflows(user, since, LISTED).await?,
            recent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_end_with_the_bucket_holding_now() {
        // 2026-11-23 10:30 UTC.
        let now = 1_795_429_800_000;
        let day = Range::Week.since(now);
        assert_eq!(day % DAY_MS, 0);
        assert_eq!((now - day) / DAY_MS, 6);
        let hour = Range::Day.since(now);
        assert_eq!(hour % HOUR_MS, 0);
        assert_eq!((now - hour) / HOUR_MS, 23);
        assert_eq!(Range::parse("30d"), Some(Range::Month));
        assert_eq!(Range::parse("1y"), None);
    }
}
