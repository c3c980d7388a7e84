-- Scopes of API tokens: the stream categories (`site`, `agent`, `visitor`,
-- `session`, `conversation`) a token's history reads are limited to. Empty
-- for every category, which is what tokens issued before scopes have.
ALTER TABLE api_tokens ADD COLUMN event_categories text[] NOT NULL DEFAULT '{}';
