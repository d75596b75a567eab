-- API keys: only a hash of each key's secret is kept (the key is shown once, when created).
-- ``agents`` is a JSON list of agent-name patterns the grant is scoped to.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    agents      TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
) WITHOUT ROWID;

-- The audit trail: every mutating call and every refused credential. Append-only: the API
-- has no way to change or delete a row.
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    source  TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    status  INTEGER NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_actor ON audit(actor, seq);
