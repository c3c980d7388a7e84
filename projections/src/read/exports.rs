//! The rows of the CSV exports, streamed as the database returns them
//! (`fetch`: one connection, never the whole result in memory): a
//! conversation's transcript and the conversations a site opened within a
//! period. The CSV encoding is the API's (`livedesk_api::csv`).

use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use crate::models::inbox::{ConversationRow, MessageRow};

/// The transcript of `conversation`, oldest first (by position), internal
/// notes only if `notes`.
pub fn transcript_stream(
    pool: &PgPool,
    conversation: Uuid,
    notes: bool,
) -> BoxStream<'_, Result<MessageRow, sqlx::Error>> {
    sqlx::query_scalar::<_, Json<MessageRow>>(
        "SELECT row_to_json(m) FROM messages m WHERE conversation_id = $1 AND ($2 OR NOT internal) ORDER BY position",
    )
    .bind(conversation)
    .bind(notes)
    .fetch(pool)
    .map(|row| row.map(|Json(row)| row))
    .boxed()
}

/// The conversations of `site` opened (`created_at`) in `[from, to)`, in
/// the order they opened (ties by id), as the inbox holds them now
/// (index `conversations_opened`).
pub fn conversations_opened_stream(
    pool: &PgPool,
    site: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BoxStream<'_, Result<ConversationRow, sqlx::Error>> {
    sqlx::query_scalar::<_, Json<ConversationRow>>(
        "SELECT row_to_json(c) FROM conversations c WHERE site_id = $1 AND created_at >= $2 AND created_at < $3 \
          ORDER BY created_at, conversation_id",
    )
    .bind(site)
    .bind(from)
    .bind(to)
    .fetch(pool)
    .map(|row| row.map(|Json(row)| row))
    .boxed()
}
