-- Liveness of widget sessions and agent consoles (livedesk-widget).
--
-- Not read models: heartbeats and open WebSockets are not events (they
-- would flood the log). Each process records what it holds; the one
-- elected sweeper ends sessions and releases take-overs from these rows.

-- One row per live widget session.
CREATE TABLE widget_sessions (
    session_id       uuid        PRIMARY KEY,
    site_id          uuid        NOT NULL,
    -- The last heartbeat, request, or touch of an open WebSocket.
    last_seen_at     timestamptz NOT NULL,
    -- The site's leave timeout when the session started.
    leave_timeout_ms bigint      NOT NULL,
    -- The session's maximum duration ends here.
    expires_at       timestamptz NOT NULL,
    -- Tabs that have not left (with "keep session" one session spans tabs).
    open_tabs        integer     NOT NULL
);
CREATE INDEX widget_sessions_deadline ON widget_sessions (last_seen_at);

-- Agents whose console (the GraphQL WebSocket) is connected somewhere.
CREATE TABLE console_presence (
    agent_id     uuid        PRIMARY KEY,
    last_seen_at timestamptz NOT NULL
);
