-- Version 4: attribution. Payments tied to sessions under three models, payments recorded by
-- the revenue API, and the API's calls kept in the inspector like deliveries.

-- The revenue API's calls are stored as deliveries of a per-site connection of provider 'api'
-- (a delivery belongs to a connection). SQLite cannot widen a CHECK in place: the small
-- connections table is rebuilt, ids kept (foreign keys are checked before commit; see
-- store/migrations.rs).

CREATE TABLE connections_v4 (
    id                    TEXT PRIMARY KEY,
    provider              TEXT NOT NULL CHECK (provider IN ('whop', 'paddle', 'api')),
    environment           TEXT NOT NULL CHECK (environment IN ('production', 'sandbox')),
    account_id            TEXT NOT NULL,
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
    removed_at            INTEGER,
    site_id               TEXT REFERENCES sites (id)
) STRICT;

INSERT INTO connections_v4 SELECT id, provider, environment, account_id, key_last4, api_key_sealed,
    webhook_secret_sealed, webhook_id, webhook_url, status, sync_state, sync_error, sync_updated_at, created_at,
    removed_at, site_id FROM connections;
DROP TABLE connections;
ALTER TABLE connections_v4 RENAME TO connections;
CREATE UNIQUE INDEX connections_one_live_per_account
    ON connections (provider, environment, account_id)
    WHERE status IN ('pending', 'active');

-- How a payment reached Faurya: 'webhook', 'api' (the revenue API), 'backfill', 'test'.
ALTER TABLE payments ADD COLUMN origin TEXT NOT NULL DEFAULT 'webhook';
-- 'verified' (a valid attribution token), 'ids' (plain visitor/session ids), 'unverified' (a
-- token that was not trusted: the plain ids were used), 'none'. The note says why.
ALTER TABLE payments ADD COLUMN attribution_status TEXT NOT NULL DEFAULT 'none';
ALTER TABLE payments ADD COLUMN attribution_note TEXT;
-- The visitor and session the payment is credited to, after the token was checked.
ALTER TABLE payments ADD COLUMN attr_visitor TEXT;
ALTER TABLE payments ADD COLUMN attr_session TEXT;
-- The session each model credits (sessions.id), and its channel/source/campaign copied so the
-- attribution table is one indexed scan of payments. NULL: no session known (yet).
ALTER TABLE payments ADD COLUMN ft_session INTEGER;
ALTER TABLE payments ADD COLUMN ft_channel TEXT;
ALTER TABLE payments ADD COLUMN ft_source TEXT;
ALTER TABLE payments ADD COLUMN ft_campaign TEXT;
ALTER TABLE payments ADD COLUMN ft_landing TEXT;
ALTER TABLE payments ADD COLUMN ft_referrer TEXT;
ALTER TABLE payments ADD COLUMN lt_session INTEGER;
ALTER TABLE payments ADD COLUMN lt_channel TEXT;
ALTER TABLE payments ADD COLUMN lt_source TEXT;
ALTER TABLE payments ADD COLUMN lt_campaign TEXT;
ALTER TABLE payments ADD COLUMN lt_landing TEXT;
ALTER TABLE payments ADD COLUMN lt_referrer TEXT;
ALTER TABLE payments ADD COLUMN lnd_session INTEGER;
ALTER TABLE payments ADD COLUMN lnd_channel TEXT;
ALTER TABLE payments ADD COLUMN lnd_source TEXT;
ALTER TABLE payments ADD COLUMN lnd_campaign TEXT;
ALTER TABLE payments ADD COLUMN lnd_landing TEXT;
ALTER TABLE payments ADD COLUMN lnd_referrer TEXT;

-- Events that land after their payment find it by visitor (late linking).
CREATE INDEX payments_by_attr_visitor ON payments (site_id, attr_visitor) WHERE attr_visitor IS NOT NULL;
CREATE INDEX payments_by_attr_session ON payments (site_id, attr_session) WHERE attr_session IS NOT NULL;
-- The revenue API's idempotency key: one payment per order id and site.
CREATE INDEX payments_by_order ON payments (site_id, order_id) WHERE order_id IS NOT NULL;
-- The attribution table scans one site's payments in a time window.
CREATE INDEX payments_by_site_time ON payments (site_id, coalesce(paid_at, created_at));

-- Payments from before this version: attributed by their plain ids (no token was checked).
UPDATE payments SET
    attr_visitor = visitor_id,
    attr_session = session_id,
    attribution_status = CASE WHEN visitor_id IS NOT NULL OR session_id IS NOT NULL THEN 'ids' ELSE 'none' END;
