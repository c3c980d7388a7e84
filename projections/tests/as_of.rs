//! State as of a moment (`livedesk_projections::as_of`) on a real
//! PostgreSQL: for a random history appended while the projectors run,
//! the conversations and sessions folded as of a moment equal, row for
//! row, what the live read model held at that moment.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::{History, caught_up, ordered_store};
use livedesk_eventstore::PgEventStore;
use livedesk_projections::as_of::{self, AsOf, ConversationAsOf};
use livedesk_projections::models::inbox::{ConversationRow, MessageRow};
use livedesk_projections::models::live_view::LiveSessionRow;
use livedesk_projections::models::{InboxProjector, LiveViewProjector};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig};
use sqlx::PgPool;
use uuid::Uuid;

/// Events appended between two moments: uneven, so that moments fall
/// early and late in conversations' and sessions' lives.
const STEPS: &[usize] = &[40, 350, 120, 600, 25, 300, 480, 90, 260];

/// What the live read model held once the projectors had applied every
/// event recorded up to `at`.
struct Moment {
    at: DateTime<Utc>,
    /// The first event recorded after the moment, if any.
    next: Option<DateTime<Utc>>,
    conversations: BTreeMap<Uuid, ConversationAsOf>,
    sessions: BTreeMap<Uuid, LiveSessionRow>,
}

async fn all<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(pool: &PgPool, sql: &'static str) -> Vec<T> {
    let rows: Vec<sqlx::types::Json<T>> = sqlx::query_scalar(sql).fetch_all(pool).await.expect("rows");
    rows.into_iter().map(|r| r.0).collect()
}

async fn live(pool: &PgPool) -> (BTreeMap<Uuid, ConversationAsOf>, BTreeMap<Uuid, LiveSessionRow>) {
    let rows: Vec<ConversationRow> = all(pool, "SELECT to_jsonb(c) FROM conversations c").await;
    let messages: Vec<MessageRow> = all(pool, "SELECT to_jsonb(m) FROM messages m ORDER BY position").await;
    let mut conversations: BTreeMap<Uuid, ConversationAsOf> = rows
        .into_iter()
        .map(|row| {
            let state = ConversationAsOf {
                row,
                messages: Vec::new(),
            };
            (state.row.conversation_id, state)
        })
        .collect();
    for message in messages {
        conversations
            .get_mut(&message.conversation_id)
            .expect("a message of a conversation in the inbox")
            .messages
            .push(message);
    }
    let sessions: Vec<LiveSessionRow> = all(pool, "SELECT to_jsonb(s) FROM live_sessions s").await;
    (conversations, sessions.into_iter().map(|s| (s.session_id, s)).collect())
}

/// The ids of every stream of `category` in the log.
async fn ids(pool: &PgPool, category: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT DISTINCT substr(stream_id, length($1) + 2)::uuid FROM events WHERE stream_category = $1 ORDER BY 1",
    )
    .bind(category)
    .fetch_all(pool)
    .await
    .expect("stream ids")
}

/// Whether the state read as of a moment is the one recorded then.
async fn assert_moment(store: &PgEventStore, moment: &Moment, at: DateTime<Utc>, ids: (&[Uuid], &[Uuid])) {
    for id in ids.0 {
        let found = as_of::conversation(store, *id, at).await.expect("as of");
        let AsOf { site_id, state } = found.expect("a conversation of the log exists");
        let expected = moment.conversations.get(id);
        assert_eq!(state.as_ref(), expected, "conversation {id} as of {at}");
        if let Some(expected) = expected {
            assert_eq!(site_id, expected.row.site_id);
        }
    }
    for id in ids.1 {
        let found = as_of::session(store, *id, at).await.expect("as of");
        let AsOf { site_id, state } = found.expect("a session of the log exists");
        let expected = moment.sessions.get(id);
        assert_eq!(state.as_ref(), expected, "session {id} as of {at}");
        if let Some(expected) = expected {
            assert_eq!(site_id, expected.site_id);
        }
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn as_of_queries_equal_the_live_read_model_at_the_same_moment_for_a_random_history(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let runtime = ProjectionRuntime::start(
        store.clone(),
        vec![Arc::new(InboxProjector), Arc::new(LiveViewProjector)],
        RuntimeConfig {
            max_batch: 97,
            lock_retry: Duration::from_millis(200),
        },
    );
    let mut history = History::new(20261215, 2, 3);
    let mut moments: Vec<Moment> = Vec::new();
    for step in STEPS {
        history.grow(history.events + step);
        let head = history.append_to(&store).await;
        caught_up(&runtime, head).await;
        // The moment is the last event's own timestamp (`<=` keeps it),
        // and the next append starts strictly after it.
        let at: DateTime<Utc> = sqlx::query_scalar("SELECT max(recorded_at) FROM events")
            .fetch_one(&pool)
            .await
            .expect("the last event's time");
        let later: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE recorded_at > $1")
            .bind(at)
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(later, 0);
        let (conversations, sessions) = live(&pool).await;
        moments.push(Moment {
            at,
            next: None,
            conversations,
            sessions,
        });
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    runtime.shutdown().await;

    let (conversations, sessions) = (ids(&pool, "conversation").await, ids(&pool, "session").await);
    for moment in &mut moments {
        moment.next = sqlx::query_scalar("SELECT min(recorded_at) FROM events WHERE recorded_at > $1")
            .bind(moment.at)
            .fetch_one(&pool)
            .await
            .expect("the next event's time");
    }
    // The history is varied enough to mean something.
    let (first, last) = (&moments[0], moments.last().expect("moments"));
    let ended = moments
        .windows(2)
        .map(|w| w[0].sessions.keys().filter(|s| !w[1].sessions.contains_key(s)).count())
        .sum::<usize>();
    let chatting = moments
        .iter()
        .flat_map(|m| m.sessions.values())
        .filter(|s| s.message_count > 0 && s.visitor_name.is_some())
        .count();
    let rows = last.conversations.values();
    let notes = rows.clone().flat_map(|c| &c.messages).filter(|m| m.internal).count();
    let taken_over = rows.clone().filter(|c| c.row.taken_over_by_id.is_some()).count();
    let named = rows.clone().filter(|c| c.row.visitor_name.is_some()).count();
    let assigned = rows.clone().filter(|c| c.row.assignee_id.is_some()).count();
    let clocks = rows.clone().filter(|c| !c.row.sla.is_empty()).count();
    let done = rows.filter(|c| c.row.status == "done").count();
    for (what, count) in [
        ("sessions that ended between moments", ended),
        ("session rows with messages and a tagged visitor", chatting),
        ("notes", notes),
        ("take-overs", taken_over),
        ("tagged visitors' conversations", named),
        ("assignments", assigned),
        ("SLA clocks", clocks),
        ("done conversations", done),
    ] {
        assert!(count > 0, "the history has no {what}");
    }

    // Before anything, nothing existed.
    let dawn = first.at - TimeDelta::days(1);
    let nothing = Moment {
        at: dawn,
        next: None,
        conversations: BTreeMap::new(),
        sessions: BTreeMap::new(),
    };
    assert_moment(&store, &nothing, dawn, (&conversations, &sessions)).await;
    for moment in &moments {
        assert_moment(&store, moment, moment.at, (&conversations, &sessions)).await;
        // The state holds until the next event is recorded.
        if let Some(next) = moment.next {
            let just_before = next - TimeDelta::microseconds(1);
            assert_moment(&store, moment, just_before, (&conversations, &sessions)).await;
        }
    }
    let unknown = Uuid::now_v7();
    assert_eq!(
        as_of::conversation(&store, unknown, last.at).await.expect("as of"),
        None
    );
    assert_eq!(as_of::session(&store, unknown, last.at).await.expect("as of"), None);
}
