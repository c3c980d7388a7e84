//! `subscribe_all`: catch up from a position, then follow live.
//!
//! One `Notifier` per store holds the process's only `LISTEN
//! livedesk_events` connection, on a one-connection pool of its own (never
//! the shared pool: `LISTEN` needs a session of its own, see DESIGN.md). It
//! publishes each notified head, and a new epoch each time it
//! (re)connects, through a `watch` channel.
//!
//! Each subscription is a task that
//! 1. reads pages after its cursor until a page comes back short;
//! 2. waits for the watch channel to change, then goes to 1.
//!
//! No gap between catch-up and live: the subscription takes its watch
//! receiver before its first read, so any notification after that read
//! wakes it; and a notification missed while the notifier was not yet (or no
//! longer) listening is covered by the epoch it publishes once it listens
//! again, which makes every subscription re-read. Failed reads back off and
//! retry from the last delivered position: nothing is skipped or repeated. A
//! re-read every [`SAFETY_INTERVAL`] covers a notification lost in transit;
//! it is a safety net, not the wake-up path.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use livedesk_domain::RecordedEvent;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::{NOTIFY_CHANNEL, read};
use crate::{EventStream, Filter, StoreError, StoreMetrics};

/// How often a quiet subscription re-reads anyway.
pub const SAFETY_INTERVAL: Duration = Duration::from_secs(5);

const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the notifier publishes: the newest notified position, and an epoch
/// bumped whenever notifications may have been missed.
#[derive(Debug, Clone, Copy, Default)]
struct Wake {
    head: u64,
    epoch: u64,
}

/// The store's one `LISTEN` connection, shared by all its subscriptions.
/// It connects on the first subscription and closes once the store and
/// every subscription are gone.
#[derive(Debug)]
pub(super) struct Notifier {
    pool: PgPool,
    metrics: Arc<StoreMetrics>,
    wake: OnceLock<watch::Receiver<Wake>>,
}

impl Notifier {
    /// A notifier that will listen with `pool`'s connect options.
    pub(super) fn new(pool: &PgPool, metrics: Arc<StoreMetrics>) -> Arc<Self> {
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_lazy_with(pool.connect_options().as_ref().clone());
        Arc::new(Self {
            pool: listen_pool,
            metrics,
            wake: OnceLock::new(),
        })
    }

    /// A receiver of wake-ups, starting the listener on first use.
    fn receiver(&self) -> watch::Receiver<Wake> {
        let wake = self.wake.get_or_init(|| {
            let (sender, receiver) = watch::channel(Wake::default());
            tokio::spawn(listen(self.pool.clone(), sender, self.metrics.clone()));
            receiver
        });
        wake.clone()
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
    // Taken before the first read: a commit after that read wakes it.
    let wake = notifier.receiver();
    let subscription = Subscription {
        pool,
        metrics,
        page: page.max(1),
        cursor: after,
        filter,
        tx,
    };
    tokio::spawn(subscription.run(wake));
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
    tx: mpsc::Sender<Result<RecordedEvent, StoreError>>,
}

/// Whether the consumer still listens.
enum Consumer {
    Listening,
    Gone,
}

impl Subscription {
    /// `wake` also keeps the `LISTEN` connection open while this runs.
    async fn run(mut self, mut wake: watch::Receiver<Wake>) {
        self.metrics.subscriptions.fetch_add(1, Relaxed);
        let mut backoff = MIN_BACKOFF;
        loop {
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
                changed = wake.changed() => if changed.is_err() { break },
                () = self.tx.closed() => break,
                () = tokio::time::sleep(SAFETY_INTERVAL) => {}
            }
        }
        self.metrics.subscriptions.fetch_sub(1, Relaxed);
    }

    /// Delivers every stored event after the cursor.
    async fn catch_up(&mut self) -> Result<Consumer, StoreError> {
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
                    return Ok(Consumer::Gone);
                }
                self.cursor = position;
                self.metrics.events_delivered.fetch_add(1, Relaxed);
            }
            if !full {
                self.cursor = self.cursor.max(head_before);
                return Ok(Consumer::Listening);
            }
        }
    }
}
