//! `subscribe_all`: catch up from a position, then follow live.
//!
//! One `Notifier` per store holds the process's only `LISTEN
//! livedesk_events` connection, on a one-connection pool of its own (never
//! the shared pool: `LISTEN` needs a session of its own, see DESIGN.md). It
//! publishes each notified head, and a new epoch each time it
//! (re)connects, through a `watch` channel.
//!
//! One `Tail` per store follows those wake-ups: it reads the new events
//! once, unfiltered, for every subscription of the process and keeps the
//! newest of them in memory (at most `PgStoreConfig::tail_events` events
//! and [`TAIL_BYTES`] of payload). It holds every committed event in `(start,
//! end]`, and publishes `end` through a second `watch` channel.
//!
//! Each subscription is a task that
//! 1. takes the events after its cursor from the tail when the tail holds
//!    its cursor (`start <= cursor`), filtering them in memory; otherwise
//!    reads pages after its cursor from the database until a page comes
//!    back short (a new subscription from position 0, or one that fell
//!    behind the tail);
//! 2. waits for the tail to change, then goes to 1.
//!
//! No gap between catch-up and live: the subscription marks the tail's
//! state as seen before each look, so any change after it wakes it; the
//! tail reads everything after its `end` on every wake-up, and a
//! notification missed while the notifier was not yet (or no longer)
//! listening is covered by the epoch it publishes once it listens again,
//! which makes the tail re-read. Positions are allocated under the append
//! lock, so an event committed after a read has a higher position than any
//! the read returned. Failed reads back off and retry from the last
//! delivered position: nothing is skipped or repeated. A re-read every
//! [`SAFETY_INTERVAL`] covers a notification lost in transit; it is a
//! safety net, not the wake-up path.
//!
//! Why a shared tail: a runtime of seven projectors, each with its own
//! filtered subscription, cost fourteen queries per append (a head read and
//! a page read each); the tail costs one.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use chrono::Utc;
use livedesk_domain::RecordedEvent;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::{NOTIFY_CHANNEL, PgStoreConfig, read};
use crate::{EventStream, Filter, StoreError, StoreMetrics};

/// How often a quiet tail re-reads anyway.
pub const SAFETY_INTERVAL: Duration = Duration::from_secs(5);

/// Most payload bytes the tail keeps.
pub const TAIL_BYTES: usize = 32 * 1024 * 1024;

const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the notifier publishes: the newest notified position, and an epoch
/// bumped whenever notifications may have been missed.
#[derive(Debug, Clone, Copy, Default)]
struct Wake {
    head: u64,
    epoch: u64,
}

/// The store's one `LISTEN` connection and its one tail, shared by all its
/// subscriptions. Both start with the first subscription and stop once
/// the store and every subscription are gone.
#[derive(Debug)]
pub(super) struct Notifier {
    /// Where the tail reads (the store's pool).
    pool: PgPool,
    /// The `LISTEN` connection's own pool.
    listen_pool: PgPool,
    metrics: Arc<StoreMetrics>,
    page: usize,
    capacity: usize,
    tail: OnceLock<(Arc<Tail>, watch::Receiver<u64>)>,
}

impl Notifier {
    /// A notifier that will listen with `pool`'s connect options and read
    /// the tail through `pool`, as `config` says.
    pub(super) fn new(pool: &PgPool, metrics: Arc<StoreMetrics>, config: PgStoreConfig) -> Arc<Self> {
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with(pool.connect_options().as_ref().clone());
        Arc::new(Self {
            pool: pool.clone(),
            listen_pool,
            metrics,
            page: config.subscription_page.max(1),
            capacity: config.tail_events.max(1),
            tail: OnceLock::new(),
        })
    }

    /// The tail and a receiver of its changes, starting the listener and
    /// the tail's reader on first use.
    fn tail(&self) -> (Arc<Tail>, watch::Receiver<u64>) {
        let (tail, changed) = self.tail.get_or_init(|| {
            let (wake_sender, wake) = watch::channel(Wake::default());
            tokio::spawn(listen(self.listen_pool.clone(), wake_sender, self.metrics.clone()));
            let tail = Arc::new(Tail {
                capacity: self.capacity,
                events: RwLock::default(),
            });
            let (changed_sender, changed) = watch::channel(0);
            let reader = TailReader {
                pool: self.pool.clone(),
                metrics: self.metrics.clone(),
                page: self.page,
                tail: Arc::clone(&tail),
                changed: changed_sender,
            };
            tokio::spawn(reader.run(wake));
            (tail, changed)
        });
        (Arc::clone(tail), changed.clone())
    }
}

/// The newest events of the log, read once for every subscription.
#[derive(Debug)]
struct Tail {
    /// Most events kept.
    capacity: usize,
    /// `None` until the reader has read the head.
    events: RwLock<Option<TailEvents>>,
}

/// Every committed event with a position in `(start, end]`, in order.
#[derive(Debug)]
struct TailEvents {
    start: u64,
    end: u64,
    events: VecDeque<RecordedEvent>,
    bytes: usize,
}

impl Tail {
    /// The events after `cursor` that pass `filter`, and the position up
    /// to which that answer is complete; `None` when the tail does not hold
    /// `cursor` (not started yet, or `cursor` is older than it).
    fn after(&self, cursor: u64, filter: &Filter) -> Option<(Vec<RecordedEvent>, u64)> {
        let guard = self.events.read().unwrap_or_else(PoisonError::into_inner);
        let tail = guard.as_ref()?;
        if cursor < tail.start {
            return None;
        }
        let from = tail.events.partition_point(|e| e.position <= cursor);
        let events = tail
            .events
            .range(from..)
            .filter(|e| filter.matches(e))
            .cloned()
            .collect();
        Some((events, tail.end.max(cursor)))
    }

    /// Where the next read starts: the end, once started.
    fn end(&self) -> Option<u64> {
        self.events
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|t| t.end)
    }

    /// Starts the tail empty at `head`.
    fn start_at(&self, head: u64) {
        *self.events.write().unwrap_or_else(PoisonError::into_inner) = Some(TailEvents {
            start: head,
            end: head,
            events: VecDeque::new(),
            bytes: 0,
        });
    }

    /// Adds the events read after the end, up to `end`, and drops the
    /// oldest beyond the limits.
    fn extend(&self, events: Vec<RecordedEvent>, end: u64) {
        let mut guard = self.events.write().unwrap_or_else(PoisonError::into_inner);
        let Some(tail) = guard.as_mut() else { return };
        for event in events {
            tail.bytes += event.payload.get().len();
            tail.events.push_back(event);
        }
        tail.end = tail.end.max(end);
        while tail.events.len() > self.capacity || (tail.bytes > TAIL_BYTES && tail.events.len() > 1) {
            if let Some(old) = tail.events.pop_front() {
                tail.bytes -= old.payload.get().len();
                tail.start = old.position;
            }
        }
    }
}

/// The task that keeps the [`Tail`]: reads after its end on every wake-up.
struct TailReader {
    pool: PgPool,
    metrics: Arc<StoreMetrics>,
    page: usize,
    tail: Arc<Tail>,
    changed: watch::Sender<u64>,
}

impl TailReader {
    /// Runs until every subscription is gone; `wake` also keeps the
    /// `LISTEN` connection open while this runs.
    async fn run(self, mut wake: watch::Receiver<Wake>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            wake.borrow_and_update();
            match self.read().await {
                Ok(()) => backoff = MIN_BACKOFF,
                Err(error) => {
                    tracing::warn!(%error, "reading the log's tail failed; retrying");
                    self.metrics.subscription_reconnects.fetch_add(1, Relaxed);
                    tokio::select! {
                        () = self.changed.closed() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            tokio::select! {
                changed = wake.changed() => if changed.is_err() { break },
                () = self.changed.closed() => break,
                () = tokio::time::sleep(SAFETY_INTERVAL) => {}
            }
        }
    }

    /// Reads every event after the tail's end.
    async fn read(&self) -> Result<(), StoreError> {
        let mut end = match self.tail.end() {
            Some(end) => end,
            None => {
                let head = read::head(&self.pool).await?;
                self.tail.start_at(head);
                self.changed.send_replace(head);
                head
            }
        };
        loop {
            let events = read::all(&self.pool, end, self.page, &Filter::all()).await?;
            let full = events.len() == self.page;
            let Some(last) = events.last() else { return Ok(()) };
            end = last.position;
            self.metrics.observe_head(end);
            self.tail.extend(events, end);
            self.changed.send_replace(end);
            if !full {
                return Ok(());
            }
        }
    }
}

/// Listens until every receiver of `wake` is gone.
async fn listen(pool: PgPool, wake: watch::Sender<Wake>, metrics: Arc<StoreMetrics>) {
    tokio::select! {
        () = wake.closed() => {}
        () = listen_forever(&pool, &wake, &metrics) => {}
    }
    pool.close().await;
}

async fn listen_forever(pool: &PgPool, wake: &watch::Sender<Wake>, metrics: &StoreMetrics) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let mut listener = match connect(pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for new events; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = MIN_BACKOFF;
        wake.send_modify(|w| w.epoch += 1);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let mut head = notification.payload().parse().unwrap_or(0);
                    while let Some(more) = listener.next_buffered() {
                        head = head.max(more.payload().parse().unwrap_or(0));
                    }
                    metrics.observe_head(head);
                    wake.send_if_modified(|w| {
                        let newer = head > w.head;
                        w.head = w.head.max(head);
                        newer
                    });
                }
                // The connection dropped and sqlx re-established it: anything
                // in between was missed.
                Ok(None) => {
                    metrics.subscription_reconnects.fetch_add(1, Relaxed);
                    wake.send_modify(|w| w.epoch += 1);
                }
                Err(error) => {
                    tracing::warn!(%error, "lost the LISTEN connection; reconnecting");
                    metrics.subscription_reconnects.fetch_add(1, Relaxed);
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

pub(super) fn spawn(
    pool: PgPool,
    notifier: &Arc<Notifier>,
    metrics: Arc<StoreMetrics>,
    page: usize,
    after: u64,
    filter: Filter,
) -> EventStream {
    let (tx, rx) = mpsc::channel(page.max(1));
    let (tail, changed) = notifier.tail();
    let subscription = Subscription {
        pool,
        metrics,
        page: page.max(1),
        cursor: after,
        filter,
        tail,
        tx,
    };
    tokio::spawn(subscription.run(changed));
    Box::pin(ReceiverStream::new(rx))
}

struct Subscription {
    pool: PgPool,
    metrics: Arc<StoreMetrics>,
    page: usize,
    /// The last position delivered, or known to hold nothing that passes
    /// the filter.
    cursor: u64,
    filter: Filter,
    tail: Arc<Tail>,
    tx: mpsc::Sender<Result<RecordedEvent, StoreError>>,
}

/// Whether the consumer still listens.
enum Consumer {
    Listening,
    Gone,
}

impl Subscription {
    /// `changed` also keeps the tail (and so the `LISTEN` connection)
    /// going while this runs.
    async fn run(mut self, mut changed: watch::Receiver<u64>) {
        self.metrics.subscriptions.fetch_add(1, Relaxed);
        let mut backoff = MIN_BACKOFF;
        loop {
            // Seen before the look: a change after it wakes the wait below.
            changed.borrow_and_update();
            match self.catch_up().await {
                Ok(Consumer::Gone) => break,
                Ok(Consumer::Listening) => backoff = MIN_BACKOFF,
                Err(error) => {
                    tracing::warn!(%error, cursor = self.cursor, "subscription read failed; retrying");
                    self.metrics.subscription_reconnects.fetch_add(1, Relaxed);
                    let gone = tokio::select! {
                        () = self.tx.closed() => true,
                        () = tokio::time::sleep(backoff) => false,
                    };
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    if gone {
                        break;
                    }
                    continue;
                }
            }
            tokio::select! {
                result = changed.changed() => if result.is_err() { break },
                () = self.tx.closed() => break,
            }
        }
        self.metrics.subscriptions.fetch_sub(1, Relaxed);
    }

    /// Delivers every committed event after the cursor: from the tail when
    /// it holds the cursor, else from the database.
    async fn catch_up(&mut self) -> Result<Consumer, StoreError> {
        if let Some((events, end)) = self.tail.after(self.cursor, &self.filter) {
            let consumer = self.deliver(events).await;
            if matches!(consumer, Consumer::Listening) {
                self.cursor = self.cursor.max(end);
            }
            return Ok(consumer);
        }
        loop {
            // With a filter, a page may hold few events of a long stretch;
            // the head read first bounds what the page query has seen.
            let head_before = if self.filter.is_all() {
                0
            } else {
                read::head(&self.pool).await?
            };
            let events = read::all(&self.pool, self.cursor, self.page, &self.filter).await?;
            let full = events.len() == self.page;
            if let Consumer::Gone = self.deliver(events).await {
                return Ok(Consumer::Gone);
            }
            if !full {
                self.cursor = self.cursor.max(head_before);
                return Ok(Consumer::Listening);
            }
        }
    }

    /// Sends `events` (after the cursor, in order), moving the cursor.
    async fn deliver(&mut self, events: Vec<RecordedEvent>) -> Consumer {
        if let Some(last) = events.last() {
            let lag = Utc::now().signed_duration_since(last.recorded_at);
            self.metrics
                .delivery_lag_us
                .store(lag.num_microseconds().unwrap_or(0).max(0) as u64, Relaxed);
            let head = self.metrics.head_position.load(Relaxed);
            self.metrics
                .subscription_lag_events
                .store(head.saturating_sub(last.position), Relaxed);
        }
        for event in events {
            let position = event.position;
            if self.tx.send(Ok(event)).await.is_err() {
                return Consumer::Gone;
            }
            self.cursor = position;
            self.metrics.events_delivered.fetch_add(1, Relaxed);
        }
        Consumer::Listening
    }
}
