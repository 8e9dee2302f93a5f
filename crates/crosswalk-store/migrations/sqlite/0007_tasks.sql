-- Crosswalk scope store, schema 7 (issue 16): background run tasks. `crosswalk serve` runs a
-- job on uploaded directories in the background and answers with a task; the task's state
-- is kept here, not in the process, so every server on the same database answers its status.

CREATE TABLE run_tasks (
    id            TEXT    PRIMARY KEY,
    scope_name    TEXT    NOT NULL REFERENCES scopes (name),
    job           TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    -- The step under way while running: `reading`, `resolving N identities`...
    step          TEXT,
    started_at    INTEGER NOT NULL,
    started_by    TEXT    NOT NULL,
    -- When the state or step last changed.
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    -- JSON: what the run changed (when it succeeded).
    outcome       TEXT,
    -- When it failed: the error's code and message.
    error_code    TEXT,
    error_message TEXT
);

CREATE INDEX run_tasks_by_scope ON run_tasks (scope_name, started_at);
