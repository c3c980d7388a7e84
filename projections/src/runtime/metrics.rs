//! Per-projector counters, rendered as Prometheus text.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters of one projector in this process.
#[derive(Debug, Default)]
pub(super) struct ProjectorMetrics {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub last_batch: AtomicU64,
    pub max_batch: AtomicU64,
    pub busy_us: AtomicU64,
    pub lag_ms: AtomicU64,
    pub failures: AtomicU64,
    pub takeovers: AtomicU64,
}

impl ProjectorMetrics {
    pub fn record_batch(&self, size: u64, lag_ms: u64, busy: Duration) {
        self.batches.fetch_add(1, Relaxed);
        self.busy_us.fetch_add(busy.as_micros() as u64, Relaxed);
        self.events.fetch_add(size, Relaxed);
        self.last_batch.store(size, Relaxed);
        self.max_batch.fetch_max(size, Relaxed);
        self.lag_ms.store(lag_ms, Relaxed);
    }
}

/// A metric: name, type, help, and how to read it from a status.
type Metric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&super::ProjectorStatus) -> u64,
);

/// Renders `statuses` with the `livedesk_projection_` prefix.
pub(super) fn render(statuses: &[super::ProjectorStatus]) -> String {
    let mut out = String::new();
    let metrics: [Metric; 12] = [
        ("position", "gauge", "Last position applied.", |s| s.position),
        (
            "lag_events",
            "gauge",
            "Head position minus the position applied.",
            |s| s.lag_events,
        ),
        (
            "lag_milliseconds",
            "gauge",
            "Commit-to-applied time of the last event of the last batch.",
            |s| s.lag_ms,
        ),
        ("batches_total", "counter", "Batches committed by this process.", |s| {
            s.batches
        }),
        ("events_total", "counter", "Events applied by this process.", |s| {
            s.events_applied
        }),
        ("last_batch_size", "gauge", "Events in the last batch.", |s| {
            s.last_batch_size
        }),
        ("max_batch_size", "gauge", "Events in the largest batch.", |s| {
            s.max_batch_size
        }),
        (
            "busy_milliseconds_total",
            "counter",
            "Time spent in batch transactions, begin to commit.",
            |s| s.busy_ms,
        ),
        ("failures_total", "counter", "Events that stopped the projector.", |s| {
            s.failures
        }),
        (
            "takeovers_total",
            "counter",
            "Times this process became the leader.",
            |s| s.takeovers,
        ),
        (
            "active",
            "gauge",
            "1 when this process is the leader and running.",
            |s| u64::from(matches!(s.state, super::State::Active)),
        ),
        (
            "failed",
            "gauge",
            "1 when the projector stopped on a failing event.",
            |s| u64::from(matches!(s.state, super::State::Failed(_))),
        ),
    ];
    for (name, kind, help, value) in metrics {
        let _ = writeln!(out, "# HELP livedesk_projection_{name} {help}");
        let _ = writeln!(out, "# TYPE livedesk_projection_{name} {kind}");
        for status in statuses {
            let _ = writeln!(
                out,
                "livedesk_projection_{name}{{projector=\"{}\"}} {}",
                status.name,
                value(status)
            );
        }
    }
    out
}
