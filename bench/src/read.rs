//! Scenario `read`: `read_all` over 1,000,000 stored events, in position
//! order, page by page; then where the time goes.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::TryStreamExt;
use livedesk_eventstore::{EventStore, Filter, PgEventStore, PgStoreConfig};
use sqlx::PgPool;
use uuid::Uuid;

use crate::table::{Table, rate};
use crate::{Scale, env, events};

/// Rows the bulk fill writes per statement.
const FILL_CHUNK: u64 = 100_000;
/// Passes of each measurement; the best counts.
const RUNS: usize = 2;
/// Events per conversation in the fill.
pub(crate) const EVENTS_PER_STREAM: u64 = 20;

/// The columns and order `read_all` asks for (its SQL, without `LIMIT`).
const READ_SQL: &str = "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, \
                        payload::text, site_id, actor, correlation_id, causation_id, command_id, recorded_at \
                        FROM events WHERE position > $1 ORDER BY position";

/// Rows that look like the store's: conversations of 20 visitor messages
/// interleaved across the log (as concurrent chats are), `MessagePosted`
/// v2 payloads shaped as the domain writes them, metadata on every row.
const FILL_SQL: &str = "\
    INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, payload, \
                        site_id, actor, correlation_id, causation_id, command_id, recorded_at) \
    SELECT g, 'conversation-' || c.id, (g - 1) / $3, gen_random_uuid(), 'MessagePosted', 2, \
           format('{\"message_id\":\"%s\",\"author\":{\"type\":\"visitor\",\"visitor_id\":\"%s\"},\"body\":\"%s\",\
                   \"attachments\":[],\"client_message_id\":null,\"at\":\"%s\"}', \
                  gen_random_uuid(), c.visitor, $4::text, \
                  to_char(c.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::json, \
           ($5::uuid[])[((g - 1) % $3 % 4)::int + 1], 'visitor:' || c.visitor, \
           gen_random_uuid(), NULL, gen_random_uuid(), c.at \
      FROM generate_series($1::bigint, $2::bigint) AS g, \
           LATERAL (SELECT md5('stream-' || (g - 1) % $3)::uuid AS id, \
                           md5('visitor-' || (g - 1) % $3)::uuid AS visitor, \
                           timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond' AS at) AS c";

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    let total = scale.read_events;
    println!(
        "\n## read\n\n`events` is truncated and filled with {} rows by `INSERT ... SELECT generate_series` \
         ({} conversations of {EVENTS_PER_STREAM} `MessagePosted` events, interleaved), then `VACUUM ANALYZE` and \
         `CHECKPOINT` (so that the fill's writes are not flushed during the reads). Each pass reads every event \
         with `read_all(after, page, Filter::all())` until it is through.",
        rate(total as f64),
        rate((total / EVENTS_PER_STREAM) as f64)
    );
    let fill_started = Instant::now();
    fill(pool, total).await?;
    let fill_took = fill_started.elapsed();
    let vacuum_started = Instant::now();
    env::settle(pool).await?;
    let size: String = sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('events'))")
        .fetch_one(pool)
        .await?;
    let payload: f64 = sqlx::query_scalar("SELECT avg(octet_length(payload::text))::float8 FROM events")
        .fetch_one(pool)
        .await?;
    println!(
        "\nfill: {} rows in {:.1} s, VACUUM ANALYZE + CHECKPOINT {:.1} s; table with indexes {size}, \
         mean payload {payload:.0} bytes",
        rate(total as f64),
        fill_took.as_secs_f64(),
        vacuum_started.elapsed().as_secs_f64()
    );

    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let mut table = Table::new(
        format!(
            "read: read_all over {} events (best of {RUNS} passes)",
            rate(total as f64)
        ),
        &["pass", "page", "seconds", "events/s"],
    );
    let took = read_all(&store, 10_000, total).await?;
    table.row(vec![
        "first pass after the fill".into(),
        rate(10_000.0),
        secs(took),
        per_s(total, took),
    ]);
    for page in [1_000, 10_000] {
        let took = best(|| read_all(&store, page, total)).await?;
        table.row(vec![
            "read_all".into(),
            rate(page as f64),
            secs(took),
            per_s(total, took),
        ]);
    }
    table.print();

    let mut parts = Table::new(
        format!("read: where the time goes (page 10,000 unless noted; best of {RUNS})"),
        &["what", "seconds", "rows/s"],
    );
    let took = best(|| read_all(&store, 10_000, total)).await?;
    parts.row(vec![
        "read_all (query + decode into RecordedEvent)".into(),
        secs(took),
        per_s(total, took),
    ]);
    let took = best(|| fetch_pages(pool, 10_000, total)).await?;
    parts.row(vec![
        "same SQL, sqlx fetch_all, no decode".into(),
        secs(took),
        per_s(total, took),
    ]);
    let took = best(|| fetch_stream(pool, total)).await?;
    parts.row(vec![
        "same SQL, one query, sqlx fetch (streamed), no decode".into(),
        secs(took),
        per_s(total, took),
    ]);
    let took = best(|| server_only(pool)).await?;
    parts.row(vec![
        "server only: EXPLAIN ANALYZE of one query over all".into(),
        secs(took),
        per_s(total, took),
    ]);
    parts.print();
    Ok(())
}

async fn fill(pool: &PgPool, total: u64) -> anyhow::Result<()> {
    let sites: Vec<Uuid> = (0..4).map(events::site).collect();
    fill_sites(pool, total, &sites).await
}

/// Truncates `events` and fills it with `total` rows of [`FILL_SQL`],
/// spread over the four `sites` (give one site four times for a log of
/// one site).
pub(crate) async fn fill_sites(pool: &PgPool, total: u64, sites: &[Uuid]) -> anyhow::Result<()> {
    if sites.len() != 4 {
        bail!("the fill spreads events over 4 sites, not {}", sites.len());
    }
    sqlx::query("TRUNCATE events")
        .execute(pool)
        .await
        .context("TRUNCATE events")?;
    let streams = (total / EVENTS_PER_STREAM).max(1);
    let mut from = 1;
    while from <= total {
        let to = (from + FILL_CHUNK - 1).min(total);
        sqlx::query(FILL_SQL)
            .bind(from as i64)
            .bind(to as i64)
            .bind(streams as i64)
            .bind(events::BODY)
            .bind(sites)
            .execute(pool)
            .await
            .context("bulk fill of events")?;
        from = to + 1;
    }
    Ok(())
}

/// Reads everything through the store, `page` events per `read_all`.
async fn read_all(store: &PgEventStore, page: usize, total: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let (mut after, mut count) = (0, 0u64);
    loop {
        let events = store.read_all(after, page, &Filter::all()).await?;
        count += events.len() as u64;
        match events.last() {
            Some(last) => after = last.position,
            None => break,
        }
        if events.len() < page {
            break;
        }
    }
    check(count, total)?;
    Ok(started.elapsed())
}

/// The store's query, paged the same way, rows left undecoded.
async fn fetch_pages(pool: &PgPool, page: i64, total: u64) -> anyhow::Result<Duration> {
    let sql = format!("{READ_SQL} LIMIT $2");
    let started = Instant::now();
    let (mut after, mut count) = (0i64, 0u64);
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(after)
            .bind(page)
            .fetch_all(pool)
            .await?;
        count += rows.len() as u64;
        let Some(last) = rows.last() else { break };
        after = sqlx::Row::try_get(last, 0)?;
        if (rows.len() as i64) < page {
            break;
        }
    }
    check(count, total)?;
    Ok(started.elapsed())
}

/// One query over everything, rows streamed and dropped.
async fn fetch_stream(pool: &PgPool, total: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut rows = sqlx::query(READ_SQL).bind(0i64).fetch(pool);
    let mut count = 0u64;
    while rows.try_next().await?.is_some() {
        count += 1;
    }
    check(count, total)?;
    Ok(started.elapsed())
}

/// Execution time the server reports for the query over everything, which
/// leaves out sending the rows.
async fn server_only(pool: &PgPool) -> anyhow::Result<Duration> {
    let sql = format!(
        "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {}",
        READ_SQL.replace("$1", "0")
    );
    let plan: serde_json::Value = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
    let ms = plan[0]["Execution Time"]
        .as_f64()
        .context("EXPLAIN gave no execution time")?;
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// The shortest of [`RUNS`] runs of `pass`: the machine is shared, and
/// the best run is the one least disturbed.
async fn best<F, Fut>(mut pass: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Duration>>,
{
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        best = best.min(pass().await?);
    }
    Ok(best)
}

fn check(count: u64, total: u64) -> anyhow::Result<()> {
    if count != total {
        bail!("read {count} events, expected {total}");
    }
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn per_s(n: u64, d: Duration) -> String {
    rate(n as f64 / d.as_secs_f64())
}
