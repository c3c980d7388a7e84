//! The SLA engine: the process that makes SLA clocks run by themselves.
//!
//! One task per process contends for a PostgreSQL advisory lock
//! (`livedesk.automation.sla`) on a connection of its own; the holder
//! (one across all processes) does two things on that connection's
//! watch:
//!
//! - **reactions**: it follows the log with `subscribe_all` from its
//!   checkpoint (`automation_checkpoints`, name `sla_engine`) and answers
//!   openings, team assignments, visitor labels, human replies, visitor
//!   messages and Done with `ApplySla` / `FulfilSla` / `BreachSla` through
//!   the conversation [`CommandService`](livedesk_eventstore::CommandService);
//! - **the breach timer**: every tick, and as soon as the nearest due time
//!   comes, it ends the clocks of `sla_queue` that fell due by the
//!   injected [`Clock`], each breach recorded at its true due time.
//!
//! Every command carries a `command_id` derived from the event it answers
//! (or, for a breach, from the `SlaApplied` that set the clock), so a
//! retry, a restart from an older checkpoint, or two engines overlapping
//! during a hand-over append nothing twice. The rules are in
//! `docs/sla-and-routing.md`.

mod history;
mod leader;
mod react;
mod settle;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use livedesk_domain::RecordedEvent;
use livedesk_eventstore::PgEventStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use react::Core;

/// The checkpoint's name in `automation_checkpoints`.
pub const CHECKPOINT: &str = "sla_engine";
/// The advisory lock's source text.
pub const LOCK: &str = "livedesk.automation.sla";
/// The `application_name` of the lock connection.
pub const APPLICATION_NAME: &str = "livedesk-sla-engine";
/// Due clocks ended per timer pass at most.
const BREACH_BATCH: i64 = 500;

/// How the engine ticks and contends.
#[derive(Debug, Clone, Copy)]
pub struct SlaEngineConfig {
    /// The longest time between two passes of the breach timer (it also
    /// wakes at the nearest due time it knows of).
    pub tick: Duration,
    /// How often a standby tries to take the lock.
    pub lock_retry: Duration,
    /// Most events reacted to between two checkpoint writes.
    pub max_batch: usize,
}

impl Default for SlaEngineConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            lock_retry: Duration::from_secs(1),
            max_batch: 200,
        }
    }
}

/// The running SLA engine of this process; see the [module docs](self).
///
/// Dropping it asks the engine to stop; [`shutdown`](Self::shutdown) also
/// waits for it (and so releases the lock).
#[derive(Debug)]
pub struct SlaEngine {
    inner: Arc<Inner>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

/// What the engine's task and its handle share.
#[derive(Debug)]
struct Inner {
    core: Core,
    config: SlaEngineConfig,
    shutdown: watch::Sender<bool>,
    /// Whether this process holds the lock.
    leader: AtomicBool,
    /// The position reacted up to.
    position: watch::Sender<u64>,
    timer_passes: AtomicU64,
    /// The clock's time at the start of the last timer pass.
    last_pass: watch::Sender<Option<DateTime<Utc>>>,
}

impl SlaEngine {
    /// Starts the engine's task on the current tokio runtime, reading time
    /// from `clock`.
    pub fn start(store: PgEventStore, clock: Arc<dyn Clock>, config: SlaEngineConfig) -> Self {
        let inner = Arc::new(Inner {
            core: Core::new(store, clock),
            config,
            shutdown: watch::channel(false).0,
            leader: AtomicBool::new(false),
            position: watch::channel(0).0,
            timer_passes: AtomicU64::new(0),
            last_pass: watch::channel(None).0,
        });
        let task = tokio::spawn(leader::run(inner.clone()));
        Self {
            inner,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Whether this process holds the lock and runs the engine.
    pub fn is_leader(&self) -> bool {
        self.inner.leader.load(Ordering::Relaxed)
    }

    /// The position this process's engine has reacted up to (0 while a
    /// standby).
    pub fn position(&self) -> u64 {
        *self.inner.position.borrow()
    }

    /// Breach timer passes this process has made.
    pub fn timer_passes(&self) -> u64 {
        self.inner.timer_passes.load(Ordering::Relaxed)
    }

    /// Waits until this process's engine has reacted to every event up to
    /// `position` (of the event types it reads), or `timeout`. Returns
    /// whether it got there.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut rx = self.inner.position.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until this process's breach timer has made a pass at clock
    /// time `at` or later, or `timeout`. Returns whether it did.
    pub async fn wait_for_timer(&self, at: DateTime<Utc>, timeout: Duration) -> bool {
        let mut rx = self.inner.last_pass.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|pass| pass.is_some_and(|p| p >= at)))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Reacts to `event` as the engine does when it reads it from the log.
    /// Idempotent: reacting again to an event appends nothing new.
    ///
    /// # Errors
    ///
    /// A store failure.
    pub async fn react(&self, event: &RecordedEvent) -> anyhow::Result<()> {
        self.inner.core.react(event).await.map(|_| ())
    }

    /// Asks the engine to stop after its current step and waits until it
    /// has (its lock is then released).
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        if let Some(task) = self.take_task() {
            let _ = task.await;
        }
    }

    /// Stops the engine wherever it is, as a crash would. For tests.
    pub async fn abort(&self) {
        if let Some(task) = self.take_task() {
            task.abort();
            let _ = task.await;
        }
    }

    fn take_task(&self) -> Option<JoinHandle<()>> {
        self.task.lock().ok().and_then(|mut t| t.take())
    }
}

impl Drop for SlaEngine {
    fn drop(&mut self) {
        self.inner.shutdown.send_replace(true);
    }
}
