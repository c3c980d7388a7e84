-- The event store: one append-only table holding every event of every stream.
--
-- Ordering guarantee: all appends go through the adapter, which takes the
-- transaction-level advisory lock `livedesk_append_lock()` before it reads
-- stream versions and allocates positions, and holds it until commit.
-- Appends therefore commit one after another in position order, and a reader
-- that sees position p also sees every position below p: `position > checkpoint`
-- never skips an event (DESIGN.md, guarantee 3). Concurrent appends of one
-- process share a transaction (group commit), so the lock costs little.
--
-- Never UPDATE or DELETE rows of this table: corrections are new events.

CREATE TABLE events (
    position        bigint      PRIMARY KEY CHECK (position > 0),
    stream_id       text        NOT NULL,
    stream_category text        NOT NULL GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
    stream_version  bigint      NOT NULL CHECK (stream_version >= 0),
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version > 0),
    -- `json`, not `jsonb`: the payload is kept byte for byte as written and
    -- reads do not pay for jsonb re-serialisation. Read models are where
    -- payloads are queried.
    payload         json        NOT NULL,
    -- Metadata, one column per field so that filters use indexes and reads
    -- do not parse JSON.
    site_id         uuid,
    actor           text,
    correlation_id  uuid,
    causation_id    uuid,
    command_id      uuid,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_site_position ON events (site_id, position) WHERE site_id IS NOT NULL;
CREATE INDEX events_command_id ON events (command_id) WHERE command_id IS NOT NULL;

-- The key of the append lock, in one place.
CREATE FUNCTION livedesk_append_lock() RETURNS bigint
    LANGUAGE sql IMMUTABLE
    RETURN 7306539718260940801;
