-- mod_sdesk schema 1 (SQLite). Times are Unix seconds, UTC.
-- Every table holding tenant data has a tenant column, and every query on it
-- names the tenant. Known issues with tenant '' are global.
CREATE TABLE known_issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    title TEXT NOT NULL,
    symptoms TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    services TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    resolved_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX known_issues_tenant ON known_issues (tenant, status, id);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    urgency TEXT,
    impact TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    tier INTEGER NOT NULL,
    environment TEXT,
    service TEXT,
    encounter_id TEXT,
    device_id TEXT,
    device_model TEXT,
    device_os TEXT,
    device_app_version TEXT,
    page_url TEXT,
    cc TEXT NOT NULL DEFAULT '[]',
    context TEXT NOT NULL DEFAULT '{}',
    reporter TEXT NOT NULL,
    reporter_name TEXT NOT NULL,
    reporter_email TEXT,
    assignee TEXT,
    known_issue_id INTEGER REFERENCES known_issues (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    tier_started_at INTEGER NOT NULL,
    response_due_at INTEGER,
    resolution_due_at INTEGER,
    first_response_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    pending_since INTEGER,
    paused_seconds INTEGER NOT NULL DEFAULT 0,
    sla_breached INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_tenant_id ON tickets (tenant, id);
CREATE INDEX tickets_reporter ON tickets (tenant, reporter, id);
CREATE INDEX tickets_queue ON tickets (tenant, tier, status, resolution_due_at, id);
CREATE INDEX tickets_known_issue ON tickets (known_issue_id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    note TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (tenant, ticket_id, id);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    author TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_ticket ON comments (tenant, ticket_id, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    comment_id INTEGER REFERENCES comments (id),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (ticket_id, sha256)
);
CREATE INDEX attachments_ticket ON attachments (tenant, ticket_id, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets (id),
    event_id INTEGER REFERENCES ticket_events (id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at, id);
