//! Rebuilding a projector from position 0 without readers ever seeing a
//! half-built model.
//!
//! 1. Create schema `rebuild_<name>` and, in it, an empty copy of each table
//!    the projector owns (`LIKE ... INCLUDING ALL EXCLUDING INDEXES`, plus
//!    its primary key and unique constraints).
//! 2. Replay every event the projector reads into the copies, on a
//!    connection whose `search_path` starts with that schema (projector SQL
//!    names tables unqualified). Secondary indexes are built after the
//!    replay, which is faster than maintaining them row by row.
//! 3. In one transaction: lock the projector's checkpoint row (`FOR
//!    UPDATE`; a live batch moves the checkpoint first, so this waits for
//!    the batch in flight and holds off the next one), replay the events
//!    that arrived meanwhile, drop the live tables, move the copies into
//!    `public`, set the checkpoint, commit. The live leader's next batch
//!    finds the checkpoint moved, rolls back and restarts from the new
//!    checkpoint.
//!
//! The live projector keeps serving until the swap; readers see either the
//! old tables or the new ones, never a mix.

use std::time::{Duration, Instant};

use livedesk_domain::RecordedEvent;
use livedesk_eventstore::{EventStore, Filter, PgEventStore, StoreError};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::{Changes, ProjectionError, Projector};

/// Events read and applied per transaction while replaying.
const REPLAY_PAGE: usize = 10_000;

/// Pages read ahead of the one being applied.
const READ_AHEAD: usize = 2;

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// The projector.
    pub projector: &'static str,
    /// Events replayed.
    pub events: u64,
    /// The checkpoint swapped in.
    pub position: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Why a rebuild failed; the live tables are untouched.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// A projector name that is not `[a-z_]+`.
    #[error("projector name {0:?} is not [a-z_]+")]
    Name(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading events failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event could not be applied.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Rebuilds `projector` from position 0 and swaps the result in.
///
/// # Errors
///
/// [`RebuildError`]; the shadow schema is dropped and the live tables are
/// left as they were.
pub async fn rebuild(store: &PgEventStore, projector: &dyn Projector) -> Result<RebuildReport, RebuildError> {
    let name = projector.name();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(RebuildError::Name(name.to_owned()));
    }
    let started = Instant::now();
    let schema = format!("rebuild_{name}");
    let options = (*store.pool().connect_options())
        .clone()
        .application_name(&format!("livedesk-rebuild:{name}"));
    let mut conn = options.connect().await?;
    let result = build_and_swap(store, projector, &mut conn, &schema).await;
    if result.is_err() {
        let _ = execute(&mut conn, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    }
    let (events, position) = result?;
    Ok(RebuildReport {
        projector: name,
        events,
        position,
        elapsed: started.elapsed(),
    })
}

/// Rebuilds every projector of `projectors` at the same time, each on its
/// own connection into its own shadow schema, and swaps each in when it is
/// done (as [`rebuild`] does one by one: each projector's tables are
/// independent of the others').
///
/// # Errors
///
/// The first [`RebuildError`], after every rebuild has finished: a failed
/// one dropped its shadow schema and left its live tables alone; the others
/// are swapped in.
pub async fn rebuild_all(
    store: &PgEventStore,
    projectors: &[std::sync::Arc<dyn Projector>],
) -> Result<Vec<RebuildReport>, RebuildError> {
    let results = futures::future::join_all(projectors.iter().map(|p| rebuild(store, p.as_ref()))).await;
    results.into_iter().collect()
}

async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(conn).await?;
    Ok(())
}

async fn build_and_swap(
    store: &PgEventStore,
    projector: &dyn Projector,
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(u64, u64), RebuildError> {
    let name = projector.name();
    // Definitions are read fully qualified.
    execute(conn, "SET search_path = pg_catalog").await?;
    execute(
        conn,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
    )
    .await?;
    let mut secondary = Vec::new();
    for table in projector.tables() {
        execute(
            conn,
            &format!("CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL EXCLUDING INDEXES)"),
        )
        .await?;
        let indexes: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT pg_get_indexdef(x.indexrelid), c.conname::text, pg_get_constraintdef(c.oid) \
               FROM pg_index x \
               LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid \
              WHERE x.indrelid = $1::regclass",
        )
        .bind(format!("public.{table}"))
        .fetch_all(&mut *conn)
        .await?;
        for (indexdef, constraint, constraintdef) in indexes {
            match (constraint, constraintdef) {
                (Some(constraint), Some(def)) => {
                    execute(
                        conn,
                        &format!("ALTER TABLE {schema}.{table} ADD CONSTRAINT {constraint} {def}"),
                    )
                    .await?;
                }
                _ => secondary.push(indexdef.replacen(
                    &format!(" ON public.{table} "),
                    &format!(" ON {schema}.{table} "),
                    1,
                )),
            }
        }
    }
    execute(conn, &format!("SET search_path = {schema}, public")).await?;
    let filter = Filter {
        event_types: projector.event_types(),
        ..Filter::default()
    };
    let (mut position, mut count) = replay(store, projector, conn, &filter).await?;
    for indexdef in &secondary {
        execute(conn, indexdef).await?;
    }
    for table in projector.tables() {
        execute(conn, &format!("ANALYZE {schema}.{table}")).await?;
    }
    sqlx::query("INSERT INTO public.projector_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT position FROM public.projector_checkpoints WHERE name = $1 FOR UPDATE")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    loop {
        let events = store.read_all(position, REPLAY_PAGE, &filter).await?;
        let Some(last) = events.last() else { break };
        position = last.position;
        count += events.len() as u64;
        apply(projector, &mut tx, &events).await?;
    }
    for table in projector.tables() {
        execute(
            &mut tx,
            &format!("DROP TABLE public.{table}; ALTER TABLE {schema}.{table} SET SCHEMA public"),
        )
        .await?;
    }
    sqlx::query(
        "UPDATE public.projector_checkpoints \
            SET position = $2, error = NULL, failed_position = NULL, updated_at = now() \
          WHERE name = $1",
    )
    .bind(name)
    .bind(position as i64)
    .execute(&mut *tx)
    .await?;
    execute(&mut tx, &format!("DROP SCHEMA {schema}")).await?;
    tx.commit().await?;
    Ok((count, position))
}

/// Replays every event of `filter` from position 0, one transaction per
/// page. The next page is read (on a pooled connection) while the current
/// one is applied, so reading the log and writing the rows overlap.
async fn replay(
    store: &PgEventStore,
    projector: &dyn Projector,
    conn: &mut PgConnection,
    filter: &Filter,
) -> Result<(u64, u64), RebuildError> {
    let (pages, mut next) = tokio::sync::mpsc::channel::<Result<Vec<RecordedEvent>, StoreError>>(READ_AHEAD);
    let read = async move {
        let mut after = 0;
        loop {
            let page = store.read_all(after, REPLAY_PAGE, filter).await;
            let last = match &page {
                Ok(events) => events.last().map(|e| e.position),
                Err(_) => None,
            };
            // The applier stopped (it failed): stop reading.
            if pages.send(page).await.is_err() {
                return;
            }
            match last {
                Some(last) => after = last,
                None => return,
            }
        }
    };
    // `async move`: when applying fails, the receiver is dropped with the
    // block, which ends the reader.
    let write = async move {
        let (mut position, mut count) = (0, 0);
        while let Some(page) = next.recv().await {
            let events = page?;
            let Some(last) = events.last() else { break };
            position = last.position;
            count += events.len() as u64;
            let mut tx = conn.begin().await?;
            apply(projector, &mut tx, &events).await?;
            tx.commit().await?;
        }
        Ok::<_, RebuildError>((position, count))
    };
    let ((), written) = futures::join!(read, write);
    written
}

async fn apply(
    projector: &dyn Projector,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut changes = Changes::default();
    projector.apply(tx, events, &mut changes).await
}
