-- The platform address book: where agents named NAME@PLATFORM are reached over the FIPA HTTP
-- MTP, for the platforms added through the API (those of the server config are not stored).
-- ``urls`` is a JSON list of http(s) URLs of the platform's MTP (its /acc).
CREATE TABLE platforms (
    name       TEXT PRIMARY KEY COLLATE NOCASE,
    urls       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
