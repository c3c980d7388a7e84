//! The SQL of the automation processes (`livedesk-automation`): their
//! checkpoints, and what the SLA timer and its reactions read from the
//! read models (`sla_queue`, `conversations`). Here beside the read models
//! they read, like [`crate::liveness`].

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Where process `name` has reacted up to; 0 when it never ran.
pub async fn checkpoint(conn: &mut PgConnection, name: &str) -> Result<u64, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar("SELECT position FROM automation_checkpoints WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(position.map_or(0, |p| u64::try_from(p).unwrap_or(0)))
}

/// Records that process `name` has reacted to every event up to
/// `position`. Never moves a checkpoint back.
pub async fn save_checkpoint(conn: &mut PgConnection, name: &str, position: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO automation_checkpoints (name, position, updated_at) VALUES ($1, $2, now()) \
         ON CONFLICT (name) DO UPDATE SET position = greatest(automation_checkpoints.position, excluded.position), \
           updated_at = now()",
    )
    .bind(name)
    .bind(i64::try_from(position).unwrap_or(i64::MAX))
    .execute(conn)
    .await?;
    Ok(())
}

/// A pending SLA clock of `sla_queue`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueClock {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
}

/// Pending clocks due at or before `now`, soonest first, at most `limit`.
pub async fn due_clocks(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueClock>, sqlx::Error> {
    sqlx::query_as(
        "SELECT conversation_id, site_id, target, due_at FROM sla_queue WHERE due_at <= $1 \
          ORDER BY due_at, conversation_id, target LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The soonest due time of a pending clock after `now`, if any.
pub async fn next_due(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT min(due_at) FROM sla_queue WHERE due_at > $1")
        .bind(now)
        .fetch_one(conn)
        .await
}

/// The visitor's conversations that are not Done (from the inbox), newest
/// first, at most 100.
pub async fn open_conversations_of_visitor(pool: &PgPool, visitor: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT conversation_id FROM conversations WHERE visitor_id = $1 AND status <> 'done' \
          ORDER BY created_at DESC LIMIT 100",
    )
    .bind(visitor)
    .fetch_all(pool)
    .await
}

/// An agent as auto-assignment sees them, from `agents`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentLoad {
    /// The agent.
    pub agent_id: Uuid,
    /// The name visitors see.
    pub display_name: String,
    /// Activated and `online`.
    pub online: bool,
    /// Most open conversations at once.
    pub max_concurrent: i32,
    /// Assigned conversations that are not Done, as far as the `agents`
    /// projector has come.
    pub open_conversations: i32,
    /// Their last assignment or coming online, whichever is later (their
    /// last change when neither was projected).
    pub idle_since: DateTime<Utc>,
}

/// The loads of `agents` (those known), and the log position the `agents`
/// projector had reached when they were read: assignments after it are not
/// counted in `open_conversations` yet. One statement, so rows and position
/// come from one snapshot (the projector moves both in one transaction).
pub async fn agent_loads(pool: &PgPool, agents: &[Uuid]) -> Result<(Vec<AgentLoad>, u64), sqlx::Error> {
    let rows: Vec<LoadRow> = sqlx::query_as(
        "SELECT a.agent_id, a.display_name, a.activated AND a.presence = 'online' AS online, a.max_concurrent, \
                a.open_conversations, coalesce(a.idle_since, a.updated_at) AS idle_since, c.position AS counted \
           FROM agents a CROSS JOIN projector_checkpoints c \
          WHERE c.name = 'agents' AND a.agent_id = ANY($1)",
    )
    .bind(agents)
    .fetch_all(pool)
    .await?;
    let counted = rows.first().map_or(0, |r| u64::try_from(r.counted).unwrap_or(0));
    Ok((rows.into_iter().map(|r| r.load).collect(), counted))
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    #[sqlx(flatten)]
    load: AgentLoad,
    counted: i64,
}

/// A conversation waiting in a team's queue: assigned to the team, not to
/// an agent, and not Done (from the inbox).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Queued {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The team whose queue it is in.
    pub team_id: Uuid,
    /// The last event of the conversation the inbox applied.
    pub position: i64,
}

/// The conversations waiting in the queues of `site`'s teams, oldest
/// first, at most `limit`.
pub async fn queued_conversations(pool: &PgPool, site: Uuid, limit: i64) -> Result<Vec<Queued>, sqlx::Error> {
    sqlx::query_as(
        "SELECT conversation_id, assignee_id AS team_id, position FROM conversations \
          WHERE site_id = $1 AND assignee_type = 'team' AND status <> 'done' \
          ORDER BY created_at, conversation_id LIMIT $2",
    )
    .bind(site)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The sites with conversations waiting in a team's queue.
pub async fn sites_with_queues(pool: &PgPool) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT site_id FROM conversations WHERE assignee_type = 'team' AND status <> 'done'")
        .fetch_all(pool)
        .await
}

/// Whether projector `name` has yet to apply an event of `types` at or
/// before `head` (it moves its checkpoint only over its own types, so it
/// may rightly stand before the head).
pub async fn projector_behind(pool: &PgPool, name: &str, types: &[String], head: u64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events \
                         WHERE position > coalesce((SELECT position FROM projector_checkpoints WHERE name = $1), 0) \
                           AND position <= $3 AND event_type = ANY($2))",
    )
    .bind(name)
    .bind(types)
    .bind(i64::try_from(head).unwrap_or(i64::MAX))
    .fetch_one(pool)
    .await
}

/// The open (not Done) conversations assigned to `agent` (from
/// `agent_assignments`), with their sites (from the inbox).
pub async fn open_conversations_of_agent(pool: &PgPool, agent: Uuid) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.conversation_id, c.site_id FROM agent_assignments a \
           JOIN conversations c ON c.conversation_id = a.conversation_id \
          WHERE a.agent_id = $1 AND a.open ORDER BY c.created_at LIMIT 1000",
    )
    .bind(agent)
    .fetch_all(pool)
    .await
}

/// A conversation an agent holds whose last message is the visitor's.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unanswered {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// The agent holding it.
    pub agent_id: Uuid,
    /// When the visitor wrote last.
    pub last_message_at: DateTime<Utc>,
}

/// Conversations held by an agent whose visitor has waited for an answer
/// since `before` or longer, longest waiting first, at most `limit`.
pub async fn unanswered_since(
    pool: &PgPool,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Unanswered>, sqlx::Error> {
    sqlx::query_as(
        "SELECT conversation_id, site_id, assignee_id AS agent_id, last_message_at FROM conversations \
          WHERE assignee_type = 'agent' AND status <> 'done' AND last_message_author = 'visitor' \
            AND last_message_at <= $1 ORDER BY last_message_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
}
