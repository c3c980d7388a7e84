-- Checkpoints of the automation processes (livedesk-automation): how far
-- along the event log each process manager (the SLA engine, later
-- routing) has reacted. Not read models: a process manager's reactions
-- are commands appended to the log, made idempotent by deterministic
-- command ids, so the checkpoint only saves re-reading; moving it back
-- re-posts nothing.

CREATE TABLE automation_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
