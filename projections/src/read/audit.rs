//! The audit log: who did what and when on a site, newest first.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Which audit entries a page holds. Empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor (`agent:{id}`, `integrator:{id}`, `system`, ...).
    pub actor: Option<String>,
    /// Only these event types.
    pub event_types: Vec<String>,
    /// Never these event types.
    pub excluded_types: Vec<String>,
    /// Only this stream.
    pub stream_id: Option<String>,
    /// Only streams of these categories.
    pub categories: Vec<String>,
    /// Only entries recorded at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Only entries recorded before this.
    pub to: Option<DateTime<Utc>>,
}

/// One audit entry: an event of the log with the name of the agent who
/// caused it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntryRow {
    /// The event's position.
    pub position: i64,
    /// The event's stream.
    pub stream_id: String,
    /// What happened.
    pub event_type: String,
    /// Who did it.
    pub actor: Option<String>,
    /// The agent's display name now, when an agent did it.
    pub actor_name: Option<String>,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// The event's payload.
    pub details: sqlx::types::Json<serde_json::Value>,
}

/// Up to `limit` entries of `site` before position `before` (all when
/// `None`), newest first.
///
/// # Errors
///
/// The database's.
pub async fn audit_log(
    pool: &PgPool,
    site: Uuid,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntryRow>, sqlx::Error> {
    let list = |values: &[String]| (!values.is_empty()).then(|| values.to_vec());
    sqlx::query_as(
        "SELECT l.position, l.stream_id, l.event_type, l.actor, a.display_name AS actor_name, \
                l.recorded_at, l.details \
           FROM audit_log l \
           LEFT JOIN agents a ON l.actor = 'agent:' || a.agent_id::text \
          WHERE l.site_id = $1 \
            AND ($2::bigint IS NULL OR l.position < $2) \
            AND ($3::text IS NULL OR l.actor = $3) \
            AND ($4::text[] IS NULL OR l.event_type = ANY($4)) \
            AND ($5::text IS NULL OR l.stream_id = $5) \
            AND ($6::text[] IS NULL OR split_part(l.stream_id, '-', 1) = ANY($6)) \
            AND ($7::timestamptz IS NULL OR l.recorded_at >= $7) \
            AND ($8::timestamptz IS NULL OR l.recorded_at < $8) \
            AND ($10::text[] IS NULL OR l.event_type <> ALL($10)) \
          ORDER BY l.position DESC LIMIT $9",
    )
    .bind(site)
    .bind(before)
    .bind(filter.actor.as_deref())
    .bind(list(&filter.event_types))
    .bind(filter.stream_id.as_deref())
    .bind(list(&filter.categories))
    .bind(filter.from)
    .bind(filter.to)
    .bind(limit)
    .bind(list(&filter.excluded_types))
    .fetch_all(pool)
    .await
}
