//! The projector runtime on a real PostgreSQL: live equals rebuilt,
//! exactly once across crashes, one leader across runtimes, a poison event
//! stops only its projector.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{History, TABLES, caught_up, ordered_store, rows};
use futures::future::BoxFuture;
use livedesk_domain::{Metadata, NewEvent, RecordedEvent, StreamName};
use livedesk_eventstore::{EventStore, ExpectedVersion, PgEventStore};
use livedesk_projections::models::{InboxProjector, LiveViewProjector};
use livedesk_projections::{
    Changes, ProjectionError, ProjectionRuntime, Projector, RebuildReport, RuntimeConfig, State, WaitError,
    all_projectors, rebuild, rebuild_all,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

fn config() -> RuntimeConfig {
    RuntimeConfig {
        max_batch: 500,
        lock_retry: Duration::from_millis(200),
    }
}

async fn snapshot(pool: &PgPool) -> Vec<(&'static str, Vec<serde_json::Value>)> {
    let mut all = Vec::new();
    for (table, key) in TABLES {
        all.push((*table, rows(pool, table, key).await));
    }
    all
}

/// Per conversation, the MessagePosted and NotePosted events in the log.
async fn expected_counts(pool: &PgPool) -> Vec<(Uuid, i64, i64)> {
    sqlx::query_as(
        "SELECT substr(stream_id, 14)::uuid AS id, \
                count(*) FILTER (WHERE event_type = 'MessagePosted'), \
                count(*) FILTER (WHERE event_type = 'NotePosted') \
           FROM events WHERE stream_category = 'conversation' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("expected counts")
}

async fn projected_counts(pool: &PgPool) -> Vec<(Uuid, i64, i64)> {
    sqlx::query_as(
        "SELECT c.conversation_id, c.message_count::bigint, c.note_count::bigint FROM conversations c ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("projected counts")
}

async fn assert_exactly_once(pool: &PgPool) {
    let expected = expected_counts(pool).await;
    assert!(!expected.is_empty());
    assert_eq!(
        projected_counts(pool).await,
        expected,
        "message counts differ from the log"
    );
    let (messages, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages), \
                (SELECT count(*) FROM events WHERE event_type IN ('MessagePosted', 'NotePosted'))",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!(messages, events, "transcript rows differ from the log");
}

async fn empty_read_models(pool: &PgPool) {
    for (table, _) in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(pool)
            .await
            .expect("empty a read model");
    }
}

/// Each report reaches its projector's last event, and the tables equal
/// `live` row for row.
async fn assert_rebuilt(pool: &PgPool, reports: &[RebuildReport], live: &[(&'static str, Vec<serde_json::Value>)]) {
    assert_eq!(reports.len(), all_projectors().len());
    for (report, projector) in reports.iter().zip(all_projectors()) {
        let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events WHERE event_type = ANY($1)")
            .bind(projector.event_types())
            .fetch_one(pool)
            .await
            .expect("last event");
        assert_eq!(
            report.position, last as u64,
            "{} rebuilt to its last event",
            report.projector
        );
    }
    let rebuilt = snapshot(pool).await;
    for ((table, live), (_, rebuilt)) in live.iter().zip(&rebuilt) {
        assert_eq!(live.len(), rebuilt.len(), "{table}: row counts differ");
        for (l, r) in live.iter().zip(rebuilt) {
            assert_eq!(l, r, "{table}: a row differs");
        }
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn live_projection_of_ten_thousand_events_equals_a_rebuild_from_scratch(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let runtime = ProjectionRuntime::start(store.clone(), all_projectors(), config());
    let mut changed = runtime.subscribe();
    let mut history = History::new(7, 4, 3);
    history.grow(5_000);
    history.append_to(&store).await;
    history.grow(10_000);
    let head = history.append_to(&store).await;
    assert!(head >= 10_000, "only {head} events");
    caught_up(&runtime, head).await;
    // The inbox names the sites of every batch (an agents batch that only
    // moved a team's assignment names none).
    let first = loop {
        match changed.recv().await {
            Ok(change) if change.projector == "inbox" => break change,
            Ok(_) => continue,
            // More than 1,024 batches went by unread: fine for this test.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(error) => panic!("no change was published: {error}"),
        }
    };
    assert!(first.position > 0 && !first.sites.is_empty());

    let live = snapshot(&pool).await;
    let rows_of = |table: &str| live.iter().find(|(t, _)| *t == table).map_or(0, |(_, rows)| rows.len());
    let compared: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    for projector in all_projectors() {
        for table in projector.tables() {
            assert!(compared.contains(table), "{table} is not compared");
        }
    }
    let (sessions, conversations) = (rows_of("live_sessions"), rows_of("conversations"));
    assert!(sessions > 0 && conversations > 100, "the history is too thin");
    assert!(
        rows_of("sla_results") > 0 && rows_of("sla_result_conversations") > 100,
        "the history ends no SLA clock"
    );
    assert_exactly_once(&pool).await;
    let counted: Vec<(Uuid, i64)> = sqlx::query_as("SELECT site_id, count(*) FROM live_sessions GROUP BY 1 ORDER BY 1")
        .fetch_all(&pool)
        .await
        .expect("sessions per site");
    let online: Vec<(Uuid, i64)> = sqlx::query_as("SELECT site_id, online::bigint FROM live_view_sites ORDER BY 1")
        .fetch_all(&pool)
        .await
        .expect("online counts");
    assert_eq!(online, counted, "online counts differ from the live sessions");

    // Every read model at once (one read of the log, folded in memory where
    // a projector can), then each one alone.
    // The live runtime is idle: emptying the tables shows that only the
    // rebuild can have refilled them.
    empty_read_models(&pool).await;
    let together = rebuild_all(&store, &all_projectors()).await.expect("rebuild all");
    assert_rebuilt(&pool, &together, &live).await;
    empty_read_models(&pool).await;
    let mut alone = Vec::new();
    for projector in all_projectors() {
        alone.push(rebuild(&store, projector.as_ref()).await.expect("rebuild"));
    }
    assert_rebuilt(&pool, &alone, &live).await;
    let schemas: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'")
        .fetch_one(&pool)
        .await
        .expect("schemas");
    assert_eq!(schemas, 0, "shadow schemas are dropped");

    // The live runtime keeps going on the swapped-in tables.
    history.grow(11_000);
    let head = history.append_to(&store).await;
    caught_up(&runtime, head).await;
    assert_exactly_once(&pool).await;
    runtime.shutdown().await;
}

/// The inbox projector, whose connection is killed after applying its
/// `kill_at`-th batch, before the commit.
struct KilledMidBatch {
    inner: InboxProjector,
    batches: AtomicUsize,
    kill_at: usize,
}

impl Projector for KilledMidBatch {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn event_types(&self) -> Vec<String> {
        self.inner.event_types()
    }
    fn tables(&self) -> &'static [&'static str] {
        self.inner.tables()
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            self.inner.apply(tx, events, changes).await?;
            if self.batches.fetch_add(1, Ordering::SeqCst) + 1 == self.kill_at {
                sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(())
        })
    }
}

/// The inbox projector, slow enough to be caught in the middle of a batch.
struct Slow(InboxProjector);

impl Projector for Slow {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn event_types(&self) -> Vec<String> {
        self.0.event_types()
    }
    fn tables(&self) -> &'static [&'static str] {
        self.0.tables()
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
        changes: &'a mut Changes,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            self.0.apply(tx, events, changes).await?;
            sqlx::query("SELECT pg_sleep(0.05)").execute(&mut *tx).await?;
            Ok(())
        })
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_connection_killed_in_the_middle_of_a_batch_applies_every_event_exactly_once(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let mut history = History::new(11, 2, 2);
    history.grow(3_000);
    let head = history.append_to(&store).await;
    let killer = Arc::new(KilledMidBatch {
        inner: InboxProjector,
        batches: AtomicUsize::new(0),
        kill_at: 2,
    });
    let small = RuntimeConfig {
        max_batch: 100,
        ..config()
    };
    let runtime = ProjectionRuntime::start(store.clone(), vec![killer.clone()], small);
    caught_up(&runtime, head).await;
    assert!(
        killer.batches.load(Ordering::SeqCst) > 2,
        "the connection was killed and the runtime went on"
    );
    assert!(
        runtime.status()[0].takeovers >= 2,
        "it took the lead again after losing its connection"
    );
    assert_exactly_once(&pool).await;
    runtime.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_runtime_aborted_in_the_middle_of_a_batch_resumes_exactly_once(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let mut history = History::new(13, 2, 2);
    history.grow(3_000);
    let head = history.append_to(&store).await;
    let small = RuntimeConfig {
        max_batch: 50,
        ..config()
    };
    let slow = ProjectionRuntime::start(store.clone(), vec![Arc::new(Slow(InboxProjector))], small);
    // Let it commit a few batches, then kill it wherever it is.
    wait_until(
        "a few batches committed",
        || slow.status()[0].batches >= 3,
        Duration::from_secs(30),
    )
    .await;
    let reached = slow.status()[0].position;
    slow.abort().await;
    assert!(
        reached > 0 && reached < head,
        "aborted in the middle (at {reached} of {head})"
    );

    let runtime = ProjectionRuntime::start(store.clone(), vec![Arc::new(InboxProjector)], config());
    caught_up(&runtime, head).await;
    assert_exactly_once(&pool).await;
    runtime.shutdown().await;
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn of_two_runtimes_one_leads_and_the_other_takes_over_from_its_checkpoint(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let one_second = RuntimeConfig {
        lock_retry: Duration::from_secs(1),
        ..config()
    };
    let first = ProjectionRuntime::start(store.clone(), all_projectors(), one_second);
    wait_until(
        "the first runtime leads",
        || first.status().iter().all(|s| s.state == State::Active),
        Duration::from_secs(5),
    )
    .await;
    let second = ProjectionRuntime::start(
        PgEventStore::new(store.pool().clone(), Default::default()),
        all_projectors(),
        one_second,
    );

    let mut history = History::new(17, 2, 2);
    history.grow(2_000);
    let head = history.append_to(&store).await;
    caught_up(&first, head).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for status in second.status() {
        assert_eq!(status.state, State::Standby, "{} has one leader", status.name);
        assert_eq!(status.events_applied, 0);
    }
    let applied_by_first: u64 = first.status().iter().map(|s| s.events_applied).sum();

    first.shutdown().await;
    // The guarantee: the standby leads within 5 s of the leader's end (its
    // lock retry is 1 s); catching up afterwards is not part of it.
    wait_until(
        "the standby takes over",
        || second.status().iter().all(|s| s.state == State::Active),
        Duration::from_secs(5),
    )
    .await;
    history.grow(4_000);
    let head = history.append_to(&store).await;
    caught_up(&second, head).await;
    let statuses = second.status();
    let applied_by_second: u64 = statuses.iter().map(|s| s.events_applied).sum();
    let mut total = 0;
    for projector in all_projectors() {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = ANY($1)")
            .bind(projector.event_types())
            .fetch_one(&pool)
            .await
            .expect("count");
        total += count;
    }
    assert_eq!(
        (applied_by_first + applied_by_second) as i64,
        total,
        "the second continued from the checkpoint: nothing applied twice"
    );
    assert_exactly_once(&pool).await;
    second.shutdown().await;
}

#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_poison_event_stops_its_projector_and_the_others_keep_going(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let runtime = ProjectionRuntime::start(store.clone(), all_projectors(), config());
    let mut history = History::new(19, 2, 2);
    history.grow(500);
    history.append_to(&store).await;
    let stream = StreamName::for_id("session", Uuid::now_v7()).expect("stream");
    let poison = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "PageViewed".into(),
        schema_version: 1,
        payload: serde_json::value::to_raw_value(&serde_json::json!({ "nonsense": true })).expect("json"),
        metadata: Metadata::default(),
    };
    let at = store
        .append(&stream, ExpectedVersion::Any, vec![poison])
        .await
        .expect("the store takes any payload")
        .last_position;
    history.grow(1_500);
    let head = history.append_to(&store).await;

    runtime
        .wait_for("inbox", head, Duration::from_secs(60))
        .await
        .expect("inbox goes past the poison");
    let error = runtime
        .wait_for("live_view", head, Duration::from_secs(10))
        .await
        .expect_err("live_view stops at the poison");
    let WaitError::Failed(failure) = error else {
        panic!("not a failure: {error}")
    };
    assert_eq!(failure.position, at);
    assert_eq!(failure.event_type, "PageViewed");
    assert!(failure.cause.contains("malformed"), "{}", failure.cause);

    let live_view = runtime
        .status()
        .into_iter()
        .find(|s| s.name == "live_view")
        .expect("status");
    assert_eq!(live_view.state, State::Failed(failure.clone()));
    let before: i64 =
        sqlx::query_scalar("SELECT max(position) FROM events WHERE position < $1 AND event_type = ANY($2)")
            .bind(at as i64)
            .bind(LiveViewProjector.event_types())
            .fetch_one(&pool)
            .await
            .expect("last live view event before the poison");
    assert_eq!(
        live_view.position, before as u64,
        "everything before the poison is applied"
    );
    let metrics = runtime.render_metrics();
    assert!(
        metrics.contains("livedesk_projection_failed{projector=\"live_view\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("livedesk_projection_failed{projector=\"inbox\"} 0"),
        "{metrics}"
    );
    let (position, stored): (i64, Option<String>) =
        sqlx::query_as("SELECT position, error FROM projector_checkpoints WHERE name = 'live_view'")
            .fetch_one(&pool)
            .await
            .expect("checkpoint");
    assert_eq!(position, before);
    let stored = stored.expect("the error is stored");
    assert!(
        stored.contains(&format!("position {at}")) && stored.contains("PageViewed"),
        "{stored}"
    );
    runtime.shutdown().await;
}

/// A replica that leads no projector still publishes every batch the
/// leader commits (GraphQL subscriptions there push fresh rows), naming the
/// same conversations, and its `wait_for` reaches the leader's positions.
#[sqlx::test(migrator = "livedesk_eventstore::MIGRATOR")]
async fn a_standby_publishes_the_batches_the_leader_commits(pool: PgPool) {
    let store = ordered_store(pool.clone()).await;
    let leader = ProjectionRuntime::start(store.clone(), all_projectors(), config());
    wait_until(
        "the first runtime leads",
        || leader.status().iter().all(|s| s.state == State::Active),
        Duration::from_secs(5),
    )
    .await;
    let standby = ProjectionRuntime::start(
        PgEventStore::new(store.pool().clone(), Default::default()),
        all_projectors(),
        config(),
    );
    // Its listener is up once it has told its subscribers it may have
    // missed batches (what it does on every (re)connect).
    let mut heard = standby.subscribe();
    let mut seen_own = leader.subscribe();
    loop {
        let change = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .expect("the standby listens")
            .expect("a change");
        if !change.complete && change.projector == "inbox" {
            break;
        }
    }

    let mut history = History::new(23, 2, 2);
    history.grow(500);
    history.append_to(&store).await;
    // Then a few events at a time: small batches.
    for size in (520..=700).step_by(20) {
        history.grow(size);
        history.append_to(&store).await;
    }
    let head = store.head().await.expect("head");
    caught_up(&leader, head).await;
    let (mut committed, mut published) = (Vec::new(), Vec::new());
    // A batch moves its projector forward; a listener's "may have missed
    // batches" marker (after == position) is no batch.
    while let Ok(change) = seen_own.try_recv() {
        if change.projector == "inbox" && change.after < change.position {
            committed.push((change.position, change.conversations.clone()));
        }
    }
    while published.last().map(|(p, _)| *p) != committed.last().map(|(p, _)| *p) {
        let change = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .expect("the standby publishes the leader's batches")
            .expect("a change");
        if change.projector == "inbox" && change.after < change.position {
            published.push((change.position, change.complete.then(|| change.conversations.clone())));
        }
    }
    assert!(!committed.is_empty());
    assert_eq!(
        published.iter().map(|(p, _)| *p).collect::<Vec<u64>>(),
        committed.iter().map(|(p, _)| *p).collect::<Vec<u64>>(),
        "the standby published each inbox batch"
    );
    // A batch with more ids than a notice holds says so instead.
    let named = published
        .iter()
        .zip(&committed)
        .filter(|((_, ids), _)| ids.is_some())
        .count();
    assert!(named > 0, "no batch was small enough to name its rows");
    for ((position, ids), (_, conversations)) in published.iter().zip(&committed) {
        if let Some(ids) = ids {
            assert_eq!(ids, conversations, "batch {position} names its conversations");
        }
    }
    for status in standby.status() {
        assert_eq!(
            status.state,
            State::Standby,
            "{} is led by the other runtime",
            status.name
        );
    }
    standby
        .wait_for("inbox", head, Duration::from_secs(1))
        .await
        .expect("the standby knows the leader's position");
    leader.shutdown().await;
    standby.shutdown().await;
}
