//! Reads: one stream, the global log, a command's result, the head.

use chrono::{DateTime, Utc};
use livedesk_domain::{Metadata, RecordedEvent, StreamName};
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::{AppendResult, Direction, Filter, StoreError};

pub(super) const COLUMNS: &str = "position, stream_id, stream_version, event_id, event_type, schema_version, payload::text, \
                       site_id, actor, correlation_id, causation_id, command_id, recorded_at";

pub(super) async fn stream(
    pool: &PgPool,
    stream: &StreamName,
    from_version: u64,
    direction: Direction,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = match direction {
        Direction::Forward => {
            format!(
                "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3"
            )
        }
        Direction::Backward => format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version <= $2 ORDER BY stream_version DESC LIMIT $3"
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(stream.as_str())
        .bind(to_i64(from_version))
        .bind(to_i64(limit as u64))
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn all(
    pool: &PgPool,
    after: u64,
    limit: usize,
    filter: &Filter,
) -> Result<Vec<RecordedEvent>, StoreError> {
    match super::copy::copy_statement(after, limit, filter) {
        Some(statement) => super::copy::read(pool, &statement, limit).await,
        None => all_bound(pool, after, limit, filter).await,
    }
}

/// `read_all` as a parameterised query, for filters `COPY` cannot inline.
async fn all_bound(pool: &PgPool, after: u64, limit: usize, filter: &Filter) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM events WHERE position > "));
    query.push_bind(to_i64(after));
    if !filter.event_types.is_empty() {
        query
            .push(" AND event_type = ANY(")
            .push_bind(filter.event_types.clone())
            .push(")");
    }
    if !filter.excluded_types.is_empty() {
        query
            .push(" AND event_type <> ALL(")
            .push_bind(filter.excluded_types.clone())
            .push(")");
    }
    if !filter.categories.is_empty() {
        query
            .push(" AND stream_category = ANY(")
            .push_bind(filter.categories.clone())
            .push(")");
    }
    if let Some(site_id) = filter.site_id {
        query.push(" AND site_id = ").push_bind(site_id);
    }
    if let Some(prefix) = &filter.stream_prefix {
        query
            .push(" AND starts_with(stream_id, ")
            .push_bind(prefix.clone())
            .push(")");
    }
    if let Some(actor) = &filter.actor {
        query.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(from) = filter.recorded_from {
        query.push(" AND recorded_at >= ").push_bind(from);
    }
    if let Some(to) = filter.recorded_to {
        query.push(" AND recorded_at < ").push_bind(to);
    }
    query.push(" ORDER BY position LIMIT ").push_bind(to_i64(limit as u64));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn command(pool: &PgPool, command_id: Uuid) -> Result<Option<AppendResult>, StoreError> {
    let row = sqlx::query("SELECT min(position), max(position), max(stream_version) FROM events WHERE command_id = $1")
        .bind(command_id)
        .fetch_one(pool)
        .await?;
    let first: Option<i64> = row.try_get(0)?;
    let last: Option<i64> = row.try_get(1)?;
    let version: Option<i64> = row.try_get(2)?;
    Ok(first
        .zip(last)
        .zip(version)
        .map(|((first, last), version)| AppendResult {
            first_position: first as u64,
            last_position: last as u64,
            stream_version: version as u64,
            duplicate: true,
        }))
}

pub(super) async fn head(pool: &PgPool) -> Result<u64, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(head as u64)
}

fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row.try_get(0)?;
    let corrupt = |reason: String| StoreError::Corrupt {
        position: position as u64,
        reason,
    };
    let stream: String = row.try_get(1)?;
    let stream = StreamName::parse(&stream).map_err(|e| corrupt(e.to_string()))?;
    let payload: String = row.try_get(6)?;
    let payload = RawValue::from_string(payload).map_err(|e| corrupt(e.to_string()))?;
    let actor: Option<String> = row.try_get(8)?;
    let actor = actor
        .map(|a| a.parse())
        .transpose()
        .map_err(|e: livedesk_domain::envelope::ActorParseError| corrupt(e.to_string()))?;
    let stream_version: i64 = row.try_get(2)?;
    let schema_version: i32 = row.try_get(5)?;
    let recorded_at: DateTime<Utc> = row.try_get(12)?;
    Ok(RecordedEvent {
        position: position as u64,
        stream,
        stream_version: stream_version as u64,
        event_id: row.try_get(3)?,
        event_type: row.try_get(4)?,
        schema_version: schema_version as u32,
        payload,
        metadata: Metadata {
            site_id: row.try_get(7)?,
            actor,
            correlation_id: row.try_get(9)?,
            causation_id: row.try_get(10)?,
            command_id: row.try_get(11)?,
        },
        recorded_at,
    })
}

/// Positions and versions are stored as `bigint`; anything above
/// `i64::MAX` means "to the end".
pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
