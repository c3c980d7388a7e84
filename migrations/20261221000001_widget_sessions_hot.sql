-- Heartbeats and socket touches rewrite `widget_sessions.last_seen_at`
-- thousands of times a second under load. With an index on that column
-- every such update wrote a new index entry in both indexes and left dead
-- ones behind; without it, and with room left on each page, the update
-- is HOT (heap-only: no index is touched). The sweep, every 2 s, compares
-- each row's deadline with its own leave timeout, which no index on
-- `last_seen_at` could answer anyway: it reads the table.
DROP INDEX widget_sessions_deadline;
ALTER TABLE widget_sessions SET (fillfactor = 50);
