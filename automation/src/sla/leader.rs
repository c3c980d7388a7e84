//! The engine's task: contend for the lock, then react to the log and run
//! the breach timer while holding it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use livedesk_domain::conversation::SlaTarget;
use livedesk_eventstore::{EventStore, Filter};
use livedesk_projections::{automation, lock};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::watch;

use super::{APPLICATION_NAME, BREACH_BATCH, CHECKPOINT, Inner, LOCK};

/// The event types the engine reacts to.
fn filter() -> Filter {
    Filter {
        event_types: [
            "ConversationOpened",
            "ConversationAssigned",
            "MessagePosted",
            "ConversationStatusChanged",
            "SlaApplied",
            "VisitorTagged",
            "SlaPoliciesDefined",
            "BusinessHoursSet",
        ]
        .map(String::from)
        .to_vec(),
        ..Filter::default()
    }
}

pub(super) async fn run(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    while let Some(conn) = contend(&inner, &mut shutdown).await {
        inner.leader.store(true, Ordering::Relaxed);
        inner.core.facts.forget(None);
        tracing::info!("SLA engine active in this process");
        let result = lead(&inner, conn, &mut shutdown).await;
        inner.leader.store(false, Ordering::Relaxed);
        match result {
            Ok(()) => break,
            Err(error) => tracing::warn!(error = format!("{error:#}"), "SLA engine stopped; giving up the lock"),
        }
        tokio::select! {
            () = tokio::time::sleep(inner.config.lock_retry) => {}
            () = stopped(&mut shutdown) => break,
        }
    }
}

/// Waits for the lock; `None` when shut down first.
async fn contend(inner: &Inner, shutdown: &mut watch::Receiver<bool>) -> Option<PgConnection> {
    let options: PgConnectOptions = (*inner.core.store.pool().connect_options())
        .clone()
        .application_name(APPLICATION_NAME);
    lock::acquire(&options, LOCK, inner.config.lock_retry, shutdown, |_| {
        Box::pin(async { Ok(()) })
    })
    .await
}

/// Runs the engine while holding the lock on `conn`; returns on shutdown,
/// or with the error that cost it the lock.
async fn lead(inner: &Inner, mut conn: PgConnection, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let core = &inner.core;
    let mut position = automation::checkpoint(&mut conn, CHECKPOINT).await?;
    inner.position.send_replace(position);
    let mut events = core
        .store
        .subscribe_all(position, filter())
        .ready_chunks(inner.config.max_batch.max(1));
    // The first pass at once: clocks that fell due while no engine ran.
    let mut wake = core.clock.now();
    loop {
        tokio::select! {
            biased;
            () = stopped(shutdown) => return Ok(()),
            batch = events.next() => {
                let Some(batch) = batch else {
                    anyhow::bail!("the log subscription ended");
                };
                for event in batch {
                    let event = event?;
                    if let Some(due) = core.react(&event).await? {
                        wake = wake.min(due);
                    }
                    position = event.position;
                }
                automation::save_checkpoint(&mut conn, CHECKPOINT, position).await?;
                inner.position.send_replace(position);
            }
            () = core.clock.sleep_until(wake) => {
                let full = breach_pass(inner, &mut conn).await?;
                let now = core.clock.now();
                wake = if full {
                    now
                } else {
                    let tick = TimeDelta::from_std(inner.config.tick).unwrap_or(TimeDelta::seconds(5));
                    let next = automation::next_due(&mut conn, now).await?;
                    next_wake(now, tick, next)
                };
            }
        }
    }
}

/// The next timer pass: a tick from now, or the nearest due time if
/// sooner.
fn next_wake(now: DateTime<Utc>, tick: TimeDelta, nearest: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let tick = now + tick;
    nearest.map_or(tick, |due| due.min(tick))
}

/// Ends the clocks of `sla_queue` due by now. Returns whether it took a
/// full batch (more may be due).
async fn breach_pass(inner: &Inner, conn: &mut PgConnection) -> anyhow::Result<bool> {
    let now = inner.core.clock.now();
    let due = automation::due_clocks(conn, now, BREACH_BATCH).await?;
    for clock in &due {
        let Some(target) = parse_target(&clock.target) else {
            continue;
        };
        inner.core.settle_due(clock.conversation_id, target).await?;
    }
    inner.timer_passes.fetch_add(1, Ordering::Relaxed);
    inner.last_pass.send_replace(Some(now));
    Ok(due.len() as i64 >= BREACH_BATCH)
}

/// Resolves once shutdown is asked for (the watch's guard not held).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn parse_target(target: &str) -> Option<SlaTarget> {
    match target {
        "first_response" => Some(SlaTarget::FirstResponse),
        "next_response" => Some(SlaTarget::NextResponse),
        "resolution" => Some(SlaTarget::Resolution),
        _ => None,
    }
}
