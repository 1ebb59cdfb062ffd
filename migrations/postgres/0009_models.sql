-- Which key the stored secrets are sealed with (aura-vault): one row, checked at start-up
-- so a wrong AURA_SECRET_KEY stops Aura with a clear message instead of failing later.
CREATE TABLE vault (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    key_id      TEXT NOT NULL,
    check_value TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Model providers an administrator configures. `api_key` is sealed, never plain text;
-- `models` is JSON: [{name, input_per_million, output_per_million}] (prices in USD).
CREATE TABLE model_providers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    protocol   TEXT NOT NULL,
    base_url   TEXT NOT NULL,
    api_key    TEXT,
    models     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX model_providers_name_key ON model_providers (name);

-- Model aliases (`default`, `fast`, `code`, or an administrator's): an ordered JSON list of
-- `provider/model` targets.
CREATE TABLE model_aliases (
    name       TEXT PRIMARY KEY,
    targets    TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
