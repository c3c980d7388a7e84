//! State as of a moment: a conversation (its inbox row and transcript) or
//! a Live View session, exactly as the read model showed it then.
//!
//! Nothing is stored for this. The events recorded up to the moment are
//! read from the event store and folded from an empty model with the
//! projector's own fold, the one a rebuild runs over the whole log
//! ([`crate::Replay`]): [`inbox`](crate::models::inbox) for a
//! conversation, [`live_view`](crate::models::live_view) for a session.
//! Only the events the row draws on are read:
//!
//! - a conversation: its stream and its visitor's (the visitor's tagged
//!   name and email are on the row);
//! - a session: its stream, its visitor's (tagged identity), and the
//!   streams of the conversations opened in it (message count, last
//!   message, newest conversation).
//!
//! "Up to the moment" is every event with `recorded_at <= at`. The store
//! stamps an append under its append lock, so `recorded_at` follows
//! position order and these events are a prefix of the log; each stream
//! is read up to its first event recorded later. The rows come out as the
//! read model stores them, timestamps rounded to PostgreSQL's microseconds
//! ([`stored_instant`]), so they equal the live rows of that moment field
//! for field.

use chrono::{DateTime, TimeDelta, Utc};
use livedesk_domain::conversation::ConversationEvent;
use livedesk_domain::session::SessionEvent;
use livedesk_domain::{RecordedEvent, StreamName};
use livedesk_eventstore::{Direction, EventStore, Filter, StoreError};
use uuid::Uuid;

use crate::models::inbox::{self, ConversationRow, InboxProjector, MessageRow};
use crate::models::live_view::{self, LiveSessionRow, LiveViewProjector};
use crate::{ProjectionError, Projector};

/// Events read per page.
const PAGE: usize = 2_000;

/// A conversation as the inbox showed it at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationAsOf {
    /// Its `conversations` row.
    pub row: ConversationRow,
    /// Its `messages` rows, notes included, in position order.
    pub messages: Vec<MessageRow>,
}

/// What an as-of read found for an id that exists.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOf<T> {
    /// The site the conversation or session belongs to, whatever the
    /// moment (from its first event), so that callers can check access
    /// the same way before it began as after.
    pub site_id: Uuid,
    /// Its state at the moment; `None` when the read model had no row
    /// then: before it began, and for a session after it ended.
    pub state: Option<T>,
}

/// Why an as-of read failed.
#[derive(Debug, thiserror::Error)]
pub enum AsOfError {
    /// The event store failed.
    #[error("reading the event log: {0}")]
    Store(#[from] StoreError),
    /// A stored event could not be folded.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Conversation `id` as the inbox showed it at `at`: its row and
/// transcript; `None` when no such conversation was ever opened.
///
/// # Errors
///
/// [`AsOfError`] when the store fails or an event cannot be folded.
#[tracing::instrument(skip_all, fields(conversation = %id, %at))]
pub async fn conversation<S: EventStore>(
    store: &S,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<AsOf<ConversationAsOf>>, AsOfError> {
    let Some((first, mut events)) = read_until(store, &stream("conversation", id)?, at).await? else {
        return Ok(None);
    };
    let ConversationEvent::Opened(opened) = decode::<ConversationEvent>(&first)? else {
        return Err(not_first(&first, "ConversationOpened"));
    };
    let site_id = opened.site_id.0;
    if events.is_empty() {
        return Ok(Some(AsOf { site_id, state: None }));
    }
    if let Some((_, visitor)) = read_until(store, &stream("visitor", opened.visitor_id.0)?, at).await? {
        events.extend(visitor);
    }
    let state = fold_conversation(id, events)?;
    Ok(Some(AsOf { site_id, state }))
}

/// Session `id` as the Live View showed it at `at`; `None` when no such
/// session ever started. Its state is `None` before it started and from
/// the moment it ended (the Live View drops a session's row when it ends).
///
/// # Errors
///
/// [`AsOfError`] when the store fails or an event cannot be folded.
#[tracing::instrument(skip_all, fields(session = %id, %at))]
pub async fn session<S: EventStore>(
    store: &S,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<AsOf<LiveSessionRow>>, AsOfError> {
    let Some((first, mut events)) = read_until(store, &stream("session", id)?, at).await? else {
        return Ok(None);
    };
    let SessionEvent::Started(started) = decode::<SessionEvent>(&first)? else {
        return Err(not_first(&first, "SessionStarted"));
    };
    let site_id = started.site_id.0;
    if events.is_empty() || events.iter().any(|e| e.event_type == "SessionEnded") {
        return Ok(Some(AsOf { site_id, state: None }));
    }
    if let Some((_, visitor)) = read_until(store, &stream("visitor", started.visitor_id.0)?, at).await? {
        events.extend(visitor);
    }
    for conversation in opened_in(store, id, site_id, first.position, at).await? {
        if let Some((_, opened)) = read_until(store, &stream("conversation", conversation)?, at).await? {
            events.extend(opened);
        }
    }
    let state = fold_session(id, events)?;
    Ok(Some(AsOf { site_id, state }))
}

/// Conversation `id` as the inbox holds it after `events` (any order; the
/// conversation's and its visitor's, or more): what [`conversation`]
/// folds once it has read them.
///
/// # Errors
///
/// [`ProjectionError`] naming an event that cannot be decoded or applied.
pub fn fold_conversation(
    id: Uuid,
    mut events: Vec<RecordedEvent>,
) -> Result<Option<ConversationAsOf>, ProjectionError> {
    keep_read(&mut events, &InboxProjector);
    Ok(
        inbox::replay_conversation(id, &events)?.map(|(row, messages)| ConversationAsOf {
            row: stored_conversation(row),
            messages: messages.into_iter().map(stored_message).collect(),
        }),
    )
}

/// Session `id` as the Live View holds it after `events` (any order; the
/// session's, its visitor's and its conversations', or more): what
/// [`session`] folds once it has read them.
///
/// # Errors
///
/// [`ProjectionError`] naming an event that cannot be decoded or applied.
pub fn fold_session(id: Uuid, mut events: Vec<RecordedEvent>) -> Result<Option<LiveSessionRow>, ProjectionError> {
    keep_read(&mut events, &LiveViewProjector);
    Ok(live_view::replay_session(id, &events)?.map(stored_session))
}

/// Keeps the events `projector` reads, in position order, once each: what
/// its live subscription would have handed it.
fn keep_read(events: &mut Vec<RecordedEvent>, projector: &dyn Projector) {
    let types = projector.event_types();
    events.retain(|e| types.contains(&e.event_type));
    events.sort_by_key(|e| e.position);
    events.dedup_by_key(|e| e.position);
}

/// The instant a `timestamptz` column stores for `t`. PostgreSQL keeps
/// microseconds, and its input parser rounds the fraction of a second as
/// `rint(strtod(".fffffffff") * 1e6)`: in binary floating point, to the
/// nearest, ties to even. Read-model rows are written as JSON text, so
/// this is what a row read back holds.
pub fn stored_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.timestamp_subsec_nanos();
    if nanos >= 1_000_000_000 {
        // A leap second: PostgreSQL has none; leave it alone.
        return t;
    }
    let micros = (f64::from(nanos) / 1e9 * 1e6).round_ties_even() as i64;
    let whole = t - TimeDelta::nanoseconds(i64::from(nanos));
    whole + TimeDelta::microseconds(micros)
}

/// `row` as `conversations` stores it.
pub(crate) fn stored_conversation(row: ConversationRow) -> ConversationRow {
    // `sla` is jsonb: its due times are kept as written.
    ConversationRow {
        last_message_at: row.last_message_at.map(stored_instant),
        sla_due_at: row.sla_due_at.map(stored_instant),
        created_at: stored_instant(row.created_at),
        updated_at: stored_instant(row.updated_at),
        first_response_at: row.first_response_at.map(stored_instant),
        done_at: row.done_at.map(stored_instant),
        ..row
    }
}

/// `row` as `messages` stores it.
pub(crate) fn stored_message(row: MessageRow) -> MessageRow {
    MessageRow {
        at: stored_instant(row.at),
        ..row
    }
}

/// `row` as `live_sessions` stores it.
pub(crate) fn stored_session(row: LiveSessionRow) -> LiveSessionRow {
    LiveSessionRow {
        last_message_at: row.last_message_at.map(stored_instant),
        started_at: stored_instant(row.started_at),
        last_activity_at: stored_instant(row.last_activity_at),
        expires_at: stored_instant(row.expires_at),
        ..row
    }
}

fn stream(category: &str, id: Uuid) -> Result<StreamName, AsOfError> {
    StreamName::for_id(category, id).map_err(|e| {
        AsOfError::Projection(ProjectionError::Invalid {
            position: 0,
            reason: format!("no stream name for {category} {id}: {e}"),
        })
    })
}

fn decode<E: livedesk_domain::EventCodec>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    event.decode::<E>().map_err(|source| ProjectionError::Decode {
        position: event.position,
        source,
    })
}

fn not_first(event: &RecordedEvent, expected: &str) -> AsOfError {
    AsOfError::Projection(ProjectionError::Invalid {
        position: event.position,
        reason: format!("{} begins with {}, not {expected}", event.stream, event.event_type),
    })
}

/// The first event of `stream` and its events recorded at or before
/// `at`, oldest first; `None` for a stream with no events.
async fn read_until<S: EventStore>(
    store: &S,
    stream: &StreamName,
    at: DateTime<Utc>,
) -> Result<Option<(RecordedEvent, Vec<RecordedEvent>)>, StoreError> {
    let mut first = None;
    let mut events = Vec::new();
    let mut from = 0;
    loop {
        let page = store.read_stream(stream, from, Direction::Forward, PAGE).await?;
        let full = page.len() == PAGE;
        for event in page {
            if first.is_none() {
                first = Some(event.clone());
            }
            if event.recorded_at > at {
                return Ok(first.map(|f| (f, events)));
            }
            from = event.stream_version + 1;
            events.push(event);
        }
        if !full {
            return Ok(first.map(|f| (f, events)));
        }
    }
}

/// The conversations of `site` opened in `session` (which started at
/// position `started`) up to `at`.
async fn opened_in<S: EventStore>(
    store: &S,
    session: Uuid,
    site: Uuid,
    started: u64,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, AsOfError> {
    let filter = Filter {
        event_types: vec!["ConversationOpened".into()],
        categories: vec!["conversation".into()],
        site_id: Some(site),
        ..Filter::all()
    };
    let mut found = Vec::new();
    let mut after = started;
    loop {
        let page = store.read_all(after, PAGE, &filter).await?;
        let full = page.len() == PAGE;
        for event in &page {
            if event.recorded_at > at {
                return Ok(found);
            }
            after = event.position;
            if let ConversationEvent::Opened(o) = decode::<ConversationEvent>(event)?
                && o.session_id.is_some_and(|s| s.0 == session)
            {
                found.push(crate::models::stream_id(event)?);
            }
        }
        if !full {
            return Ok(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, TimeZone, Utc};
    use sqlx::PgPool;

    use super::stored_instant;

    #[sqlx::test(migrations = false)]
    async fn a_stored_instant_is_what_postgresql_stores(pool: PgPool) {
        let base = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().expect("a date");
        // Ties, near-ties, carries into the next second, and a spread.
        let mut nanos: Vec<i64> = vec![
            0,
            500,
            1_500,
            2_500,
            123_456_500,
            123_456_501,
            123_456_499,
            999_999_500,
            999_999_499,
            999_999_999,
            1_000,
            999_000,
        ];
        nanos.extend((0..2_000).map(|i| (i * 7_919_777_i64 + i * i * 31) % 1_000_000_000));
        nanos.extend((0..1_000).map(|i| i * 1_000_000 + 500 + (i % 3) * 1_000));
        let instants: Vec<DateTime<Utc>> = nanos
            .iter()
            .map(|n| base + TimeDelta::nanoseconds(*n) + TimeDelta::days(n % 400))
            .collect();
        // Written the way projectors write rows: JSON into a record.
        let rows: Vec<serde_json::Value> = instants
            .iter()
            .enumerate()
            .map(|(i, t)| serde_json::json!({ "i": i, "at": t }))
            .collect();
        let mut conn = pool.acquire().await.expect("a connection");
        sqlx::query("CREATE TEMP TABLE instants (i int, at timestamptz)")
            .execute(&mut *conn)
            .await
            .expect("a table");
        let stored: Vec<DateTime<Utc>> =
            sqlx::query_scalar("SELECT at FROM jsonb_populate_recordset(NULL::instants, $1) ORDER BY i")
                .bind(sqlx::types::Json(&rows))
                .fetch_all(&mut *conn)
                .await
                .expect("stored");
        assert_eq!(stored.len(), instants.len());
        for ((t, row), stored) in instants.iter().zip(&rows).zip(stored) {
            assert_eq!(stored_instant(*t), stored, "{row}");
        }
    }
}
