-- mod_sdesk schema 5 (SQLite): the active tickets in id order, for the
-- suggestion index's full load at child start (sdesk_feed_tickets_all) and
-- the SLA scan (sdesk_scan_breaches). Without it PostgreSQL reads the whole
-- table once a million tickets are mostly closed (make bench-scale, issue 8).
-- Additive only: the previous release keeps working during a graceful restart.
CREATE INDEX tickets_active ON tickets (id) WHERE status IN ('new', 'open', 'pending');
