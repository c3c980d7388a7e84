//! Realistic events: a visitor's message posted to a conversation, with
//! the metadata a command would give it.

use anyhow::Context;
use chrono::Utc;
use livedesk_domain::conversation::{Author, ConversationEvent, MessagePosted};
use livedesk_domain::{Actor, Aggregate, MessageId, Metadata, NewEvent, StreamName, VisitorId};
use sqlx::PgPool;
use uuid::Uuid;

/// The text of every benchmark message (a typical first chat line).
pub const BODY: &str = "Hi, my order #4521 has not arrived yet.";

/// Sites the benchmark's events are spread over.
const SITES: [u128; 4] = [
    0x0193_0000_0000_7000_8000_0000_0000_0001,
    0x0193_0000_0000_7000_8000_0000_0000_0002,
    0x0193_0000_0000_7000_8000_0000_0000_0003,
    0x0193_0000_0000_7000_8000_0000_0000_0004,
];

/// One of the benchmark's sites, chosen by `n`.
pub fn site(n: u64) -> Uuid {
    Uuid::from_u128(SITES[(n % SITES.len() as u64) as usize])
}

/// A new conversation stream: `conversation-{uuid v7}`.
pub fn new_stream() -> anyhow::Result<StreamName> {
    StreamName::for_id(livedesk_domain::conversation::Conversation::CATEGORY, Uuid::now_v7())
        .context("conversation stream name")
}

/// Metadata of a visitor's action: site, actor, correlation id.
pub fn visitor_metadata(site_id: Uuid, visitor: Uuid) -> Metadata {
    Metadata {
        site_id: Some(site_id),
        actor: Some(Actor::Visitor(visitor)),
        correlation_id: Some(Uuid::now_v7()),
        causation_id: None,
        command_id: None,
    }
}

/// A `MessagePosted` event from `visitor`, encoded by the domain itself,
/// optionally carrying a client message id.
pub fn message(visitor: Uuid, client_message_id: Option<String>, metadata: Metadata) -> anyhow::Result<NewEvent> {
    let event = ConversationEvent::MessagePosted(MessagePosted {
        message_id: MessageId::from(Uuid::now_v7()),
        author: Author::Visitor {
            visitor_id: VisitorId::from(visitor),
        },
        body: BODY.to_owned(),
        attachments: Vec::new(),
        client_message_id,
        at: Utc::now(),
    });
    NewEvent::encode(Uuid::now_v7(), &event, metadata).context("cannot encode MessagePosted")
}

/// `count` messages of one visitor on site `n`, as one append would carry
/// them.
pub fn messages(n: u64, count: usize) -> anyhow::Result<Vec<NewEvent>> {
    let visitor = Uuid::now_v7();
    let metadata = visitor_metadata(site(n), visitor);
    (0..count).map(|_| message(visitor, None, metadata.clone())).collect()
}

/// The raw baseline's table: `events`' columns, indexes and constraints,
/// with a sequence for `position` (which `events` allocates itself).
pub async fn create_raw_table(pool: &PgPool) -> anyhow::Result<()> {
    for sql in [
        "DROP TABLE IF EXISTS raw_events",
        "CREATE TABLE raw_events (LIKE events INCLUDING ALL)",
        "CREATE SEQUENCE raw_events_position_seq OWNED BY raw_events.position",
        "ALTER TABLE raw_events ALTER COLUMN position SET DEFAULT nextval('raw_events_position_seq')",
    ] {
        sqlx::query(sql).execute(pool).await.with_context(|| sql.to_owned())?;
    }
    Ok(())
}

const RAW_INSERT: &str = "\
    INSERT INTO raw_events (stream_id, stream_version, event_id, event_type, schema_version, payload, \
                            site_id, actor, correlation_id, causation_id, command_id, recorded_at) \
    VALUES ($1, $2, $3, $4, $5, $6::json, $7, $8, $9, $10, $11, statement_timestamp())";

/// The raw baseline: one event as one autocommitted single-row `INSERT`.
pub async fn raw_insert(pool: &PgPool, stream: &StreamName, version: i64, event: &NewEvent) -> anyhow::Result<()> {
    let m = &event.metadata;
    sqlx::query(RAW_INSERT)
        .bind(stream.as_str())
        .bind(version)
        .bind(event.event_id)
        .bind(event.event_type.as_str())
        .bind(i32::try_from(event.schema_version).unwrap_or(i32::MAX))
        .bind(event.payload.get())
        .bind(m.site_id)
        .bind(m.actor.as_ref().map(ToString::to_string))
        .bind(m.correlation_id)
        .bind(m.causation_id)
        .bind(m.command_id)
        .execute(pool)
        .await
        .context("raw INSERT")?;
    Ok(())
}
