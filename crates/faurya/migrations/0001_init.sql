-- Faurya schema, version 1.
-- Times are unix milliseconds (UTC). Money is integer minor units with an upper-case ISO 4217
-- currency next to it. Secrets are AES-256-GCM sealed BLOBs (see secrets.rs), never plain text.

-- Key/value settings edited in the UI (public URL, tolerance, tunnel choice, ...).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A provider account connected by API key, and the webhook the app created there.
-- status: 'pending' while the remote webhook is being created, 'active', 'removed'.
-- A removed connection keeps its row (without secrets) so late deliveries get 410, not 404.
CREATE TABLE connections (
    id                    TEXT PRIMARY KEY,
    provider              TEXT NOT NULL CHECK (provider IN ('whop', 'paddle')),
    environment           TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    account_id            TEXT NOT NULL,          -- Whop company id; 'default' for Paddle
    key_last4             TEXT NOT NULL,
    api_key_sealed        BLOB,
    webhook_secret_sealed BLOB,
    webhook_id            TEXT,
    webhook_url           TEXT,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active', 'removed')),
    sync_state            TEXT NOT NULL DEFAULT 'ok' CHECK (sync_state IN ('ok', 'pending', 'failed')),
    sync_error            TEXT,
    sync_updated_at       INTEGER,
    created_at            INTEGER NOT NULL,
    removed_at            INTEGER
) STRICT;

-- One live connection per provider account and environment: connecting twice is an error,
-- not a second webhook.
CREATE UNIQUE INDEX connections_one_live_per_account
    ON connections (provider, environment, account_id)
    WHERE status IN ('pending', 'active');

-- Every verified delivery, byte-exact. A repeat (same provider delivery id) is its own row with
-- status 'duplicate' and duplicate_of pointing at the first one.
-- status: 'received' (stored, not yet processed), 'processed', 'duplicate', 'ignored', 'failed'.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections (id),
    provider        TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,                -- Whop webhook-id, Paddle event_id
    event_type      TEXT,
    received_at     INTEGER NOT NULL,
    headers         TEXT NOT NULL,                -- JSON [[name, value], ...] in arrival order
    body            BLOB NOT NULL,
    verdict         TEXT NOT NULL DEFAULT 'verified',
    status          TEXT NOT NULL CHECK (status IN ('received', 'processed', 'duplicate', 'ignored', 'failed')),
    error           TEXT,
    duplicate_of    INTEGER REFERENCES deliveries (id),
    payment_id      INTEGER REFERENCES payments (id),
    amount_minor    INTEGER,
    currency        TEXT,
    processed_at    INTEGER
) STRICT;

CREATE UNIQUE INDEX deliveries_first_by_delivery_id
    ON deliveries (provider, delivery_id) WHERE duplicate_of IS NULL;
-- Keyset pagination newest-first (by id, the arrival order) under each filter; the unfiltered
-- list walks the primary key.
CREATE INDEX deliveries_by_status ON deliveries (status, id);
CREATE INDEX deliveries_by_provider ON deliveries (provider, id);
CREATE INDEX deliveries_by_type ON deliveries (event_type, id);
CREATE INDEX deliveries_by_connection ON deliveries (connection_id, received_at);
CREATE INDEX deliveries_by_payment ON deliveries (payment_id) WHERE payment_id IS NOT NULL;

-- Attempts that failed verification (bad signature, stale timestamp, unknown connection, ...):
-- a capped log that answers "why is nothing arriving?". Bodies are truncated.
CREATE TABLE rejected_deliveries (
    id              INTEGER PRIMARY KEY,
    provider        TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    http_status     INTEGER NOT NULL,
    reason_code     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    delivery_id     TEXT,
    headers         TEXT NOT NULL,
    body            BLOB NOT NULL,
    body_size       INTEGER NOT NULL,             -- size as received, before truncation
    remote_addr     TEXT
) STRICT;

CREATE INDEX rejected_by_provider ON rejected_deliveries (provider, id);

-- A payment, recorded once per (provider, provider_payment_id) whichever delivery brings it.
CREATE TABLE payments (
    id                  INTEGER PRIMARY KEY,
    provider            TEXT NOT NULL,
    connection_id       TEXT NOT NULL,
    provider_payment_id TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    visitor_id          TEXT,
    session_id          TEXT,
    attribution_token   TEXT,
    order_id            TEXT,
    customer_email      TEXT,
    paid_at             INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    delivery_id         INTEGER REFERENCES deliveries (id),
    UNIQUE (provider, provider_payment_id)
) STRICT;

CREATE INDEX payments_by_provider ON payments (provider, id);
CREATE INDEX payments_by_time ON payments (created_at);

-- A refund, recorded once per (provider, provider_refund_id). Linked to its payment by the
-- provider's payment id, so a refund that arrives before its payment still counts once the
-- payment lands.
CREATE TABLE refunds (
    id                  INTEGER PRIMARY KEY,
    provider            TEXT NOT NULL,
    provider_refund_id  TEXT NOT NULL,
    provider_payment_id TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    counts              INTEGER NOT NULL CHECK (counts IN (0, 1)),   -- 1 once succeeded/approved
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    delivery_id         INTEGER REFERENCES deliveries (id),
    UNIQUE (provider, provider_refund_id)
) STRICT;

CREATE INDEX refunds_by_payment ON refunds (provider, provider_payment_id);
