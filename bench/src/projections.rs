//! Scenario `projections`: the read models.
//!
//! 1. A generated history (`livedesk-testkit`: every event decided by the
//!    domain's aggregates, across sites, agents, visitors, sessions and
//!    conversations) is appended through the store.
//! 2. Rebuild: `rebuild_all` replays the whole log into every read model;
//!    then each projector alone.
//! 3. Lag: the projector runtime runs while the next part of the history is
//!    appended at a paced rate; for every append, the time from its
//!    acknowledgement to the runtime's publication that a projector
//!    committed it (its rows are readable from then on).
//! 4. Queries: the Live View and inbox queries of the API against a site
//!    with 10,000 active sessions and 100,000 conversations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use livedesk_domain::StreamName;
use livedesk_eventstore::{EventStore, PgEventStore, PgStoreConfig};
use livedesk_projections::read::{self, InboxFilter, InboxOrder, Keyset, LiveFilter};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig, all_projectors, rebuild, rebuild_all};
use livedesk_testkit::History;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::load::{histogram, ms, record};
use crate::table::{Table, ms as fmt_ms, rate};
use crate::{Scale, cpu, env};

/// Events per generated chunk while filling.
const FILL_CHUNK: usize = 50_000;
/// Events per second of the paced run (the "mixed traffic").
const LAG_RATE: f64 = 2_000.0;
/// Runs of each query.
const QUERY_RUNS: usize = 1_000;

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    let events = scale.read_events as usize;
    println!(
        "\n## projections\n\nA generated history of {events} events (10 sites, 5 agents each; sessions, page views, \
         tags, conversations with visitor, agent and bot messages, notes, assignments, take-overs, SLA clocks) is \
         appended through the store; then every read model is rebuilt from it, the runtime follows paced traffic, \
         and the API's read queries run against a large site."
    );
    let store = PgEventStore::new(
        pool.clone(),
        PgStoreConfig {
            lanes: 1,
            ..PgStoreConfig::default()
        },
    );
    // Other scenarios leave events of streams never opened, which the read
    // models refuse: this one starts from an empty log.
    let mut tables: Vec<&str> = vec!["events", "projector_checkpoints"];
    for projector in all_projectors() {
        tables.extend(projector.tables());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {}", tables.join(", "))))
        .execute(pool)
        .await
        .context("emptying the log and the read models")?;
    let mut history = History::new(1, 10, 5);
    let (mut generating, mut appending) = (Duration::ZERO, Duration::ZERO);
    while history.events < events {
        let t = Instant::now();
        history.grow((history.events + FILL_CHUNK).min(events));
        generating += t.elapsed();
        let t = Instant::now();
        history.append_to(&store).await;
        appending += t.elapsed();
    }
    println!(
        "\nfill: {} events generated in {:.1} s, appended in {:.1} s",
        history.events,
        generating.as_secs_f64(),
        appending.as_secs_f64()
    );
    env::settle(pool).await?;
    rebuild_phase(&store, history.events, scale).await?;
    lag_phase(&store, &mut history, scale).await?;
    query_phase(pool).await?;
    Ok(())
}

/// Peak resident memory of this process so far, MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn rebuild_phase(store: &PgEventStore, log_events: usize, scale: Scale) -> anyhow::Result<()> {
    let cpu = cpu::Snapshot::now();
    let started = Instant::now();
    let reports = rebuild_all(store, &all_projectors()).await.context("rebuild_all")?;
    let together = started.elapsed();
    let other = cpu.other_percent_since();
    let mut table = Table::new(
        format!("projections: rebuild every read model from {log_events} events"),
        &[
            "projector",
            "its events",
            "fold s",
            "write s",
            "index s",
            "swap s",
            "alone s",
            "alone events/s",
        ],
    );
    let secs = |d: Duration| format!("{:.2}", d.as_secs_f64());
    for (projector, report) in all_projectors().iter().zip(&reports) {
        let alone = rebuild(store, projector.as_ref()).await.context("rebuild")?;
        table.row(vec![
            report.projector.to_owned(),
            report.events.to_string(),
            secs(report.phases.folding),
            secs(report.phases.writing),
            secs(report.phases.indexing),
            secs(report.phases.swapping),
            secs(alone.elapsed),
            rate(alone.events as f64 / alone.elapsed.as_secs_f64().max(1e-9)),
        ]);
    }
    table.row(vec![
        "**all (rebuild_all)**".into(),
        format!("{log_events} in the log"),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        secs(together),
        format!("**{}** log events/s", rate(log_events as f64 / together.as_secs_f64())),
    ]);
    table.print();
    println!(
        "(rebuild_all: other processes used {other:.0}% of the CPU meanwhile; peak RSS of the bench process {:.0} \
         MiB{})",
        peak_rss_mib(),
        if scale.quick { "; --quick" } else { "" }
    );
    Ok(())
}

/// Appends the next part of the history at [`LAG_RATE`] events/s and
/// measures, per append, acknowledgement → published by each projector.
async fn lag_phase(store: &PgEventStore, history: &mut History, scale: Scale) -> anyhow::Result<()> {
    // Long enough for a backlog to show, also for --quick.
    let seconds = if scale.quick { 6.0 } else { 20.0 };
    let measure_from_s = seconds / 4.0;
    history.grow(history.events + (LAG_RATE * seconds) as usize);
    let appends = std::mem::take(&mut history.appends);
    let total: usize = appends.iter().map(|(_, _, e)| e.len()).sum();
    let per_append = total as f64 / appends.len().max(1) as f64;
    let interval = Duration::from_secs_f64(per_append / LAG_RATE);

    let runtime = ProjectionRuntime::start(
        store.clone(),
        all_projectors(),
        RuntimeConfig {
            lock_retry: Duration::from_millis(200),
            ..RuntimeConfig::default()
        },
    );
    let head = store.head().await?;
    runtime
        .wait_for_all(head, Duration::from_secs(60))
        .await
        .context("the projectors did not catch up")?;
    // Every publication: (projector, position, when).
    let mut published = runtime.subscribe();
    let listener = tokio::spawn(async move {
        let mut seen: HashMap<&'static str, Vec<(u64, Instant)>> = HashMap::new();
        let mut missed = 0;
        loop {
            match published.recv().await {
                Ok(change) => seen
                    .entry(change.projector)
                    .or_default()
                    .push((change.position, Instant::now())),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => missed += n,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return (seen, missed),
            }
        }
    });

    let cpu = cpu::Snapshot::now();
    let measure_from = Instant::now() + Duration::from_secs_f64(measure_from_s);
    let written = Arc::new(std::sync::Mutex::new(Vec::with_capacity(appends.len())));
    let mut previous: HashMap<StreamName, JoinHandle<anyhow::Result<()>>> = HashMap::new();
    let mut next = Instant::now();
    for (stream, expected, events) in appends {
        let types: Vec<String> = events.iter().map(|e| e.event_type.clone()).collect();
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        let before = previous.remove(&stream);
        let (store, name, written) = (store.clone(), stream.clone(), Arc::clone(&written));
        let task = tokio::spawn(async move {
            // Appends to one stream go in order: wait for the one before.
            if let Some(before) = before {
                before.await??;
            }
            let start = Instant::now();
            let done = store.append(&name, expected, events).await?;
            let ack = Instant::now();
            if let Ok(mut written) = written.lock() {
                written.push((done.last_position, start, ack, types));
            }
            anyhow::Ok(())
        });
        previous.insert(stream, task);
    }
    for (_, task) in previous {
        task.await??;
    }
    let written = std::mem::take(&mut *written.lock().map_err(|_| anyhow::anyhow!("a writer panicked"))?);
    let last = written.iter().map(|(p, ..)| *p).max().unwrap_or(head);
    runtime
        .wait_for_all(last, Duration::from_secs(60))
        .await
        .context("the projectors did not catch up")?;
    let elapsed_other = cpu.other_percent_since();
    if std::env::var_os("LIVEDESK_BENCH_METRICS").is_some() {
        println!("{}", runtime.render_metrics());
    }
    runtime.shutdown().await;
    // The listener ends when the runtime, the sender of its feed, is gone.
    drop(runtime);
    let (seen, missed) = listener.await.context("the listener panicked")?;
    // A missed publication would make a later one count, overstating lag.
    anyhow::ensure!(missed == 0, "the lag listener missed {missed} publications");

    // Appends started after the warm-up: last position and ack time.
    let acked: Vec<&(u64, Instant, Instant, Vec<String>)> =
        written.iter().filter(|(_, start, ..)| *start >= measure_from).collect();
    let mut table = Table::new(
        format!(
            "projections: append acknowledged → projector committed, {LAG_RATE:.0} events/s of mixed traffic \
             ({} appends measured)",
            acked.len()
        ),
        &["projector", "p50 ms", "p99 ms", "max ms"],
    );
    for projector in all_projectors() {
        let name = projector.name();
        let reads: std::collections::HashSet<String> = projector.event_types().into_iter().collect();
        let Some(commits) = seen.get(name) else { continue };
        let mut lag: Histogram<u64> = histogram()?;
        // Appends holding an event the projector reads: it publishes the
        // batch holding the append's last such event (an append's events
        // have consecutive positions) with that position or a later one.
        for (last, _, ack, types) in &acked {
            let Some(index) = types.iter().rposition(|t| reads.contains(t)) else {
                continue;
            };
            let position = last - (types.len() - 1 - index) as u64;
            let i = commits.partition_point(|(p, _)| *p < position);
            if let Some((_, at)) = commits.get(i) {
                record(&mut lag, at.saturating_duration_since(*ack));
            }
        }
        if lag.is_empty() {
            continue;
        }
        table.row(vec![
            name.to_owned(),
            fmt_ms(ms(&lag, 0.5)),
            fmt_ms(ms(&lag, 0.99)),
            fmt_ms(lag.max() as f64 / 1000.0),
        ]);
    }
    table.print();
    println!("(other processes used {elapsed_other:.0}% of the CPU meanwhile)");
    Ok(())
}

/// Seeds a large site straight into the read models (the rows the
/// projectors would write for it) and times the API's read queries.
async fn query_phase(pool: &PgPool) -> anyhow::Result<()> {
    let (sessions, conversations) = (10_000, 100_000);
    let site = Uuid::now_v7();
    let agent = Uuid::now_v7();
    seed_site(pool, site, agent, sessions, conversations).await?;
    env::settle(pool).await?;
    let visitor: Uuid = sqlx::query_scalar("SELECT visitor_id FROM conversations WHERE site_id = $1 LIMIT 1")
        .bind(site)
        .fetch_one(pool)
        .await?;
    let inbox = |status: Option<&str>, assigned_to: Option<Uuid>, provider: Option<&str>| InboxFilter {
        status: status.map(String::from),
        assigned_to,
        provider: provider.map(String::from),
        search: None,
    };
    // The API's own queries (`livedesk_projections::read`), with the
    // filters the GraphQL arguments become.
    let queries = [
        ("Live View: first 50 sessions", Query::LiveView),
        ("Live View: online count", Query::Online),
        (
            "inbox: Unread (default), newest",
            Query::Inbox(inbox(Some("unread"), None, None), InboxOrder::Newest),
        ),
        (
            "inbox: All, newest",
            Query::Inbox(inbox(None, None, None), InboxOrder::Newest),
        ),
        (
            "inbox: Unresolved, assigned to me, newest",
            Query::Inbox(inbox(Some("unresolved"), Some(agent), None), InboxOrder::Newest),
        ),
        (
            "inbox: All, provider facebook, newest",
            Query::Inbox(inbox(None, None, Some("facebook")), InboxOrder::Newest),
        ),
        ("inbox: All, search by visitor name", Query::Search),
        (
            "inbox: Unresolved, SLA order",
            Query::Inbox(inbox(Some("unresolved"), None, None), InboxOrder::Sla),
        ),
        (
            "inbox: All, SLA order",
            Query::Inbox(inbox(None, None, None), InboxOrder::Sla),
        ),
        ("visitor: past conversations", Query::Visitor),
    ];
    let first_50 = Keyset {
        limit: 50,
        after_at: None,
        after_id: None,
    };
    let mut table = Table::new(
        format!(
            "projections: read queries on one site with {sessions} live sessions and {conversations} conversations \
             ({QUERY_RUNS} runs each, one client)"
        ),
        &["query", "rows", "p50 ms", "p99 ms", "max ms"],
    );
    for (name, query) in queries {
        let mut latency = histogram()?;
        let mut rows = 0;
        for i in 0..QUERY_RUNS + QUERY_RUNS / 10 {
            let t = Instant::now();
            rows = match &query {
                Query::LiveView => read::live_sessions(pool, site, &LiveFilter::default(), &first_50)
                    .await?
                    .len(),
                Query::Online => usize::from(read::online_count(pool, site).await? > 0),
                Query::Inbox(filter, order) => read::conversations(pool, site, filter, *order, &first_50).await?.len(),
                Query::Search => {
                    let name = format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
                    let filter = InboxFilter {
                        search: Some(name.to_lowercase()),
                        ..InboxFilter::default()
                    };
                    read::conversations(pool, site, &filter, InboxOrder::Newest, &first_50)
                        .await?
                        .len()
                }
                Query::Visitor => read::visitor_conversations(pool, visitor, &first_50).await?.len(),
            };
            // The first tenth warms the cache.
            if i >= QUERY_RUNS / 10 {
                record(&mut latency, t.elapsed());
            }
        }
        table.row(vec![
            name.to_owned(),
            rows.to_string(),
            fmt_ms(ms(&latency, 0.5)),
            fmt_ms(ms(&latency, 0.99)),
            fmt_ms(latency.max() as f64 / 1000.0),
        ]);
    }
    table.print();
    Ok(())
}

/// A read query of the API.
enum Query {
    LiveView,
    Online,
    Inbox(InboxFilter, InboxOrder),
    Search,
    Visitor,
}

/// Visitor first names of the seeded site (20).
const FIRST: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Klara", "Leon", "Mia", "Noah",
    "Olivia", "Paul", "Rosa", "Sam", "Tara", "Vince",
];
/// Visitor last names of the seeded site (25): 500 names in all, 200
/// conversations each.
const LAST: &[&str] = &[
    "Schmidt",
    "Meyer",
    "Weber",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Kruger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
    "Maier",
    "Fuchs",
    "Vogel",
];

/// `sessions` live sessions and `conversations` conversations of one site,
/// shaped as the projectors write them: statuses, assignees (`agent` has
/// every twentieth), providers, SLA clocks, visitor names, 20,000 visitors
/// with 5 conversations each.
async fn seed_site(
    pool: &PgPool,
    site: Uuid,
    agent: Uuid,
    sessions: usize,
    conversations: usize,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO live_sessions (session_id, site_id, visitor_id, code, code_shared, status, current_path, \
                current_title, referrer, browser, device, os, country, visitor_email, visitor_name, labels, \
                external_user_id, tabs, page_views, connected_agent, co_browsing_agent, conversation_id, \
                message_count, last_message_preview, last_message_at, started_at, last_activity_at, expires_at, \
                position) \
         SELECT gen_random_uuid(), $1, gen_random_uuid(), lpad(g::text, 6, '0'), false, \
                CASE WHEN g % 3 = 0 THEN 'idle' ELSE 'active' END, '/page/' || (g % 50), 'Page', NULL, \
                (ARRAY['Chrome','Firefox','Safari','Edge'])[g % 4 + 1], (ARRAY['desktop','mobile','tablet'])[g % 3 + 1], \
                (ARRAY['Windows','macOS','Linux','iOS','Android'])[g % 5 + 1], (ARRAY['DE','US','FR','GB'])[g % 4 + 1], \
                NULL, NULL, '[]', NULL, 1, g % 9 + 1, NULL, NULL, NULL, g % 4, NULL, NULL, \
                now() - make_interval(secs => g), now() - make_interval(secs => g / 2), \
                now() + interval '1 hour', g \
           FROM generate_series(1, $2) AS g",
    )
    .bind(site)
    .bind(sessions as i64)
    .execute(pool)
    .await
    .context("seeding live sessions")?;
    sqlx::query(
        "INSERT INTO conversations (conversation_id, site_id, visitor_id, session_id, provider, status, visitor_name, \
                visitor_email, assignee_type, assignee_id, assignee_name, taken_over_by_id, taken_over_by_name, \
                human_requested, last_message_preview, last_message_at, last_message_author, message_count, \
                note_count, unread_count, sla, sla_due_at, sla_breached, created_at, updated_at, position) \
         SELECT gen_random_uuid(), $1, md5($1::text || (g % 20000))::uuid, NULL, \
                (ARRAY['web_chat','web_chat','web_chat','facebook','api'])[g % 5 + 1], \
                (ARRAY['unread','unresolved','done','done','done'])[g % 5 + 1], \
                ($4::text[])[g % 20 + 1] || ' ' || ($5::text[])[(g % 20000 / 20) % 25 + 1], \
                lower(($4::text[])[g % 20 + 1] || '.' || ($5::text[])[(g % 20000 / 20) % 25 + 1]) || (g % 20000) \
                    || '@example.com', \
                CASE WHEN g % 4 = 0 THEN NULL ELSE 'agent' END, \
                CASE WHEN g % 4 = 0 THEN NULL WHEN g % 20 = 1 THEN $2 ELSE gen_random_uuid() END, \
                CASE WHEN g % 4 = 0 THEN NULL ELSE 'Agent' END, NULL, NULL, false, 'hello', \
                now() - make_interval(secs => g), 'visitor', 5, 0, 1, '{}', \
                CASE WHEN g % 5 < 2 THEN now() + make_interval(secs => (g * 7) % 7200 - 600) END, \
                g % 97 = 0, now() - make_interval(secs => g * 2), now() - make_interval(secs => g), g \
           FROM generate_series(1, $3) AS g",
    )
    .bind(site)
    .bind(agent)
    .bind(conversations as i64)
    .bind(FIRST)
    .bind(LAST)
    .execute(pool)
    .await
    .context("seeding conversations")?;
    // Their visitors (search finds conversations through them): 20,000,
    // named as their conversations are.
    sqlx::query(
        "INSERT INTO visitors (visitor_id, site_id, first_seen_at, email, first_name, last_name, name, labels, \
                assigned_user, external_user_id, additional_info, reset_at, conversation_count, \
                last_conversation_id, updated_at, position) \
         SELECT DISTINCT ON (visitor_id) visitor_id, site_id, created_at, visitor_email, split_part(visitor_name, ' ', 1), \
                split_part(visitor_name, ' ', 2), visitor_name, '[]', NULL, NULL, '{}', NULL, 5, conversation_id, \
                updated_at, position \
           FROM conversations WHERE site_id = $1 ORDER BY visitor_id, created_at DESC",
    )
    .bind(site)
    .execute(pool)
    .await
    .context("seeding visitors")?;
    sqlx::query("INSERT INTO live_view_sites (site_id, online) VALUES ($1, $2)")
        .bind(site)
        .bind(sessions as i32)
        .execute(pool)
        .await?;
    // As autovacuum would have by the time a site is this big.
    sqlx::query("VACUUM (ANALYZE) live_sessions, conversations, visitors")
        .execute(pool)
        .await
        .context("VACUUM after seeding")?;
    Ok(())
}
