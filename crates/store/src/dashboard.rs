//! The dashboard's figures, aggregated in the database over one owner's runs (and model
//! calls) since a time. Every query is a range scan of an `(owner, time)` index.

use crate::{Store, StoreError};

/// Runs of one status that started in one bucket (a UTC hour or day).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BucketCount {
    /// The bucket's start, in milliseconds since the epoch.
    pub bucket: i64,
    pub status: String,
    pub runs: i64,
}

/// Model use in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BucketTokens {
    pub bucket: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
}

/// A workflow with failed runs in the range.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FailingWorkflow {
    pub workflow_id: String,
    pub name: String,
    pub failed: i64,
    pub total: i64,
}

/// How long finished runs took, start to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunDurations {
    pub finished: i64,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

impl Store {
    /// The owner's runs since `since`, counted per status and per `bucket_ms` bucket.
    pub async fn run_counts_by_bucket(
        &self,
        owner_id: &str,
        since: i64,
        bucket_ms: i64,
    ) -> Result<Vec<BucketCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (created_at / $3) * $3 AS bucket, status, COUNT(*) AS runs FROM runs \
             WHERE owner_id = $1 AND created_at >= $2 GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(owner_id)
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// p50 and p95 of the time from start to end of the owner's runs since `since` that
    /// succeeded or failed (nearest rank: the value at ⌈p·n⌉).
    pub async fn run_durations(
        &self,
        owner_id: &str,
        since: i64,
    ) -> Result<RunDurations, StoreError> {
        const FINISHED: &str = "FROM runs WHERE owner_id = $1 AND created_at >= $2 \
             AND status IN ('succeeded', 'failed') AND finished_at IS NOT NULL";
        let (finished,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {FINISHED}"))
            .bind(owner_id)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        let mut durations = RunDurations {
            finished,
            ..RunDurations::default()
        };
        if finished == 0 {
            return Ok(durations);
        }
        // Nearest rank: the ⌈p·n/100⌉-th smallest; both picked from one sort.
        let rank = |percent: i64| (percent * finished + 99) / 100;
        let (p50, p95) = (rank(50), rank(95));
        let picked: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT position, took FROM (SELECT finished_at - created_at AS took, \
             ROW_NUMBER() OVER (ORDER BY finished_at - created_at) AS position {FINISHED}) ranked \
             WHERE position IN ($3, $4)"
        ))
        .bind(owner_id)
        .bind(since)
        .bind(p50)
        .bind(p95)
        .fetch_all(&self.pool)
        .await?;
        for (position, took) in picked {
            if position == p50 {
                durations.p50_ms = Some(took);
            }
            if position == p95 {
                durations.p95_ms = Some(took);
            }
        }
        Ok(durations)
    }

    /// The owner's workflows with the most failed runs since `since`.
    pub async fn failing_workflows(
        &self,
        owner_id: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<FailingWorkflow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.workflow_id, w.name, \
             CAST(SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             COUNT(*) AS total FROM runs r JOIN workflows w ON w.id = r.workflow_id \
             WHERE r.owner_id = $1 AND r.created_at >= $2 GROUP BY r.workflow_id, w.name \
             HAVING SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END) > 0 \
             ORDER BY failed DESC, total DESC, w.name LIMIT $3",
        )
        .bind(owner_id)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The user's model calls since `since` (workflow steps, editor actions), summed per
    /// bucket.
    pub async fn tokens_by_bucket(
        &self,
        user_id: &str,
        since: i64,
        bucket_ms: i64,
    ) -> Result<Vec<BucketTokens>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (occurred_at / $3) * $3 AS bucket, \
             CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, \
             CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, \
             CAST(SUM(cost_micros) AS BIGINT) AS cost_micros FROM llm_calls \
             WHERE user_id = $1 AND occurred_at >= $2 GROUP BY 1 ORDER BY 1",
        )
        .bind(user_id)
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?)
    }
}
