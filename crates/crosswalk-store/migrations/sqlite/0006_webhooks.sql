-- Crosswalk scope store, schema 6 (issue 21): webhook subscriptions, the event outbox and
-- deliveries. Times here are Unix milliseconds (retry delays are shorter than a second in
-- tests, and a lease is compared with the clock to the millisecond).
--
-- An event is written to `webhook_outbox` in the transaction of the change it announces,
-- with one `webhook_deliveries` row per subscription of the scope that takes its type, so
-- a rolled-back change leaves no event and a committed one is never unannounced. The
-- outbox id is commit order within a scope: every write to a scope holds its write lock.

CREATE TABLE webhook_subscriptions (
    id                 TEXT    PRIMARY KEY,
    scope_id           INTEGER NOT NULL REFERENCES scopes (id),
    url                TEXT    NOT NULL,
    -- Comma-separated event types; empty: every type.
    events             TEXT    NOT NULL,
    -- The signing key as `whsec_<base64>`. HMAC signs with the key itself, so it cannot be
    -- kept as a one-way hash like an API token (docs/webhooks.md, "Secrets"); it is never
    -- read back by a listing, only by the delivery worker.
    secret             TEXT    NOT NULL,
    -- The first 8 bytes of the secret's SHA-256, hex: tells secrets apart without them.
    secret_fingerprint TEXT    NOT NULL,
    paused             INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_at         INTEGER NOT NULL,
    created_by         TEXT    NOT NULL
);

CREATE INDEX webhook_subscriptions_by_scope ON webhook_subscriptions (scope_id, created_at);

CREATE TABLE webhook_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_id   INTEGER NOT NULL REFERENCES scopes (id),
    message_id TEXT    NOT NULL UNIQUE,
    event_type TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    -- The exact bytes signed and sent.
    body       TEXT    NOT NULL
);

CREATE INDEX webhook_outbox_by_scope ON webhook_outbox (scope_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id        INTEGER NOT NULL REFERENCES webhook_outbox (id),
    subscription_id  TEXT    NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Pending: when the next attempt is due; while a worker holds the delivery (`lease`
    -- set), when its lease ends and another worker may take it.
    due_at           INTEGER NOT NULL,
    lease            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at INTEGER,
    last_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER,
    UNIQUE (subscription_id, outbox_id)
);

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, outbox_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE state = 'pending';
