-- Exactly-once acceptance: the message ids that senders chose themselves (API clients, another
-- Caxton over the MTP), so that a retry of the same id is answered with the first acceptance
-- instead of being delivered again. Written in the same transaction as the message it accepted.
-- ``fingerprint`` tells a retry (same message) from a reuse of the id for another message;
-- ``accepted_at`` is Unix time, for pruning rows older than the de-duplication window.
CREATE TABLE accepted (
    message_id      TEXT PRIMARY KEY,
    conversation_id TEXT,
    fingerprint     TEXT NOT NULL,
    accepted_at     REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX accepted_by_time ON accepted(accepted_at);

-- Settings the server keeps for itself. ``issued_id_key`` signs the ids the server gives to
-- API clients' messages, so that a client sending such a message again (with the id it was
-- given) is recognised without a record per message.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO settings(key, value) VALUES ('issued_id_key', lower(hex(randomblob(16))));
