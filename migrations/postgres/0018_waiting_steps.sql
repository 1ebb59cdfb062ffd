-- `approval` steps wait for a person: step and run status `waiting`, and the moment a
-- wait ends by itself (its timeout), found by the runners' sweep.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE step_runs DROP CONSTRAINT step_runs_status_check;
ALTER TABLE step_runs ADD CONSTRAINT step_runs_status_check
    CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'));
ALTER TABLE step_runs ADD COLUMN wait_until BIGINT;
CREATE INDEX step_runs_wait_idx ON step_runs (wait_until) WHERE status = 'waiting';
