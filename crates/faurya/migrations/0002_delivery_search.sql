-- Version 2: full-text search over delivery bodies, and a note beside the error.

-- Why a delivery was ignored or counted as a repeat ("payment.failed: no revenue"); `error`
-- stays for failures.
ALTER TABLE deliveries ADD COLUMN note TEXT;

-- Word search over raw bodies for the inspector's search box. Contentless: the bodies already
-- live in `deliveries`; this holds only the index. rowid = deliveries.id.
CREATE VIRTUAL TABLE deliveries_fts USING fts5 (body, content = '', contentless_delete = 1, tokenize = 'unicode61');

-- Deliveries stored before this version become searchable too.
INSERT INTO deliveries_fts (rowid, body) SELECT id, CAST(body AS TEXT) FROM deliveries;
