//! Closed-loop load: N workers each repeat one operation for a fixed time,
//! after a warm-up; latencies go into an HDR histogram.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use crate::{Scale, cpu};

/// Share of the CPU other processes may use before a phase counts as
/// disturbed and is measured again, in percent.
const QUIET_PERCENT: f64 = 15.0;
/// Most measurements of one phase.
const ATTEMPTS: usize = 3;

/// Longest latency a histogram holds: 60 s, in microseconds.
const MAX_MICROS: u64 = 60_000_000;

/// A histogram of microseconds with three significant digits.
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).context("cannot create a histogram")
}

/// Records `d` in microseconds (clamped into the histogram's range).
pub fn record(histogram: &mut Histogram<u64>, d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(MAX_MICROS);
    histogram.saturating_record(micros.clamp(1, MAX_MICROS));
}

/// `q` of `histogram` in milliseconds.
pub fn ms(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64 / 1000.0
}

/// What one measured phase did.
#[derive(Debug)]
pub struct Measured {
    /// Operations completed that started inside the measured window.
    pub ops: u64,
    /// Events (rows, commands) those operations wrote.
    pub events: u64,
    /// From the start of the window to the end of the last counted operation.
    pub elapsed: Duration,
    /// Latency of each counted operation, microseconds.
    pub latency: Histogram<u64>,
    /// Share of the machine's CPU that other processes used meanwhile, %.
    pub other_cpu: f64,
}

impl Measured {
    /// Operations per second.
    pub fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Events per second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Median latency in ms.
    pub fn p50(&self) -> f64 {
        ms(&self.latency, 0.50)
    }

    /// 99th percentile latency in ms.
    pub fn p99(&self) -> f64 {
        ms(&self.latency, 0.99)
    }

    /// [`Measured::other_cpu`] as a table cell.
    pub fn other(&self) -> String {
        format!("{:.0}%", self.other_cpu)
    }

    /// Largest latency in ms.
    pub fn max(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

/// Runs `workers` tasks, each calling `op(worker, iteration)` back to back
/// for `scale.warmup + scale.measure`. `op` returns how many events it
/// wrote. Operations that start during the warm-up are not counted; the
/// first error stops the run and is returned.
pub async fn drive<F, Fut>(workers: usize, scale: Scale, op: F) -> anyhow::Result<Measured>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let op = Arc::new(op);
    let measure_from = Instant::now() + scale.warmup;
    let until = measure_from + scale.measure;
    let mut tasks = JoinSet::new();
    for worker in 0..workers {
        let op = op.clone();
        tasks.spawn(async move {
            let mut latency = histogram()?;
            let (mut ops, mut events, mut last_end) = (0, 0, measure_from);
            for iteration in 0.. {
                let start = Instant::now();
                if start >= until {
                    break;
                }
                let written = op(worker, iteration).await?;
                let end = Instant::now();
                if start >= measure_from {
                    record(&mut latency, end - start);
                    ops += 1;
                    events += written;
                    last_end = end;
                }
            }
            anyhow::Ok(Measured {
                ops,
                events,
                elapsed: last_end - measure_from,
                latency,
                other_cpu: 0.0,
            })
        });
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu = cpu::Snapshot::now();
    let mut total = Measured {
        ops: 0,
        events: 0,
        elapsed: Duration::ZERO,
        latency: histogram()?,
        other_cpu: 0.0,
    };
    while let Some(joined) = tasks.join_next().await {
        let one = joined.context("a benchmark worker panicked")??;
        total.ops += one.ops;
        total.events += one.events;
        total.elapsed = total.elapsed.max(one.elapsed);
        total.latency.add(&one.latency).context("cannot merge histograms")?;
    }
    total.other_cpu = cpu.other_percent_since();
    Ok(total)
}

/// Starts `op(n)` at `rate` operations per second for `scale.warmup +
/// scale.measure`, open loop: a tick every millisecond starts its share
/// whether or not earlier operations finished, so a slow store shows as
/// latency rather than as a lower rate.
pub async fn paced<F, Fut>(rate: u64, scale: Scale, op: F) -> anyhow::Result<Measured>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let per_tick = (rate / 1000).max(1);
    let measure_from = Instant::now() + scale.warmup;
    let until = measure_from + scale.measure;
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut running = JoinSet::new();
    let mut total = Measured {
        ops: 0,
        events: 0,
        elapsed: Duration::ZERO,
        latency: histogram()?,
        other_cpu: 0.0,
    };
    let mut collect = |(start, end, written): (Instant, Instant, u64)| {
        if start >= measure_from {
            record(&mut total.latency, end - start);
            total.ops += 1;
            total.events += written;
            total.elapsed = total.elapsed.max(end - measure_from);
        }
    };
    let (mut n, mut cpu) = (0, None);
    loop {
        let now = ticks.tick().await.into_std();
        if now >= until {
            break;
        }
        if cpu.is_none() && now >= measure_from {
            cpu = Some(cpu::Snapshot::now());
        }
        for _ in 0..per_tick {
            n += 1;
            let operation = op(n);
            running.spawn(async move {
                let start = Instant::now();
                let written = operation.await?;
                anyhow::Ok((start, Instant::now(), written))
            });
        }
        while let Some(done) = running.try_join_next() {
            collect(done.context("an operation panicked")??);
        }
    }
    while let Some(done) = running.join_next().await {
        collect(done.context("an operation panicked")??);
    }
    total.other_cpu = cpu.map_or(0.0, |c| c.other_percent_since());
    Ok(total)
}

/// Runs `phase` until other processes stayed under [`QUIET_PERCENT`] of
/// the CPU during its measured window, at most [`ATTEMPTS`] times, and keeps
/// the least disturbed measurement. The machine is shared; a phase measured
/// next to a compiler says little about the store.
pub async fn steady<T, F, Fut>(mut phase: F) -> anyhow::Result<(Measured, T)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<(Measured, T)>>,
{
    let mut best: Option<(Measured, T)> = None;
    for attempt in 1..=ATTEMPTS {
        let (measured, extra) = phase().await?;
        let other = measured.other_cpu;
        if best.as_ref().is_none_or(|(b, _)| other < b.other_cpu) {
            best = Some((measured, extra));
        }
        if other <= QUIET_PERCENT {
            break;
        }
        if attempt < ATTEMPTS {
            println!("(a phase was disturbed: other processes used {other:.0}% of the CPU; measuring it again)");
        }
    }
    best.context("no measurement")
}
