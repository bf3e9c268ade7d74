-- mod_sdesk schema 3 (PostgreSQL): known issues get a resolution text and
-- full text search; change feeds for the suggestion index.
ALTER TABLE known_issues ADD COLUMN resolution TEXT;
CREATE INDEX known_issues_updated ON known_issues (updated_at);
CREATE INDEX tickets_updated ON tickets (updated_at);
ALTER TABLE known_issues ADD COLUMN search tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', title || ' ' || symptoms || ' ' || workaround)) STORED;
CREATE INDEX known_issues_search ON known_issues USING GIN (search);
