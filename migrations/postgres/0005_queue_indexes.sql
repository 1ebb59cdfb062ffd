-- The step queue's indexes cover only the rows they serve. A full (status, available_at)
-- index let SQLite's planner answer "this run's succeeded steps" by walking every
-- succeeded step of every run (no statistics to tell it otherwise), which made each step
-- slower as history grew. Partial indexes hold just the queued and the running steps, so
-- they stay small, and per-run lookups use the primary key.
DROP INDEX step_runs_ready_idx;
CREATE INDEX step_runs_ready_idx ON step_runs (available_at) WHERE status = 'queued';
CREATE INDEX step_runs_lease_idx ON step_runs (lease_expires_at) WHERE status = 'running';
