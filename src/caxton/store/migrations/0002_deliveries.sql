-- Durable delivery: one row per (message, local agent receiver) until the agent has handled it.
-- A handled delivery's row is deleted in the same transaction as the handler's effects (its
-- state writes and the messages it sent), so after a crash a message is either pending (and
-- redelivered, with none of its effects applied) or done (with all of them).
CREATE TABLE deliveries (
    message_id TEXT NOT NULL,
    receiver   TEXT NOT NULL,
    status     TEXT NOT NULL,            -- pending | dead
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (message_id, receiver)
) WITHOUT ROWID;
CREATE INDEX deliveries_by_status ON deliveries(status, receiver);
