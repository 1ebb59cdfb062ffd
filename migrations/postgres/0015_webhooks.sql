-- Webhook triggers: an unguessable URL (/hooks/{token}) that starts a run of a workflow.
-- Only a SHA-256 of the token is kept (it is shown once, like an API key, and can be
-- regenerated); a static header token likewise. An HMAC secret is sealed (aura-vault):
-- checking a signature needs the secret itself. Flags are 0/1 integers on both databases.
CREATE TABLE webhook_triggers (
    id                TEXT PRIMARY KEY,
    workflow_id       TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    owner_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    token_hash        TEXT NOT NULL,
    token_prefix      TEXT NOT NULL,
    method            TEXT NOT NULL,
    -- none | hmac | header
    verify            TEXT NOT NULL,
    verify_header     TEXT,
    hmac_secret       TEXT,
    header_token_hash TEXT,
    timestamp_header  TEXT,
    tolerance_secs    BIGINT,
    -- async | sync
    response_mode     TEXT NOT NULL,
    sync_step         TEXT,
    sync_timeout_ms   BIGINT,
    max_body_kb       BIGINT NOT NULL,
    rate_per_minute   BIGINT NOT NULL,
    enabled           BIGINT NOT NULL,
    rejected          BIGINT NOT NULL DEFAULT 0,
    last_rejected_at  BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX webhook_triggers_token_key ON webhook_triggers (token_hash);
CREATE INDEX webhook_triggers_workflow_idx ON webhook_triggers (workflow_id, created_at);

-- Signatures accepted within a trigger's timestamp tolerance: the same signed delivery
-- twice is a replay and is refused, on every instance sharing the database.
CREATE TABLE webhook_replays (
    trigger_id TEXT NOT NULL REFERENCES webhook_triggers (id) ON DELETE CASCADE,
    signature  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (trigger_id, signature)
);
CREATE INDEX webhook_replays_expiry_idx ON webhook_replays (expires_at);

-- What started a run, when it was not a person: a webhook or a schedule and its id.
ALTER TABLE runs ADD COLUMN trigger_kind TEXT;
ALTER TABLE runs ADD COLUMN trigger_id TEXT;
CREATE INDEX runs_trigger_idx ON runs (trigger_id, created_at) WHERE trigger_id IS NOT NULL;
