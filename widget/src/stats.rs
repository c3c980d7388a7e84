//! Counters of the sweep and the assistant.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the widget's background work has done in this process.
#[derive(Debug, Default)]
pub struct Stats {
    /// Sweeps run while holding the sweep lock.
    pub sweeps: AtomicU64,
    /// Sessions the sweep ended (silent or past their maximum).
    pub sessions_swept: AtomicU64,
    /// Take-overs released because the agent's console was gone.
    pub take_overs_released: AtomicU64,
    /// Assistant replies posted.
    pub assistant_replied: AtomicU64,
    /// Visitor messages the assistant left alone (a human had taken over).
    pub assistant_paused: AtomicU64,
    /// Assistant replies the conversation refused (taken over meanwhile).
    pub assistant_refused: AtomicU64,
    /// Assistant calls that failed.
    pub assistant_failed: AtomicU64,
}

impl Stats {
    /// Reads one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn render(&self, sockets: usize) -> String {
        let mut out = String::new();
        let counters = [
            (
                "sweeps",
                &self.sweeps,
                "Sweeps run by this process as the elected sweeper.",
            ),
            ("sessions_swept", &self.sessions_swept, "Sessions ended by the sweep."),
            (
                "take_overs_released",
                &self.take_overs_released,
                "Take-overs released after the console grace period.",
            ),
            (
                "assistant_replied",
                &self.assistant_replied,
                "Assistant replies posted.",
            ),
            (
                "assistant_paused",
                &self.assistant_paused,
                "Visitor messages left to the human who took over.",
            ),
            (
                "assistant_refused",
                &self.assistant_refused,
                "Assistant replies refused by a take-over.",
            ),
            (
                "assistant_failed",
                &self.assistant_failed,
                "Assistant calls that failed.",
            ),
        ];
        for (name, counter, help) in counters {
            let _ = writeln!(out, "# HELP livedesk_widget_{name}_total {help}");
            let _ = writeln!(out, "# TYPE livedesk_widget_{name}_total counter");
            let _ = writeln!(out, "livedesk_widget_{name}_total {}", counter.load(Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP livedesk_widget_sockets Sessions with an open widget WebSocket here."
        );
        let _ = writeln!(
            out,
            "# TYPE livedesk_widget_sockets gauge\nlivedesk_widget_sockets {sockets}"
        );
        out
    }
}
