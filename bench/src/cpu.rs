//! How much CPU other work took while a scenario ran: the machine is shared
//! (2 cores), so a number measured next to a compiler is not a number.
//!
//! "Ours" is this process plus every PostgreSQL process that does not serve
//! another database (our backends and the server's background workers);
//! the rest of the machine's busy time is "other".

use std::fs;
use std::sync::OnceLock;

/// The benchmark database, whose PostgreSQL backends count as ours.
static DATABASE: OnceLock<String> = OnceLock::new();

/// Names the benchmark database (once, at start-up).
pub fn set_database(name: &str) {
    let _ = DATABASE.set(name.to_owned());
}

fn database() -> &'static str {
    DATABASE.get().map_or("", String::as_str)
}

/// CPU time counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    busy: u64,
    total: u64,
    ours: u64,
}

impl Snapshot {
    /// The counters now.
    pub fn now() -> Self {
        let (busy, total) = machine();
        Self {
            busy,
            total,
            ours: ours(database()),
        }
    }

    /// Share of the machine's CPU time since `self` that other work used,
    /// in percent.
    pub fn other_percent_since(&self) -> f64 {
        let now = Self::now();
        let total = now.total.saturating_sub(self.total).max(1);
        let busy = now.busy.saturating_sub(self.busy);
        let ours = now.ours.saturating_sub(self.ours);
        100.0 * busy.saturating_sub(ours) as f64 / total as f64
    }

    /// CPU seconds this process and our PostgreSQL processes used since
    /// `self`.
    pub fn ours_seconds_since(&self) -> f64 {
        ours(database()).saturating_sub(self.ours) as f64 / TICKS_PER_SECOND
    }
}

/// The unit of `/proc/*/stat` times (`USER_HZ`, 100 on Linux).
pub const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user and system) this process has used so far.
pub fn own_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i - 3).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    (tick(14) + tick(15)) as f64 / TICKS_PER_SECOND
}

/// Busy and total ticks of all CPUs, from `/proc/stat`.
fn machine() -> (u64, u64) {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|t| t.parse().ok())
        .collect();
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// Ticks used by this process and the PostgreSQL processes that are ours.
fn ours(database: &str) -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else { return 0 };
    let me = std::process::id().to_string();
    let mut sum = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|p| p.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let path = entry.path();
        let Ok(stat) = fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let is_postgres = comm.ends_with("(postgres");
        if pid != me && !(is_postgres && serves(&path, database)) {
            continue;
        }
        // After the command name: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| fields.get(i - 3).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        sum += tick(14) + tick(15);
    }
    sum
}

/// Whether a PostgreSQL process serves `database` or no database at all.
/// A backend's title reads `postgres: 15/main: USER DATABASE HOST(PORT) STATE`.
fn serves(path: &std::path::Path, database: &str) -> bool {
    let title = fs::read_to_string(path.join("cmdline")).unwrap_or_default();
    let words: Vec<&str> = title.split([' ', '\0']).filter(|w| !w.is_empty()).collect();
    let is_backend = words
        .get(4)
        .is_some_and(|host| host.ends_with(')') || host.starts_with("[local]"));
    !is_backend || words.get(3) == Some(&database)
}
