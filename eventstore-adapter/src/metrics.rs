//! Counters the PostgreSQL adapter keeps, rendered for `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Event store metrics. Cheap to update (relaxed atomics); read with
/// [`StoreMetrics::render`].
#[derive(Debug, Default)]
pub struct StoreMetrics {
    /// Appends acknowledged (including duplicates).
    pub appends: AtomicU64,
    /// Events written.
    pub events_appended: AtomicU64,
    /// Transactions that wrote one or more appends (group commits).
    pub append_batches: AtomicU64,
    /// Appends rejected with a version conflict.
    pub conflicts: AtomicU64,
    /// Appends that were retries of stored events or commands.
    pub duplicates: AtomicU64,
    /// Appends that failed on the database.
    pub append_failures: AtomicU64,
    /// Sum of append latencies, in microseconds (with `appends`: the mean).
    pub append_latency_us_sum: AtomicU64,
    /// Appends waiting for or inside a group commit right now.
    pub appends_in_flight: AtomicU64,
    /// Per append lane: when the oldest append of the batch it is
    /// committing was submitted, in microseconds since the Unix epoch; 0
    /// when the lane is idle. Lanes take appends in order, so the smallest
    /// non-zero slot is the oldest append in flight.
    pub(crate) lane_oldest_us: Vec<AtomicU64>,
    /// Newest position this process appended or was notified of.
    pub head_position: AtomicU64,
    /// Live subscriptions.
    pub subscriptions: AtomicU64,
    /// Times a subscription lost its database connection and reconnected.
    pub subscription_reconnects: AtomicU64,
    /// Events delivered to subscribers.
    pub events_delivered: AtomicU64,
    /// Largest gap between the head and a subscriber's last delivered
    /// position, at its last delivery.
    pub subscription_lag_events: AtomicU64,
    /// Commit-to-delivery time of the most recent live delivery, in
    /// microseconds.
    pub delivery_lag_us: AtomicU64,
}

impl StoreMetrics {
    /// Metrics for a store with `lanes` append lanes.
    pub fn with_lanes(lanes: usize) -> Self {
        Self {
            lane_oldest_us: (0..lanes).map(|_| AtomicU64::new(0)).collect(),
            ..Self::default()
        }
    }

    pub(crate) fn record_append(&self, latency: Duration) {
        self.appends.fetch_add(1, Relaxed);
        self.append_latency_us_sum.fetch_add(micros(latency), Relaxed);
    }

    pub(crate) fn observe_head(&self, position: u64) {
        self.head_position.fetch_max(position, Relaxed);
    }

    /// How long the oldest append in flight has waited, zero when none is.
    pub fn oldest_in_flight_age(&self) -> Duration {
        let oldest = self
            .lane_oldest_us
            .iter()
            .map(|slot| slot.load(Relaxed))
            .filter(|&us| us != 0)
            .min();
        oldest.map_or(Duration::ZERO, |since| {
            Duration::from_micros(now_us().saturating_sub(since))
        })
    }

    /// Prometheus text exposition of every metric, names prefixed
    /// `livedesk_eventstore_`.
    pub fn render(&self, out: &mut String) {
        let counters = [
            ("appends_total", "Appends acknowledged", &self.appends),
            ("events_appended_total", "Events written", &self.events_appended),
            (
                "append_batches_total",
                "Group-commit transactions",
                &self.append_batches,
            ),
            (
                "conflicts_total",
                "Appends rejected with a version conflict",
                &self.conflicts,
            ),
            (
                "duplicates_total",
                "Retried appends that wrote nothing",
                &self.duplicates,
            ),
            (
                "append_failures_total",
                "Appends that failed on the database",
                &self.append_failures,
            ),
            (
                "append_latency_microseconds_sum",
                "Sum of append latencies",
                &self.append_latency_us_sum,
            ),
            (
                "subscription_reconnects_total",
                "Subscription reconnects",
                &self.subscription_reconnects,
            ),
            (
                "events_delivered_total",
                "Events delivered to subscribers",
                &self.events_delivered,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP livedesk_eventstore_{name} {help}.\n# TYPE livedesk_eventstore_{name} counter"
            );
            let _ = writeln!(out, "livedesk_eventstore_{name} {}", value.load(Relaxed));
        }
        let gauges = [
            (
                "appends_in_flight",
                "Appends waiting for or inside a commit",
                self.appends_in_flight.load(Relaxed),
            ),
            (
                "oldest_append_wait_microseconds",
                "Age of the oldest append in flight",
                micros(self.oldest_in_flight_age()),
            ),
            (
                "head_position",
                "Newest position seen by this process",
                self.head_position.load(Relaxed),
            ),
            ("subscriptions", "Live subscriptions", self.subscriptions.load(Relaxed)),
            (
                "subscription_lag_events",
                "Events between the head and a subscriber",
                self.subscription_lag_events.load(Relaxed),
            ),
            (
                "delivery_lag_microseconds",
                "Commit-to-delivery time of the latest live event",
                self.delivery_lag_us.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP livedesk_eventstore_{name} {help}.\n# TYPE livedesk_eventstore_{name} gauge"
            );
            let _ = writeln!(out, "livedesk_eventstore_{name} {value}");
        }
    }
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub(crate) fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, micros)
}
