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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use livedesk_projections::models::inbox::{ConversationRow, MessageRow};
use livedesk_projections::models::live_view::LiveSessionRow;
use livedesk_projections::{Changed, ProjectionRuntime};
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
    inbox: Option<Changed>,
    live_view: Option<Changed>,
    /// Batches were missed, or one did not name its rows: subscribers
    /// re-read everything, so nothing else needs reading.
    lagged: bool,
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
            None => *slot = Some(changed.clone()),
            Some(merged) => merge(merged, changed),
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

/// The rows an inbox batch changed, if it changed any.
async fn conversations(pool: &PgPool, changed: Option<&Changed>) -> Result<Option<FeedEvent>, sqlx::Error> {
    let Some(changed) = changed.filter(|c| !c.conversations.is_empty()) else {
        return Ok(None);
    };
    let (rows, messages) = tokio::try_join!(
        reads::conversations_by_id(pool, &changed.conversations),
        reads::messages_between(pool, &changed.conversations, changed.after, changed.position),
    )?;
    Ok(Some(FeedEvent::Conversations(Arc::new(ConversationBatch {
        position: changed.position,
        rows,
        messages,
    }))))
}

/// The rows a Live View batch changed, if it changed any.
async fn sessions(pool: &PgPool, changed: Option<&Changed>) -> Result<Option<FeedEvent>, sqlx::Error> {
    let Some(changed) = changed.filter(|c| !c.sessions.is_empty()) else {
        return Ok(None);
    };
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
    Ok(Some(FeedEvent::Sessions(Arc::new(SessionBatch {
        position: changed.position,
        rows,
        gone,
        online,
    }))))
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
        }
    }

    #[test]
    fn queued_batches_of_a_projector_merge_into_one_range_with_every_id() {
        let mut pending = Pending::default();
        pending.add(&batch("inbox", 10, 20, &[3, 1]));
        pending.add(&batch("live_view", 12, 18, &[]));
        pending.add(&batch("inbox", 20, 35, &[2, 3]));
        pending.add(&batch("agents", 0, 40, &[9]));
        let inbox = pending.inbox.as_ref().expect("inbox pending");
        assert_eq!((inbox.after, inbox.position), (10, 35));
        assert_eq!(
            inbox.conversations,
            [1, 2, 3].map(Uuid::from_u128),
            "united, sorted, once"
        );
        assert_eq!(inbox.sites, [Uuid::from_u128(1)]);
        let live = pending.live_view.as_ref().expect("live view pending");
        assert_eq!((live.after, live.position), (12, 18), "projectors merge apart");
        assert!(!pending.lagged);
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
