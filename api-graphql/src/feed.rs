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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use livedesk_projections::models::inbox::{ConversationRow, MessageRow};
use livedesk_projections::models::live_view::LiveSessionRow;
use livedesk_projections::{Changed, ProjectionRuntime};
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
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
        let changed = match changes.recv().await {
            Ok(changed) => changed,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "change feed lagged; subscribers re-read");
                let _ = events.send(FeedEvent::Lagged);
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let event = match changed.projector {
            // Another process's batch too large to name its rows, or
            // batches missed: subscribers re-read.
            "inbox" | "live_view" if !changed.complete => Ok(Some(FeedEvent::Lagged)),
            "inbox" => conversations(&pool, &changed)
                .await
                .map(|b| b.map(FeedEvent::Conversations)),
            "live_view" => sessions(&pool, &changed).await.map(|b| b.map(FeedEvent::Sessions)),
            _ => Ok(None),
        };
        match event {
            Ok(Some(event)) => _ = events.send(event),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(%error, position = changed.position, "reading changed rows failed; subscribers re-read");
                let _ = events.send(FeedEvent::Lagged);
            }
        }
    }
}

async fn conversations(pool: &PgPool, changed: &Changed) -> Result<Option<Arc<ConversationBatch>>, sqlx::Error> {
    if changed.conversations.is_empty() {
        return Ok(None);
    }
    let rows = reads::conversations_by_id(pool, &changed.conversations).await?;
    let messages = reads::messages_between(pool, &changed.conversations, changed.after, changed.position).await?;
    Ok(Some(Arc::new(ConversationBatch {
        position: changed.position,
        rows,
        messages,
    })))
}

async fn sessions(pool: &PgPool, changed: &Changed) -> Result<Option<Arc<SessionBatch>>, sqlx::Error> {
    if changed.sessions.is_empty() {
        return Ok(None);
    }
    let rows = reads::live_sessions_by_id(pool, &changed.sessions).await?;
    let found: BTreeSet<Uuid> = rows.iter().map(|r| r.session_id).collect();
    let gone = changed
        .sessions
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect();
    let online = reads::online_counts(pool, &changed.sites).await?;
    Ok(Some(Arc::new(SessionBatch {
        position: changed.position,
        rows,
        gone,
        online,
    })))
}
