//! The time the engine reads: injected, so tests move it instead of
//! sleeping.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::watch;

/// A source of the current time that can also wait for a moment.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The time now.
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once [`now`](Self::now) is at or after `at` (at once if it
    /// already is).
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
        })
    }
}

/// A clock that stands still until a test moves it. Clones share one time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(watch::channel(start).0),
        }
    }

    /// Moves the clock forward by `by` (a negative delta is ignored: time
    /// never goes back), waking everything sleeping until a moment now
    /// reached.
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.now.send_modify(|now| *now += by.max(chrono::TimeDelta::zero()));
    }

    /// Moves the clock to `at` if that is later than now.
    pub fn set(&self, at: DateTime<Utc>) {
        self.now.send_if_modified(|now| {
            let later = at > *now;
            if later {
                *now = at;
            }
            later
        });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as `self`, which outlives this future.
            let _ = rx.wait_for(|now| *now >= at).await;
        })
    }
}
