-- Token usage per step (llm steps), and indexes for listing runs by workflow and for the
-- retention job, which deletes runs by age of their end.
ALTER TABLE step_runs ADD COLUMN usage TEXT;
CREATE INDEX runs_workflow_idx ON runs (workflow_id, created_at);
CREATE INDEX runs_finished_idx ON runs (finished_at);
