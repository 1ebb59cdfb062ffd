-- Hardening the step queue.
-- * `owner_id` on each step lets the claim choose fairly between users and cap the steps
--   one user has running, without joining runs for every queued row.
-- * `max_attempts` (the step's retry policy) lets an expired lease count as an attempt:
--   a step whose worker keeps dying fails once its attempts are used up instead of
--   looping forever. `leases_lost` says how many of those attempts ended that way.
ALTER TABLE step_runs ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE step_runs ADD COLUMN max_attempts BIGINT NOT NULL DEFAULT 3;
ALTER TABLE step_runs ADD COLUMN leases_lost BIGINT NOT NULL DEFAULT 0;
UPDATE step_runs SET owner_id = (SELECT owner_id FROM runs WHERE runs.id = step_runs.run_id);
CREATE INDEX step_runs_owner_ready_idx ON step_runs (owner_id, available_at) WHERE status = 'queued';
CREATE INDEX step_runs_owner_running_idx ON step_runs (owner_id) WHERE status = 'running';
-- The audit log now has a retention window too; the sweep deletes by age.
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);
