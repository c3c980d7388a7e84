//! Scenario `delivery`: how long an appended event takes to reach a live
//! subscriber (`subscribe_all` on a second `PgEventStore` with its own
//! pool), under 32 writers at full speed and at a paced 2,000 events/s.
//!
//! Each event carries its send time (wall clock, microseconds) in its
//! `client_message_id`; the subscriber, in the same process, subtracts it
//! from the time of delivery. It also subtracts `recorded_at`, the
//! database's statement time of the insert.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures::StreamExt;
use hdrhistogram::Histogram;
use livedesk_eventstore::{EventStore, ExpectedVersion, Filter, PgEventStore, PgStoreConfig};
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::load::{self, drive, histogram, steady};
use crate::table::{Table, ms, rate};
use crate::{Scale, env, events};

const WRITERS: usize = 32;
/// Events per second of the paced run.
const PACED_RATE: u64 = 2_000;
const READY: &str = "bench-ready";
const STOP: &str = "bench-stop";

pub async fn run(pool: &PgPool, url: &str, scale: Scale) -> anyhow::Result<()> {
    println!(
        "\n## delivery\n\nA subscriber (`subscribe_all(head, Filter::all())` on a second `PgEventStore` with its own \
         pool) receives events appended by {WRITERS} writers at full speed, then by an open-loop pacer at \
         {PACED_RATE} events/s (one event per append, new streams, the default `lanes`). `append→deliver` runs from the \
         writer's clock just before `append` (so it includes waiting for a group commit); `commit→deliver` from \
         `recorded_at`, the insert's statement time inside the committing transaction, an upper bound of the time \
         from commit to delivery."
    );
    let options = PgConnectOptions::from_str(url).context("bad database URL")?;
    let subscriber_store = PgEventStore::new(env::pool(&options, 4).await?, PgStoreConfig::default());
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let mut table = Table::new(
        "delivery: append to live subscriber",
        &[
            "load",
            "events/s",
            "append p50 ms",
            "append p99 ms",
            "append→deliver p50 ms",
            "p99 ms",
            "max ms",
            "commit→deliver p50 ms",
            "p99 ms",
            "other CPU",
        ],
    );
    for paced in [false, true] {
        let (writes, (sent, recorded)) = steady(|| measure(pool, &subscriber_store, &store, paced, scale)).await?;
        table.row(vec![
            if paced {
                format!("paced {PACED_RATE}/s")
            } else {
                format!("{WRITERS} writers, full speed")
            },
            rate(writes.events_per_s()),
            ms(writes.p50()),
            ms(writes.p99()),
            ms(load::ms(&sent, 0.5)),
            ms(load::ms(&sent, 0.99)),
            ms(sent.max() as f64 / 1000.0),
            ms(load::ms(&recorded, 0.5)),
            ms(load::ms(&recorded, 0.99)),
            writes.other(),
        ]);
    }
    table.print();
    Ok(())
}

/// One phase: a fresh live subscriber, then the writes; returns the
/// writers' measurement and the send-to-delivery and recorded-to-delivery
/// latencies.
async fn measure(
    pool: &PgPool,
    subscriber_store: &PgEventStore,
    store: &PgEventStore,
    paced: bool,
    scale: Scale,
) -> anyhow::Result<(load::Measured, (Histogram<u64>, Histogram<u64>))> {
    env::settle(pool).await?;
    let subscriber = Subscriber::start(subscriber_store, store).await?;
    let window = Window::after(scale.warmup, scale.measure);
    let writes = if paced {
        load::paced(PACED_RATE, scale, {
            let store = store.clone();
            move |n| {
                let store = store.clone();
                async move { append_probe(&store, n).await }
            }
        })
        .await?
    } else {
        drive(WRITERS, scale, {
            let store = store.clone();
            move |worker, _| {
                let store = store.clone();
                async move { append_probe(&store, worker as u64).await }
            }
        })
        .await?
    };
    append_marker(store, STOP).await?;
    let samples = subscriber.finish().await?;
    let latencies = window.latencies(&samples)?;
    if latencies.0.is_empty() {
        bail!("the subscriber received no event of the measured window");
    }
    println!(
        "{}: {} events delivered, positions contiguous (no gap, no repeat)",
        if paced { "paced" } else { "full speed" },
        samples.len()
    );
    Ok((writes, latencies))
}

/// Microseconds since the Unix epoch.
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// One delivered event: when it was sent, recorded, delivered (µs).
#[derive(Debug, Clone, Copy)]
struct Sample {
    sent_us: u64,
    recorded_us: u64,
    delivered_us: u64,
}

/// The measured stretch of wall-clock time.
#[derive(Debug, Clone, Copy)]
struct Window {
    from_us: u64,
    until_us: u64,
}

impl Window {
    fn after(warmup: Duration, measure: Duration) -> Self {
        let from_us = now_us() + warmup.as_micros() as u64;
        Self {
            from_us,
            until_us: from_us + measure.as_micros() as u64,
        }
    }

    /// Send-to-delivery and recorded-to-delivery latencies of the events
    /// sent inside the window.
    fn latencies(&self, samples: &[Sample]) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)> {
        let (mut sent, mut recorded) = (histogram()?, histogram()?);
        for s in samples
            .iter()
            .filter(|s| (self.from_us..self.until_us).contains(&s.sent_us))
        {
            load::record(
                &mut sent,
                Duration::from_micros(s.delivered_us.saturating_sub(s.sent_us)),
            );
            load::record(
                &mut recorded,
                Duration::from_micros(s.delivered_us.saturating_sub(s.recorded_us)),
            );
        }
        Ok((sent, recorded))
    }
}

/// The part of a `MessagePosted` payload the subscriber reads.
#[derive(Deserialize)]
struct Probe {
    client_message_id: Option<String>,
}

/// Appends one message whose client message id carries the send time.
async fn append_probe(store: &PgEventStore, n: u64) -> anyhow::Result<u64> {
    let visitor = Uuid::now_v7();
    let metadata = events::visitor_metadata(events::site(n), visitor);
    let event = events::message(visitor, Some(format!("bench-{}", now_us())), metadata)?;
    store
        .append(&events::new_stream()?, ExpectedVersion::NoStream, vec![event])
        .await
        .context("append")?;
    Ok(1)
}

/// Appends a message whose client message id is `marker`.
async fn append_marker(store: &PgEventStore, marker: &str) -> anyhow::Result<()> {
    let visitor = Uuid::now_v7();
    let event = events::message(
        visitor,
        Some(marker.to_owned()),
        events::visitor_metadata(events::site(0), visitor),
    )?;
    store
        .append(&events::new_stream()?, ExpectedVersion::NoStream, vec![event])
        .await
        .context("append marker")?;
    Ok(())
}

/// A live subscriber collecting a [`Sample`] per event until [`STOP`].
struct Subscriber {
    task: tokio::task::JoinHandle<anyhow::Result<Vec<Sample>>>,
}

impl Subscriber {
    /// Subscribes from the head and returns once it is live (it has
    /// received a marker appended after it subscribed).
    async fn start(subscriber_store: &PgEventStore, store: &PgEventStore) -> anyhow::Result<Self> {
        let head = subscriber_store.head().await?;
        let mut stream = subscriber_store.subscribe_all(head, Filter::all());
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ready = Some(ready);
            let mut samples = Vec::new();
            let mut last = head;
            while let Some(event) = stream.next().await {
                let event = event.context("subscription failed")?;
                let delivered_us = now_us();
                if event.position != last + 1 {
                    bail!("position {} delivered after {last}: a gap or a repeat", event.position);
                }
                last = event.position;
                let probe: Probe = serde_json::from_str(event.payload.get()).context("payload")?;
                match probe.client_message_id.as_deref() {
                    Some(READY) => _ = ready.take().map(|r| r.send(())),
                    Some(STOP) => return Ok(samples),
                    Some(id) => {
                        let sent_us = id.strip_prefix("bench-").and_then(|t| t.parse().ok()).unwrap_or(0);
                        let recorded_us = u64::try_from(event.recorded_at.timestamp_micros()).unwrap_or(0);
                        samples.push(Sample {
                            sent_us,
                            recorded_us,
                            delivered_us,
                        });
                    }
                    None => {}
                }
            }
            bail!("the subscription ended")
        });
        append_marker(store, READY).await?;
        tokio::time::timeout(Duration::from_secs(30), is_ready)
            .await
            .context("the subscriber did not go live within 30 s")?
            .context("the subscriber stopped before going live")?;
        Ok(Self { task })
    }

    /// Waits for the [`STOP`] marker and returns every sample.
    async fn finish(self) -> anyhow::Result<Vec<Sample>> {
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .context("the subscriber did not reach the stop marker within 60 s")?
            .context("the subscriber panicked")?
    }
}
