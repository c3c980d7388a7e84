//! The router's task: contend for the lock, then follow the log and sweep
//! the queues while holding it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use livedesk_eventstore::{EventStore, Filter};
use livedesk_projections::{automation, lock};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::watch;

use super::assign::Serve;
use super::{APPLICATION_NAME, CHECKPOINT, Inner, LOCK};

/// The event types the router reacts to.
fn filter() -> Filter {
    Filter {
        event_types: [
            "ConversationOpened",
            "ConversationAssigned",
            "ConversationUnassigned",
            "ConversationStatusChanged",
            "AgentPresenceChanged",
            "AgentCapacityChanged",
            "AgentJoinedTeam",
            "AgentLeftTeam",
            "TeamCreated",
            "RoutingRulesDefined",
            "AutoAssignmentConfigured",
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
        tracing::info!("router active in this process");
        let result = lead(&inner, conn, &mut shutdown).await;
        inner.leader.store(false, Ordering::Relaxed);
        match result {
            Ok(()) => break,
            Err(error) => tracing::warn!(error = format!("{error:#}"), "router stopped; giving up the lock"),
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

/// Routes while holding the lock on `conn`; returns on shutdown, or with
/// the error that cost it the lock.
async fn lead(inner: &Inner, mut conn: PgConnection, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let core = &inner.core;
    core.start_leading(inner.config.catch_up).await?;
    let mut position = automation::checkpoint(&mut conn, CHECKPOINT).await?;
    inner.position.send_replace(position);
    let mut events = core
        .store
        .subscribe_all(position, filter())
        .ready_chunks(inner.config.max_batch.max(1));
    let mut sweep = tokio::time::interval(inner.config.tick.max(Duration::from_millis(10)));
    loop {
        tokio::select! {
            biased;
            () = stopped(shutdown) => return Ok(()),
            batch = events.next() => {
                let Some(batch) = batch else {
                    anyhow::bail!("the log subscription ended");
                };
                let mut serve = Serve::default();
                for event in batch {
                    let event = event?;
                    core.react(&event, &mut serve).await?;
                    position = event.position;
                }
                core.serve(serve).await?;
                automation::save_checkpoint(&mut conn, CHECKPOINT, position).await?;
                inner.position.send_replace(position);
            }
            _ = sweep.tick() => core.sweep().await?,
        }
    }
}

/// Resolves once shutdown is asked for.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
