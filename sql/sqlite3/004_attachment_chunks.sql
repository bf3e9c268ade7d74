-- mod_sdesk schema 4 (SQLite): attachment bytes in chunks, so storing a
-- large file never needs a second full copy of it in memory (SQLite builds
-- each row in memory before writing it).
CREATE TABLE attachment_chunks (
    attachment_id INTEGER NOT NULL REFERENCES attachments (id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
