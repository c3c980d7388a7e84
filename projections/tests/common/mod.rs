//! Helpers of the runtime tests; the history itself comes from
//! `livedesk-testkit`.
#![allow(dead_code)]

pub use livedesk_testkit::History;

use std::time::Duration;

use livedesk_eventstore::{PgEventStore, PgStoreConfig};
use sqlx::PgPool;

/// A store with one append lane, so that appends queued in order commit in
/// order (the history is appended with many appends in flight), over a
/// pool of the test database big enough for every projector's
/// subscription and a second runtime.
pub async fn ordered_store(pool: PgPool) -> PgEventStore {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(40)
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("a bigger pool");
    PgEventStore::new(
        pool,
        PgStoreConfig {
            lanes: 1,
            ..PgStoreConfig::default()
        },
    )
}

/// Every row of `table`, ordered by its key, as JSON.
pub async fn rows(pool: &PgPool, table: &str, key: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT to_jsonb(t) FROM {table} t ORDER BY {key}"
    )))
    .fetch_all(pool)
    .await
    .expect("rows")
}

/// Waits until every projector of `runtime` reached `position`.
pub async fn caught_up(runtime: &livedesk_projections::ProjectionRuntime, position: u64) {
    runtime
        .wait_for_all(position, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("a projector did not catch up: {e}"));
}

/// Every read model table and its key, for row-by-row comparisons.
pub const TABLES: &[(&str, &str)] = &[
    ("live_sessions", "session_id"),
    ("live_view_sites", "site_id"),
    ("live_view_visitors", "visitor_id"),
    ("live_view_conversations", "conversation_id"),
    ("conversations", "conversation_id"),
    ("messages", "message_id"),
    ("visitors", "visitor_id"),
    ("agents", "agent_id"),
    ("agent_assignments", "conversation_id"),
    ("text_blocks", "text_block_id"),
    ("sla_queue", "conversation_id, target"),
    ("sla_result_conversations", "conversation_id"),
    ("sla_results", "result_id"),
    ("audit_log", "position"),
    ("sites", "site_id"),
    ("teams", "team_id"),
    ("api_tokens", "token_id"),
];
