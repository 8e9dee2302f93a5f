-- Crosswalk scope store, schema 6 (issue 21), PostgreSQL dialect: webhook subscriptions, the event outbox and
-- deliveries. Times here are Unix milliseconds (retry delays are shorter than a second in
-- tests, and a lease is compared with the clock to the millisecond).
--
-- An event is written to `webhook_outbox` in the transaction of the change it announces,
-- with one `webhook_deliveries` row per subscription of the scope that takes its type, so
-- a rolled-back change leaves no event and a committed one is never unannounced. The
-- outbox id is commit order within a scope: every write to a scope holds its row lock.

CREATE TABLE webhook_subscriptions (
    id                 text COLLATE "C" PRIMARY KEY,
    scope_id           bigint  NOT NULL REFERENCES scopes (id),
    url                text    NOT NULL,
    -- Comma-separated event types; empty: every type.
    events             text    NOT NULL,
    -- The signing key as `whsec_<base64>`. HMAC signs with the key itself, so it cannot be
    -- kept as a one-way hash like an API token (docs/webhooks.md, "Secrets"); it is never
    -- read back by a listing, only by the delivery worker.
    secret             text    NOT NULL,
    -- The first 8 bytes of the secret's SHA-256, hex: tells secrets apart without them.
    secret_fingerprint text    NOT NULL,
    paused             boolean NOT NULL DEFAULT false,
    created_at         bigint  NOT NULL,
    created_by         text    NOT NULL
);

CREATE INDEX webhook_subscriptions_by_scope ON webhook_subscriptions (scope_id, created_at);

CREATE TABLE webhook_outbox (
    id         bigserial PRIMARY KEY,
    scope_id   bigint  NOT NULL REFERENCES scopes (id),
    message_id text    NOT NULL UNIQUE,
    event_type text    NOT NULL,
    created_at bigint  NOT NULL,
    -- The exact bytes signed and sent.
    body       text    NOT NULL
);

CREATE INDEX webhook_outbox_by_scope ON webhook_outbox (scope_id, id);

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    outbox_id        bigint  NOT NULL REFERENCES webhook_outbox (id),
    subscription_id  text    NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    state            text    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Pending: when the next attempt is due; while a worker holds the delivery (`lease`
    -- set), when its lease ends and another worker may take it.
    due_at           bigint  NOT NULL,
    lease            TEXT,
    attempts         bigint  NOT NULL DEFAULT 0,
    first_attempt_at bigint,
    last_attempt_at  bigint,
    last_status      bigint,
    last_error       TEXT,
    delivered_at     bigint,
    UNIQUE (subscription_id, outbox_id)
);

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, outbox_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE state = 'pending';
