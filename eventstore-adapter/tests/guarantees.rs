//! The event store's guarantees (DESIGN.md), each on a real PostgreSQL with
//! the concurrency, crash or connection loss that would break it.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use livedesk_domain::RecordedEvent;
use livedesk_eventstore::{EventStore, EventStream, ExpectedVersion, Filter, PgEventStore, PgStoreConfig, StoreError};
use rand::Rng;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

async fn pool(options: &PgConnectOptions, size: u32, application: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .connect_with(options.clone().application_name(application))
        .await
        .expect("connect")
}

fn store(pool: &PgPool) -> PgEventStore {
    PgEventStore::new(pool.clone(), PgStoreConfig::default())
}

/// Collects `count` events from `sub` and checks the delivery invariant:
/// strictly increasing positions, so no event twice.
async fn collect(mut sub: EventStream, count: usize) -> Vec<RecordedEvent> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let event = tokio::time::timeout(Duration::from_secs(60), sub.next())
            .await
            .unwrap_or_else(|_| panic!("stalled after {} of {count} events", seen.len()))
            .expect("subscription ended")
            .expect("subscription error");
        seen.push(event);
    }
    assert_strictly_increasing(&seen.iter().map(|e| e.position).collect::<Vec<_>>());
    seen
}

fn ids(events: &[RecordedEvent]) -> HashSet<Uuid> {
    events.iter().map(|e| e.event_id).collect()
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn thirty_two_writers_committing_out_of_order_lose_nothing(_: PgPoolOptions, options: PgConnectOptions) {
    const WRITERS: u64 = 32;
    const TOTAL: u64 = 10_000;
    let pool = pool(&options, WRITERS as u32 + 4, "writers").await;
    let store = store(&pool);
    let early = tokio::spawn(collect(store.subscribe_all(0, Filter::all()), TOTAL as usize));
    let acked = Arc::new(AtomicU64::new(0));
    let written = Arc::new(std::sync::Mutex::new(HashSet::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, pool, acked, written) = (store.clone(), pool.clone(), acked.clone(), written.clone());
            tokio::spawn(async move {
                let streams: Vec<_> = (0..3).map(|_| stream("conversation")).collect();
                let mut remaining = TOTAL / WRITERS + u64::from(w < TOTAL % WRITERS);
                while remaining > 0 {
                    let (n, which, pause) = {
                        let mut rng = rand::rng();
                        (
                            rng.random_range(1..=20).min(remaining),
                            rng.random_range(0..3),
                            rng.random_range(0..=20),
                        )
                    };
                    let batch = events(n);
                    let batch_ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
                    let mut tx = pool.begin().await.expect("begin");
                    store
                        .append_in_tx(&mut tx, &streams[which], ExpectedVersion::Any, batch)
                        .await
                        .expect("append");
                    // Sleep inside the transaction, so that without the
                    // append lock commits would land out of position order.
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    tx.commit().await.expect("commit");
                    written.lock().expect("lock").extend(batch_ids);
                    acked.fetch_add(n, Relaxed);
                    remaining -= n;
                }
            })
        })
        .collect();
    while acked.load(Relaxed) < TOTAL / 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let halfway = tokio::spawn(collect(store.subscribe_all(0, Filter::all()), TOTAL as usize));
    for writer in writers {
        writer.await.expect("writer");
    }
    let written = written.lock().expect("lock").clone();
    for subscriber in [early, halfway] {
        let seen = subscriber.await.expect("subscriber");
        assert_eq!(seen.len(), TOTAL as usize);
        assert_eq!(ids(&seen), written, "a subscriber missed or invented events");
    }
    pool.close().await;
}

/// Subscriptions of one store share one in-memory tail of the log. A
/// subscription that stops reading while far more events than the tail
/// holds are written falls behind it and must go back to the database;
/// filtered ones take their events from the tail. Each gets exactly its
/// events, in order.
#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn subscriptions_sharing_the_tail_lose_nothing_when_one_falls_behind_it(pool: PgPool) {
    const APPENDS: usize = 200;
    const PER_APPEND: u64 = 10;
    let store = PgEventStore::new(
        pool.clone(),
        PgStoreConfig {
            tail_events: 50,
            subscription_page: 20,
            ..PgStoreConfig::default()
        },
    );
    let only = |category: &str| Filter {
        categories: vec![category.to_owned()],
        ..Filter::default()
    };
    let total = APPENDS * PER_APPEND as usize;
    let sessions = tokio::spawn(collect(store.subscribe_all(0, only("session")), total / 2));
    let conversations = tokio::spawn(collect(store.subscribe_all(0, only("conversation")), total / 2));
    let mut slow = store.subscribe_all(0, Filter::all());
    let mut written: std::collections::HashMap<&str, HashSet<Uuid>> = std::collections::HashMap::new();
    let mut first = None;
    for i in 0..APPENDS {
        let category = if i % 2 == 0 { "session" } else { "conversation" };
        let batch = events(PER_APPEND);
        written
            .entry(category)
            .or_default()
            .extend(batch.iter().map(|e| e.event_id));
        store
            .append(&stream(category), ExpectedVersion::Any, batch)
            .await
            .expect("append");
        if i == 0 {
            // Read one, then stall while 40 times the tail is written.
            first = Some(collect_one(&mut slow).await);
        }
    }
    let mut seen = vec![first.expect("the first event")];
    seen.extend(collect(slow, total - 1).await);
    assert_strictly_increasing(&seen.iter().map(|e| e.position).collect::<Vec<_>>());
    let all: HashSet<Uuid> = written.values().flatten().copied().collect();
    assert_eq!(
        ids(&seen),
        all,
        "the subscription behind the tail missed or invented events"
    );
    for (category, subscriber) in [("session", sessions), ("conversation", conversations)] {
        let seen = subscriber.await.expect("subscriber");
        assert!(seen.iter().all(|e| e.stream.category() == category));
        assert_eq!(
            ids(&seen),
            written[category],
            "the {category} subscription missed events"
        );
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn concurrent_group_commits_from_two_processes_lose_nothing(_: PgPoolOptions, options: PgConnectOptions) {
    const APPENDS_PER_WRITER: usize = 63;
    const TOTAL: usize = 32 * APPENDS_PER_WRITER * 5;
    // Two stores on two pools behave like two livedesk processes.
    let (pool_a, pool_b) = (
        pool(&options, 8, "process-a").await,
        pool(&options, 8, "process-b").await,
    );
    let stores = [store(&pool_a), store(&pool_b)];
    let subscriber = tokio::spawn(collect(stores[0].subscribe_all(0, Filter::all()), TOTAL));
    let writers: Vec<_> = (0..32)
        .map(|w| {
            let store = stores[w % 2].clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..APPENDS_PER_WRITER {
                    let batch = events(5);
                    ids.extend(batch.iter().map(|e| e.event_id));
                    store
                        .append(&stream("session"), ExpectedVersion::NoStream, batch)
                        .await
                        .expect("append");
                }
                ids
            })
        })
        .collect();
    let mut written = HashSet::new();
    for writer in writers {
        written.extend(writer.await.expect("writer"));
    }
    let seen = subscriber.await.expect("subscriber");
    assert_eq!(seen.len(), written.len());
    assert_eq!(ids(&seen), written);
    let batches: u64 = stores.iter().map(|s| s.metrics().append_batches.load(Relaxed)).sum();
    assert!(
        batches < 2000,
        "{batches} transactions for 2,000 appends: no group commit happened"
    );
}

/// The control for the test above: writers that bypass the append lock
/// commit out of order, and a `position > checkpoint` reader skips an event.
/// The lock, not the reader, is what keeps readers exact.
#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn without_the_append_lock_a_position_reader_skips_events(pool: PgPool) {
    let store = store(&pool);
    let raw_insert = |position: i64| {
        sqlx::query(
            "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, payload, \
             recorded_at) VALUES ($1, $2, 0, $3, 'Raw', 1, '{}', now())",
        )
        .bind(position)
        .bind(stream("raw").as_str().to_owned())
        .bind(Uuid::now_v7())
    };
    let mut first = pool.begin().await.expect("begin");
    raw_insert(1).execute(&mut *first).await.expect("insert 1");
    let mut second = pool.begin().await.expect("begin");
    raw_insert(2).execute(&mut *second).await.expect("insert 2");
    second.commit().await.expect("commit 2");
    let read = store.read_all(0, 100, &Filter::all()).await.expect("read");
    assert_eq!(read.iter().map(|e| e.position).collect::<Vec<_>>(), [2]);
    first.commit().await.expect("commit 1");
    let after_checkpoint = store.read_all(2, 100, &Filter::all()).await.expect("read");
    assert!(
        after_checkpoint.is_empty(),
        "position 1 committed below the checkpoint and is skipped"
    );
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn the_append_lock_orders_commits_by_position(pool: PgPool) {
    let store = store(&pool);
    let mut first = pool.begin().await.expect("begin");
    let held = store
        .append_in_tx(&mut first, &stream("session"), ExpectedVersion::Any, events(1))
        .await
        .expect("append");
    let second = tokio::spawn({
        let store = store.clone();
        async move { store.append(&stream("session"), ExpectedVersion::Any, events(1)).await }
    });
    // The second append waits for the lock, so nothing above the held
    // position can commit before it.
    while store.metrics().appends_in_flight.load(Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(store.read_all(0, 10, &Filter::all()).await.expect("read").is_empty());
    first.commit().await.expect("commit");
    let second = second.await.expect("task").expect("append");
    assert!(second.first_position > held.last_position);
    let read = store.read_all(0, 10, &Filter::all()).await.expect("read");
    assert_eq!(
        read.iter().map(|e| e.position).collect::<Vec<_>>(),
        [held.last_position, second.last_position]
    );
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn two_writers_racing_on_one_version_have_exactly_one_winner(_: PgPoolOptions, options: PgConnectOptions) {
    let (pool_a, pool_b) = (pool(&options, 2, "a").await, pool(&options, 2, "b").await);
    let (a, b) = (store(&pool_a), store(&pool_b));
    let s = stream("conversation");
    a.append(&s, ExpectedVersion::NoStream, events(1))
        .await
        .expect("create");
    for version in 0..50 {
        let (ra, rb) = tokio::join!(
            a.append(&s, ExpectedVersion::Exact(version), events(1)),
            b.append(&s, ExpectedVersion::Exact(version), events(1)),
        );
        let conflicts = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { actual: Some(v), .. }) if *v == version + 1))
            .count();
        assert_eq!(
            (ra.is_ok() as u8 + rb.is_ok() as u8, conflicts),
            (1, 1),
            "round {version}: {ra:?} {rb:?}"
        );
    }
    let stored = a
        .read_stream(&s, 0, livedesk_eventstore::Direction::Forward, 100)
        .await
        .expect("read");
    assert_eq!(stored.len(), 51);
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn the_same_append_sent_concurrently_is_stored_once(_: PgPoolOptions, options: PgConnectOptions) {
    let (pool_a, pool_b) = (pool(&options, 4, "a").await, pool(&options, 4, "b").await);
    let stores = [store(&pool_a), store(&pool_b)];
    let s = stream("conversation");
    let batch = events(3);
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let (store, s, batch) = (stores[i % 2].clone(), s.clone(), batch.clone());
            tokio::spawn(async move {
                store
                    .append(&s, ExpectedVersion::NoStream, batch)
                    .await
                    .expect("append")
            })
        })
        .collect();
    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.expect("task"));
    }
    assert_eq!(results.iter().filter(|r| !r.duplicate).count(), 1);
    assert!(results.iter().all(|r| r.last_position == results[0].last_position));
    assert_eq!(stores[0].head().await.expect("head"), results[0].last_position);
    assert_eq!(stores[0].read_all(0, 100, &Filter::all()).await.expect("read").len(), 3);
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_subscriber_whose_connections_are_killed_resumes_without_gap_or_duplicate(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    const TOTAL: usize = 5_000;
    let writer_pool = pool(&options, 8, "writer").await;
    let subscriber_pool = pool(&options, 4, "livedesk-subscriber").await;
    let subscriber_store = store(&subscriber_pool);
    let subscriber = tokio::spawn(collect(subscriber_store.subscribe_all(0, Filter::all()), TOTAL));
    let writer = tokio::spawn({
        let store = store(&writer_pool);
        async move {
            let mut ids = HashSet::new();
            for _ in 0..TOTAL / 10 {
                let batch = events(10);
                ids.extend(batch.iter().map(|e| e.event_id));
                store
                    .append(&stream("session"), ExpectedVersion::Any, batch)
                    .await
                    .expect("append");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            ids
        }
    });
    let mut kills = 0;
    while !writer.is_finished() {
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'livedesk-subscriber'",
        )
        .fetch_one(&writer_pool)
        .await
        .expect("terminate");
        kills += killed;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written = writer.await.expect("writer");
    let seen = subscriber.await.expect("subscriber");
    assert!(kills >= 5, "only {kills} subscriber connections were killed");
    assert_eq!(ids(&seen), written);
    assert!(subscriber_store.metrics().subscription_reconnects.load(Relaxed) > 0);
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_long_transaction_delays_delivery_but_loses_nothing(_: PgPoolOptions, options: PgConnectOptions) {
    let pool = pool(&options, 8, "test").await;
    let store = store(&pool);
    let mut sub = store.subscribe_all(0, Filter::all());

    // A long transaction elsewhere in the database, holding a transaction
    // id, does not hold back delivery (an xmin-based store would stall).
    let mut elsewhere = pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *elsewhere)
        .await
        .expect("take an xid");
    let unrelated = store
        .append(&stream("session"), ExpectedVersion::Any, events(1))
        .await
        .expect("append");
    assert_eq!(collect_one(&mut sub).await.position, unrelated.last_position);

    // A transaction holding the append lock does delay every append, and
    // the wait shows in the metrics; nothing is lost once it commits.
    let mut holder = pool.begin().await.expect("begin");
    let held = store
        .append_in_tx(&mut holder, &stream("session"), ExpectedVersion::Any, events(1))
        .await
        .expect("held");
    let waiting = tokio::spawn({
        let store = store.clone();
        async move { store.append(&stream("session"), ExpectedVersion::Any, events(2)).await }
    });
    while store.metrics().oldest_in_flight_age() < Duration::from_millis(300) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut rendered = String::new();
    store.metrics().render(&mut rendered);
    assert!(
        rendered.contains("livedesk_eventstore_appends_in_flight 1"),
        "{rendered}"
    );
    assert!(!waiting.is_finished());
    holder.commit().await.expect("commit");
    let appended = waiting.await.expect("task").expect("append");
    let delivered: Vec<u64> = [
        collect_one(&mut sub).await,
        collect_one(&mut sub).await,
        collect_one(&mut sub).await,
    ]
    .iter()
    .map(|e| e.position)
    .collect();
    assert_eq!(
        delivered,
        [held.last_position, appended.first_position, appended.last_position]
    );
    assert_eq!(store.metrics().oldest_in_flight_age(), Duration::ZERO);
    elsewhere.rollback().await.expect("rollback");
}

async fn collect_one(sub: &mut EventStream) -> RecordedEvent {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("no event within 10 s")
        .expect("subscription ended")
        .expect("subscription error")
}

/// Run by `a_killed_writer_loses_no_acknowledged_event` in a child process:
/// appends from 8 tasks and prints the id of every acknowledged event.
#[tokio::test]
#[ignore = "a child process of a_killed_writer_loses_no_acknowledged_event"]
async fn crash_child_appends_and_prints_acknowledgements() {
    let Ok(url) = std::env::var("LIVEDESK_CRASH_CHILD_DATABASE") else {
        return;
    };
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await
        .expect("connect");
    let store = store(&pool);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    let batch = events(3);
                    let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
                    store
                        .append(&stream("session"), ExpectedVersion::NoStream, batch)
                        .await
                        .expect("append");
                    for id in ids {
                        println!("ACK {id}");
                    }
                }
            })
        })
        .collect();
    // The tasks loop until the parent kills this process.
    futures::future::join_all(tasks).await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_killed_writer_loses_no_acknowledged_event(pool: PgPool) {
    use std::io::{BufRead, BufReader};

    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .expect("db");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = format!(
        "{}/{database}",
        &base[..base.rfind('/').expect("a database in DATABASE_URL")]
    );
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child_appends_and_prints_acknowledgements",
            "--ignored",
            "--nocapture",
        ])
        .env("LIVEDESK_CRASH_CHILD_DATABASE", &url)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.push(Uuid::parse_str(id).expect("uuid"));
            }
        }
        acked
    });
    // Kill it mid-flight: appends are in every stage of their commit.
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .expect("count");
        if stored >= 3_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let acked = reader.join().expect("reader");
    assert!(acked.len() >= 1_000, "only {} acknowledgements", acked.len());
    let stored: Vec<Uuid> = sqlx::query_scalar("SELECT event_id FROM events WHERE event_id = ANY($1)")
        .bind(&acked)
        .fetch_all(&pool)
        .await
        .expect("stored");
    assert_eq!(stored.len(), acked.len(), "acknowledged events were lost");
}
