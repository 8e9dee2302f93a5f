-- Crosswalk scope store, schema 7 (issue 16), PostgreSQL dialect: background run tasks, as in
-- migrations/sqlite/0007_tasks.sql. Kept here, not in the process, so every server on the
-- database answers a task's status, whichever one runs it. Times are whole seconds.

CREATE TABLE run_tasks (
    id            text COLLATE "C" PRIMARY KEY,
    scope_name    text COLLATE "C" NOT NULL REFERENCES scopes (name),
    job           text        NOT NULL,
    state         text        NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    step          text,
    started_at    timestamptz NOT NULL,
    started_by    text        NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    outcome       text,
    error_code    text,
    error_message text
);

CREATE INDEX run_tasks_by_scope ON run_tasks (scope_name, started_at);
