-- Every model call, one row: who paid, for what (project, workflow, run, step), which alias
-- and target, tokens, cost in millionths of a US dollar, cached or not, latency, outcome.
CREATE TABLE llm_calls (
    id            TEXT PRIMARY KEY,
    occurred_at   BIGINT NOT NULL,
    user_id       TEXT NOT NULL,
    project_id    TEXT,
    workflow_id   TEXT,
    run_id        TEXT,
    step_id       TEXT,
    source        TEXT NOT NULL,
    alias         TEXT NOT NULL,
    target        TEXT,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_micros   BIGINT NOT NULL,
    cached        INTEGER NOT NULL,
    latency_ms    BIGINT NOT NULL,
    outcome       TEXT NOT NULL,
    error         TEXT
);
CREATE INDEX llm_calls_user_idx ON llm_calls (user_id, occurred_at);
CREATE INDEX llm_calls_project_idx ON llm_calls (project_id, occurred_at);

-- Answers kept for identical requests, until `expires_at`.
CREATE TABLE llm_cache (
    key        TEXT PRIMARY KEY,
    target     TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX llm_cache_expiry_idx ON llm_cache (expires_at);

-- Monthly budgets per user or project, in tokens, in money (millionths of a USD), or both.
CREATE TABLE llm_budgets (
    id              TEXT PRIMARY KEY,
    scope           TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    max_tokens      BIGINT,
    max_cost_micros BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX llm_budgets_subject_key ON llm_budgets (scope, subject_id);
