-- Conversation tracking: where each conversation stands in its interaction protocol, and what
-- happened to it that is not a delivered message (protocol violations, late answers, timeouts,
-- idle expiry). ``state`` is ConversationState.to_dict() as JSON, NULL for conversations whose
-- protocol Caxton does not follow; ``status`` is open | done | expired (NULL when untracked).
-- ``revision`` orders state writes that may reach the writer out of order from two threads.
ALTER TABLE conversations ADD COLUMN status TEXT;
ALTER TABLE conversations ADD COLUMN state TEXT;
ALTER TABLE conversations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_by_status ON conversations(status, last_at);

CREATE TABLE conversation_events (
    seq             INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,   -- violation | late | timeout | expired
    party           TEXT,
    message_id      TEXT,
    detail          TEXT NOT NULL
);
CREATE INDEX conversation_events_by_conversation ON conversation_events(conversation_id, seq);
