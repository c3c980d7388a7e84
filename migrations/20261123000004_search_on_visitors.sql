-- Inbox search matches a visitor's name and email. Its trigram index lives
-- on `visitors`, which change when a visitor is tagged or opens a
-- conversation, instead of on `conversations`, which change with every
-- message: maintaining a GIN index on every message cost the inbox
-- projector most of its batch time (and its pending-list flushes made the
-- slowest batches).
DROP INDEX conversations_search;
ALTER TABLE conversations DROP COLUMN search;

ALTER TABLE visitors ADD COLUMN search text NOT NULL
    GENERATED ALWAYS AS (lower(coalesce(name, '') || ' ' || coalesce(email, ''))) STORED;
CREATE INDEX visitors_search ON visitors USING gin (search gin_trgm_ops);
