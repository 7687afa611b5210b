-- Version 6: each payment carries its counted refunds (refunded_minor), kept by triggers, so the
-- attribution table reads net revenue from the payment row instead of summing refunds per row.

ALTER TABLE payments ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;

UPDATE payments SET refunded_minor = coalesce((SELECT sum(r.amount_minor) FROM refunds r
    WHERE r.provider = payments.provider AND r.provider_payment_id = payments.provider_payment_id AND r.counts = 1), 0);

-- A refund that arrived first is counted when its payment is recorded (or takes its ids).
CREATE TRIGGER refunded_on_payment_insert AFTER INSERT ON payments
WHEN EXISTS (SELECT 1 FROM refunds WHERE provider = NEW.provider AND provider_payment_id = NEW.provider_payment_id
             AND counts = 1)
BEGIN
    UPDATE payments SET refunded_minor = coalesce((SELECT sum(amount_minor) FROM refunds
        WHERE provider = NEW.provider AND provider_payment_id = NEW.provider_payment_id AND counts = 1), 0)
    WHERE id = NEW.id;
END;

CREATE TRIGGER refunded_on_payment_ids AFTER UPDATE OF provider, provider_payment_id ON payments
BEGIN
    UPDATE payments SET refunded_minor = coalesce((SELECT sum(amount_minor) FROM refunds
        WHERE provider = NEW.provider AND provider_payment_id = NEW.provider_payment_id AND counts = 1), 0)
    WHERE id = NEW.id;
END;

CREATE TRIGGER refunded_on_refund_insert AFTER INSERT ON refunds WHEN NEW.counts = 1
BEGIN
    UPDATE payments SET refunded_minor = refunded_minor + NEW.amount_minor
    WHERE provider = NEW.provider AND provider_payment_id = NEW.provider_payment_id;
END;

CREATE TRIGGER refunded_on_refund_update AFTER UPDATE OF amount_minor, counts ON refunds
BEGIN
    UPDATE payments SET refunded_minor = refunded_minor
        - (CASE WHEN OLD.counts = 1 THEN OLD.amount_minor ELSE 0 END)
        + (CASE WHEN NEW.counts = 1 THEN NEW.amount_minor ELSE 0 END)
    WHERE provider = NEW.provider AND provider_payment_id = NEW.provider_payment_id;
END;
