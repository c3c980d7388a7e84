//! Rebuilding projectors from position 0 without readers ever seeing a
//! half-built model.
//!
//! 1. Create schema `rebuild_<name>` and, in it, an empty copy of each table
//!    the projector owns (`LIKE ... INCLUDING ALL EXCLUDING INDEXES`).
//! 2. Replay every event the projector reads. A projector with a
//!    [`Replay`] folds the whole history in memory and writes each table
//!    once with `COPY` (append-only rows page by page); keys, constraints
//!    and indexes are built afterwards, which is far faster than
//!    maintaining them row by row. One without goes through
//!    [`Projector::apply`] a page per transaction, on a connection whose
//!    `search_path` starts with the shadow schema (projector SQL names
//!    tables unqualified); its keys exist from the start, its secondary
//!    indexes are built afterwards.
//! 3. In one transaction: lock the projector's checkpoint row (`FOR
//!    UPDATE`; a live batch moves the checkpoint first, so this waits for
//!    the batch in flight and holds off the next one), apply the events
//!    that arrived meanwhile, drop the live tables, move the copies into
//!    `public`, set the checkpoint, commit. The live leader's next batch
//!    finds the checkpoint moved, rolls back and restarts from the new
//!    checkpoint.
//!
//! The live projector keeps serving until the swap; readers see either the
//! old tables or the new ones, never a mix. [`rebuild_all`] reads the log
//! once for every projector and folds them side by side.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livedesk_domain::RecordedEvent;
use livedesk_eventstore::{EventStore, Filter, PgEventStore, StoreError};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::sync::mpsc;

use crate::{Changes, ProjectionError, Projector, Replay};

/// Events read per page while replaying (and applied per transaction by a
/// projector without a [`Replay`]).
const REPLAY_PAGE: usize = 10_000;

/// Pages read ahead of the slowest projector.
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
    /// Where the time went.
    pub phases: Phases,
}

/// Time spent by one rebuild in each of its phases (they overlap with the
/// other projectors' phases in [`rebuild_all`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Decoding and folding events (on a blocking thread).
    pub folding: Duration,
    /// Writing rows (`COPY`, or `apply` without a [`Replay`]).
    pub writing: Duration,
    /// Building keys and indexes, and `ANALYZE`.
    pub indexing: Duration,
    /// Applying the events that arrived meanwhile, and the swap.
    pub swapping: Duration,
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
    let mut results = rebuild_each(store, &[projector]).await;
    results
        .pop()
        .unwrap_or(Err(RebuildError::Name(projector.name().to_owned())))
}

/// Rebuilds every projector of `projectors`, reading the log once for all
/// of them, each into its own shadow schema on its own connection, and
/// swaps each in when it is done (each projector's tables are independent
/// of the others').
///
/// # Errors
///
/// The first [`RebuildError`], after every rebuild has finished: a failed
/// one dropped its shadow schema and left its live tables alone; the others
/// are swapped in (unless reading the log failed, which fails them all).
pub async fn rebuild_all(
    store: &PgEventStore,
    projectors: &[Arc<dyn Projector>],
) -> Result<Vec<RebuildReport>, RebuildError> {
    let projectors: Vec<&dyn Projector> = projectors.iter().map(AsRef::as_ref).collect();
    rebuild_each(store, &projectors).await.into_iter().collect()
}

/// One result per projector, in order.
async fn rebuild_each(store: &PgEventStore, projectors: &[&dyn Projector]) -> Vec<Result<RebuildReport, RebuildError>> {
    let started = Instant::now();
    let mut shadows = futures::future::join_all(projectors.iter().map(|p| Shadow::create(store, *p))).await;
    let read = replay(store, shadows.iter_mut().filter_map(|s| s.as_mut().ok()).collect()).await;
    futures::future::join_all(shadows.into_iter().map(|shadow| async {
        let mut shadow = shadow?;
        let result = match (&read, shadow.failed.take()) {
            (_, Some(error)) => Err(error),
            (Err(error), None) => Err(RebuildError::Store(error.clone())),
            (Ok(()), None) => shadow.finish(store).await,
        };
        if result.is_err() {
            shadow.drop_schema().await;
        }
        result.map(|(events, position)| RebuildReport {
            projector: shadow.projector.name(),
            events,
            position,
            elapsed: started.elapsed(),
            phases: shadow.phases,
        })
    }))
    .await
}

async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(conn).await?;
    Ok(())
}

/// One projector being rebuilt: its shadow schema, the connection writing
/// it, and how far it got.
struct Shadow<'p> {
    projector: &'p dyn Projector,
    conn: PgConnection,
    schema: String,
    types: HashSet<String>,
    replay: Option<Box<dyn Replay>>,
    /// Constraints and indexes to build once the rows are in.
    deferred: Vec<String>,
    /// The last event of the projector's types, and how many there were.
    position: u64,
    events: u64,
    phases: Phases,
    failed: Option<RebuildError>,
}

impl<'p> Shadow<'p> {
    /// Opens a connection and creates the shadow schema with empty copies
    /// of the projector's tables.
    async fn create(store: &PgEventStore, projector: &'p dyn Projector) -> Result<Self, RebuildError> {
        let name = projector.name();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(RebuildError::Name(name.to_owned()));
        }
        // Asynchronous commit, as for live batches (see the leader): a
        // crash before the flush loses a swap and its checkpoint together.
        let options = (*store.pool().connect_options())
            .clone()
            .application_name(&format!("livedesk-rebuild:{name}"))
            .options([("synchronous_commit", "off")]);
        let mut shadow = Shadow {
            projector,
            conn: options.connect().await?,
            schema: format!("rebuild_{name}"),
            types: projector.event_types().into_iter().collect(),
            replay: projector.replay(),
            deferred: Vec::new(),
            position: 0,
            events: 0,
            phases: Phases::default(),
            failed: None,
        };
        if let Err(error) = shadow.create_tables().await {
            shadow.drop_schema().await;
            return Err(error);
        }
        Ok(shadow)
    }

    async fn create_tables(&mut self) -> Result<(), RebuildError> {
        let schema = &self.schema;
        let conn = &mut self.conn;
        // Definitions are read fully qualified.
        execute(conn, "SET search_path = pg_catalog").await?;
        execute(
            conn,
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
        )
        .await?;
        let mut indexes_after = Vec::new();
        for table in self.projector.tables() {
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
                        let add = format!("ALTER TABLE {schema}.{table} ADD CONSTRAINT {constraint} {def}");
                        // `apply` upserts: its keys must exist while it runs.
                        if self.replay.is_some() {
                            self.deferred.push(add);
                        } else {
                            execute(conn, &add).await?;
                        }
                    }
                    _ => indexes_after.push(indexdef.replacen(
                        &format!(" ON public.{table} "),
                        &format!(" ON {schema}.{table} "),
                        1,
                    )),
                }
            }
        }
        self.deferred.extend(indexes_after);
        execute(conn, &format!("SET search_path = {schema}, public")).await?;
        Ok(())
    }

    /// Applies the projector's events of one page of the log.
    async fn feed(&mut self, page: Arc<Vec<RecordedEvent>>) -> Result<(), RebuildError> {
        let mine: Vec<usize> = (0..page.len())
            .filter(|&i| self.types.contains(&page[i].event_type))
            .collect();
        let Some(&last) = mine.last() else {
            return Ok(());
        };
        self.position = page[last].position;
        self.events += mine.len() as u64;
        match self.replay.take() {
            Some(mut replay) => {
                let started = Instant::now();
                let (replay, written) = tokio::task::spawn_blocking(move || {
                    let events: Vec<&RecordedEvent> = mine.iter().map(|&i| &page[i]).collect();
                    let written = replay.apply(&events);
                    (replay, written)
                })
                .await
                .map_err(|e| ProjectionError::Invalid {
                    position: self.position,
                    reason: format!("the replay panicked: {e}"),
                })?;
                self.replay = Some(replay);
                self.phases.folding += started.elapsed();
                let started = Instant::now();
                for rows in written? {
                    rows.write(&mut self.conn).await?;
                }
                self.phases.writing += started.elapsed();
            }
            None => {
                let started = Instant::now();
                let events: Vec<RecordedEvent> = mine.iter().map(|&i| page[i].clone()).collect();
                let mut tx = self.conn.begin().await?;
                apply(self.projector, &mut tx, &events).await?;
                tx.commit().await?;
                self.phases.writing += started.elapsed();
            }
        }
        Ok(())
    }

    /// Writes what the replay holds, builds keys and indexes, and swaps
    /// the shadow tables in. Returns the events replayed and the
    /// checkpoint.
    async fn finish(&mut self, store: &PgEventStore) -> Result<(u64, u64), RebuildError> {
        if let Some(replay) = self.replay.take() {
            let started = Instant::now();
            let rows = tokio::task::spawn_blocking(move || replay.finish())
                .await
                .map_err(|e| ProjectionError::Invalid {
                    position: self.position,
                    reason: format!("the replay panicked: {e}"),
                })??;
            self.phases.folding += started.elapsed();
            let started = Instant::now();
            for table in rows {
                table.write(&mut self.conn).await?;
            }
            self.phases.writing += started.elapsed();
        }
        let started = Instant::now();
        for definition in std::mem::take(&mut self.deferred) {
            execute(&mut self.conn, &definition).await?;
        }
        let (schema, name) = (&self.schema, self.projector.name());
        for table in self.projector.tables() {
            execute(&mut self.conn, &format!("ANALYZE {schema}.{table}")).await?;
        }
        self.phases.indexing += started.elapsed();
        let started = Instant::now();
        sqlx::query("INSERT INTO public.projector_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut self.conn)
            .await?;
        let filter = Filter {
            event_types: self.projector.event_types(),
            ..Filter::default()
        };
        let mut tx = self.conn.begin().await?;
        sqlx::query("SELECT position FROM public.projector_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        loop {
            let events = store.read_all(self.position, REPLAY_PAGE, &filter).await?;
            let Some(last) = events.last() else { break };
            self.position = last.position;
            self.events += events.len() as u64;
            apply(self.projector, &mut tx, &events).await?;
        }
        for table in self.projector.tables() {
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
        .bind(self.position as i64)
        .execute(&mut *tx)
        .await?;
        execute(&mut tx, &format!("DROP SCHEMA {schema}")).await?;
        tx.commit().await?;
        self.phases.swapping += started.elapsed();
        Ok((self.events, self.position))
    }

    async fn drop_schema(&mut self) {
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        if let Err(error) = execute(&mut self.conn, &drop).await {
            tracing::warn!(%error, schema = self.schema, "could not drop a failed rebuild's schema");
        }
    }
}

/// Reads the log from position 0 once, page by page, and feeds every page
/// to every shadow; the next pages are read while the shadows apply the
/// current one. A shadow that fails keeps its error and is fed no more.
///
/// # Errors
///
/// Reading the log failed: no shadow has seen all its events.
async fn replay(store: &PgEventStore, shadows: Vec<&mut Shadow<'_>>) -> Result<(), StoreError> {
    let mut types: Vec<String> = shadows.iter().flat_map(|s| s.types.iter().cloned()).collect();
    types.sort();
    types.dedup();
    let filter = Filter {
        event_types: types,
        ..Filter::default()
    };
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for shadow in shadows {
        let (send, mut pages) = mpsc::channel::<Arc<Vec<RecordedEvent>>>(READ_AHEAD);
        senders.push(send);
        workers.push(async move {
            while let Some(page) = pages.recv().await {
                if let Err(error) = shadow.feed(page).await {
                    shadow.failed = Some(error);
                    // Dropping `pages` tells the reader to skip this one.
                    return;
                }
            }
        });
    }
    let read = async move {
        let mut after = 0;
        loop {
            let page = Arc::new(store.read_all(after, REPLAY_PAGE, &filter).await?);
            let Some(last) = page.last() else {
                return Ok(());
            };
            if senders.is_empty() {
                // Every shadow failed.
                return Ok(());
            }
            after = last.position;
            let mut open = Vec::with_capacity(senders.len());
            for send in senders {
                if send.send(Arc::clone(&page)).await.is_ok() {
                    open.push(send);
                }
            }
            senders = open;
        }
    };
    let (read, _) = futures::join!(read, futures::future::join_all(workers));
    read
}

async fn apply(
    projector: &dyn Projector,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut changes = Changes::default();
    projector.apply(tx, events, &mut changes).await
}
