-- Where the builder drew each step of a version: JSON {"step id": [x, y]}. Moving nodes
-- rewrites this in place; it is the only column of a version that is ever updated, because
-- a run never reads it.
ALTER TABLE workflow_versions ADD COLUMN layout TEXT;
