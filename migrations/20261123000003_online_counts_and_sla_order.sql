-- The Live View's online count per site, kept by the `live_view` projector
-- in the same transaction as `live_sessions` (counting 10,000 rows of a
-- table that changes on every page view costs milliseconds; reading one
-- row does not). A site without sessions has no row.
CREATE TABLE live_view_sites (
    site_id uuid    PRIMARY KEY,
    online  integer NOT NULL
);

-- The inbox's SLA order: breached first, then the nearest due time, then
-- the oldest, over open conversations (Unread and Unresolved; a status
-- filter reads on until it has its 50). The query orders exactly as the
-- index does, so PostgreSQL reads the first entries and stops. It replaces
-- the plain due-time index: every index costs each inbox row update.
DROP INDEX conversations_sla_due;
CREATE INDEX conversations_sla_order ON conversations
    (site_id, sla_breached DESC, sla_due_at ASC NULLS LAST, created_at, conversation_id)
    WHERE status <> 'done';
