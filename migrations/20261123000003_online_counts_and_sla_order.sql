-- The Live View's online count per site, kept by the `live_view` projector
-- in the same transaction as `live_sessions` (counting 10,000 rows of a
-- table that changes on every page view costs milliseconds; reading one
-- row does not). A site without sessions has no row.
CREATE TABLE live_view_sites (
    site_id uuid    PRIMARY KEY,
    online  integer NOT NULL
);

-- Lists order exactly as their index does, so PostgreSQL reads the first
-- page's entries and stops instead of sorting every match: the API pages
-- newest first with the id as the tie-breaker in the same direction.
DROP INDEX live_sessions_site;
CREATE INDEX live_sessions_site ON live_sessions (site_id, started_at DESC, session_id DESC);
DROP INDEX conversations_newest;
CREATE INDEX conversations_newest ON conversations (site_id, updated_at DESC, conversation_id DESC);
DROP INDEX conversations_status;
CREATE INDEX conversations_status ON conversations (site_id, status, updated_at DESC, conversation_id DESC);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations
    (site_id, assignee_id, status, updated_at DESC, conversation_id DESC);
DROP INDEX conversations_provider;
CREATE INDEX conversations_provider ON conversations (site_id, provider, updated_at DESC, conversation_id DESC);
DROP INDEX conversations_visitor;
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at DESC, conversation_id DESC);

-- The inbox's SLA order: nearest due time first, conversations without a
-- clock last. (The partial index it replaces left those out, so it could
-- not serve `NULLS LAST`.)
DROP INDEX conversations_sla_due;
CREATE INDEX conversations_sla_order ON conversations (site_id, sla_due_at ASC NULLS LAST, conversation_id);
