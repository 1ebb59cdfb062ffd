-- API keys: a user's credentials for scripts and the CLI. Only a SHA-256 of the secret is
-- kept (keys are 192 random bits, so a fast hash is enough); the prefix is what lists
-- show to tell keys apart. Revoked keys stay, for the audit trail.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);
