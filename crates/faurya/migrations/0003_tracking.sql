-- Version 3: tracking. Sites own connections, deliveries and payments; the first-party script's
-- events become sessions with frozen entry fields and a channel; the writer keeps daily rollups
-- so the dashboard never scans sessions at request time.

-- A product or domain the founder tracks. The write key (server-side revenue API) and the token
-- secret (attribution tokens) are sealed like every other secret. `domains` is a JSON array of
-- lower-case hostnames whose pages may send events (subdomains included).
CREATE TABLE sites (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    domains              TEXT NOT NULL DEFAULT '[]',
    write_key_sealed     BLOB NOT NULL,
    write_key_last4      TEXT NOT NULL,
    token_secret_sealed  BLOB NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- "Verify installation": the first event ever seen from the site, and the latest.
    first_event_at       INTEGER,
    first_event_url      TEXT,
    first_event_name     TEXT,
    last_event_at        INTEGER
) STRICT;

-- Existing rows are given the first site at start-up (it needs sealed secrets, which SQL cannot
-- make); new rows take their connection's site.
ALTER TABLE connections ADD COLUMN site_id TEXT REFERENCES sites (id);
ALTER TABLE deliveries ADD COLUMN site_id TEXT;
ALTER TABLE payments ADD COLUMN site_id TEXT;
CREATE INDEX deliveries_by_site ON deliveries (site_id, id);
CREATE INDEX payments_by_site ON payments (site_id, id);

-- A visit: created by its first event, whose entry fields are frozen here. The browser mints the
-- ids; (site_id, session_id) is unique. landing_url and referrer are kept whole so a new channel
-- table version can recompute old sessions (channel_version says which table computed `channel`).
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id),
    session_id      TEXT NOT NULL,
    visitor_id      TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    landing_url     TEXT NOT NULL,
    landing_page    TEXT NOT NULL,
    referrer        TEXT,
    referrer_host   TEXT,
    source          TEXT,
    utm_source      TEXT,
    utm_medium      TEXT,
    utm_campaign    TEXT,
    utm_term        TEXT,
    utm_content     TEXT,
    click_id        TEXT,
    channel         TEXT NOT NULL,
    channel_version INTEGER NOT NULL,
    pageviews       INTEGER NOT NULL DEFAULT 0,
    events          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, session_id)
) STRICT;

CREATE INDEX sessions_by_time ON sessions (site_id, started_at);
CREATE INDEX sessions_by_visitor ON sessions (site_id, visitor_id, started_at);
-- A session looked up by the browser's id alone (payments carry it without a site).
CREATE INDEX sessions_by_session_id ON sessions (session_id);

-- Every accepted event (pageview or goal), in its session.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    session     INTEGER NOT NULL REFERENCES sessions (id),
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    path        TEXT NOT NULL,
    props       TEXT,
    at          INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_session ON events (session, at);

-- Daily rollups per site, kept by the writer as sessions start and grow. A session counts on the
-- UTC day it started, under each dimension: 'total' (key ''), 'channel', 'source', 'campaign',
-- 'landing_page', 'referrer'. visitors = distinct visitors that day under that key.
-- bounces = sessions with one pageview (taken back when a second one arrives).
CREATE TABLE traffic_daily (
    site_id    TEXT NOT NULL,
    dimension  TEXT NOT NULL,
    day        INTEGER NOT NULL,             -- days since 1970-01-01 (UTC)
    key        TEXT NOT NULL,
    visitors   INTEGER NOT NULL DEFAULT 0,
    sessions   INTEGER NOT NULL DEFAULT 0,
    pageviews  INTEGER NOT NULL DEFAULT 0,
    bounces    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, dimension, day, key)
) STRICT, WITHOUT ROWID;
