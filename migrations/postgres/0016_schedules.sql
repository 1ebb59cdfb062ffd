-- Schedules: a cron expression in an IANA time zone, or every N minutes or hours from an
-- anchor, that starts runs of a workflow with a fixed input. `next_fire_at` is the next
-- instant due (UTC milliseconds); the scheduler of every instance looks for due rows.
CREATE TABLE schedules (
    id             TEXT PRIMARY KEY,
    workflow_id    TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    owner_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    -- cron | every
    kind           TEXT NOT NULL,
    cron           TEXT,
    every_count    BIGINT,
    -- minutes | hours
    every_unit     TEXT,
    anchor_at      BIGINT NOT NULL,
    timezone       TEXT NOT NULL,
    input          TEXT NOT NULL,
    enabled        BIGINT NOT NULL,
    -- skip | queue | allow
    overlap        TEXT NOT NULL,
    -- none | last
    catch_up       TEXT NOT NULL,
    catch_up_window_secs BIGINT NOT NULL,
    next_fire_at   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled = 1;
CREATE INDEX schedules_workflow_idx ON schedules (workflow_id, created_at);

-- Every fire, claimed once under (schedule, fire time): two instances never start the same
-- fire twice. `outcome` is started, skipped (overlap), queued (waiting for the previous
-- run), or caught_up (the last fire missed during downtime).
CREATE TABLE schedule_fires (
    schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at     BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    run_id      TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (schedule_id, fire_at)
);
CREATE INDEX schedule_fires_queued_idx ON schedule_fires (schedule_id) WHERE outcome = 'queued';
