//! The widget's liveness tables (`widget_sessions`, `console_presence`):
//! who shows signs of life, recorded by every process, read by the widget's
//! elected sweeper. Not read models (no event writes them; they are
//! transient process state), but SQL, so here beside the read models the
//! sweep also reads (`conversations`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Records a started (or resumed) session.
pub async fn started(
    pool: &PgPool,
    session: Uuid,
    site: Uuid,
    leave_timeout_ms: i64,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO widget_sessions (session_id, site_id, last_seen_at, leave_timeout_ms, expires_at, open_tabs) \
         VALUES ($1, $2, now(), $3, $4, 1) \
         ON CONFLICT (session_id) DO UPDATE SET last_seen_at = now()",
    )
    .bind(session)
    .bind(site)
    .bind(leave_timeout_ms)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Another tab joined the session.
pub async fn tab_joined(pool: &PgPool, session: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE widget_sessions SET open_tabs = open_tabs + 1, last_seen_at = now() WHERE session_id = $1")
        .bind(session)
        .execute(pool)
        .await?;
    Ok(())
}

/// A tab left; returns the tabs still open (0 when the row is gone).
pub async fn tab_left(pool: &PgPool, session: Uuid) -> Result<i32, sqlx::Error> {
    let open: Option<i32> = sqlx::query_scalar(
        "UPDATE widget_sessions SET open_tabs = greatest(open_tabs - 1, 0) WHERE session_id = $1 RETURNING open_tabs",
    )
    .bind(session)
    .fetch_optional(pool)
    .await?;
    Ok(open.unwrap_or(0))
}

/// Signs of life of `sessions`.
pub async fn touch_sessions(pool: &PgPool, sessions: &[Uuid]) -> Result<(), sqlx::Error> {
    if sessions.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE widget_sessions SET last_seen_at = now() WHERE session_id = ANY($1)")
        .bind(sessions)
        .execute(pool)
        .await?;
    Ok(())
}

/// The session is over: forget it.
pub async fn ended(pool: &PgPool, session: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM widget_sessions WHERE session_id = $1")
        .bind(session)
        .execute(pool)
        .await?;
    Ok(())
}

/// Consoles of `agents` are connected.
pub async fn touch_consoles(pool: &PgPool, agents: &[Uuid]) -> Result<(), sqlx::Error> {
    if agents.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO console_presence (agent_id, last_seen_at) SELECT unnest($1::uuid[]), now() \
         ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = now()",
    )
    .bind(agents)
    .execute(pool)
    .await?;
    Ok(())
}

/// A session the sweeper ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Silent {
    /// The session.
    pub session_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// Past its maximum duration (else silent past its leave timeout).
    pub expired: bool,
}

/// Sessions silent past their leave timeout, or past their maximum.
pub async fn silent_sessions(conn: &mut PgConnection, limit: i64) -> Result<Vec<Silent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT session_id, site_id, expires_at <= now() AS expired FROM widget_sessions \
          WHERE last_seen_at < now() - leave_timeout_ms * interval '1 millisecond' OR expires_at <= now() \
          ORDER BY last_seen_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A take-over whose agent's console has not been seen for `grace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Abandoned {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// The agent holding it.
    pub agent_id: Uuid,
    /// Whether the agent's console was ever seen (then its last sign of
    /// life is already older than the grace period).
    pub seen_before: bool,
}

/// Taken-over conversations (from the inbox read model) whose holder's
/// console was not seen within `grace_ms`.
pub async fn unwatched_take_overs(conn: &mut PgConnection, grace_ms: i64) -> Result<Vec<Abandoned>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.conversation_id, c.site_id, c.taken_over_by_id AS agent_id, \
                EXISTS (SELECT 1 FROM console_presence p WHERE p.agent_id = c.taken_over_by_id) AS seen_before \
           FROM conversations c \
          WHERE c.taken_over_by_id IS NOT NULL AND NOT EXISTS ( \
                SELECT 1 FROM console_presence p WHERE p.agent_id = c.taken_over_by_id \
                   AND p.last_seen_at > now() - $1::bigint * interval '1 millisecond') \
          LIMIT 500",
    )
    .bind(grace_ms)
    .fetch_all(conn)
    .await
}

/// A heartbeat of `session`: its maximum duration's end, or `None` when
/// the session is no longer recorded (it ended).
pub async fn heartbeat(pool: &PgPool, session: Uuid) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("UPDATE widget_sessions SET last_seen_at = now() WHERE session_id = $1 RETURNING expires_at")
        .bind(session)
        .fetch_optional(pool)
        .await
}
