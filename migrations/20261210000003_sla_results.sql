-- The SLA report (docs/sla-and-routing.md, "The SLA report"): the
-- `sla_results` projector's tables.

-- Who holds each conversation now, and its pending clocks (per target:
-- started_at, due_at, policy_id), so that an ended clock can be credited
-- to its holder and timed from its start.
CREATE TABLE sla_result_conversations (
    conversation_id uuid PRIMARY KEY,
    site_id uuid NOT NULL,
    agent_id uuid,
    team_id uuid,
    clocks jsonb NOT NULL DEFAULT '{}',
    position bigint NOT NULL
);

-- One row per ended clock (fulfilled: met; breached: missed), keyed by the
-- id of the event that ended it. `started_at` is NULL when no pending
-- clock was known.
CREATE TABLE sla_results (
    result_id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL,
    site_id uuid NOT NULL,
    target text NOT NULL,
    policy_id uuid NOT NULL,
    started_at timestamptz,
    due_at timestamptz,
    ended_at timestamptz NOT NULL,
    met boolean NOT NULL,
    agent_id uuid,
    team_id uuid,
    position bigint NOT NULL
);

CREATE INDEX sla_results_site_ended ON sla_results (site_id, ended_at);
