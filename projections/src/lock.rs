//! Electing one process for a job (a projector, the SLA engine, the widget
//! sweep) through a PostgreSQL session-level advisory lock.
//!
//! The lock lives on a connection of its own, made from the pool's
//! options but never taken from the pool: a session lock must stay on one
//! session (so never behind a transaction-mode pgbouncer). When that
//! connection dies, PostgreSQL releases the lock and a process that
//! retries takes it over.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};
use tokio::sync::watch;

/// Tries to take the session-level advisory lock `name` on `conn`.
pub async fn try_lock(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
        .bind(name)
        .fetch_one(conn)
        .await
}

/// Waits until this process holds the lock `name` on a connection made
/// with `options`, trying every `retry`, and returns that connection;
/// `None` when `shutdown` turns true first. After each miss, `missed` runs
/// on the connection (a standby reads how far the holder got); a failed
/// attempt drops the connection and connects again.
pub async fn acquire<F>(
    options: &PgConnectOptions,
    name: &str,
    retry: Duration,
    shutdown: &mut watch::Receiver<bool>,
    mut missed: F,
) -> Option<PgConnection>
where
    F: for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, Result<(), sqlx::Error>>,
{
    let mut conn: Option<PgConnection> = None;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        if conn.is_none() {
            match options.connect().await {
                Ok(c) => conn = Some(c),
                Err(error) => tracing::warn!(lock = name, %error, "cannot connect to contend for a lock"),
            }
        }
        if let Some(c) = conn.as_mut() {
            let attempt = match try_lock(c, name).await {
                Ok(true) => return conn,
                Ok(false) => missed(c).await,
                Err(error) => Err(error),
            };
            if let Err(error) = attempt {
                tracing::warn!(lock = name, %error, "lock attempt failed; reconnecting");
                conn = None;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            _ = shutdown.wait_for(|stop| *stop) => return None,
        }
    }
}
