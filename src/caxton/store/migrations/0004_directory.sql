-- The directory facilitator (FIPA DF): one registration per agent. ``description`` is
-- AgentDescription.to_dict() as JSON; ``source`` says who made it: ``deploy`` (the services the
-- agent was deployed with, replaced by each new version) or ``register`` (the DF's register
-- and modify, from an API client or the agent itself). ``lease`` is when it lapses (or NULL).
CREATE TABLE directory (
    agent       TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    source      TEXT NOT NULL,
    lease       TEXT,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
