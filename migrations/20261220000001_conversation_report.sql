-- The conversations report (`/reports/conversations.csv`, docs/api.md):
-- when each conversation was first answered by a human and when it was
-- last set to Done, kept by the `inbox` projector, and an index for the
-- conversations a site opened within a period.

ALTER TABLE conversations
    -- The first message an agent posted (notes and the AI's replies do not
    -- count): the end of the first-response SLA target.
    ADD COLUMN first_response_at timestamptz,
    -- When the status last became Done; NULL while it is not Done.
    ADD COLUMN done_at timestamptz;

-- Conversations answered before this migration: from their transcripts.
-- (Their `done_at` is filled by `livedesk projections rebuild inbox`.)
UPDATE conversations c SET first_response_at = m.first_at
  FROM (SELECT conversation_id, min(at) AS first_at FROM messages
         WHERE author_type = 'agent' AND NOT internal GROUP BY conversation_id) m
 WHERE m.conversation_id = c.conversation_id;

CREATE INDEX conversations_opened ON conversations (site_id, created_at, conversation_id);
