//! An agent step's transcript, one row per entry in order. Entries are appended with the
//! next sequence number under the primary key: two workers that both think they own the
//! step (a lease lost and taken over) cannot both append entry `n`; the second gets
//! `false` and stops.

use crate::{Store, StoreError, now_millis};

/// One transcript entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentTurn {
    pub seq: i64,
    pub kind: String,
    /// JSON text: the model's answer, a tool call, or its result.
    pub body: String,
    pub created_at: i64,
}

impl Store {
    /// The step's transcript, oldest first.
    pub async fn agent_turns(
        &self,
        run_id: &str,
        step_id: &str,
    ) -> Result<Vec<AgentTurn>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, kind, body, created_at FROM agent_turns \
             WHERE run_id = $1 AND step_id = $2 ORDER BY seq",
        )
        .bind(run_id)
        .bind(step_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every agent transcript of a run: (step id, entry), by step then in order.
    pub async fn agent_turns_of_run(
        &self,
        run_id: &str,
    ) -> Result<Vec<(String, AgentTurn)>, StoreError> {
        let rows: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT step_id, seq, kind, body, created_at FROM agent_turns \
             WHERE run_id = $1 ORDER BY step_id, seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(step, seq, kind, body, created_at)| {
                (
                    step,
                    AgentTurn {
                        seq,
                        kind,
                        body,
                        created_at,
                    },
                )
            })
            .collect())
    }

    /// Appends entry `seq`; `false` when the step already has one (another worker wrote
    /// it), so the caller knows it no longer owns the transcript.
    pub async fn append_agent_turn(
        &self,
        run_id: &str,
        step_id: &str,
        seq: i64,
        kind: &str,
        body: &str,
    ) -> Result<bool, StoreError> {
        let (_write, mut tx) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO agent_turns (run_id, step_id, seq, kind, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, step_id, seq) DO NOTHING",
        )
        .bind(run_id)
        .bind(step_id)
        .bind(seq)
        .bind(kind)
        .bind(body)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted == 1)
    }
}
