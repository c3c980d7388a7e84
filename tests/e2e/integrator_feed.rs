//! The integrator feed (`subscription events`) over the running server:
//! a client that drops its connection at random moments while concurrent
//! writers append, and resumes with its last cursor, ends with every event
//! exactly once and in order; a client that stops reading is cut off
//! instead of buffered, and resumes; refusals come with a code.

use std::time::Duration;

use livedesk::config::WsConfig;
use livedesk_domain::{Metadata, NewEvent, Role, StreamCategory, StreamName};
use livedesk_eventstore::{EventStore, ExpectedVersion, Filter, PgEventStore};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{Fixture, Received, WsClient};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const FEED: &str = "subscription($f: EventFilter!, $after: String) { \
     events(filter: $f, after: $after) { cursor events { position streamId type siteId } } }";

/// The event type the writers of these tests append (no projector reads it).
const PROBE: &str = "IntegrationProbe";

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn probe(site: Uuid, n: u64, padding: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: PROBE.into(),
        schema_version: 1,
        payload: serde_json::value::to_raw_value(&json!({ "n": n, "padding": "x".repeat(padding) })).expect("payload"),
        metadata: Metadata {
            site_id: Some(site),
            ..Metadata::default()
        },
    }
}

/// Appends `count` probes of `site` (with `padding` bytes each) from
/// `writers` concurrent tasks, in appends of 1 to `batch` events to 40
/// streams.
async fn write_concurrently(store: &PgEventStore, site: Uuid, writers: u64, count: u64, batch: u64, padding: usize) {
    let streams: Vec<StreamName> = (0..40)
        .map(|_| StreamName::parse(&format!("conversation-{}", Uuid::now_v7())).expect("name"))
        .collect();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let streams = streams.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w + 1));
            let mut left = count / writers;
            while left > 0 {
                let n = (1 + rng.below(batch)).min(left);
                let events = (0..n).map(|i| probe(site, left - i, padding)).collect();
                let stream = &streams[rng.below(streams.len() as u64) as usize];
                store
                    .append(stream, ExpectedVersion::Any, events)
                    .await
                    .expect("append");
                left -= n;
                if rng.below(4) == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
}

/// The positions of `site`'s probes, as the store holds them.
async fn stored_probes(app: &TestApp, site: Uuid) -> Vec<u64> {
    let filter = Filter {
        event_types: vec![PROBE.into()],
        site_id: Some(site),
        ..Filter::all()
    };
    let mut positions = Vec::new();
    let mut after = 0;
    loop {
        let page = app.store.read_all(after, 10_000, &filter).await.expect("the log");
        let Some(last) = page.last() else { return positions };
        after = last.position;
        positions.extend(page.iter().map(|e| e.position));
    }
}

/// The events and cursor of a `next` push.
fn push(message: &Value) -> (Vec<u64>, String) {
    assert_eq!(message["type"], "next", "{message}");
    let events = &message["payload"]["data"]["events"];
    assert!(message["payload"]["errors"].is_null(), "{message}");
    let positions = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["position"].as_str().expect("position").parse().expect("decimal"))
        .collect::<Vec<u64>>();
    let cursor = events["cursor"].as_str().expect("cursor").to_owned();
    assert_eq!(Some(&cursor.parse::<u64>().expect("decimal")), positions.last());
    (positions, cursor)
}

async fn subscribe(app: &TestApp, token: &str, site: Uuid, after: Option<&str>) -> WsClient {
    let mut ws = WsClient::authenticated(app, token).await;
    ws.subscribe(
        "feed",
        FEED,
        json!({ "f": { "siteId": site, "types": [PROBE] }, "after": after }),
    )
    .await;
    ws
}

#[sqlx::test]
async fn an_integrator_that_drops_its_connection_at_random_gets_every_event_once_in_order(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let token = shop.token("CRM sync", Role::Integrator, None).await;
    const EVENTS: u64 = 10_000;

    let writers = {
        let store = app.store.clone();
        let (shop_site, other_site) = (shop.site, other.site);
        tokio::spawn(async move {
            let noise = write_concurrently(&store, other_site, 2, 1_000, 5, 0);
            let wanted = write_concurrently(&store, shop_site, 4, EVENTS, 5, 0);
            tokio::join!(noise, wanted);
        })
    };

    let mut rng = Rng(42);
    let mut cursor: Option<String> = None;
    let mut received: Vec<u64> = Vec::new();
    let mut reconnects = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while (received.len() as u64) < EVENTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {EVENTS} events",
            received.len()
        );
        let mut ws = subscribe(&app, &token, shop.site, cursor.as_deref()).await;
        // Drop the connection after a random number of pushes; half the
        // time the last push is lost unhandled, as in a crash.
        let pushes = 1 + rng.below(6);
        let crash = rng.below(2) == 0;
        for n in 0..pushes {
            let message = match tokio::time::timeout(Duration::from_secs(20), ws.receive()).await {
                Ok(Received::Message(message)) => message,
                Ok(Received::Closed(code)) => panic!("the server closed the feed with {code:?}"),
                Err(_) => break,
            };
            if crash && n == pushes - 1 {
                break;
            }
            let (positions, next) = push(&message);
            received.extend(positions);
            cursor = Some(next);
            if received.len() as u64 >= EVENTS {
                break;
            }
        }
        reconnects += 1;
        drop(ws);
    }
    writers.await.expect("writers");
    let stored = stored_probes(&app, shop.site).await;
    assert_eq!(stored.len() as u64, EVENTS);
    assert!(
        received.windows(2).all(|w| w[0] < w[1]),
        "positions strictly increase across {reconnects} reconnects"
    );
    assert_eq!(received, stored, "every event of the site exactly once, in order");
    assert!(reconnects > 10, "the client reconnected {reconnects} times");
}

#[sqlx::test]
async fn a_client_that_stops_reading_is_cut_off_not_buffered_and_resumes_from_its_cursor(pool: sqlx::PgPool) {
    let ws_config = WsConfig {
        send_buffer: 4,
        send_timeout_ms: 100,
        ..WsConfig::default()
    };
    let app = spawn_app_with(pool, ws_config).await;
    let shop = Fixture::new(&app).await;
    let token = shop.token("Warehouse", Role::Integrator, None).await;
    // 30,000 events of 2 KiB: 60 MiB, far more than the send buffer and the
    // sockets hold.
    const EVENTS: u64 = 30_000;
    write_concurrently(&app.store, shop.site, 2, EVENTS, 500, 2048).await;

    let mut ws = subscribe(&app, &token, shop.site, None).await;
    // Read nothing until the server has filled the sockets and the send
    // buffer, waited out the send timeout and given up on this client.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !slow_consumer_closed(&app).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never gave up on a client that reads nothing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (messages, code) = ws.raw_until_close().await;
    let mut received = Vec::new();
    let mut cursor = None;
    for message in messages.iter().filter(|m| m["type"] == "next") {
        let (positions, next) = push(message);
        received.extend(positions);
        cursor = Some(next);
    }
    assert!(
        (received.len() as u64) < EVENTS,
        "the server gave up on the client instead of buffering all {EVENTS} events"
    );
    // The close frame reaches the client if it reads again within a second
    // of the cut; later, the socket just ends. Either way it is cut off.
    assert!(matches!(code, Some(4413) | None), "closed with {code:?}");

    let mut ws = subscribe(&app, &token, shop.site, cursor.as_deref()).await;
    while (received.len() as u64) < EVENTS {
        let (positions, _) = push(&ws.message().await);
        received.extend(positions);
    }
    assert_eq!(
        received,
        stored_probes(&app, shop.site).await,
        "nothing missed, nothing twice"
    );
}

/// Whether the server has closed a connection as a slow consumer (its
/// `/metrics` say so).
async fn slow_consumer_closed(app: &TestApp) -> bool {
    let metrics = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    metrics.contains("livedesk_graphql_ws_closed_total{code=\"4413\"} 1")
}

/// The code of the error a subscription was refused with.
async fn refusal(ws: &mut WsClient) -> String {
    let message = ws.message().await;
    let errors = match message["type"].as_str() {
        Some("error") => &message["payload"],
        Some("next") => &message["payload"]["errors"],
        _ => panic!("expected a refusal, got {message}"),
    };
    errors[0]["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()
}

#[sqlx::test]
async fn the_feed_refuses_agents_other_sites_closed_periods_bad_cursors_and_categories_outside_the_scope(
    pool: sqlx::PgPool,
) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let other = Fixture::new(&app).await;
    let agent = shop.agent("Ana", Role::Agent).await;
    let integrator = shop.token("CRM", Role::Integrator, None).await;
    let outsider = other.token("CRM", Role::Integrator, None).await;
    let sessions_only = shop
        .scoped_token("Live view sync", Role::Integrator, &[StreamCategory::Session])
        .await;
    let site = json!({ "siteId": shop.site });
    let cases = [
        (&agent.token, json!({ "f": site }), "FORBIDDEN"),
        (&outsider, json!({ "f": site }), "FORBIDDEN"),
        (
            &integrator,
            json!({ "f": { "siteId": shop.site, "to": "2027-01-01T00:00:00Z" } }),
            "BAD_USER_INPUT",
        ),
        (&integrator, json!({ "f": site, "after": "-1" }), "BAD_USER_INPUT"),
        (
            &sessions_only,
            json!({ "f": { "siteId": shop.site, "categories": ["CONVERSATION"] } }),
            "FORBIDDEN",
        ),
    ];
    let before = crate::fixtures::event_count(&app).await;
    for (token, variables, expected) in cases {
        let mut ws = WsClient::authenticated(&app, token).await;
        ws.subscribe("feed", FEED, variables.clone()).await;
        assert_eq!(refusal(&mut ws).await, expected, "{variables}");
        ws.close().await;
    }
    assert_eq!(
        crate::fixtures::event_count(&app).await,
        before,
        "refusals append nothing"
    );

    // The scoped token's feed holds its categories only.
    let session = shop.start_session("FEED42").await;
    let mut ws = WsClient::authenticated(&app, &sessions_only).await;
    ws.subscribe(
        "feed",
        "subscription($f: EventFilter!) { events(filter: $f) { cursor events { streamId category } } }",
        json!({ "f": site }),
    )
    .await;
    let message = ws.message().await;
    let events = message["payload"]["data"]["events"]["events"]
        .as_array()
        .expect("events")
        .clone();
    assert!(!events.is_empty(), "{message}");
    assert!(events.iter().all(|e| e["category"] == "SESSION"), "{message}");
    assert!(
        events
            .iter()
            .any(|e| e["streamId"] == json!(format!("session-{session}")))
    );
}

/// Starts the example consumer of `docs/integrations.md` on `dir`.
fn start_consumer(app: &TestApp, token: &str, site: Uuid, dir: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_integrator_consumer"))
        .env("LIVEDESK_URL", &app.address)
        .env("LIVEDESK_TOKEN", token)
        .env("LIVEDESK_SITE", site.to_string())
        .env("LIVEDESK_CURSOR", dir.join("feed.cursor"))
        .env("LIVEDESK_OUTPUT", dir.join("events.jsonl"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the integrator_consumer binary")
}

/// The positions in the consumer's output, in file order.
fn output_positions(dir: &std::path::Path) -> Vec<u64> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("a whole JSON line");
            event["position"].as_str().expect("position").parse().expect("decimal")
        })
        .collect()
}

#[sqlx::test]
async fn the_example_consumer_killed_at_random_moments_writes_every_event_once_in_order(pool: sqlx::PgPool) {
    let app = spawn_app(pool).await;
    let shop = Fixture::new(&app).await;
    let token = shop.token("Warehouse", Role::Integrator, None).await;
    let dir = std::env::temp_dir().join(format!("livedesk-consumer-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let writers = {
        let store = app.store.clone();
        let site = shop.site;
        tokio::spawn(async move { write_concurrently(&store, site, 4, 4_000, 5, 200).await })
    };

    // SIGKILL, with no chance to finish a write: between the output's
    // fsync and the cursor's rename is as likely as anywhere else.
    let mut rng = Rng(7);
    let mut kills = 0;
    while !writers.is_finished() || kills < 4 {
        let mut consumer = start_consumer(&app, &token, shop.site, &dir);
        tokio::time::sleep(Duration::from_millis(100 + rng.below(900))).await;
        consumer.kill().await.expect("kill -9");
        kills += 1;
    }
    writers.await.expect("writers");
    let filter = Filter {
        site_id: Some(shop.site),
        ..Filter::all()
    };
    let stored: Vec<u64> = app
        .store
        .read_all(0, 100_000, &filter)
        .await
        .expect("the log")
        .iter()
        .map(|e| e.position)
        .collect();

    let mut consumer = start_consumer(&app, &token, shop.site, &dir);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut written = output_positions(&dir);
    while written.len() < stored.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        written = output_positions(&dir);
    }
    consumer.kill().await.expect("kill");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(kills >= 4, "killed {kills} times");
    let first_difference = written.iter().zip(&stored).position(|(w, s)| w != s);
    assert!(
        written.len() == stored.len() && first_difference.is_none(),
        "after {kills} kills the output should hold the site's {} events once, in position order; \
         it holds {}, first differing at line {first_difference:?}",
        stored.len(),
        written.len()
    );
}
