//! The projector runtime: one task per projector, each contending for its
//! leader lock, then applying batches from its checkpoint.

mod leader;
mod metrics;
mod remote;
mod worker;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use livedesk_eventstore::PgEventStore;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use leader::application_name;
use metrics::ProjectorMetrics;

use crate::{Failure, Projector};

/// How the runtime batches and contends.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeConfig {
    /// Most events applied in one transaction. A batch takes what the
    /// subscription has buffered, up to this; one event when idle.
    pub max_batch: usize,
    /// How often a standby tries to take the leader lock.
    pub lock_retry: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_batch: 500,
            lock_retry: Duration::from_secs(1),
        }
    }
}

/// Where a projector stands in this process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Another process holds the leader lock (or the database is
    /// unreachable); this one retries.
    Standby,
    /// This process is the leader and applies events.
    Active,
    /// An event failed; the projector applies nothing until restarted.
    Failed(Failure),
    /// Shut down.
    Stopped,
}

/// A projector's status, for the status query and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectorStatus {
    /// The projector.
    pub name: &'static str,
    /// Where it stands in this process.
    pub state: State,
    /// The last position applied (as last seen by this process).
    pub position: u64,
    /// The newest position this process knows of.
    pub head: u64,
    /// `head - position`.
    pub lag_events: u64,
    /// Commit-to-applied time of the last event of the last batch.
    pub lag_ms: u64,
    /// Batches committed by this process.
    pub batches: u64,
    /// Events applied by this process.
    pub events_applied: u64,
    /// Size of the last batch.
    pub last_batch_size: u64,
    /// Size of the largest batch.
    pub max_batch_size: u64,
    /// Milliseconds spent in batch transactions (begin to commit).
    pub busy_ms: u64,
    /// Events that stopped the projector.
    pub failures: u64,
    /// Times this process became the leader.
    pub takeovers: u64,
}

/// What one committed batch changed; published after the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    /// The projector that committed.
    pub projector: &'static str,
    /// Its position before the batch: the batch applied the events after
    /// it, up to `position`.
    pub after: u64,
    /// Its new position: rows now reflect every event up to it.
    pub position: u64,
    /// Sites whose rows changed.
    pub sites: Vec<Uuid>,
    /// Sessions whose Live View row changed or went away.
    pub sessions: Vec<Uuid>,
    /// Conversations whose inbox row or transcript changed.
    pub conversations: Vec<Uuid>,
    /// Whether the ids name everything that changed. `false` for a batch
    /// of another process that touched too many ids to announce, or after
    /// announcements may have been missed: every row may have changed.
    pub complete: bool,
    /// The changed rows, for a batch this process committed whose
    /// projector hands them on ([`crate::Rows`]); `None` for other
    /// processes' batches: read them back.
    pub rows: Option<Arc<crate::Rows>>,
}

/// Why [`ProjectionRuntime::wait_for`] returned without the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// No projector has that name.
    #[error("no projector is named {0:?}")]
    UnknownProjector(String),
    /// The projector stopped on a failing event.
    #[error("projector stopped: {0}")]
    Failed(Failure),
    /// The timeout passed first.
    #[error("projector reached position {reached}, not {wanted}, before the timeout")]
    Timeout {
        /// Where it was.
        reached: u64,
        /// What was asked for.
        wanted: u64,
    },
}

pub(crate) struct Slot {
    projector: Arc<dyn Projector>,
    state: Mutex<State>,
    position: watch::Sender<u64>,
    metrics: ProjectorMetrics,
}

impl Slot {
    fn state(&self) -> State {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_state(&self, state: State) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// A position another process's batch reached (never moves back).
    fn observe_at_least(&self, position: u64) {
        self.position.send_if_modified(|p| {
            let newer = position > *p;
            *p = (*p).max(position);
            newer
        });
    }

    fn observe(&self, position: u64) {
        self.position.send_if_modified(|p| {
            let changed = *p != position;
            *p = position;
            changed
        });
    }
}

pub(crate) struct Inner {
    /// Tells this runtime's batch announcements from other processes'.
    id: Uuid,
    store: PgEventStore,
    slots: Vec<Slot>,
    changes: broadcast::Sender<Arc<Changed>>,
    shutdown: watch::Sender<bool>,
    config: RuntimeConfig,
}

/// Runs projectors; see the [crate docs](crate).
///
/// Dropping it asks every projector to stop after its current batch;
/// [`shutdown`](Self::shutdown) also waits for them.
#[derive(Debug)]
pub struct ProjectionRuntime {
    inner: Arc<Inner>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field(
                "projectors",
                &self.slots.iter().map(|s| s.projector.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ProjectionRuntime {
    /// Starts one task per projector on the current tokio runtime. Each
    /// contends for its leader lock on a dedicated connection (the pool's
    /// options, not one of its connections) and, once it holds it, applies
    /// events from its checkpoint.
    pub fn start(store: PgEventStore, projectors: Vec<Arc<dyn Projector>>, config: RuntimeConfig) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let (shutdown, _) = watch::channel(false);
        let slots = projectors
            .into_iter()
            .map(|projector| Slot {
                projector,
                state: Mutex::new(State::Standby),
                position: watch::channel(0).0,
                metrics: ProjectorMetrics::default(),
            })
            .collect::<Vec<_>>();
        let inner = Arc::new(Inner {
            id: Uuid::now_v7(),
            store,
            slots,
            changes,
            shutdown,
            config,
        });
        let mut tasks: Vec<JoinHandle<()>> = (0..inner.slots.len())
            .map(|index| tokio::spawn(worker::run(inner.clone(), index)))
            .collect();
        tasks.push(tokio::spawn(remote::listen(inner.clone())));
        Self {
            inner,
            tasks: std::sync::Mutex::new(tasks),
        }
    }

    /// Every committed batch from now on, as [`Changed`]: this process's
    /// and, announced through PostgreSQL, every other process's. A receiver
    /// that falls more than 1,024 batches behind gets `Lagged` and should
    /// re-read what it shows, as for a `Changed` that is not `complete`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Changed>> {
        self.inner.changes.subscribe()
    }

    /// The status of every projector.
    pub fn status(&self) -> Vec<ProjectorStatus> {
        let head = self.inner.store.metrics().head_position.load(Relaxed);
        self.inner
            .slots
            .iter()
            .map(|slot| {
                let m = &slot.metrics;
                let position = *slot.position.borrow();
                let head = head.max(position);
                ProjectorStatus {
                    name: slot.projector.name(),
                    state: slot.state(),
                    position,
                    head,
                    lag_events: head - position,
                    lag_ms: m.lag_ms.load(Relaxed),
                    batches: m.batches.load(Relaxed),
                    events_applied: m.events.load(Relaxed),
                    last_batch_size: m.last_batch.load(Relaxed),
                    max_batch_size: m.max_batch.load(Relaxed),
                    busy_ms: m.busy_us.load(Relaxed) / 1000,
                    failures: m.failures.load(Relaxed),
                    takeovers: m.takeovers.load(Relaxed),
                }
            })
            .collect()
    }

    /// Prometheus text of every projector's metrics
    /// (`livedesk_projection_*{projector="..."}`).
    pub fn render_metrics(&self) -> String {
        metrics::render(&self.status())
    }

    /// Waits until `projector`'s rows reflect every event up to
    /// `position` (read-your-writes after a command), or `timeout`.
    ///
    /// Reached means: the projector's checkpoint is at or past `position`,
    /// or no event it reads lies between its checkpoint and `position`.
    /// Works whichever process is the leader: a standby checks the
    /// checkpoint table every 20 ms.
    ///
    /// # Errors
    ///
    /// [`WaitError`]: unknown projector, stopped on a failure, or timed out.
    pub async fn wait_for(&self, projector: &str, position: u64, timeout: Duration) -> Result<u64, WaitError> {
        let slot = self
            .inner
            .slots
            .iter()
            .find(|s| s.projector.name() == projector)
            .ok_or_else(|| WaitError::UnknownProjector(projector.to_owned()))?;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = slot.position.subscribe();
        loop {
            let reached = *rx.borrow_and_update();
            if reached >= position {
                return Ok(reached);
            }
            if let State::Failed(failure) = slot.state() {
                return Err(WaitError::Failed(failure));
            }
            if let Ok(true) = worker::reached(&self.inner.store, slot.projector.as_ref(), position).await {
                return Ok(position);
            }
            let poll = if slot.state() == State::Active {
                timeout
            } else {
                Duration::from_millis(20)
            };
            tokio::select! {
                _ = rx.changed() => {}
                () = tokio::time::sleep(poll) => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Err(WaitError::Timeout { reached: *rx.borrow(), wanted: position });
                }
            }
        }
    }

    /// [`wait_for`](Self::wait_for) every projector of this runtime, each
    /// within `timeout`.
    ///
    /// # Errors
    ///
    /// The first projector's [`WaitError`].
    pub async fn wait_for_all(&self, position: u64, timeout: Duration) -> Result<(), WaitError> {
        for slot in &self.inner.slots {
            self.wait_for(slot.projector.name(), position, timeout).await?;
        }
        Ok(())
    }

    /// Asks every projector to stop after its current batch and waits
    /// until they have (their leader locks are then released).
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        for task in self.take_tasks() {
            let _ = task.await;
        }
    }

    /// Stops every projector at once, wherever it is (in the middle of a
    /// batch, too): what a crash of the process does. Tests use it.
    pub async fn abort(&self) {
        for task in self.take_tasks() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl ProjectionRuntime {
    /// The projector tasks, once: a second shutdown finds none left.
    fn take_tasks(&self) -> Vec<JoinHandle<()>> {
        self.tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}

impl Drop for ProjectionRuntime {
    fn drop(&mut self) {
        self.inner.shutdown.send_replace(true);
    }
}
