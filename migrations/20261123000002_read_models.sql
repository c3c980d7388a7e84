-- Read models, written only by the projectors in `projections/`.
--
-- Every row is derived from events alone (times come from the events'
-- `at` and `recorded_at`, never from now()), so a rebuild from position 0
-- gives the same rows as the live run. Tables have no foreign keys and no
-- sequences: a rebuild builds shadow copies (`CREATE TABLE ... LIKE`) in a
-- schema `rebuild_<projector>` and moves them here in one transaction.

-- Where each projector is: the last position applied, written in the same
-- transaction as its rows. `error` holds why it stopped, if it did.
CREATE TABLE projector_checkpoints (
    name            text        PRIMARY KEY,
    position        bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    error           text,
    failed_position bigint
);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ---------------------------------------------------------------------
-- Projector `live_view`: live_sessions, live_view_visitors,
-- live_view_conversations.

-- One row per active session; the row is deleted when the session ends.
CREATE TABLE live_sessions (
    session_id           uuid        PRIMARY KEY,
    site_id              uuid        NOT NULL,
    visitor_id           uuid        NOT NULL,
    code                 text        NOT NULL,
    code_shared          boolean     NOT NULL,
    status               text        NOT NULL CHECK (status IN ('active', 'idle')),
    current_path         text        NOT NULL,
    current_title        text,
    referrer             text,
    browser              text        NOT NULL,
    device               text        NOT NULL,
    os                   text        NOT NULL,
    country              text,
    visitor_email        text,
    visitor_name         text,
    labels               jsonb       NOT NULL,
    external_user_id     text,
    tabs                 integer     NOT NULL,
    page_views           integer     NOT NULL,
    connected_agent      jsonb,
    co_browsing_agent    jsonb,
    conversation_id      uuid,
    message_count        integer     NOT NULL,
    last_message_preview text,
    last_message_at      timestamptz,
    started_at           timestamptz NOT NULL,
    last_activity_at     timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    position             bigint      NOT NULL
);
-- The Live View list of a site, and its online count (count(*) by site).
CREATE INDEX live_sessions_site ON live_sessions (site_id, started_at DESC, session_id);
-- "Connect by code" among a site's active sessions.
CREATE INDEX live_sessions_code ON live_sessions (site_id, code);
CREATE INDEX live_sessions_visitor ON live_sessions (visitor_id);

-- What the Live View shows of a visitor's identity (VisitorTagged).
CREATE TABLE live_view_visitors (
    visitor_id       uuid  PRIMARY KEY,
    email            text,
    first_name       text,
    last_name        text,
    labels           jsonb NOT NULL,
    external_user_id text
);

-- Which active session a conversation belongs to (for message counts);
-- rows go with their session.
CREATE TABLE live_view_conversations (
    conversation_id uuid PRIMARY KEY,
    session_id      uuid NOT NULL
);
CREATE INDEX live_view_conversations_session ON live_view_conversations (session_id);

-- ---------------------------------------------------------------------
-- Projector `inbox`: conversations, messages, visitors.

CREATE TABLE visitors (
    visitor_id           uuid        PRIMARY KEY,
    site_id              uuid        NOT NULL,
    first_seen_at        timestamptz,
    email                text,
    first_name           text,
    last_name            text,
    name                 text,
    labels               jsonb       NOT NULL,
    assigned_user        text,
    external_user_id     text,
    additional_info      jsonb       NOT NULL,
    reset_at             timestamptz,
    conversation_count   integer     NOT NULL,
    last_conversation_id uuid,
    updated_at           timestamptz NOT NULL,
    position             bigint      NOT NULL
);
CREATE INDEX visitors_site ON visitors (site_id, updated_at DESC, visitor_id);
CREATE INDEX visitors_external ON visitors (site_id, external_user_id) WHERE external_user_id IS NOT NULL;

-- The inbox row.
CREATE TABLE conversations (
    conversation_id      uuid        PRIMARY KEY,
    site_id              uuid        NOT NULL,
    visitor_id           uuid        NOT NULL,
    session_id           uuid,
    provider             text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('unread', 'unresolved', 'done')),
    visitor_name         text,
    visitor_email        text,
    assignee_type        text        CHECK (assignee_type IN ('agent', 'team')),
    assignee_id          uuid,
    assignee_name        text,
    taken_over_by_id     uuid,
    taken_over_by_name   text,
    human_requested      boolean     NOT NULL,
    last_message_preview text,
    last_message_at      timestamptz,
    last_message_author  text,
    message_count        integer     NOT NULL,
    note_count           integer     NOT NULL,
    -- Visitor messages since the last agent message.
    unread_count         integer     NOT NULL,
    -- Per SLA target: {"policy_id", "due_at", "outcome": pending|fulfilled|breached}.
    sla                  jsonb       NOT NULL,
    -- The earliest pending SLA due time.
    sla_due_at           timestamptz,
    sla_breached         boolean     NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    position             bigint      NOT NULL,
    -- What inbox search matches (trigram index).
    search               text        NOT NULL
        GENERATED ALWAYS AS (lower(coalesce(visitor_name, '') || ' ' || coalesce(visitor_email, ''))) STORED
);
CREATE INDEX conversations_newest ON conversations (site_id, updated_at DESC, conversation_id);
CREATE INDEX conversations_status ON conversations (site_id, status, updated_at DESC, conversation_id);
CREATE INDEX conversations_assignee ON conversations (site_id, assignee_id, status, updated_at DESC, conversation_id);
CREATE INDEX conversations_provider ON conversations (site_id, provider, updated_at DESC, conversation_id);
CREATE INDEX conversations_sla_due ON conversations (site_id, sla_due_at, conversation_id) WHERE sla_due_at IS NOT NULL;
CREATE INDEX conversations_taken_over ON conversations (site_id, taken_over_by_id) WHERE taken_over_by_id IS NOT NULL;
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at DESC);
CREATE INDEX conversations_search ON conversations USING gin (search gin_trgm_ops);

-- Transcripts: messages and internal notes (internal = true).
CREATE TABLE messages (
    message_id        uuid        PRIMARY KEY,
    conversation_id   uuid        NOT NULL,
    site_id           uuid        NOT NULL,
    internal          boolean     NOT NULL,
    author_type       text        NOT NULL CHECK (author_type IN ('visitor', 'agent', 'bot', 'system')),
    author_id         uuid,
    author_name       text,
    body              text        NOT NULL,
    attachments       jsonb       NOT NULL,
    client_message_id text,
    at                timestamptz NOT NULL,
    position          bigint      NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, position);

-- ---------------------------------------------------------------------
-- Projector `agents`: agents, agent_assignments.

CREATE TABLE agents (
    agent_id                uuid        PRIMARY KEY,
    email                   text        NOT NULL,
    name                    text        NOT NULL,
    display_name            text        NOT NULL,
    -- {"<site id>": "admin" | "supervisor" | "agent" | "analyst"}
    roles                   jsonb       NOT NULL,
    activated               boolean     NOT NULL,
    presence                text        NOT NULL CHECK (presence IN ('online', 'away', 'offline')),
    max_concurrent          integer     NOT NULL,
    notification_preference text        NOT NULL,
    -- Conversations assigned to the agent and not done.
    open_conversations      integer     NOT NULL,
    updated_at              timestamptz NOT NULL,
    position                bigint      NOT NULL
);
CREATE INDEX agents_roles ON agents USING gin (roles);

-- Who each conversation is assigned to (for open_conversations).
CREATE TABLE agent_assignments (
    conversation_id uuid    PRIMARY KEY,
    agent_id        uuid,
    open            boolean NOT NULL
);
CREATE INDEX agent_assignments_agent ON agent_assignments (agent_id) WHERE agent_id IS NOT NULL;

-- ---------------------------------------------------------------------
-- Projector `text_blocks`: live text blocks (removed ones are deleted).

CREATE TABLE text_blocks (
    text_block_id uuid        PRIMARY KEY,
    site_id       uuid        NOT NULL,
    shortcut      text        NOT NULL,
    title         text        NOT NULL,
    body          text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    position      bigint      NOT NULL
);
CREATE INDEX text_blocks_site ON text_blocks (site_id, shortcut);

-- ---------------------------------------------------------------------
-- Projector `sla_queue`: pending SLA clocks, soonest first. A clock leaves
-- the queue when it is fulfilled or breached.

CREATE TABLE sla_queue (
    conversation_id uuid        NOT NULL,
    target          text        NOT NULL CHECK (target IN ('first_response', 'next_response', 'resolution')),
    site_id         uuid        NOT NULL,
    policy_id       uuid        NOT NULL,
    due_at          timestamptz NOT NULL,
    position        bigint      NOT NULL,
    PRIMARY KEY (conversation_id, target)
);
CREATE INDEX sla_queue_due ON sla_queue (due_at, conversation_id, target);
CREATE INDEX sla_queue_site_due ON sla_queue (site_id, due_at);

-- ---------------------------------------------------------------------
-- Projector `audit_log`: who did what, when: every staff, admin, system
-- and integrator action (not visitors' browsing or chatting).

CREATE TABLE audit_log (
    position    bigint      PRIMARY KEY,
    site_id     uuid,
    stream_id   text        NOT NULL,
    event_type  text        NOT NULL,
    actor       text,
    recorded_at timestamptz NOT NULL,
    details     jsonb       NOT NULL
);
CREATE INDEX audit_log_site ON audit_log (site_id, position DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, position DESC);
