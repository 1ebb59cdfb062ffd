-- An agent step's transcript: each model answer and each tool call's intent and result,
-- committed as it happens, so a restarted agent resumes from its last entry without
-- paying for a finished model call again or running a tool twice.
CREATE TABLE agent_turns (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    -- `model` (an answer), `tool_started` (a call about to run), `tool_result`.
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_id, seq)
);
