-- mod_sdesk schema 2 (SQLite): tier stints for SLA reporting, the response
-- time in the current tier, full-text search, append-only audit trail.
-- Additive only: the previous release keeps working during a graceful restart.
ALTER TABLE tickets ADD COLUMN responded_at INTEGER;

-- One row per stay of a ticket in a tier (a "stint"): its targets and how
-- it ended. The ticket row carries the current stint's values for lists.
CREATE TABLE ticket_tiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    tier INTEGER NOT NULL,
    priority TEXT NOT NULL,
    category TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    response_due_at INTEGER,
    resolution_due_at INTEGER,
    responded_at INTEGER,
    ended_at INTEGER,
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

CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, description, content='tickets',
    content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject, description)
        VALUES (new.id, new.subject, new.description);
END;
CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject, description ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        VALUES ('delete', old.id, old.subject, old.description);
    INSERT INTO tickets_fts (rowid, subject, description)
        VALUES (new.id, new.subject, new.description);
END;
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');

CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
