//! The PostgreSQL adapter (the default).
//!
//! - [`append`]: group commit. Concurrent appends of this process are
//!   collected by a few lanes and written in shared transactions under the
//!   append lock, one `NOTIFY` per transaction.
//! - [`read`]: stream and global-log reads.
//! - [`subscribe`]: catch-up then live, woken by `LISTEN/NOTIFY`,
//!   reconnecting by itself.
//! - [`typing`]: typing presence between processes (`NOTIFY
//!   livedesk_typing`), beside the log, never in it.

mod append;
mod copy;
mod read;
mod subscribe;
pub mod typing;

use std::sync::Arc;

use livedesk_domain::{NewEvent, RecordedEvent, StreamName};
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{
    AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, Limits, StoreError, StoreMetrics,
};

/// The channel every append transaction notifies with its last position.
pub const NOTIFY_CHANNEL: &str = "livedesk_events";

/// Tuning of the PostgreSQL adapter.
#[derive(Debug, Clone, Copy)]
pub struct PgStoreConfig {
    /// Size limits checked before anything is written.
    pub limits: Limits,
    /// Group-commit lanes: transactions that may be in flight at once. The
    /// append lock serialises their commits, so more lanes mean smaller
    /// batches; one lane measured fastest (docs/benchmarks.md).
    pub lanes: usize,
    /// Most events one group commit writes.
    pub max_batch_events: usize,
    /// Events a subscription reads per query while catching up.
    pub subscription_page: usize,
    /// Newest events kept in memory for the store's subscriptions (the
    /// shared tail, see `subscribe`); a subscription further behind reads
    /// the database.
    pub tail_events: usize,
}

impl Default for PgStoreConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            lanes: 1,
            max_batch_events: 2000,
            subscription_page: 2000,
            tail_events: 10_000,
        }
    }
}

/// The PostgreSQL event store. Cheap to clone; clones share the pool, the
/// append lanes and the one `LISTEN` connection that wakes every
/// subscription.
#[derive(Debug, Clone)]
pub struct PgEventStore {
    pool: PgPool,
    appends: mpsc::Sender<append::Job>,
    config: PgStoreConfig,
    metrics: Arc<StoreMetrics>,
    notifier: Arc<subscribe::Notifier>,
}

impl PgEventStore {
    /// A store over `pool`, whose schema [`crate::MIGRATOR`] has applied.
    /// Spawns the append lanes on the current tokio runtime; they stop when
    /// the last clone is dropped.
    pub fn new(pool: PgPool, config: PgStoreConfig) -> Self {
        let metrics = Arc::new(StoreMetrics::with_lanes(config.lanes.max(1)));
        let appends = append::spawn_lanes(pool.clone(), config, metrics.clone());
        let notifier = subscribe::Notifier::new(&pool, metrics.clone(), config);
        Self {
            pool,
            appends,
            config,
            metrics,
            notifier,
        }
    }

    /// The connection pool (shared with the read models).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Counters for `/metrics`.
    pub fn metrics(&self) -> &Arc<StoreMetrics> {
        &self.metrics
    }

    /// Appends inside the caller's transaction, so that events and other
    /// rows commit together.
    ///
    /// The append lock is held until the caller commits or rolls back: every
    /// other append waits meanwhile, so keep the transaction short.
    ///
    /// # Errors
    ///
    /// As [`EventStore::append`]. A [`StoreError::Database`] leaves the
    /// transaction aborted.
    pub async fn append_in_tx(
        &self,
        tx: &mut PgConnection,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.config.limits.check(stream, &events)?;
        let request = append::Request {
            stream: stream.clone(),
            expected,
            events,
        };
        let mut outcomes = append::write(tx, std::slice::from_ref(&request)).await?;
        outcomes
            .pop()
            .unwrap_or_else(|| Err(StoreError::EmptyAppend { stream: stream.clone() }))
    }
}

impl EventStore for PgEventStore {
    #[tracing::instrument(skip_all, fields(stream = %stream, events = events.len()))]
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.config.limits.check(stream, &events)?;
        append::submit(
            &self.appends,
            append::Request {
                stream: stream.clone(),
                expected,
                events,
            },
        )
        .await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read::stream(&self.pool, stream, from_version, direction, limit).await
    }

    async fn read_all(&self, after: u64, limit: usize, filter: &Filter) -> Result<Vec<RecordedEvent>, StoreError> {
        read::all(&self.pool, after, limit, filter).await
    }

    async fn find_command(&self, command_id: Uuid) -> Result<Option<AppendResult>, StoreError> {
        read::command(&self.pool, command_id).await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        read::head(&self.pool).await
    }

    fn subscribe_all(&self, after: u64, filter: Filter) -> EventStream {
        let page = self.config.subscription_page;
        subscribe::spawn(
            self.pool.clone(),
            &self.notifier,
            self.metrics.clone(),
            page,
            after,
            filter,
        )
    }
}
