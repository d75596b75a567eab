-- Agents, their artifacts, the message log, conversations and per-agent state.
CREATE TABLE modules (
    hash        TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL,
    size        INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE agents (
    name          TEXT PRIMARY KEY,
    version       TEXT NOT NULL,
    module_hash   TEXT NOT NULL REFERENCES modules(hash),
    limits        TEXT NOT NULL,
    desired_state TEXT NOT NULL,
    deployed_at   TEXT NOT NULL
);

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    conversation_id TEXT,
    sender          TEXT NOT NULL,
    receivers       TEXT NOT NULL,
    performative    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    body            BLOB NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, seq);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    protocol      TEXT,
    initiator     TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    last_at       TEXT NOT NULL,
    message_count INTEGER NOT NULL
);
CREATE INDEX conversations_by_last ON conversations(last_at);

CREATE TABLE conversation_participants (
    conversation_id TEXT NOT NULL,
    participant     TEXT NOT NULL,
    PRIMARY KEY (conversation_id, participant)
) WITHOUT ROWID;

CREATE TABLE agent_state (
    agent TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (agent, key)
) WITHOUT ROWID;
