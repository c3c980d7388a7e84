//! The rows a leader hands on with its batch ([`Rows`]) equal the rows
//! read back after the commit: what lets subscribers in the leader's
//! process skip the read.

mod common;

use std::collections::BTreeMap;

use chrono::{Timelike, Utc};
use common::{History, caught_up, ordered_store};
use livedesk_domain::conversation::{Conversation, ConversationCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand, VisitorTag};
use livedesk_domain::{Actor, MessageId, Metadata, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use livedesk_projections::models::{InboxProjector, LiveViewProjector};
use livedesk_projections::{Changed, ProjectionRuntime, Projector, Rows, RuntimeConfig, read};
use sqlx::PgPool;
use tokio::sync::broadcast;
use uuid::Uuid;

/// How many batches each projector handed its rows on with, and how many
/// it did not.
#[derive(Debug, Default)]
struct Tally {
    carried: usize,
    not_carried: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.carried += other.carried;
        self.not_carried += other.not_carried;
    }
}

/// The batches `runtime` publishes, read round by round.
struct Batches {
    changes: broadcast::Receiver<std::sync::Arc<Changed>>,
    /// Per projector, the position its last batch read reached.
    reached: BTreeMap<&'static str, u64>,
}

impl Batches {
    /// Every batch published up to the projectors' committed checkpoints:
    /// a batch is published just after its commit, so wait for it.
    async fn drain(&mut self, pool: &PgPool) -> Vec<Changed> {
        let targets: Vec<(String, i64)> = sqlx::query_as("SELECT name, position FROM projector_checkpoints")
            .fetch_all(pool)
            .await
            .expect("checkpoints");
        let mut out: Vec<Changed> = Vec::new();
        while let Some((name, position)) = targets
            .iter()
            .find(|(name, position)| self.reached.get(name.as_str()).copied().unwrap_or(0) < *position as u64)
        {
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.changes.recv()).await {
                Ok(Ok(changed)) => {
                    let reached = self.reached.entry(changed.projector).or_default();
                    *reached = (*reached).max(changed.position);
                    out.push(changed.as_ref().clone());
                }
                Ok(Err(error)) => panic!("the test missed batches: {error}"),
                Err(_) => panic!("{name} stands at {position} but published no batch there"),
            }
        }
        out
    }

    /// Waits for every projector to reach `head`, then compares the
    /// round's batches with the tables; the round's batches and what
    /// the inbox and the Live View carried.
    async fn round(&mut self, runtime: &ProjectionRuntime, pool: &PgPool, head: u64) -> (Vec<Changed>, Tally, Tally) {
        caught_up(runtime, head).await;
        let round = self.drain(pool).await;
        let (mut inbox, mut live_view) = (Tally::default(), Tally::default());
        compare(pool, "inbox", &round, &mut inbox).await;
        compare(pool, "live_view", &round, &mut live_view).await;
        (round, inbox, live_view)
    }
}

/// Compares the rows `batches` of one projector carried (later ones
/// winning) with the read models now, when every batch carried them.
async fn compare(pool: &PgPool, projector: &str, batches: &[Changed], tally: &mut Tally) {
    let batches: Vec<&Changed> = batches.iter().filter(|c| c.projector == projector).collect();
    if batches.is_empty() {
        return;
    }
    let carried = batches.iter().filter(|c| c.rows.is_some()).count();
    tally.carried += carried;
    tally.not_carried += batches.len() - carried;
    if carried < batches.len() {
        return;
    }
    let after = batches[0].after;
    let position = batches[batches.len() - 1].position;
    let mut conversations = BTreeMap::new();
    let mut messages = Vec::new();
    let mut sessions = BTreeMap::new();
    let mut online = BTreeMap::new();
    for batch in &batches {
        match batch.rows.as_deref() {
            Some(Rows::Inbox {
                conversations: rows,
                messages: added,
            }) => {
                for id in &batch.conversations {
                    conversations.insert(*id, None);
                }
                conversations.extend(rows.iter().map(|r| (r.conversation_id, Some(r.clone()))));
                messages.extend(added.iter().cloned());
            }
            Some(Rows::LiveView {
                sessions: rows,
                ended,
                online: counts,
            }) => {
                for id in &batch.sessions {
                    assert!(
                        rows.iter().any(|r| r.session_id == *id) || ended.contains(id),
                        "session {id} is neither carried nor ended"
                    );
                }
                sessions.extend(ended.iter().map(|id| (*id, None)));
                sessions.extend(rows.iter().map(|r| (r.session_id, Some(r.clone()))));
                online.extend(counts.iter().map(|(site, n)| (*site, *n)));
                assert_eq!(
                    counts.keys().copied().collect::<Vec<_>>(),
                    batch.sites,
                    "a count for every site of the batch"
                );
            }
            None => unreachable!("only carried batches are compared"),
        }
    }
    if !conversations.is_empty() {
        let ids: Vec<Uuid> = conversations.keys().copied().collect();
        let stored = read::conversations_by_id(pool, &ids).await.expect("conversations");
        assert_as_stored("conversation", &conversations, stored, |r| r.conversation_id);
        let stored = read::messages_between(pool, &ids, after, position)
            .await
            .expect("messages");
        assert_eq!(messages, stored, "messages as carried and as stored");
    }
    if !sessions.is_empty() {
        let ids: Vec<Uuid> = sessions.keys().copied().collect();
        let stored = read::live_sessions_by_id(pool, &ids).await.expect("sessions");
        assert_as_stored("session", &sessions, stored, |r| r.session_id);
        let sites: Vec<Uuid> = online.keys().copied().collect();
        let stored = read::online_counts(pool, &sites).await.expect("online counts");
        assert_eq!(online, stored, "online counts as carried and as stored");
    }
}

/// Each carried row (`None`: none, the row is gone) equals the row of
/// `stored` with its id.
fn assert_as_stored<R: PartialEq + std::fmt::Debug>(
    what: &str,
    carried: &BTreeMap<Uuid, Option<R>>,
    stored: Vec<R>,
    id_of: impl Fn(&R) -> Uuid,
) {
    let stored: BTreeMap<Uuid, R> = stored.into_iter().map(|r| (id_of(&r), r)).collect();
    for (id, row) in carried {
        assert_eq!(row.as_ref(), stored.get(id), "{what} {id} as carried and as stored");
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn rows_handed_on_with_a_batch_equal_the_rows_read_back(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let projectors: Vec<std::sync::Arc<dyn Projector>> = vec![
        std::sync::Arc::new(InboxProjector),
        std::sync::Arc::new(LiveViewProjector),
    ];
    let runtime = ProjectionRuntime::start(store.clone(), projectors, RuntimeConfig::default());
    let mut batches = Batches {
        changes: runtime.subscribe(),
        reached: BTreeMap::new(),
    };
    let (mut inbox, mut live_view) = (Tally::default(), Tally::default());
    let mut history = History::new(11, 2, 2);
    for round in 1..=40 {
        history.grow(round * 60);
        let head = history.append_to(&store).await;
        let (_, i, l) = batches.round(&runtime, &pool, head).await;
        inbox.add(i);
        live_view.add(l);
    }

    // The history's clock ticks in milliseconds; a message stamped to the
    // nanosecond shows the carried timestamps rounded as stored.
    let conversation: (Uuid, Uuid, Uuid) = sqlx::query_as(
        "SELECT c.conversation_id, c.site_id, c.visitor_id FROM conversations c \
           JOIN live_view_conversations l ON l.conversation_id = c.conversation_id \
          ORDER BY c.conversation_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a conversation shown in the Live View");
    let (id, site, visitor) = conversation;
    let at = Utc::now().with_nanosecond(123_456_789).expect("a time");
    let service: CommandService<PgEventStore, Conversation> = CommandService::new(store.clone(), 10);
    let context = CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(Actor::Visitor(visitor)),
            ..Metadata::default()
        },
    };
    let post = ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), VisitorId(visitor), "hi", at);
    let executed = service.execute(id, post, &context).await.expect("posted");
    let head = executed.append.expect("appended").last_position;
    let (_, inbox_last, live_last) = batches.round(&runtime, &pool, head).await;
    assert_eq!(
        (inbox_last.carried, live_last.carried),
        (1, 1),
        "the message's batches carried rows"
    );

    // A visitor renamed after their conversation opened: SQL puts the new
    // name on the conversation after the fold, so the batch hands on no
    // rows, and the conversation read back has the name.
    let visitors: CommandService<PgEventStore, Visitor> = CommandService::new(store.clone(), 10);
    let tag = VisitorCommand::Tag {
        tag: VisitorTag {
            first_name: Some("Renamed".into()),
            ..VisitorTag::default()
        },
        at: Utc::now(),
    };
    let executed = visitors.execute(visitor, tag, &context).await.expect("tagged");
    let head = executed.append.expect("appended").last_position;
    let (round, inbox_last, live_last) = batches.round(&runtime, &pool, head).await;
    let renamed = round.iter().find(|c| c.projector == "inbox").expect("an inbox batch");
    assert!(renamed.conversations.contains(&id), "the renamed conversation changed");
    assert_eq!(
        (inbox_last.not_carried, live_last.not_carried),
        (1, 1),
        "renames are read back"
    );
    let row = read::conversation(&pool, id).await.expect("read").expect("a row");
    assert!(
        row.visitor_name.as_deref().is_some_and(|n| n.starts_with("Renamed")),
        "{:?}",
        row.visitor_name
    );
    runtime.shutdown().await;

    assert!(
        inbox.carried > 40 && live_view.carried > 40,
        "too few batches carried rows to compare: inbox {inbox:?}, live view {live_view:?}"
    );
    assert!(
        inbox.not_carried > 0 && live_view.not_carried > 0,
        "a visitor tagged in the history makes some batches read back: inbox {inbox:?}, live view {live_view:?}"
    );
}
