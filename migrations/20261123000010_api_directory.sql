-- Read models of the `directory` projector (livedesk-api): what the API
-- needs of sites to authenticate tokens and serve settings, custom fields
-- and teams. Derived from site events alone, like every read model.

-- One row per site.
CREATE TABLE sites (
    site_id         uuid        PRIMARY KEY,
    name            text        NOT NULL,
    allowed_origins jsonb       NOT NULL,
    -- SiteSettings as JSON (defaults until changed).
    settings        jsonb       NOT NULL,
    -- [CustomFieldDefinition]
    custom_fields   jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    position        bigint      NOT NULL
);

-- Teams of a site with their members ([agent id]).
CREATE TABLE teams (
    team_id    uuid        PRIMARY KEY,
    site_id    uuid        NOT NULL,
    name       text        NOT NULL,
    members    jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    position   bigint      NOT NULL
);
CREATE INDEX teams_site ON teams (site_id, name);

-- API tokens by the hash of their secret; revoked ones stay, marked.
CREATE TABLE api_tokens (
    token_id   uuid        PRIMARY KEY,
    site_id    uuid        NOT NULL,
    name       text        NOT NULL,
    token_hash text        NOT NULL,
    role       text        NOT NULL,
    agent_id   uuid,
    issued_at  timestamptz NOT NULL,
    revoked_at timestamptz,
    position   bigint      NOT NULL
);
CREATE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_site ON api_tokens (site_id, issued_at);
