-- `approval` steps wait for a person: step and run status `waiting`, and the moment a
-- wait ends by itself (its timeout), found by the runners' sweep.
--
-- SQLite cannot change a CHECK constraint in place, so the tables are rebuilt. sqlx runs
-- this in a transaction, where foreign keys cannot be switched off, and dropping `runs`
-- while steps and events still refer to it would cascade and delete them. So the children
-- are rebuilt first, referring to the new `runs_new`; the old tables then go children
-- first (nothing refers to the old `runs` any more), and the renames at the end rewrite
-- the children's references from `runs_new` to `runs`.

CREATE TABLE runs_new (
    id               TEXT PRIMARY KEY NOT NULL,
    workflow_id      TEXT NOT NULL REFERENCES workflows (id),
    workflow_version BIGINT NOT NULL,
    owner_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    input            TEXT NOT NULL,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    trigger_kind     TEXT,
    trigger_id       TEXT
);
INSERT INTO runs_new (id, workflow_id, workflow_version, owner_id, status, input, error,
                      created_at, updated_at, finished_at, trigger_kind, trigger_id)
    SELECT id, workflow_id, workflow_version, owner_id, status, input, error,
           created_at, updated_at, finished_at, trigger_kind, trigger_id FROM runs;
CREATE TABLE step_runs_new (
    run_id           TEXT NOT NULL REFERENCES runs_new (id) ON DELETE CASCADE,
    step_id          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled')),
    attempt          BIGINT NOT NULL DEFAULT 0,
    waiting_on       BIGINT NOT NULL,
    live_inputs      BIGINT NOT NULL DEFAULT 0,
    available_at     BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    output           TEXT,
    error            TEXT,
    started_at       BIGINT,
    finished_at      BIGINT,
    usage            TEXT,
    owner_id         TEXT NOT NULL DEFAULT '',
    max_attempts     BIGINT NOT NULL DEFAULT 3,
    leases_lost      BIGINT NOT NULL DEFAULT 0,
    wait_until       BIGINT,
    PRIMARY KEY (run_id, step_id)
);
INSERT INTO step_runs_new (run_id, step_id, status, attempt, waiting_on, live_inputs,
                           available_at, lease_owner, lease_expires_at, output, error,
                           started_at, finished_at, usage, owner_id, max_attempts, leases_lost)
    SELECT run_id, step_id, status, attempt, waiting_on, live_inputs, available_at,
           lease_owner, lease_expires_at, output, error, started_at, finished_at, usage,
           owner_id, max_attempts, leases_lost FROM step_runs;
CREATE TABLE run_events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL REFERENCES runs_new (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    step_id    TEXT,
    detail     TEXT,
    created_at BIGINT NOT NULL
);
INSERT INTO run_events_new (id, run_id, kind, step_id, detail, created_at)
    SELECT id, run_id, kind, step_id, detail, created_at FROM run_events;
-- Event ids keep growing from where they were (streams resume by id), even past events
-- the retention job deleted.
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'run_events')
    WHERE name = 'run_events_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'run_events');
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'run_events_new', seq FROM sqlite_sequence WHERE name = 'run_events'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'run_events_new');

DROP TABLE run_events;
DROP TABLE step_runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
ALTER TABLE step_runs_new RENAME TO step_runs;
ALTER TABLE run_events_new RENAME TO run_events;
CREATE INDEX runs_workflow_idx ON runs (workflow_id, created_at);
CREATE INDEX runs_finished_idx ON runs (finished_at);
CREATE INDEX runs_owner_status_idx ON runs (owner_id, created_at, status, finished_at);
CREATE INDEX runs_trigger_idx ON runs (trigger_id, created_at) WHERE trigger_id IS NOT NULL;
CREATE INDEX step_runs_ready_idx ON step_runs (available_at) WHERE status = 'queued';
CREATE INDEX step_runs_lease_idx ON step_runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX step_runs_owner_ready_idx ON step_runs (owner_id, available_at) WHERE status = 'queued';
CREATE INDEX step_runs_owner_running_idx ON step_runs (owner_id) WHERE status = 'running';
CREATE INDEX step_runs_wait_idx ON step_runs (wait_until) WHERE status = 'waiting';
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
