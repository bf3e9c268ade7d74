-- mod_sdesk schema 3 (SQLite): known issues get a resolution text and full
-- text search; change feeds for the suggestion index.
ALTER TABLE known_issues ADD COLUMN resolution TEXT;
CREATE INDEX known_issues_updated ON known_issues (updated_at);
CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE VIRTUAL TABLE known_issues_fts USING fts5(title, symptoms, workaround,
    content='known_issues', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER known_issues_fts_ai AFTER INSERT ON known_issues BEGIN
    INSERT INTO known_issues_fts (rowid, title, symptoms, workaround)
        VALUES (new.id, new.title, new.symptoms, new.workaround);
END;
CREATE TRIGGER known_issues_fts_au AFTER UPDATE OF title, symptoms, workaround ON known_issues BEGIN
    INSERT INTO known_issues_fts (known_issues_fts, rowid, title, symptoms, workaround)
        VALUES ('delete', old.id, old.title, old.symptoms, old.workaround);
    INSERT INTO known_issues_fts (rowid, title, symptoms, workaround)
        VALUES (new.id, new.title, new.symptoms, new.workaround);
END;
INSERT INTO known_issues_fts (known_issues_fts) VALUES ('rebuild');
