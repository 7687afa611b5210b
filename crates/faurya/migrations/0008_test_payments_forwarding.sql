-- Version 8: test payments (proving the delivery path) and forwarding deliveries to the
-- founder's own handler.

-- One "Send test payment" run and what each step found. A test payment is recognised by the
-- payment id Faurya chose for it (a payload Faurya built, or one it gave Paddle's simulator) or,
-- when the provider built the payload (Whop's test), by the delivery Faurya's answer named.
-- Either way the payment is marked origin 'test', which no total or report counts.
CREATE TABLE test_runs (
    id                  TEXT PRIMARY KEY,         -- test_…
    connection_id       TEXT NOT NULL,
    via                 TEXT NOT NULL CHECK (via IN ('faurya', 'provider')),
    provider_payment_id TEXT,                     -- the payment id the test payload carries, when known
    delivery            INTEGER,                  -- deliveries.id, once known
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    ok                  INTEGER,                  -- NULL while running
    result              TEXT                      -- the run as the API answers it (JSON)
) STRICT;

CREATE INDEX test_runs_by_connection ON test_runs (connection_id, started_at);
CREATE INDEX test_runs_by_payment ON test_runs (provider_payment_id) WHERE provider_payment_id IS NOT NULL;
CREATE INDEX test_runs_by_delivery ON test_runs (delivery) WHERE delivery IS NOT NULL;

-- Forwarding: the founder's local handler for a connection's deliveries.
ALTER TABLE connections ADD COLUMN forward_url TEXT;

-- Each attempt to forward a delivery. A delivery's forwarding state is that of its latest
-- automatic attempt: 'pending' (queued, not yet sent), 'delivered' (2xx), 'retrying' (failed,
-- next_attempt_at set), 'failed' (given up).
CREATE TABLE forward_attempts (
    id                 INTEGER PRIMARY KEY,
    delivery           INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    url                TEXT NOT NULL,
    attempt            INTEGER NOT NULL,          -- 1-based, per delivery and kind (automatic/manual)
    manual             INTEGER NOT NULL DEFAULT 0,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'retrying', 'failed')),
    created_at         INTEGER NOT NULL,
    sent_at            INTEGER,
    status_code        INTEGER,
    duration_ms        INTEGER,
    response_body      BLOB,                      -- the first 2 KiB
    response_truncated INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    next_attempt_at    INTEGER                    -- for the queue: when to try again ('pending'/'retrying')
) STRICT;

CREATE INDEX forward_attempts_by_delivery ON forward_attempts (delivery, id);
CREATE INDEX forward_attempts_due ON forward_attempts (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
