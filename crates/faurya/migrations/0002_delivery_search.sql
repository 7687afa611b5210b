-- Version 2: full-text search over delivery bodies, a note beside the error, and the index the
-- revenue summary's time window uses.

-- Why a delivery was ignored or counted as a repeat ("payment.failed: no revenue"); `error`
-- stays for failures.
ALTER TABLE deliveries ADD COLUMN note TEXT;

-- Word search over raw bodies for the inspector's search box. Contentless: the bodies already
-- live in `deliveries`; this holds only the index. rowid = deliveries.id.
CREATE VIRTUAL TABLE deliveries_fts USING fts5 (body, content = '', contentless_delete = 1, tokenize = 'unicode61');

-- Deliveries stored before this version become searchable too.
INSERT INTO deliveries_fts (rowid, body) SELECT id, CAST(body AS TEXT) FROM deliveries;

-- A payment's time is when it was paid, else when it was recorded (the summary's window).
CREATE INDEX payments_by_occurred ON payments (coalesce(paid_at, created_at));
