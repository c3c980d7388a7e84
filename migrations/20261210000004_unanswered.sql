-- Reassignment of conversations an agent left unanswered
-- (docs/sla-and-routing.md): the router's sweep looks for conversations
-- held by an agent whose last message is the visitor's, oldest first.
CREATE INDEX conversations_unanswered ON conversations (last_message_at)
    WHERE assignee_type = 'agent' AND status <> 'done' AND last_message_author = 'visitor';
