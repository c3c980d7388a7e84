//! One projector's loop: contend, lead, apply batches, stop on a failure.
//!
//! Each batch is one transaction on the leader connection that first moves
//! the checkpoint (`UPDATE ... WHERE position = <where this leader
//! thinks it is>`), then writes the projector's rows, then commits. The
//! checkpoint row lock taken first orders batches against a rebuild's swap,
//! and a checkpoint that moved under the leader (a rebuild swapped in new
//! tables) makes the batch roll back and the leader restart from the new
//! checkpoint. A crash anywhere before the commit leaves rows and
//! checkpoint as they were; after it, both moved: every event is applied
//! exactly once.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chrono::Utc;
use futures::{FutureExt, StreamExt};
use livedesk_domain::RecordedEvent;
use livedesk_eventstore::{EventStore, Filter, PgEventStore, StoreError};
use sqlx::PgConnection;
use tokio::sync::watch;

use super::{Changed, Inner, Slot, State, leader, remote};
use crate::{Changes, Failure, ProjectionError, Projector};

/// How a leadership ended.
enum Ended {
    /// Asked to stop.
    Shutdown,
    /// An event failed: stop this projector.
    Failed(Failure),
    /// The connection, the subscription or the checkpoint was lost:
    /// contend again.
    Lost(String),
}

/// Why a batch was not committed.
enum BatchError {
    /// The checkpoint is not where this leader thought.
    Moved,
    /// The connection or server failed.
    Lost(String),
    /// The events could not be applied.
    Event(ProjectionError),
}

impl From<sqlx::Error> for BatchError {
    fn from(error: sqlx::Error) -> Self {
        Self::Lost(error.to_string())
    }
}

pub(super) async fn run(rt: Arc<Inner>, index: usize) {
    let slot = &rt.slots[index];
    let name = slot.projector.name();
    let mut shutdown = rt.shutdown.subscribe();
    let mut backoff = Duration::from_millis(50);
    loop {
        slot.set_state(State::Standby);
        let pool = rt.store.pool().clone();
        let observer = Arc::clone(&rt);
        let observe = move |position| observer.slots[index].observe(position);
        let Some(mut conn) = leader::acquire(&pool, name, rt.config.lock_retry, &mut shutdown, observe).await else {
            break;
        };
        slot.metrics.takeovers.fetch_add(1, Relaxed);
        slot.set_state(State::Active);
        tracing::info!(projector = name, "leading");
        match lead(&rt, slot, &mut conn, &mut shutdown).await {
            Ended::Shutdown => break,
            Ended::Failed(failure) => {
                tracing::error!(projector = name, %failure, "projector stopped");
                slot.metrics.failures.fetch_add(1, Relaxed);
                let recorded = sqlx::query(
                    "UPDATE projector_checkpoints SET error = $2, failed_position = $3, updated_at = now() \
                     WHERE name = $1",
                )
                .bind(name)
                .bind(failure.to_string())
                .bind(failure.position as i64)
                .execute(&mut conn)
                .await;
                if let Err(error) = recorded {
                    tracing::warn!(projector = name, %error, "could not record the failure");
                }
                slot.set_state(State::Failed(failure));
                // Keep the lock: another instance would stop on the same
                // event. A restart (after a fix) tries again.
                let _ = shutdown.wait_for(|stop| *stop).await;
                return;
            }
            Ended::Lost(reason) => {
                tracing::warn!(projector = name, %reason, "lost the lead; contending again");
                drop(conn);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    slot.set_state(State::Stopped);
}

async fn lead(rt: &Inner, slot: &Slot, conn: &mut PgConnection, shutdown: &mut watch::Receiver<bool>) -> Ended {
    let projector = slot.projector.as_ref();
    let name = projector.name();
    let mut position = match checkpoint(conn, name).await {
        Ok(position) => position,
        Err(error) => return Ended::Lost(error.to_string()),
    };
    slot.observe(position);
    let filter = Filter {
        event_types: projector.event_types(),
        ..Filter::default()
    };
    let mut events = rt.store.subscribe_all(position, filter);
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => return Ended::Shutdown,
            next = events.next() => next,
        };
        let first = match next {
            Some(Ok(event)) => event,
            Some(Err(error)) => return Ended::Lost(error.to_string()),
            None => return Ended::Lost("the subscription ended".into()),
        };
        let mut batch = vec![first];
        let mut broken: Option<StoreError> = None;
        while batch.len() < rt.config.max_batch {
            // `unconstrained`: tokio's cooperative budget would make the
            // buffered stream look empty after 128 events, capping batches
            // exactly when a backlog needs them big.
            match tokio::task::unconstrained(events.next()).now_or_never() {
                Some(Some(Ok(event))) => batch.push(event),
                Some(Some(Err(error))) => {
                    broken = Some(error);
                    break;
                }
                Some(None) | None => break,
            }
        }
        match commit(rt, slot, conn, position, &batch).await {
            Ok(to) => position = to,
            Err(BatchError::Moved) => return Ended::Lost("the checkpoint moved (a rebuild swapped the tables)".into()),
            Err(BatchError::Lost(reason)) => return Ended::Lost(reason),
            Err(BatchError::Event(error)) if error.is_transient() => return Ended::Lost(error.to_string()),
            Err(BatchError::Event(error)) if batch.len() == 1 => return Ended::Failed(failure(&batch[0], &error)),
            Err(BatchError::Event(_)) => {
                // Find the failing event: apply the batch one by one.
                for event in &batch {
                    match commit(rt, slot, conn, position, std::slice::from_ref(event)).await {
                        Ok(to) => position = to,
                        Err(BatchError::Event(error)) if !error.is_transient() => {
                            return Ended::Failed(failure(event, &error));
                        }
                        Err(BatchError::Event(error)) => return Ended::Lost(error.to_string()),
                        Err(BatchError::Moved) => return Ended::Lost("the checkpoint moved".into()),
                        Err(BatchError::Lost(reason)) => return Ended::Lost(reason),
                    }
                }
            }
        }
        if let Some(error) = broken {
            return Ended::Lost(error.to_string());
        }
    }
}

fn failure(event: &RecordedEvent, error: &ProjectionError) -> Failure {
    Failure {
        position: event.position,
        event_type: event.event_type.clone(),
        cause: error.to_string(),
    }
}

/// The checkpoint of `name`, creating it at 0.
async fn checkpoint(conn: &mut PgConnection, name: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("INSERT INTO projector_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let position: i64 = sqlx::query_scalar("SELECT position FROM projector_checkpoints WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(position.max(0) as u64)
}

/// Applies `events` and moves the checkpoint from `from` to the last of
/// them in one transaction, then publishes what changed.
async fn commit(
    rt: &Inner,
    slot: &Slot,
    conn: &mut PgConnection,
    from: u64,
    events: &[RecordedEvent],
) -> Result<u64, BatchError> {
    let Some(last) = events.last() else { return Ok(from) };
    let to = last.position;
    let mut changes = Changes::default();
    let started = std::time::Instant::now();
    // `BEGIN` and the checkpoint move in one round trip (a busy server
    // charges milliseconds per round trip); the name is a static
    // identifier, quoted all the same.
    let begin = format!(
        "BEGIN; UPDATE projector_checkpoints \
            SET position = {to}, updated_at = now(), error = NULL, failed_position = NULL \
          WHERE name = '{}' AND position = {from}",
        slot.projector.name().replace('\'', "''")
    );
    let moved = sqlx::raw_sql(sqlx::AssertSqlSafe(begin)).execute(&mut *conn).await?;
    if moved.rows_affected() != 1 {
        rollback(conn).await?;
        return Err(BatchError::Moved);
    }
    if let Err(error) = slot.projector.apply(conn, events, &mut changes).await {
        rollback(conn).await?;
        return Err(BatchError::Event(error));
    }
    let changed = Arc::new(Changed {
        projector: slot.projector.name(),
        after: from,
        position: to,
        sites: changes.sites.into_iter().collect(),
        sessions: changes.sessions.into_iter().collect(),
        conversations: changes.conversations.into_iter().collect(),
        complete: true,
        rows: changes.rows.map(Arc::new),
    });
    // Other processes learn of the batch when it commits, in this round trip.
    let commit = format!("{}; COMMIT", remote::notify(rt.id, &changed));
    sqlx::raw_sql(sqlx::AssertSqlSafe(commit)).execute(&mut *conn).await?;
    let lag = Utc::now().signed_duration_since(last.recorded_at).num_milliseconds();
    slot.metrics
        .record_batch(events.len() as u64, lag.max(0) as u64, started.elapsed());
    slot.observe(to);
    let _ = rt.changes.send(changed);
    Ok(to)
}

async fn rollback(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("ROLLBACK").execute(conn).await.map(drop)
}

/// Whether `projector`'s rows reflect every event up to `position`,
/// according to the database.
pub(super) async fn reached(
    store: &PgEventStore,
    projector: &dyn Projector,
    position: u64,
) -> Result<bool, sqlx::Error> {
    // A projector without a checkpoint row yet stands at 0.
    sqlx::query_scalar(
        "WITH c AS (SELECT coalesce((SELECT position FROM projector_checkpoints WHERE name = $1), 0) AS position) \
         SELECT c.position >= $2 OR NOT EXISTS ( \
             SELECT 1 FROM events e \
              WHERE e.position > c.position AND e.position <= $2 AND e.event_type = ANY($3)) \
           FROM c",
    )
    .bind(projector.name())
    .bind(position as i64)
    .bind(projector.event_types())
    .fetch_one(store.pool())
    .await
}
