-- Auto-assignment's tie-break (docs/sla-and-routing.md): among agents
-- with as few open conversations, the one idle longest gets the next
-- conversation. `idle_since` is the later of their last assignment and
-- when they last came online; NULL until either happens (rows projected
-- before this column read as idle since their last change until a
-- rebuild fills it).
ALTER TABLE agents ADD COLUMN idle_since timestamptz;

-- The teams' queues, oldest first: conversations assigned to a team and
-- not yet to an agent, not Done.
CREATE INDEX conversations_team_queue ON conversations (site_id, created_at, conversation_id)
    WHERE assignee_type = 'team' AND status <> 'done';
