//! Scenario `append`: `PgEventStore::append` against the raw baseline (one
//! autocommitted single-row `INSERT` per event), at 1, 8 and 32 writers;
//! then the number of group-commit lanes at 32 writers.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use anyhow::Context;
use livedesk_eventstore::{EventStore, ExpectedVersion, PgEventStore, PgStoreConfig, StoreMetrics};
use sqlx::PgPool;

use crate::load::{Measured, drive, steady};
use crate::table::{Table, ms, rate, ratio};
use crate::{Scale, env, events};

const WRITERS: [usize; 3] = [1, 8, 32];
const LANES: [usize; 3] = [1, 2, 4];

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    events::create_raw_table(pool).await?;
    let sample = events::messages(0, 1)?;
    println!(
        "\n## append\n\nEach append writes to a new stream `conversation-{{uuid}}` with `NoStream`; events are \
         `MessagePosted` payloads of {} bytes with site_id, actor and correlation_id. Raw baseline: the same row as \
         one autocommitted `INSERT` into `raw_events (LIKE events INCLUDING ALL)`.",
        sample[0].payload.get().len()
    );
    let config = PgStoreConfig::default();
    let store = PgEventStore::new(pool.clone(), config);

    let mut single = Table::new(
        format!(
            "append: 1 event per append, store (lanes {}) vs raw INSERT",
            config.lanes
        ),
        &[
            "writers",
            "raw rows/s",
            "raw p50 ms",
            "raw p99 ms",
            "store events/s",
            "store p50 ms",
            "store p99 ms",
            "store max ms",
            "events/commit",
            "store/raw",
            "other CPU",
        ],
    );
    let mut tens = Table::new(
        format!("append: 10 events per append, store (lanes {})", config.lanes),
        &[
            "writers",
            "appends/s",
            "events/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "events/commit",
            "events/s vs raw rows/s",
            "other CPU",
        ],
    );
    let mut raw_at_32 = 0.0;
    for writers in WRITERS {
        let (raw, ()) = steady(|| async move { Ok((raw_run(pool, writers, scale).await?, ())) }).await?;
        let (one, one_batch) = steady(|| store_run(&store, writers, 1, scale)).await?;
        let (ten, ten_batch) = steady(|| store_run(&store, writers, 10, scale)).await?;
        single.row(vec![
            writers.to_string(),
            rate(raw.events_per_s()),
            ms(raw.p50()),
            ms(raw.p99()),
            rate(one.events_per_s()),
            ms(one.p50()),
            ms(one.p99()),
            ms(one.max()),
            format!("{one_batch:.1}"),
            ratio(one.events_per_s(), raw.events_per_s()),
            format!("{:.0}%", raw.other_cpu.max(one.other_cpu)),
        ]);
        tens.row(vec![
            writers.to_string(),
            rate(ten.ops_per_s()),
            rate(ten.events_per_s()),
            ms(ten.p50()),
            ms(ten.p99()),
            ms(ten.max()),
            format!("{ten_batch:.1}"),
            ratio(ten.events_per_s(), raw.events_per_s()),
            ten.other(),
        ]);
        raw_at_32 = raw.events_per_s();
    }
    single.print();
    tens.print();
    drop(store);

    let mut lanes = Table::new(
        "append: lanes at 32 writers, 1 event per append",
        &[
            "lanes",
            "events/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "events/commit",
            "vs raw (32 writers)",
            "other CPU",
        ],
    );
    for n in LANES {
        let store = PgEventStore::new(
            pool.clone(),
            PgStoreConfig {
                lanes: n,
                ..PgStoreConfig::default()
            },
        );
        let (m, batch) = steady(|| store_run(&store, 32, 1, scale)).await?;
        lanes.row(vec![
            n.to_string(),
            rate(m.events_per_s()),
            ms(m.p50()),
            ms(m.p99()),
            ms(m.max()),
            format!("{batch:.1}"),
            ratio(m.events_per_s(), raw_at_32),
            m.other(),
        ]);
    }
    lanes.print();
    Ok(())
}

/// `writers` writers appending `per_append` events to new streams; also
/// returns the mean number of events per group commit over the run.
async fn store_run(
    store: &PgEventStore,
    writers: usize,
    per_append: usize,
    scale: Scale,
) -> anyhow::Result<(Measured, f64)> {
    env::settle(store.pool()).await?;
    let before = Counters::of(store.metrics());
    let store = store.clone();
    let measured = drive(writers, scale, move |worker, _| {
        let store = store.clone();
        async move {
            let stream = events::new_stream()?;
            let batch = events::messages(worker as u64, per_append)?;
            store
                .append(&stream, ExpectedVersion::NoStream, batch)
                .await
                .context("append")?;
            Ok(per_append as u64)
        }
    })
    .await?;
    Ok((measured, before.events_per_batch_since()))
}

/// The raw baseline at `writers` writers.
async fn raw_run(pool: &PgPool, writers: usize, scale: Scale) -> anyhow::Result<Measured> {
    env::settle(pool).await?;
    let pool = pool.clone();
    drive(writers, scale, move |worker, _| {
        let pool = pool.clone();
        async move {
            let stream = events::new_stream()?;
            let batch = events::messages(worker as u64, 1)?;
            events::raw_insert(&pool, &stream, 0, &batch[0]).await?;
            Ok(1)
        }
    })
    .await
}

/// Events and group commits so far, to compute events per commit.
struct Counters {
    metrics: Arc<StoreMetrics>,
    events: u64,
    batches: u64,
}

impl Counters {
    fn of(metrics: &Arc<StoreMetrics>) -> Self {
        Self {
            metrics: metrics.clone(),
            events: metrics.events_appended.load(Relaxed),
            batches: metrics.append_batches.load(Relaxed),
        }
    }

    /// Mean events per group commit since this snapshot.
    fn events_per_batch_since(&self) -> f64 {
        let events = self.metrics.events_appended.load(Relaxed) - self.events;
        let batches = self.metrics.append_batches.load(Relaxed) - self.batches;
        events as f64 / batches.max(1) as f64
    }
}
