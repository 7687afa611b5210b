-- Version 5: daily revenue rollups, so the Overview's revenue summary reads a few hundred rows
-- instead of scanning every payment and refund. Kept by triggers: every path that records or
-- changes a payment or a refund (webhooks, the revenue API, reprocessing, linking) keeps them
-- right without knowing they exist.
--
-- A payment counts on the UTC day it was paid (else recorded), in its currency; its counting
-- refunds count on the payment's day, so "net in the window" matches the payments in it.
-- Test payments never count. site_id '' holds payments without a site.

CREATE TABLE revenue_daily (
    site_id        TEXT NOT NULL,
    day            INTEGER NOT NULL,          -- days since 1970-01-01 (UTC)
    currency       TEXT NOT NULL,
    payments       INTEGER NOT NULL DEFAULT 0,
    attributed     INTEGER NOT NULL DEFAULT 0,
    gross_minor    INTEGER NOT NULL DEFAULT 0,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, currency)
) STRICT, WITHOUT ROWID;

INSERT INTO revenue_daily (site_id, day, currency, payments, attributed, gross_minor, refunded_minor)
SELECT coalesce(p.site_id, ''), coalesce(p.paid_at, p.created_at) / 86400000, p.currency, count(*),
       sum(p.visitor_id IS NOT NULL OR p.session_id IS NOT NULL OR p.attribution_token IS NOT NULL),
       sum(p.amount_minor),
       sum(coalesce((SELECT sum(r.amount_minor) FROM refunds r WHERE r.provider = p.provider
                     AND r.provider_payment_id = p.provider_payment_id AND r.counts = 1), 0))
FROM payments p WHERE p.origin != 'test'
GROUP BY 1, 2, 3;

CREATE TRIGGER revenue_on_payment_insert AFTER INSERT ON payments WHEN NEW.origin != 'test'
BEGIN
    INSERT INTO revenue_daily (site_id, day, currency, payments, attributed, gross_minor, refunded_minor)
    VALUES (coalesce(NEW.site_id, ''), coalesce(NEW.paid_at, NEW.created_at) / 86400000, NEW.currency, 1,
            NEW.visitor_id IS NOT NULL OR NEW.session_id IS NOT NULL OR NEW.attribution_token IS NOT NULL,
            NEW.amount_minor,
            coalesce((SELECT sum(amount_minor) FROM refunds WHERE provider = NEW.provider
                      AND provider_payment_id = NEW.provider_payment_id AND counts = 1), 0))
    ON CONFLICT (site_id, day, currency) DO UPDATE SET
        payments = payments + excluded.payments, attributed = attributed + excluded.attributed,
        gross_minor = gross_minor + excluded.gross_minor, refunded_minor = refunded_minor + excluded.refunded_minor;
END;

-- An update takes the old contribution out and puts the new one in (the day, site, currency,
-- attribution or ids may have changed; refunds follow their payment).
CREATE TRIGGER revenue_on_payment_update
AFTER UPDATE OF amount_minor, currency, paid_at, created_at, site_id, visitor_id, session_id, attribution_token,
                origin, provider, provider_payment_id ON payments
BEGIN
    UPDATE revenue_daily SET
        payments = payments - 1,
        attributed = attributed - (OLD.visitor_id IS NOT NULL OR OLD.session_id IS NOT NULL OR OLD.attribution_token IS NOT NULL),
        gross_minor = gross_minor - OLD.amount_minor,
        refunded_minor = refunded_minor - coalesce((SELECT sum(amount_minor) FROM refunds WHERE provider = OLD.provider
                          AND provider_payment_id = OLD.provider_payment_id AND counts = 1), 0)
    WHERE OLD.origin != 'test' AND site_id = coalesce(OLD.site_id, '')
      AND day = coalesce(OLD.paid_at, OLD.created_at) / 86400000 AND currency = OLD.currency;
    INSERT INTO revenue_daily (site_id, day, currency, payments, attributed, gross_minor, refunded_minor)
    SELECT coalesce(NEW.site_id, ''), coalesce(NEW.paid_at, NEW.created_at) / 86400000, NEW.currency, 1,
           NEW.visitor_id IS NOT NULL OR NEW.session_id IS NOT NULL OR NEW.attribution_token IS NOT NULL,
           NEW.amount_minor,
           coalesce((SELECT sum(amount_minor) FROM refunds WHERE provider = NEW.provider
                     AND provider_payment_id = NEW.provider_payment_id AND counts = 1), 0)
    WHERE NEW.origin != 'test'
    ON CONFLICT (site_id, day, currency) DO UPDATE SET
        payments = payments + excluded.payments, attributed = attributed + excluded.attributed,
        gross_minor = gross_minor + excluded.gross_minor, refunded_minor = refunded_minor + excluded.refunded_minor;
END;

CREATE TRIGGER revenue_on_payment_delete AFTER DELETE ON payments WHEN OLD.origin != 'test'
BEGIN
    UPDATE revenue_daily SET
        payments = payments - 1,
        attributed = attributed - (OLD.visitor_id IS NOT NULL OR OLD.session_id IS NOT NULL OR OLD.attribution_token IS NOT NULL),
        gross_minor = gross_minor - OLD.amount_minor,
        refunded_minor = refunded_minor - coalesce((SELECT sum(amount_minor) FROM refunds WHERE provider = OLD.provider
                          AND provider_payment_id = OLD.provider_payment_id AND counts = 1), 0)
    WHERE site_id = coalesce(OLD.site_id, '') AND day = coalesce(OLD.paid_at, OLD.created_at) / 86400000
      AND currency = OLD.currency;
END;

-- A refund counts on its payment's row (if the payment is recorded yet; when it arrives later,
-- the payment's insert trigger brings the refund along).
CREATE TRIGGER revenue_on_refund_insert AFTER INSERT ON refunds WHEN NEW.counts = 1
BEGIN
    UPDATE revenue_daily SET refunded_minor = refunded_minor + NEW.amount_minor
    WHERE (site_id, day, currency) IN (
        SELECT coalesce(p.site_id, ''), coalesce(p.paid_at, p.created_at) / 86400000, p.currency FROM payments p
        WHERE p.provider = NEW.provider AND p.provider_payment_id = NEW.provider_payment_id AND p.origin != 'test');
END;

CREATE TRIGGER revenue_on_refund_update AFTER UPDATE OF amount_minor, counts ON refunds
BEGIN
    UPDATE revenue_daily SET refunded_minor = refunded_minor
        - (CASE WHEN OLD.counts = 1 THEN OLD.amount_minor ELSE 0 END)
        + (CASE WHEN NEW.counts = 1 THEN NEW.amount_minor ELSE 0 END)
    WHERE (site_id, day, currency) IN (
        SELECT coalesce(p.site_id, ''), coalesce(p.paid_at, p.created_at) / 86400000, p.currency FROM payments p
        WHERE p.provider = NEW.provider AND p.provider_payment_id = NEW.provider_payment_id AND p.origin != 'test');
END;
