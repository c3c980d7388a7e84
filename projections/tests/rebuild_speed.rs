//! Rebuild throughput, printed. Ignored by default; run with
//! `cargo test --release -p livedesk-projections --test rebuild_speed -- --ignored --nocapture`
//! (`LIVEDESK_BENCH_EVENTS`, default 100,000).

mod common;

use std::time::Instant;

use common::{History, ordered_store};
use livedesk_projections::{all_projectors, rebuild, rebuild_all};
use sqlx::PgPool;

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
#[ignore = "a benchmark: run it with --release"]
async fn rebuild_every_read_model(pool: PgPool) {
    let events: usize = std::env::var("LIVEDESK_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let store = ordered_store(pool.clone()).await;
    let mut history = History::new(23, 10, 5);
    let started = Instant::now();
    while history.events < events {
        let next = (history.events + 20_000).min(events);
        history.grow(next);
        history.append_to(&store).await;
    }
    println!(
        "appended {} events in {:.1} s",
        history.events,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut applied = 0;
    for projector in all_projectors() {
        let report = rebuild(&store, projector.as_ref()).await.expect("rebuild");
        let secs = report.elapsed.as_secs_f64();
        println!(
            "{:>12}: {:>8} events in {secs:>6.2} s = {:>8.0} events/s",
            report.projector,
            report.events,
            report.events as f64 / secs
        );
        applied += report.events;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "all read models, one after the other: {} events of the log ({applied} projector-events) in {secs:.2} s = {:.0} log events/s",
        history.events,
        history.events as f64 / secs
    );
    let started = Instant::now();
    let reports = rebuild_all(&store, &all_projectors()).await.expect("rebuild all");
    let secs = started.elapsed().as_secs_f64();
    for report in &reports {
        println!(
            "{:>12}: {:>8} events in {:>6.2} s (concurrently)",
            report.projector,
            report.events,
            report.elapsed.as_secs_f64()
        );
    }
    println!(
        "all read models, rebuild_all: {} events of the log in {secs:.2} s = {:.0} log events/s",
        history.events,
        history.events as f64 / secs
    );
}
