//! The projector trait and what a batch reports as changed.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use livedesk_domain::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;
use crate::models::inbox::{ConversationRow, MessageRow};
use crate::models::live_view::LiveSessionRow;
use crate::table::CopyRows;

/// Turns events into rows of the tables it owns.
///
/// A projector is applied to batches of events in position order, inside a
/// transaction the runtime gives it and commits together with the
/// checkpoint: `apply` must not commit, and must give the same rows for the
/// same events whether they come in one batch or many (a rebuild uses other
/// batch sizes than the live run). Its SQL names its tables unqualified: a
/// rebuild runs it with `search_path` set to a shadow schema.
pub trait Projector: Send + Sync + 'static {
    /// Its name: the checkpoint key, the leader lock, the rebuild schema
    /// (`rebuild_<name>`). `[a-z_]+`, never renamed.
    fn name(&self) -> &'static str;

    /// The event types it reads (the `subscribe_all` filter).
    fn event_types(&self) -> Vec<String>;

    /// The tables it owns and writes, nothing else. A rebuild replaces
    /// exactly these.
    fn tables(&self) -> &'static [&'static str];

    /// Applies `events` (position order, all of `event_types`) inside `tx`
    /// and records in `changes` which sites, sessions and conversations
    /// they touched.
    ///
    /// # Errors
    ///
    /// [`ProjectionError`]: the runtime rolls the batch back, finds the
    /// failing event and stops this projector, unless the error is
    /// transient.
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;

    /// A fold of the whole history in memory, for rebuilds; `None` (the
    /// default) rebuilds through [`Projector::apply`], batch by batch.
    ///
    /// A rebuild from position 0 is the one time a projector's rows are
    /// nobody else's: rather than loading and writing rows every batch, it
    /// can keep them in memory and write each table once, with `COPY`. The
    /// result must equal, row for row, what `apply` gives for the same
    /// events (the runtime tests compare them).
    fn replay(&self) -> Option<Box<dyn Replay>> {
        None
    }
}

/// A projector's read model folded in memory during a rebuild.
pub trait Replay: Send {
    /// Folds `events` (position order, only the projector's event types)
    /// and returns rows that can never change again (append-only tables),
    /// to be written now rather than held.
    ///
    /// # Errors
    ///
    /// [`ProjectionError`] naming the event that could not be applied.
    fn apply(&mut self, events: &[&RecordedEvent]) -> Result<Vec<CopyRows>, ProjectionError>;

    /// Every row it holds, to write into the empty tables.
    ///
    /// # Errors
    ///
    /// [`ProjectionError`] when a row cannot be encoded.
    fn finish(self: Box<Self>) -> Result<Vec<CopyRows>, ProjectionError>;
}

/// What one batch changed, for subscriptions to push fresh rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Sites whose rows changed.
    pub sites: BTreeSet<Uuid>,
    /// Sessions (Live View rows) that changed or went away.
    pub sessions: BTreeSet<Uuid>,
    /// Conversations whose inbox row or transcript changed.
    pub conversations: BTreeSet<Uuid>,
    /// The changed rows themselves, when the projector hands them on.
    pub rows: Option<Rows>,
}

/// The rows a batch left behind, handed on by the projectors whose rows
/// subscriptions push (inbox, Live View), so that subscribers in the
/// leader's process need not read back what it just wrote. They equal
/// the rows read back after the commit (timestamps rounded to
/// PostgreSQL's microseconds, [`crate::as_of::stored_instant`]); a batch
/// that changes rows in SQL after its fold hands on none.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// An inbox batch.
    Inbox {
        /// The row of every conversation in [`Changes::conversations`]
        /// that has one.
        conversations: Vec<ConversationRow>,
        /// The messages and notes the batch added, in position order.
        messages: Vec<MessageRow>,
    },
    /// A Live View batch.
    LiveView {
        /// The row of every session in [`Changes::sessions`] still live.
        sessions: Vec<LiveSessionRow>,
        /// The sessions of [`Changes::sessions`] that have no row: ended.
        ended: Vec<Uuid>,
        /// The online count of every site in [`Changes::sites`].
        online: BTreeMap<Uuid, i64>,
    },
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.sessions.is_empty() && self.conversations.is_empty()
    }
}
