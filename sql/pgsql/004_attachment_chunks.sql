-- mod_sdesk schema 4 (PostgreSQL): attachment bytes in chunks, so storing a
-- large file never needs a second full copy of it in memory (libpq copies
-- each parameter into its send buffer).
CREATE TABLE attachment_chunks (
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
