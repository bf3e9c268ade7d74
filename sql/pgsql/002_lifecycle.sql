-- mod_sdesk schema 2 (PostgreSQL): tier stints for SLA reporting, the
-- response time in the current tier, full-text search, append-only audit
-- trail. Additive only: the previous release keeps working.
ALTER TABLE tickets ADD COLUMN responded_at BIGINT;

CREATE TABLE ticket_tiers (
    id BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    tier INTEGER NOT NULL,
    priority TEXT NOT NULL,
    category TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    response_due_at BIGINT,
    resolution_due_at BIGINT,
    responded_at BIGINT,
    ended_at BIGINT,
    outcome TEXT,
    breached INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ticket_tiers_report ON ticket_tiers (tenant, started_at);
CREATE INDEX ticket_tiers_ticket ON ticket_tiers (tenant, ticket_id, id);
INSERT INTO ticket_tiers (tenant, ticket_id, tier, priority, category, started_at,
                          response_due_at, resolution_due_at, responded_at)
    SELECT tenant, id, tier, priority, category, tier_started_at, response_due_at,
           resolution_due_at, first_response_at FROM tickets;

CREATE INDEX tickets_breach_scan ON tickets (status, resolution_due_at);
CREATE INDEX tickets_response_scan ON tickets (status, response_due_at);

-- 'simple': lower-cased words without stemming, so Russian (and any other
-- language's) words match as written.
ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', subject || ' ' || description)) STORED;
CREATE INDEX tickets_search ON tickets USING GIN (search);

CREATE RULE ticket_events_no_update AS ON UPDATE TO ticket_events DO INSTEAD NOTHING;
CREATE RULE ticket_events_no_delete AS ON DELETE TO ticket_events DO INSTEAD NOTHING;
