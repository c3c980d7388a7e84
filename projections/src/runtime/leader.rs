//! One active instance per projector across processes.
//!
//! The leader holds `pg_try_advisory_lock(hashtextextended('livedesk.projector.<name>', 0))`
//! on a connection of its own (not the pool: a session lock must stay on
//! one session, so never behind a transaction-mode pgbouncer) and applies
//! every batch on that same connection. A batch therefore commits only
//! while the lock is held: when the connection dies, PostgreSQL releases
//! the lock and rolls back whatever was in flight, and a standby that
//! retries every `retry` interval takes over.
//!
//! The connection commits with `synchronous_commit = off`: a batch is
//! visible at once and its WAL flushed a moment later. A server crash in
//! between loses the batch's rows and its checkpoint move together (one
//! transaction), so the leader that follows applies those events again:
//! still exactly once. The fsync that a log append must wait for is not
//! worth waiting for in a read model.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

use crate::lock;

/// The advisory lock key's source text for `name`.
pub(super) fn lock_name(name: &str) -> String {
    format!("livedesk.projector.{name}")
}

/// The `application_name` of the leader connection of `name` (visible in
/// `pg_stat_activity`).
pub fn application_name(name: &str) -> String {
    format!("livedesk-projector:{name}")
}

/// Waits until this process holds the lock of `name` and returns the
/// connection holding it; `None` when shut down first. While waiting,
/// `observe` is given the checkpoint the leader has reached.
pub(super) async fn acquire(
    pool: &PgPool,
    name: &'static str,
    retry: Duration,
    shutdown: &mut watch::Receiver<bool>,
    observe: impl Fn(u64) + Clone + Send + 'static,
) -> Option<PgConnection> {
    let options: PgConnectOptions = (*pool.connect_options())
        .clone()
        .application_name(&application_name(name))
        .options([("synchronous_commit", "off")]);
    lock::acquire(&options, &lock_name(name), retry, shutdown, move |conn| {
        let observe = observe.clone();
        Box::pin(async move {
            let position: Option<i64> =
                sqlx::query_scalar("SELECT position FROM projector_checkpoints WHERE name = $1")
                    .bind(name)
                    .fetch_optional(conn)
                    .await?;
            observe(position.unwrap_or(0).max(0) as u64);
            Ok(())
        })
    })
    .await
}
