//! Group commit.
//!
//! [`submit`] queues an append; a few lanes each take every queued append
//! (up to a batch limit) and [`write`] them in one transaction:
//!
//! 1. take the append lock (`pg_advisory_xact_lock`), which serialises
//!    append transactions across all processes, so positions commit in
//!    order and `position > checkpoint` readers never skip an event;
//! 2. read, in one query, the head position, the last version of every
//!    stream in the batch, and which event ids and command ids are stored;
//! 3. decide each append in order: a retry gets its first result, a wrong
//!    expected version a conflict, the rest get positions and versions;
//! 4. insert every accepted event with one `INSERT ... SELECT unnest(...)`
//!    that also sends one `NOTIFY` with the new head;
//! 5. commit, then answer each caller.
//!
//! A batch that fails on a data error is retried append by append, so one
//! bad append cannot fail its neighbours.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use livedesk_domain::{NewEvent, StreamName};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::PgStoreConfig;
use super::read::to_i64;
use crate::metrics::now_us;
use crate::{AppendResult, ExpectedVersion, StoreError, StoreMetrics};

/// One append as the caller asked for it.
#[derive(Debug)]
pub(super) struct Request {
    pub stream: StreamName,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

impl Request {
    fn command_id(&self) -> Option<Uuid> {
        self.events.first().and_then(|e| e.metadata.command_id)
    }

    fn payload_bytes(&self) -> usize {
        self.events.iter().map(|e| e.payload.get().len()).sum()
    }
}

/// A queued append and where its answer goes.
#[derive(Debug)]
pub(super) struct Job {
    request: Request,
    submitted: Instant,
    submitted_us: u64,
    reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

type Outcome = Result<AppendResult, StoreError>;

/// A batch stops growing past this many payload bytes.
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

pub(super) async fn submit(queue: &mpsc::Sender<Job>, request: Request) -> Outcome {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        request,
        submitted: Instant::now(),
        submitted_us: now_us(),
        reply,
    };
    let closed = || StoreError::from(sqlx::Error::PoolClosed);
    queue.send(job).await.map_err(|_| closed())?;
    answer.await.map_err(|_| closed())?
}

pub(super) fn spawn_lanes(pool: PgPool, config: PgStoreConfig, metrics: Arc<StoreMetrics>) -> mpsc::Sender<Job> {
    let (queue, jobs) = mpsc::channel(8192);
    let jobs = Arc::new(Mutex::new(jobs));
    for lane in 0..config.lanes.max(1) {
        tokio::spawn(run_lane(lane, pool.clone(), jobs.clone(), config, metrics.clone()));
    }
    queue
}

async fn run_lane(
    lane: usize,
    pool: PgPool,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    config: PgStoreConfig,
    metrics: Arc<StoreMetrics>,
) {
    loop {
        let batch = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else { return };
            let (mut events, mut bytes) = (first.request.events.len(), first.request.payload_bytes());
            let mut batch = vec![first];
            while events < config.max_batch_events && bytes < MAX_BATCH_BYTES {
                match jobs.try_recv() {
                    Ok(job) => {
                        events += job.request.events.len();
                        bytes += job.request.payload_bytes();
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        let slot = &metrics.lane_oldest_us[lane];
        slot.store(batch[0].submitted_us, Relaxed);
        metrics.appends_in_flight.fetch_add(batch.len() as u64, Relaxed);
        let requests: Vec<Request> = Vec::with_capacity(batch.len());
        let (requests, replies) = batch
            .into_iter()
            .fold((requests, Vec::new()), |(mut requests, mut replies), job| {
                requests.push(job.request);
                replies.push((job.submitted, job.reply));
                (requests, replies)
            });
        let outcomes = commit(&pool, &requests).await;
        slot.store(0, Relaxed);
        metrics.appends_in_flight.fetch_sub(requests.len() as u64, Relaxed);
        record(&metrics, &requests, &outcomes);
        for ((submitted, reply), outcome) in replies.into_iter().zip(outcomes) {
            metrics.record_append(submitted.elapsed());
            // The caller may have given up waiting; its append stands.
            let _ = reply.send(outcome);
        }
    }
}

fn record(metrics: &StoreMetrics, requests: &[Request], outcomes: &[Outcome]) {
    let mut written = 0;
    for (request, outcome) in requests.iter().zip(outcomes) {
        match outcome {
            Ok(r) if r.duplicate => _ = metrics.duplicates.fetch_add(1, Relaxed),
            Ok(r) => {
                written += request.events.len() as u64;
                metrics.observe_head(r.last_position);
            }
            Err(StoreError::Conflict { .. }) => _ = metrics.conflicts.fetch_add(1, Relaxed),
            Err(_) => _ = metrics.append_failures.fetch_add(1, Relaxed),
        }
    }
    if written > 0 {
        metrics.events_appended.fetch_add(written, Relaxed);
        metrics.append_batches.fetch_add(1, Relaxed);
    }
}

/// Writes `requests` in one transaction; on a data error, one by one.
async fn commit(pool: &PgPool, requests: &[Request]) -> Vec<Outcome> {
    match commit_together(pool, requests).await {
        Ok(outcomes) => outcomes,
        Err(error) if requests.len() > 1 && matches!(error, sqlx::Error::Database(_)) => {
            tracing::warn!(%error, appends = requests.len(), "group commit failed; retrying its appends one by one");
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in requests {
                let outcome = commit_together(pool, std::slice::from_ref(request)).await;
                outcomes.push(outcome.map_or_else(|e| Err(e.into()), |mut o| o.remove(0)));
            }
            outcomes
        }
        Err(error) => {
            let error = StoreError::from(error);
            requests.iter().map(|_| Err(error.clone())).collect()
        }
    }
}

async fn commit_together(pool: &PgPool, requests: &[Request]) -> Result<Vec<Outcome>, sqlx::Error> {
    // BEGIN and the lock travel in one round trip.
    let mut tx = pool
        .begin_with("BEGIN; SELECT pg_advisory_xact_lock(livedesk_append_lock())")
        .await?;
    let outcomes = write_locked(&mut tx, requests).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// What the store holds that the batch's decisions depend on.
#[derive(Default)]
struct Known {
    head: u64,
    versions: HashMap<String, Option<u64>>,
    /// Stored event id -> (position, stream version).
    events: HashMap<Uuid, (u64, u64)>,
    commands: HashMap<Uuid, AppendResult>,
}

const KNOWN_SQL: &str = "\
    SELECT 0 AS kind, NULL::text AS stream_id, NULL::uuid AS id, max(position) AS position, NULL::bigint AS version \
      FROM events \
    UNION ALL \
    SELECT 1, s.stream_id, NULL, NULL, (SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.stream_id) \
      FROM unnest($1::text[]) AS s(stream_id) \
    UNION ALL \
    SELECT 2, NULL, e.event_id, e.position, e.stream_version FROM events e WHERE e.event_id = ANY($2) \
    UNION ALL \
    SELECT 3, NULL, e.command_id, e.position, e.stream_version FROM events e WHERE e.command_id = ANY($3)";

const INSERT_SQL: &str = "\
    WITH inserted AS ( \
        INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, payload, \
                            site_id, actor, correlation_id, causation_id, command_id, recorded_at) \
        SELECT p, s, v, id, t, sv, pl::json, site, actor, corr, cause, cmd, statement_timestamp() \
          FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::int[], $7::text[], \
                      $8::uuid[], $9::text[], $10::uuid[], $11::uuid[], $12::uuid[]) \
               AS r(p, s, v, id, t, sv, pl, site, actor, corr, cause, cmd) \
        RETURNING position) \
    SELECT pg_notify('livedesk_events', max(position)::text) FROM inserted";

const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(livedesk_append_lock())";

/// Takes the append lock and writes `requests` inside the transaction
/// `tx`, in order. The lock and the rows are released by the caller's
/// commit.
pub(super) async fn write(tx: &mut PgConnection, requests: &[Request]) -> Result<Vec<Outcome>, sqlx::Error> {
    sqlx::query(LOCK_SQL).execute(&mut *tx).await?;
    write_locked(tx, requests).await
}

/// [`write`] in a transaction that already holds the append lock.
async fn write_locked(tx: &mut PgConnection, requests: &[Request]) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut known = read_known(tx, requests).await?;
    let mut rows = Rows::default();
    let outcomes = requests
        .iter()
        .map(|request| decide(&mut known, &mut rows, request))
        .collect();
    if !rows.position.is_empty() {
        rows.insert(tx).await?;
    }
    Ok(outcomes)
}

async fn read_known(tx: &mut PgConnection, requests: &[Request]) -> Result<Known, sqlx::Error> {
    let mut streams: Vec<&str> = requests.iter().map(|r| r.stream.as_str()).collect();
    streams.sort_unstable();
    streams.dedup();
    let event_ids: Vec<Uuid> = requests
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.event_id))
        .collect();
    let command_ids: Vec<Uuid> = requests.iter().filter_map(Request::command_id).collect();
    let rows = sqlx::query(KNOWN_SQL)
        .bind(streams)
        .bind(event_ids)
        .bind(command_ids)
        .fetch_all(&mut *tx)
        .await?;
    let mut known = Known::default();
    for row in rows {
        let kind: i32 = row.try_get(0)?;
        let position: Option<i64> = row.try_get(3)?;
        let version: Option<i64> = row.try_get(4)?;
        let (position, version) = (position.map(|p| p as u64), version.map(|v| v as u64));
        match kind {
            0 => known.head = position.unwrap_or(0),
            1 => _ = known.versions.insert(row.try_get(1)?, version),
            2 => {
                _ = known
                    .events
                    .insert(row.try_get(2)?, (position.unwrap_or(0), version.unwrap_or(0)))
            }
            _ => {
                let (position, version) = (position.unwrap_or(0), version.unwrap_or(0));
                let first = AppendResult {
                    first_position: position,
                    last_position: position,
                    stream_version: version,
                    duplicate: true,
                };
                let result = known.commands.entry(row.try_get(2)?).or_insert(first);
                result.first_position = result.first_position.min(position);
                result.last_position = result.last_position.max(position);
                result.stream_version = result.stream_version.max(version);
            }
        }
    }
    Ok(known)
}

/// Decides one append against what is known, including the appends of
/// the same batch decided before it.
fn decide(known: &mut Known, rows: &mut Rows, request: &Request) -> Outcome {
    let command_id = request.command_id();
    if let Some(first) = command_id.and_then(|id| known.commands.get(&id)) {
        return Ok(*first);
    }
    let stored: Vec<(u64, u64)> = request
        .events
        .iter()
        .filter_map(|e| known.events.get(&e.event_id).copied())
        .collect();
    if let (Some(first), Some(last)) = (stored.iter().min(), stored.iter().max()) {
        if stored.len() < request.events.len() {
            return Err(StoreError::PartialDuplicate {
                stream: request.stream.clone(),
            });
        }
        return Ok(AppendResult {
            first_position: first.0,
            last_position: last.0,
            stream_version: last.1,
            duplicate: true,
        });
    }
    let actual = known.versions.get(request.stream.as_str()).copied().flatten();
    if !request.expected.accepts(actual) {
        return Err(StoreError::Conflict {
            stream: request.stream.clone(),
            expected: request.expected,
            actual,
        });
    }
    let first_position = known.head + 1;
    let first_version = actual.map_or(0, |v| v + 1);
    for (offset, event) in request.events.iter().enumerate() {
        let (position, version) = (first_position + offset as u64, first_version + offset as u64);
        known.events.insert(event.event_id, (position, version));
        rows.push(&request.stream, position, version, event);
    }
    let count = request.events.len() as u64;
    known.head += count;
    let result = AppendResult {
        first_position,
        last_position: known.head,
        stream_version: first_version + count - 1,
        duplicate: false,
    };
    known
        .versions
        .insert(request.stream.as_str().to_owned(), Some(result.stream_version));
    if let Some(id) = command_id {
        known.commands.insert(
            id,
            AppendResult {
                duplicate: true,
                ..result
            },
        );
    }
    Ok(result)
}

/// Accepted events, column by column, for one `unnest` insert.
#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    stream: Vec<String>,
    version: Vec<i64>,
    event_id: Vec<Uuid>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    payload: Vec<String>,
    site_id: Vec<Option<Uuid>>,
    actor: Vec<Option<String>>,
    correlation_id: Vec<Option<Uuid>>,
    causation_id: Vec<Option<Uuid>>,
    command_id: Vec<Option<Uuid>>,
}

impl Rows {
    fn push(&mut self, stream: &StreamName, position: u64, version: u64, event: &NewEvent) {
        let m = &event.metadata;
        self.position.push(to_i64(position));
        self.stream.push(stream.as_str().to_owned());
        self.version.push(to_i64(version));
        self.event_id.push(event.event_id);
        self.event_type.push(event.event_type.clone());
        self.schema_version
            .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
        self.payload.push(event.payload.get().to_owned());
        self.site_id.push(m.site_id);
        self.actor.push(m.actor.as_ref().map(ToString::to_string));
        self.correlation_id.push(m.correlation_id);
        self.causation_id.push(m.causation_id);
        self.command_id.push(m.command_id);
    }

    async fn insert(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query(INSERT_SQL)
            .bind(self.position)
            .bind(self.stream)
            .bind(self.version)
            .bind(self.event_id)
            .bind(self.event_type)
            .bind(self.schema_version)
            .bind(self.payload)
            .bind(self.site_id)
            .bind(self.actor)
            .bind(self.correlation_id)
            .bind(self.causation_id)
            .bind(self.command_id)
            .execute(tx)
            .await?;
        Ok(())
    }
}
