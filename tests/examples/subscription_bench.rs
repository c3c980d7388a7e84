//! Subscription fan-out benchmark: 100 agent WebSocket connections with 10
//! `conversationEvents` subscriptions each (1,000 subscriptions) on one
//! server; visitors post messages and the time until each subscribed agent
//! receives them is measured.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//!   cargo run --release -p livedesk-tests --example subscription_bench [MESSAGES]
//! ```
//!
//! It creates (and drops) a database of its own. The server runs in this
//! process, so the memory printed includes the 100 clients: an upper bound
//! for the server.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use livedesk::config::{ServeConfig, WsConfig};
use livedesk::startup::Application;
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::conversation::{Conversation, ConversationCommand, Provider};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::{Actor, AgentId, ConversationId, MessageId, Metadata, Role, SiteId, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, EventStore, PgEventStore};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, Connection};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

const CONNECTIONS: usize = 100;
const CONVERSATIONS: usize = 10;

type Sent = Arc<Mutex<HashMap<String, Instant>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    let admin_options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let name = format!("livedesk_subbench_{}", std::process::id());
    let mut admin = admin_options.clone().connect().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let result = run(admin_options.clone().database(&name), messages).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    result
}

async fn run(options: sqlx::postgres::PgConnectOptions, messages: usize) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new().max_connections(16).connect_with(options).await?;
    livedesk_eventstore::MIGRATOR.run(&pool).await?;
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        max_event_bytes: 1024 * 1024,
        ws: WsConfig::default(),
        widget: livedesk::config::WidgetArgs::default(),
        sla: livedesk::config::SlaArgs::default(),
        routing: livedesk::config::RoutingArgs::default(),
        console: livedesk::config::ConsoleArgs::default(),
    };
    let app = Application::build(pool, &config).await?;
    let address = format!("ws://127.0.0.1:{}/graphql/ws", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    tokio::spawn(app.run_until_stopped());

    let site = Uuid::now_v7();
    let context = CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(Actor::System),
            ..Metadata::default()
        },
    };
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store.clone(), 16);
    let create = SiteCommand::Create {
        site_id: SiteId(site),
        name: "Bench".into(),
        allowed_origins: Vec::new(),
        widget_key: "benchkey1".into(),
        at: Utc::now(),
    };
    sites.execute(site, create, &context).await?;
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 16);
    let mut secrets = Vec::new();
    for i in 0..CONNECTIONS {
        let id = Uuid::now_v7();
        let invite = AgentCommand::Invite {
            agent_id: AgentId(id),
            email: format!("agent{i}@bench.example"),
            name: format!("Agent {i}"),
            roles: BTreeMap::from([(SiteId(site), Role::Agent)]),
            at: Utc::now(),
        };
        agents.execute(id, invite, &context).await?;
        let request = TokenRequest {
            site_id: site,
            name: format!("agent {i}"),
            role: Role::Agent,
            agent: Some((AgentId(id), Role::Agent)),
            event_categories: Vec::new(),
        };
        let issued = tokens::issue(&sites, request, context.metadata.clone())
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        secrets.push(issued.secret);
    }
    let chats: CommandService<PgEventStore, Conversation> = CommandService::new(store.clone(), 64);
    let mut conversations = Vec::new();
    for _ in 0..CONVERSATIONS {
        let (id, visitor) = (Uuid::now_v7(), Uuid::now_v7());
        let open = ConversationCommand::open(
            ConversationId(id),
            SiteId(site),
            VisitorId(visitor),
            None,
            Provider::WebChat,
            Utc::now(),
        );
        chats.execute(id, open, &context).await?;
        conversations.push((id, visitor));
    }
    let head = store.head().await?;
    projections.wait_for_all(head, Duration::from_secs(30)).await?;

    let sent: Sent = Arc::new(Mutex::new(HashMap::new()));
    let latencies = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(CONNECTIONS);
    for secret in &secrets {
        let client = client(
            address.clone(),
            secret.clone(),
            conversations.iter().map(|c| c.0).collect(),
            sent.clone(),
            latencies.clone(),
            ready_tx.clone(),
        );
        tokio::spawn(client);
    }
    for _ in 0..CONNECTIONS {
        ready_rx.recv().await;
    }
    let rss_idle = rss_kb();
    println!(
        "{CONNECTIONS} connections x {CONVERSATIONS} subscriptions ready; RSS {} MB",
        rss_idle / 1024
    );

    let started = Instant::now();
    for k in 0..messages {
        let (conversation, visitor) = conversations[k % CONVERSATIONS];
        let body = format!("m{k}");
        sent.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(body.clone(), Instant::now());
        let post =
            ConversationCommand::post_visitor_message(MessageId(Uuid::now_v7()), VisitorId(visitor), body, Utc::now());
        chats.execute(conversation, post, &context).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let expected = (messages * CONNECTIONS) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
        < expected
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let h = latencies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let ms = |v: u64| v as f64 / 1000.0;
    println!(
        "{messages} visitor messages in {:.1} s, {} of {expected} deliveries",
        elapsed.as_secs_f64(),
        h.len()
    );
    println!(
        "visitor message -> subscribed agent: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.95)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
    println!(
        "process memory (server and the 100 clients): RSS {} MB now, peak {} MB",
        rss_kb() / 1024,
        peak_kb() / 1024
    );
    Ok(())
}

async fn client(
    address: String,
    secret: String,
    conversations: Vec<Uuid>,
    sent: Sent,
    latencies: Arc<Mutex<Histogram<u64>>>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let mut request = address.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {secret}") } });
    socket.send(Message::Text(init.to_string().into())).await?;
    let query = "subscription($id: ID!) { conversationEvents(conversationId: $id) { snapshot \
        conversation { messageCount lastMessagePreview status } messages { body at } } }";
    let mut snapshots = 0;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else { continue };
        let value: serde_json::Value = serde_json::from_str(text.as_str())?;
        match value["type"].as_str() {
            Some("connection_ack") => {
                for (i, id) in conversations.iter().enumerate() {
                    let subscribe = json!({ "type": "subscribe", "id": i.to_string(),
                        "payload": { "query": query, "variables": { "id": id.to_string() } } });
                    socket.send(Message::Text(subscribe.to_string().into())).await?;
                }
            }
            Some("ping") => {
                socket
                    .send(Message::Text(json!({ "type": "pong" }).to_string().into()))
                    .await?
            }
            Some("next") => {
                let update = &value["payload"]["data"]["conversationEvents"];
                if update["snapshot"] == true {
                    snapshots += 1;
                    if snapshots == conversations.len() {
                        let _ = ready.send(()).await;
                    }
                    continue;
                }
                let now = Instant::now();
                for m in update["messages"].as_array().into_iter().flatten() {
                    let Some(body) = m["body"].as_str() else { continue };
                    let at = sent
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get(body)
                        .copied();
                    if let Some(at) = at {
                        let micros = now.duration_since(at).as_micros() as u64;
                        let _ = latencies
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .record(micros.max(1));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

fn peak_kb() -> u64 {
    status_kb("VmHWM:")
}
