-- Durable runs (PostgreSQL flavour). A run records the workflow version it runs; each step
-- has one row that moves through pending → queued → running → succeeded/failed/skipped.
-- `waiting_on` counts predecessors that have not finished; `live_inputs` counts those
-- that finished on an edge that was taken (a condition's other branch is not).
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    workflow_id      TEXT NOT NULL REFERENCES workflows (id),
    workflow_version BIGINT NOT NULL,
    owner_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input            TEXT NOT NULL,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT
);
CREATE INDEX runs_owner_idx ON runs (owner_id, created_at);

CREATE TABLE step_runs (
    run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
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
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX step_runs_ready_idx ON step_runs (status, available_at);

CREATE TABLE run_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    step_id    TEXT,
    detail     TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
