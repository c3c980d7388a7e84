-- Console sign-in (livedesk-api's `console` module; SQL in
-- livedesk-projections' `accounts`). This is process state, not a read
-- model: secrets and sessions are not derived from the log, are never
-- rebuilt and never exported. The log records the facts only
-- (AgentPasswordSet, AgentActivated).

-- The Argon2id hash (PHC string) of each agent's console password.
CREATE TABLE agent_credentials (
    agent_id      uuid        PRIMARY KEY,
    password_hash text        NOT NULL,
    set_at        timestamptz NOT NULL
);

-- Signed-in browsers. The cookie holds a random secret; only its SHA-256
-- is stored. A session ends when revoked, idle too long (last_seen_at) or
-- past its absolute expiry.
CREATE TABLE console_sessions (
    session_id   uuid        PRIMARY KEY,
    secret_hash  text        NOT NULL UNIQUE,
    agent_id     uuid        NOT NULL,
    site_id      uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    user_agent   text
);
CREATE INDEX console_sessions_agent ON console_sessions (agent_id) WHERE revoked_at IS NULL;

-- One-time links to set a password: an invited agent's, or (agent_id
-- null) the first admin of a site created from the command line, who
-- names themselves when they accept.
CREATE TABLE console_invitations (
    secret_hash text        PRIMARY KEY,
    site_id     uuid        NOT NULL,
    role        text        NOT NULL,
    agent_id    uuid,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Failed sign-ins by account ('account:<email>') and by address
-- ('ip:<address>'), for the rate limit; rows older than the window are
-- deleted as new ones come.
CREATE TABLE sign_in_failures (
    key text        NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
