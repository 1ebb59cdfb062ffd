-- Projects, their file trees and every saved revision of every file.
-- An entry is a file or an (explicit, possibly empty) folder; folders are also implied by
-- the paths of the files inside them. A file's content lives only in its revisions, which
-- are never updated: the entry points at its current revision, and a save moves that
-- pointer only when it still equals the revision the editor started from.
CREATE TABLE projects (
    id          TEXT PRIMARY KEY NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX projects_owner_slug_key ON projects (owner_id, slug);
CREATE INDEX projects_owner_created_idx ON projects (owner_id, created_at, id);

CREATE TABLE project_entries (
    id               TEXT PRIMARY KEY NOT NULL,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
    size             BIGINT NOT NULL DEFAULT 0,
    current_revision BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX project_entries_path_key ON project_entries (project_id, path);

CREATE TABLE file_revisions (
    entry_id   TEXT NOT NULL REFERENCES project_entries (id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    content    TEXT NOT NULL,
    size       BIGINT NOT NULL,
    author_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (entry_id, revision)
);
