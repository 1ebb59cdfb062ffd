-- Users' named secrets (HTTP tokens and the like) that workflow templates read as
-- `{{ secrets.NAME }}`. The value is sealed (aura-vault) and masked wherever a run shows it.
CREATE TABLE workflow_secrets (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX workflow_secrets_owner_name_key ON workflow_secrets (owner_id, name);
