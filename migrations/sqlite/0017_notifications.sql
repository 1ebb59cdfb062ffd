-- In-app notices for one user: a run of their workflow failed, a schedule skipped a fire,
-- a model budget is nearly used. Notices about the same subject (a workflow, a schedule)
-- collapse into one while it is unread: `count` says how many it stands for. Kept as
-- long as runs are (the retention setting).
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- run_failed | schedule_skipped | budget_nearly_used
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT,
    count      BIGINT NOT NULL,
    read_at    BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, updated_at);
CREATE INDEX notifications_unread_idx ON notifications (user_id, subject) WHERE read_at IS NULL;
