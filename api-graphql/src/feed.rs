//! The change feed subscriptions read from.
//!
//! One task per process turns the projector runtime's broadcast of
//! committed batches ([`Changed`]) into the rows that changed: for an inbox
//! batch, the conversation rows and the messages appended in it; for a
//! Live View batch, the session rows, the sessions gone, and the online
//! counts. It reads each batch once, whatever the number of subscribers,
//! and broadcasts the rows; every subscription filters what its caller may
//! see and asked for. Rows are read after the batch committed, so they
//! include the change that triggered them.
//!
//! Batches that arrive while a read is under way are merged per projector
//! and read together next (ids united, the range of positions joined):
//! the feed's cost follows the time that passes, not the batches that
//! commit, so a burst cannot leave it further and further behind.
//!
//! A batch this process's leader committed carries its rows
//! ([`livedesk_projections::Rows`]): when every merged batch does, the
//! feed builds its event from them (later batches win) and reads
//! nothing. Other processes' batches name only ids, and are read back.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use livedesk_projections::models::inbox::{ConversationRow, MessageRow};
use livedesk_projections::models::live_view::LiveSessionRow;
use livedesk_projections::{Changed, ProjectionRuntime, Rows};
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use uuid::Uuid;

use crate::reads;

/// Batches the feed keeps for slow subscribers before they lag.
const CAPACITY: usize = 4096;

/// Conversations changed by one inbox batch.
#[derive(Debug)]
pub struct ConversationBatch {
    /// The batch's position: rows reflect every event up to it.
    pub position: u64,
    /// The rows as they are now.
    pub rows: Vec<ConversationRow>,
    /// Messages and notes appended in the batch, oldest first.
    pub messages: Vec<MessageRow>,
}

/// Live sessions changed by one Live View batch.
#[derive(Debug)]
pub struct SessionBatch {
    /// The batch's position.
    pub position: u64,
    /// Sessions changed or started, as they are now.
    pub rows: Vec<LiveSessionRow>,
    /// Sessions that ended.
    pub gone: Vec<Uuid>,
    /// The online count of every site the batch touched.
    pub online: BTreeMap<Uuid, i64>,
}

/// What subscriptions receive.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// See [`ConversationBatch`].
    Conversations(Arc<ConversationBatch>),
    /// See [`SessionBatch`].
    Sessions(Arc<SessionBatch>),
    /// Batches were missed: subscribers re-read what they show.
    Lagged,
}

/// The feed: subscribe for [`FeedEvent`]s.
#[derive(Debug, Clone)]
pub struct Feed {
    events: broadcast::Sender<FeedEvent>,
}

impl Feed {
    /// Starts the feed task over `projections`' batches.
    pub fn start(pool: PgPool, projections: &ProjectionRuntime) -> Self {
        let (events, _) = broadcast::channel(CAPACITY);
        let changes = projections.subscribe();
        tokio::spawn(run(pool, changes, events.clone()));
        Self { events }
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.events.subscribe()
    }
}

async fn run(pool: PgPool, mut changes: broadcast::Receiver<Arc<Changed>>, events: broadcast::Sender<FeedEvent>) {
    loop {
        let mut pending = Pending::default();
        match changes.recv().await {
            Ok(changed) => pending.add(&changed),
            Err(RecvError::Lagged(missed)) => pending.lagged(missed),
            Err(RecvError::Closed) => return,
        }
        // Whatever queued up while the last batches were read is read
        // once: behind a burst, the feed does two reads per projector and
        // round, not two per batch, and so catches up instead of falling
        // further behind.
        loop {
            match changes.try_recv() {
                Ok(changed) => pending.add(&changed),
                Err(TryRecvError::Lagged(missed)) => pending.lagged(missed),
                // Closed: the next `recv` says so and ends the task.
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        for event in pending.read(&pool).await {
            let _ = events.send(event);
        }
    }
}

/// The batches received since the last read, merged per projector.
#[derive(Debug, Default)]
struct Pending {
    inbox: Option<Merged>,
    live_view: Option<Merged>,
    /// Batches were missed, or one did not name its rows: subscribers
    /// re-read everything, so nothing else needs reading.
    lagged: bool,
}

/// One projector's batches since the last read.
#[derive(Debug)]
struct Merged {
    /// Their ids united and their ranges joined.
    changed: Changed,
    /// Each batch's rows, oldest first, while every batch carried them.
    rows: Option<Vec<Arc<Rows>>>,
}

impl Pending {
    fn add(&mut self, changed: &Changed) {
        let slot = match changed.projector {
            "inbox" => &mut self.inbox,
            "live_view" => &mut self.live_view,
            _ => return,
        };
        if !changed.complete {
            // Another process's batch too large to name its rows.
            self.lagged = true;
            return;
        }
        match slot {
            None => {
                *slot = Some(Merged {
                    changed: changed.clone(),
                    rows: changed.rows.clone().map(|rows| vec![rows]),
                });
            }
            Some(merged) => {
                merge(&mut merged.changed, changed);
                merged.rows = match (merged.rows.take(), &changed.rows) {
                    (Some(mut all), Some(rows)) => {
                        all.push(rows.clone());
                        Some(all)
                    }
                    _ => None,
                };
            }
        }
    }

    fn lagged(&mut self, missed: u64) {
        tracing::warn!(missed, "change feed lagged; subscribers re-read");
        self.lagged = true;
    }

    /// The feed events for what is pending: the changed rows of each
    /// projector (both read at once), or `Lagged`.
    async fn read(self, pool: &PgPool) -> Vec<FeedEvent> {
        if self.lagged {
            return vec![FeedEvent::Lagged];
        }
        let (inbox, live_view) = tokio::join!(
            conversations(pool, self.inbox.as_ref()),
            sessions(pool, self.live_view.as_ref())
        );
        match (inbox, live_view) {
            (Ok(inbox), Ok(live_view)) => inbox.into_iter().chain(live_view).collect(),
            (Err(error), _) | (_, Err(error)) => {
                tracing::error!(%error, "reading changed rows failed; subscribers re-read");
                vec![FeedEvent::Lagged]
            }
        }
    }
}

/// Extends `merged` by the next batch of the same projector: the events
/// after `merged.after` up to `next.position`, and the ids of both.
fn merge(merged: &mut Changed, next: &Changed) {
    merged.position = merged.position.max(next.position);
    merged.after = merged.after.min(next.after);
    for (ids, more) in [
        (&mut merged.sites, &next.sites),
        (&mut merged.sessions, &next.sessions),
        (&mut merged.conversations, &next.conversations),
    ] {
        ids.extend_from_slice(more);
        ids.sort_unstable();
        ids.dedup();
    }
}

/// The rows inbox batches changed, if they changed any.
async fn conversations(pool: &PgPool, merged: Option<&Merged>) -> Result<Option<FeedEvent>, sqlx::Error> {
    let Some(Merged { changed, rows }) = merged.filter(|m| !m.changed.conversations.is_empty()) else {
        return Ok(None);
    };
    let batch = match rows {
        Some(batches) => carried_conversations(changed.position, batches),
        None => {
            let (rows, messages) = tokio::try_join!(
                reads::conversations_by_id(pool, &changed.conversations),
                reads::messages_between(pool, &changed.conversations, changed.after, changed.position),
            )?;
            ConversationBatch {
                position: changed.position,
                rows,
                messages,
            }
        }
    };
    Ok(Some(FeedEvent::Conversations(Arc::new(batch))))
}

/// The rows Live View batches changed, if they changed any.
async fn sessions(pool: &PgPool, merged: Option<&Merged>) -> Result<Option<FeedEvent>, sqlx::Error> {
    let Some(Merged { changed, rows }) = merged.filter(|m| !m.changed.sessions.is_empty()) else {
        return Ok(None);
    };
    let batch = match rows {
        Some(batches) => carried_sessions(changed.position, batches),
        None => {
            let (rows, online) = tokio::try_join!(
                reads::live_sessions_by_id(pool, &changed.sessions),
                reads::online_counts(pool, &changed.sites),
            )?;
            let found: BTreeSet<Uuid> = rows.iter().map(|r| r.session_id).collect();
            let gone = changed
                .sessions
                .iter()
                .copied()
                .filter(|id| !found.contains(id))
                .collect();
            SessionBatch {
                position: changed.position,
                rows,
                gone,
                online,
            }
        }
    };
    Ok(Some(FeedEvent::Sessions(Arc::new(batch))))
}

/// What reading back inbox `batches` would give: each conversation's
/// latest row, every message in order.
fn carried_conversations(position: u64, batches: &[Arc<Rows>]) -> ConversationBatch {
    let mut rows = BTreeMap::new();
    let mut messages = Vec::new();
    for batch in batches {
        if let Rows::Inbox {
            conversations,
            messages: added,
        } = batch.as_ref()
        {
            rows.extend(conversations.iter().map(|r| (r.conversation_id, r.clone())));
            messages.extend(added.iter().cloned());
        }
    }
    ConversationBatch {
        position,
        rows: rows.into_values().collect(),
        messages,
    }
}

/// What reading back Live View `batches` would give: each session's
/// latest row or its end, each site's latest count.
fn carried_sessions(position: u64, batches: &[Arc<Rows>]) -> SessionBatch {
    let mut rows = BTreeMap::new();
    let mut gone = BTreeSet::new();
    let mut online = BTreeMap::new();
    for batch in batches {
        if let Rows::LiveView {
            sessions,
            ended,
            online: counts,
        } = batch.as_ref()
        {
            for id in ended {
                rows.remove(id);
                gone.insert(*id);
            }
            for row in sessions {
                gone.remove(&row.session_id);
                rows.insert(row.session_id, row.clone());
            }
            online.extend(counts);
        }
    }
    SessionBatch {
        position,
        rows: rows.into_values().collect(),
        gone: gone.into_iter().collect(),
        online,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(projector: &'static str, after: u64, position: u64, conversations: &[u128]) -> Changed {
        Changed {
            projector,
            after,
            position,
            sites: vec![Uuid::from_u128(1)],
            sessions: Vec::new(),
            conversations: conversations.iter().map(|c| Uuid::from_u128(*c)).collect(),
            complete: true,
            rows: None,
        }
    }

    #[test]
    fn queued_batches_of_a_projector_merge_into_one_range_with_every_id() {
        let mut pending = Pending::default();
        pending.add(&batch("inbox", 10, 20, &[3, 1]));
        pending.add(&batch("live_view", 12, 18, &[]));
        pending.add(&batch("inbox", 20, 35, &[2, 3]));
        pending.add(&batch("agents", 0, 40, &[9]));
        let inbox = &pending.inbox.as_ref().expect("inbox pending").changed;
        assert_eq!((inbox.after, inbox.position), (10, 35));
        assert_eq!(
            inbox.conversations,
            [1, 2, 3].map(Uuid::from_u128),
            "united, sorted, once"
        );
        assert_eq!(inbox.sites, [Uuid::from_u128(1)]);
        let live = &pending.live_view.as_ref().expect("live view pending").changed;
        assert_eq!((live.after, live.position), (12, 18), "projectors merge apart");
        assert!(!pending.lagged);
    }

    fn conversation(id: u128, position: i64) -> ConversationRow {
        serde_json::from_value(serde_json::json!({
            "conversation_id": Uuid::from_u128(id), "site_id": Uuid::from_u128(1),
            "visitor_id": Uuid::from_u128(id + 100), "provider": "web_chat", "status": "unread",
            "human_requested": false, "message_count": position, "note_count": 0, "unread_count": 0,
            "sla": {}, "sla_breached": false, "created_at": "2026-12-06T10:00:00Z",
            "updated_at": "2026-12-06T10:00:00Z", "position": position,
        }))
        .expect("a conversation row")
    }

    fn message(conversation: u128, position: i64) -> MessageRow {
        serde_json::from_value(serde_json::json!({
            "message_id": Uuid::from_u128(position as u128 + 1000),
            "conversation_id": Uuid::from_u128(conversation), "site_id": Uuid::from_u128(1),
            "internal": false, "author_type": "visitor", "body": format!("m{position}"),
            "attachments": [], "at": "2026-12-06T10:00:00Z", "position": position,
        }))
        .expect("a message row")
    }

    fn session(id: u128, position: i64) -> LiveSessionRow {
        serde_json::from_value(serde_json::json!({
            "session_id": Uuid::from_u128(id), "site_id": Uuid::from_u128(1),
            "visitor_id": Uuid::from_u128(id + 100), "code": "ABC123", "code_shared": false,
            "status": "active", "current_path": "/", "browser": "Firefox", "device": "desktop",
            "os": "Linux", "labels": [], "tabs": 1, "page_views": position, "message_count": 0,
            "started_at": "2026-12-06T10:00:00Z", "last_activity_at": "2026-12-06T10:00:00Z",
            "expires_at": "2026-12-06T11:00:00Z", "position": position,
        }))
        .expect("a live session row")
    }

    fn carrying(changed: Changed, rows: Rows) -> Changed {
        Changed {
            rows: Some(Arc::new(rows)),
            ..changed
        }
    }

    #[test]
    fn batches_that_carry_their_rows_are_built_from_them_and_later_rows_win() {
        let mut pending = Pending::default();
        pending.add(&carrying(
            batch("inbox", 10, 12, &[1, 2]),
            Rows::Inbox {
                conversations: vec![conversation(1, 11), conversation(2, 12)],
                messages: vec![message(1, 11), message(2, 12)],
            },
        ));
        pending.add(&carrying(
            batch("inbox", 12, 15, &[1]),
            Rows::Inbox {
                conversations: vec![conversation(1, 15)],
                messages: vec![message(1, 15)],
            },
        ));
        let merged = pending.inbox.as_ref().expect("inbox pending");
        let batches = merged.rows.as_ref().expect("every batch carried its rows");
        let built = carried_conversations(merged.changed.position, batches);
        assert_eq!(built.position, 15);
        assert_eq!(built.rows, vec![conversation(1, 15), conversation(2, 12)]);
        let positions: Vec<i64> = built.messages.iter().map(|m| m.position).collect();
        assert_eq!(positions, [11, 12, 15], "every message, in position order");
    }

    #[test]
    fn one_batch_without_rows_makes_the_merged_batches_read_back() {
        let rows = || Rows::Inbox {
            conversations: vec![conversation(1, 11)],
            messages: vec![message(1, 11)],
        };
        let mut pending = Pending::default();
        pending.add(&carrying(batch("inbox", 10, 11, &[1]), rows()));
        // Another process's batch: ids only.
        pending.add(&batch("inbox", 11, 14, &[3]));
        pending.add(&carrying(batch("inbox", 14, 15, &[1]), rows()));
        let merged = pending.inbox.as_ref().expect("inbox pending");
        assert!(
            merged.rows.is_none(),
            "read back: the other process's rows are not here"
        );
        assert_eq!((merged.changed.after, merged.changed.position), (10, 15));
    }

    #[test]
    fn carried_sessions_end_and_count_as_the_last_batch_left_them() {
        let site = Uuid::from_u128(1);
        let first = Rows::LiveView {
            sessions: vec![session(7, 20), session(8, 21)],
            ended: vec![Uuid::from_u128(9)],
            online: BTreeMap::from([(site, 2)]),
        };
        let second = Rows::LiveView {
            sessions: vec![session(8, 23)],
            ended: vec![Uuid::from_u128(7)],
            online: BTreeMap::from([(site, 1)]),
        };
        let built = carried_sessions(23, &[Arc::new(first), Arc::new(second)]);
        assert_eq!(built.rows, vec![session(8, 23)]);
        assert_eq!(built.gone, [7, 9].map(Uuid::from_u128));
        assert_eq!(built.online, BTreeMap::from([(site, 1)]));
    }

    #[test]
    fn a_batch_that_does_not_name_its_rows_makes_subscribers_re_read() {
        let mut pending = Pending::default();
        pending.add(&batch("inbox", 10, 20, &[1]));
        pending.add(&Changed {
            complete: false,
            ..batch("inbox", 20, 30, &[])
        });
        assert!(pending.lagged);
        let mut missed = Pending::default();
        missed.lagged(3);
        assert!(missed.lagged);
    }
}
