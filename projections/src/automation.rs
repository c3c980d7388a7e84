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
