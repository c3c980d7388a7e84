//! `subscribe_all`: catch up from a position, then follow live.
//!
//! Each subscription runs a task with its own `LISTEN` connection:
//!
//! 1. connect and `LISTEN livedesk_events`;
//! 2. read pages after the cursor until a page comes back short: every
//!    commit before step 1 is in those pages, every commit after it has
//!    queued a notification, so there is no gap between catch-up and live;
//! 3. wait for a notification, then go to 2.
//!
//! When the `LISTEN` connection or a read fails (the database restarted, the
//! backend was terminated), the task reconnects with backoff and goes to 2
//! from the last delivered position: nothing is skipped or repeated. A
//! re-read every [`SAFETY_INTERVAL`] covers a notification lost in transit;
//! it is a safety net, not the wake-up path.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{NOTIFY_CHANNEL, read};
use crate::{EventStream, Filter, StoreError, StoreMetrics};

/// How often a quiet subscription re-reads anyway.
pub const SAFETY_INTERVAL: Duration = Duration::from_secs(5);

const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub(super) fn spawn(pool: PgPool, metrics: Arc<StoreMetrics>, page: usize, after: u64, filter: Filter) -> EventStream {
    let (tx, rx) = mpsc::channel(page.max(1));
    let subscription = Subscription {
        pool,
        metrics,
        page: page.max(1),
        cursor: after,
        filter,
        tx,
    };
    tokio::spawn(subscription.run());
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
    tx: mpsc::Sender<Result<livedesk_domain::RecordedEvent, StoreError>>,
}

/// Whether the consumer still listens.
enum Consumer {
    Listening,
    Gone,
}

impl Subscription {
    async fn run(mut self) {
        self.metrics.subscriptions.fetch_add(1, Relaxed);
        let mut listener: Option<PgListener> = None;
        let mut backoff = Duration::from_millis(20);
        loop {
            if listener.is_none() {
                match self.listen().await {
                    Ok(l) => listener = Some(l),
                    Err(error) => {
                        tracing::warn!(%error, "subscription cannot LISTEN; retrying");
                        if self.pause(&mut backoff).await {
                            break;
                        }
                        continue;
                    }
                }
            }
            match self.catch_up().await {
                Ok(Consumer::Gone) => break,
                Ok(Consumer::Listening) => backoff = Duration::from_millis(20),
                Err(error) => {
                    tracing::warn!(%error, cursor = self.cursor, "subscription read failed; reconnecting");
                    self.metrics.subscription_reconnects.fetch_add(1, Relaxed);
                    listener = None;
                    if self.pause(&mut backoff).await {
                        break;
                    }
                    continue;
                }
            }
            let Some(l) = listener.as_mut() else { continue };
            tokio::select! {
                notified = l.try_recv() => match notified {
                    Ok(Some(notification)) => {
                        self.observe(notification.payload());
                        while let Some(more) = l.next_buffered() {
                            self.observe(more.payload());
                        }
                    }
                    // The connection dropped and was re-established: re-read.
                    Ok(None) => _ = self.metrics.subscription_reconnects.fetch_add(1, Relaxed),
                    Err(error) => {
                        tracing::warn!(%error, "subscription lost its LISTEN connection; reconnecting");
                        self.metrics.subscription_reconnects.fetch_add(1, Relaxed);
                        listener = None;
                    }
                },
                () = self.tx.closed() => break,
                () = tokio::time::sleep(SAFETY_INTERVAL) => {}
            }
        }
        self.metrics.subscriptions.fetch_sub(1, Relaxed);
    }

    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.ignore_pool_close_event(true);
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(listener)
    }

    fn observe(&self, payload: &str) {
        if let Ok(position) = payload.parse() {
            self.metrics.observe_head(position);
        }
    }

    /// Sleeps `backoff` (doubling it) unless the consumer left; returns
    /// whether it left.
    async fn pause(&self, backoff: &mut Duration) -> bool {
        let gone = tokio::select! {
            () = self.tx.closed() => true,
            () = tokio::time::sleep(*backoff) => false,
        };
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        gone
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
