//! The router: routing rules and auto-assignment, applied as conversations
//! open and as agents become free.
//!
//! One task per process contends for a PostgreSQL advisory lock
//! (`livedesk.automation.routing`) on a connection of its own; the holder
//! (one across all processes, so two never choose at once) follows the log
//! from its checkpoint (`automation_checkpoints`, name `router`):
//!
//! - **a conversation opens**: the site's first matching routing rule
//!   assigns it to the rule's team; with auto-assignment on, the team's
//!   online member with the fewest open conversations below capacity gets
//!   it (ties: idle longest, then lowest id). Nobody free: it waits in the
//!   team's queue.
//! - **someone may have become free** (an agent's presence or capacity
//!   changed, a conversation was assigned away, unassigned or Done, a team
//!   or the site's settings changed): the queues of the site (of every
//!   site with a queue, for agent events) are served oldest first. A
//!   sweep every tick serves them too.
//! - **reassignment**, on sites that ask for it: an agent who goes offline
//!   hands their open conversations to another member of each one's team
//!   (or back to its queue); so does a conversation whose visitor an agent
//!   has left unanswered longer than the site allows (checked each tick).
//!
//! Nothing is assigned twice: the domain refuses an automatic assignment
//! of a conversation an agent holds (`AlreadyAssigned`), and every command
//! carries a `command_id` derived from the event it answers, so a restart
//! from an older checkpoint or two routers overlapping in a hand-over
//! append nothing new. Nobody goes over capacity: loads come from the
//! `agents` read model together with the position it reflects, and the
//! router adds its own assignments that the projector has not counted yet.
//! The rules are in `docs/sla-and-routing.md`.

mod assign;
mod leader;
mod reassign;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use livedesk_eventstore::PgEventStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use assign::Core;

/// The checkpoint's name in `automation_checkpoints`.
pub const CHECKPOINT: &str = "router";
/// The advisory lock's source text.
pub const LOCK: &str = "livedesk.automation.routing";
/// The `application_name` of the lock connection.
pub const APPLICATION_NAME: &str = "livedesk-router";

/// How the router sweeps and contends.
#[derive(Debug, Clone, Copy)]
pub struct RouterConfig {
    /// The longest time between two sweeps of the queues.
    pub tick: Duration,
    /// How often a standby tries to take the lock.
    pub lock_retry: Duration,
    /// Most events reacted to between two checkpoint writes.
    pub max_batch: usize,
    /// How long a new leader waits for the `agents` read model to reach the
    /// head of the log before it assigns (then it assigns anyway).
    pub catch_up: Duration,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            lock_retry: Duration::from_secs(1),
            max_batch: 200,
            catch_up: Duration::from_secs(10),
        }
    }
}

/// The running router of this process; see the [module docs](self).
///
/// Dropping it asks the router to stop; [`shutdown`](Self::shutdown) also
/// waits for it (and so releases the lock).
#[derive(Debug)]
pub struct Router {
    inner: Arc<Inner>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Inner {
    core: Core,
    config: RouterConfig,
    shutdown: watch::Sender<bool>,
    leader: AtomicBool,
    /// The position reacted up to.
    position: watch::Sender<u64>,
}

impl Router {
    /// Starts the router's task on the current tokio runtime, reading time
    /// from `clock`.
    pub fn start(store: PgEventStore, clock: Arc<dyn Clock>, config: RouterConfig) -> Self {
        let inner = Arc::new(Inner {
            core: Core::new(store, clock),
            config,
            shutdown: watch::channel(false).0,
            leader: AtomicBool::new(false),
            position: watch::channel(0).0,
        });
        let task = tokio::spawn(leader::run(inner.clone()));
        Self {
            inner,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Whether this process holds the lock and routes.
    pub fn is_leader(&self) -> bool {
        self.inner.leader.load(Ordering::Relaxed)
    }

    /// The position this process's router has reacted up to (0 while a
    /// standby that never led).
    pub fn position(&self) -> u64 {
        *self.inner.position.borrow()
    }

    /// Waits until this process's router has reacted up to `position`, or
    /// `timeout`. Returns whether it did.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut rx = self.inner.position.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Asks the router to stop after its current step and waits until it
    /// has (its lock is then released).
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        if let Some(task) = self.take_task() {
            let _ = task.await;
        }
    }

    /// Stops the router wherever it is, as a crash would. For tests.
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

impl Drop for Router {
    fn drop(&mut self) {
        self.inner.shutdown.send_replace(true);
    }
}
