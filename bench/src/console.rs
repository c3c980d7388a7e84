//! Scenario `console`: the agent console of issue 19 in a real headless
//! Chromium, against a real server holding a large site.
//!
//! The server (`Application::build`, serving the built console from
//! `console/dist`) runs in this process on a fresh database. The scenario
//! seeds one site through the command path, as the widget and an admin
//! would: 10,000 conversations (a visitor, `Open`, one visitor message
//! each), 1,000 live sessions, and an agent with a console password. Then
//! it runs `tests/browser/console-perf.mjs` (Node.js + playwright-core +
//! `/usr/bin/chromium`), which signs in and measures the first load, the
//! inbox and the Live View scrolled under 50 updates/s, and visitor
//! message → visible in the agent's open conversation.
//!
//! The updates are driven from here, when the script asks for them on its
//! stdout (`@@load inbox`, `@@load live`, `@@load stop`): new visitor
//! messages to random seeded conversations (the inbox) or page views of
//! random seeded sessions (the Live View), through the command service as
//! the widget writes them, paced at 50 per second. The script's own
//! visitor (for the latency) goes through the widget's HTTP API.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use futures::StreamExt;
use livedesk::config::{ServeConfig, WidgetArgs, WsConfig};
use livedesk::startup::Application;
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::conversation::{Conversation, ConversationCommand, Provider};
use livedesk_domain::session::{ClientInfo, DeviceClass, Session, SessionCode, SessionCommand};
use livedesk_domain::visitor::{Visitor, VisitorCommand};
use livedesk_domain::{Actor, AgentId, ConversationId, MessageId, Metadata, Role, SessionId, SiteId, VisitorId};
use livedesk_eventstore::{CommandContext, CommandService, EventStore, PgEventStore};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

use crate::Scale;
use crate::load::{drive, histogram, ms as quantile_ms, record};
use crate::table::{Table, ms};

const WIDGET_KEY: &str = "bench-console";
const TOKEN_SECRET: &str = "livedesk-bench-console-token-secret";
const AGENT_EMAIL: &str = "agent@bench.example";
const AGENT_PASSWORD: &str = "bench-console-password";
/// Updates per second while the lists are scrolled (issue 19).
const UPDATES_PER_S: u64 = 50;
/// Commands in flight while seeding.
const SEEDERS: usize = 24;

/// The seeded site.
struct Seeded {
    site: Uuid,
    /// (conversation, visitor) of every seeded conversation.
    conversations: Vec<(Uuid, Uuid)>,
    sessions: Vec<Uuid>,
}

pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    let (conversations, sessions) = if scale.quick { (1_000, 100) } else { (10_000, 1_000) };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("tests/browser/console-perf.mjs");
    let console_dir = std::path::PathBuf::from(livedesk::config::DEFAULT_CONSOLE_DIR);
    if !console_dir.join("index.html").exists() {
        bail!(
            "the console is not built ({} is missing): run scripts/console.sh",
            console_dir.display()
        );
    }
    if !root.join("tests/browser/node_modules/playwright-core").exists() {
        bail!("tests/browser/node_modules is missing: run `npm ci` in tests/browser");
    }
    println!(
        "\n## console\n\nThe server (`Application::build`, builtin assistant, widget rate limit exempt for 127.0.0.1, \
         the built console from `console/dist`) runs in this process. One site is seeded through the command \
         service: {conversations} conversations (visitor first seen, `Open`, one visitor message each) and \
         {sessions} live sessions, and an agent with a console password. `tests/browser/console-perf.mjs` then \
         drives headless Chromium (`/usr/bin/chromium`, 1440x900): a cold first load of the inbox, the inbox and \
         the Live View paged through and scrolled while this process writes {UPDATES_PER_S} updates/s (visitor \
         messages to random conversations; page views of random sessions), and visitor message (widget HTTP API) \
         → visible in the agent's open conversation."
    );

    raw_baseline(pool, scale).await?;

    let config = ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        max_event_bytes: 1024 * 1024,
        ws: WsConfig::default(),
        widget: WidgetArgs {
            token_secret: Some(TOKEN_SECRET.to_owned()),
            rate_exempt: vec![std::net::Ipv4Addr::LOCALHOST.into()],
            ..WidgetArgs::default()
        },
        sla: livedesk::config::SlaArgs::default(),
        routing: livedesk::config::RoutingArgs::default(),
        console: livedesk::config::ConsoleArgs {
            dir: console_dir,
            ..livedesk::config::ConsoleArgs::default()
        },
    };
    let app = Application::build(pool.clone(), &config).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    let widget = app.state().widget.clone();
    let server = tokio::spawn(app.run_until_stopped());

    let result = async {
        let t = Instant::now();
        let seeded = seed(&store, conversations, sessions).await?;
        let appended = t.elapsed();
        projections
            .wait_for_all(store.head().await?, Duration::from_secs(300))
            .await?;
        println!(
            "\nseed: {} conversations and {} sessions through the command path in {:.1} s, read models caught up \
             {:.1} s later",
            seeded.conversations.len(),
            seeded.sessions.len(),
            appended.as_secs_f64(),
            t.elapsed().saturating_sub(appended).as_secs_f64()
        );
        crate::env::settle(store.pool()).await?;
        browse(&base, &store, &seeded, &script).await
    }
    .await;
    server.abort();
    widget.shutdown().await;
    projections.shutdown().await;
    result
}

/// One writer's plain `INSERT` latency on this machine, for reading the
/// end-to-end latency against.
async fn raw_baseline(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    crate::events::create_raw_table(pool).await?;
    let pool2 = pool.clone();
    let raw = drive(1, scale, move |worker, _| {
        let pool = pool2.clone();
        async move {
            let stream = crate::events::new_stream()?;
            let batch = crate::events::messages(worker as u64, 1)?;
            crate::events::raw_insert(&pool, &stream, 0, &batch[0]).await?;
            Ok(1)
        }
    })
    .await?;
    sqlx::query("DROP TABLE raw_events").execute(pool).await?;
    println!(
        "\nraw PostgreSQL baseline (one autocommitted INSERT per transaction, 1 client): {:.0} rows/s, p50 {} ms, \
         p99 {} ms",
        raw.events_per_s(),
        ms(raw.p50()),
        ms(raw.p99())
    );
    Ok(())
}

fn context(site: Uuid, actor: Actor) -> CommandContext {
    CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(actor),
            ..Metadata::default()
        },
    }
}

/// A small deterministic generator (no `rand` in this crate).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PATHS: [&str; 6] = [
    "/",
    "/pricing",
    "/docs/getting-started",
    "/blog/launch",
    "/checkout",
    "/account",
];
const BROWSERS: [(&str, DeviceClass, &str); 3] = [
    ("Firefox 131", DeviceClass::Desktop, "Linux"),
    ("Chrome 130", DeviceClass::Desktop, "Windows 11"),
    ("Safari 18", DeviceClass::Mobile, "iOS 18"),
];
const COUNTRIES: [&str; 5] = ["SI", "DE", "US", "FR", "JP"];

async fn seed(store: &PgEventStore, conversations: usize, sessions: usize) -> anyhow::Result<Seeded> {
    let site = Uuid::now_v7();
    let (_sites, system) = crate::env::create_site(store, site, WIDGET_KEY).await?;
    // The agent, with a console password (as tests/e2e's fixtures set it).
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 4);
    let agent = Uuid::now_v7();
    let invite = AgentCommand::Invite {
        agent_id: AgentId(agent),
        email: AGENT_EMAIL.into(),
        name: "Ana".into(),
        roles: BTreeMap::from([(SiteId(site), Role::Agent)]),
        at: Utc::now(),
    };
    agents
        .execute(agent, invite, &system)
        .await
        .context("inviting the agent")?;
    agents
        .execute(agent, AgentCommand::Activate { at: Utc::now() }, &system)
        .await
        .context("activating the agent")?;
    livedesk_api::console::password::set(store.pool(), &agents, agent, AGENT_PASSWORD.to_owned(), &system)
        .await
        .map_err(|e| anyhow::anyhow!("setting the password: {}", e.message()))?;

    // Live sessions.
    let session_ids: Vec<Uuid> = (0..sessions).map(|_| Uuid::now_v7()).collect();
    let service: Arc<CommandService<PgEventStore, Session>> = Arc::new(CommandService::new(store.clone(), 1024));
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let starts: Vec<(Uuid, SessionCommand)> = session_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let (browser, device, os) = BROWSERS[i % BROWSERS.len()];
            let command = SessionCommand::Start {
                session_id: SessionId(id),
                site_id: SiteId(site),
                visitor_id: VisitorId(Uuid::now_v7()),
                tab_id: "tab-1".into(),
                client: ClientInfo {
                    browser: browser.into(),
                    device,
                    os: os.into(),
                    country: Some(COUNTRIES[i % COUNTRIES.len()].into()),
                    languages: Vec::new(),
                },
                entry_path: PATHS[i % PATHS.len()].into(),
                referrer: None,
                code: SessionCode::from_random(rng.next()),
                max_duration_secs: 3600,
                at: Utc::now(),
            };
            (id, command)
        })
        .collect();
    let ctx = context(site, Actor::System);
    futures::stream::iter(starts)
        .map(|(id, command)| {
            let service = service.clone();
            let ctx = ctx.clone();
            async move { service.execute(id, command, &ctx).await.map(|_| ()) }
        })
        .buffer_unordered(SEEDERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map_err(|e| anyhow::anyhow!("starting a session: {e}"))?;

    // Conversations: a visitor, the chat, its first message.
    let visitors: Arc<CommandService<PgEventStore, Visitor>> = Arc::new(CommandService::new(store.clone(), 16));
    let chats: Arc<CommandService<PgEventStore, Conversation>> = Arc::new(CommandService::new(store.clone(), 16_384));
    let pairs: Vec<(Uuid, Uuid)> = (0..conversations).map(|_| (Uuid::now_v7(), Uuid::now_v7())).collect();
    futures::stream::iter(pairs.iter().copied().enumerate())
        .map(|(i, (conversation, visitor))| {
            let visitors = visitors.clone();
            let chats = chats.clone();
            async move {
                let ctx = context(site, Actor::Visitor(visitor));
                let seen = VisitorCommand::FirstSeen {
                    visitor_id: VisitorId(visitor),
                    site_id: SiteId(site),
                    at: Utc::now(),
                };
                visitors
                    .execute(visitor, seen, &ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("visitor: {e}"))?;
                let open = ConversationCommand::open(
                    ConversationId(conversation),
                    SiteId(site),
                    VisitorId(visitor),
                    None,
                    Provider::WebChat,
                    Utc::now(),
                );
                chats
                    .execute(conversation, open, &ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("open: {e}"))?;
                let text = format!("Hello, question number {i} about my order");
                let message = ConversationCommand::post_visitor_message(
                    MessageId(Uuid::now_v7()),
                    VisitorId(visitor),
                    text,
                    Utc::now(),
                );
                chats
                    .execute(conversation, message, &ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("message: {e}"))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(SEEDERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    Ok(Seeded {
        site,
        conversations: pairs,
        sessions: session_ids,
    })
}

/// The updates the script asks for: which list, how many went out.
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    latency: tokio::task::JoinHandle<hdrhistogram::Histogram<u64>>,
    started: Instant,
    what: &'static str,
}

impl Load {
    fn start(what: &'static str, store: &PgEventStore, seeded: &Seeded) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let chats: Arc<CommandService<PgEventStore, Conversation>> =
            Arc::new(CommandService::new(store.clone(), 16_384));
        let sessions: Arc<CommandService<PgEventStore, Session>> = Arc::new(CommandService::new(store.clone(), 1024));
        let site = seeded.site;
        let conversations = seeded.conversations.clone();
        let session_ids = seeded.sessions.clone();
        let mut latencies = histogram()?;
        let (stop2, sent2, errors2) = (stop.clone(), sent.clone(), errors.clone());
        let latency = tokio::spawn(async move {
            let mut rng = XorShift(0x2545_f491_4f6c_dd1d ^ u64::from(what.len() as u8));
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / UPDATES_PER_S));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Option<Duration>>();
            let mut n = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                tick.tick().await;
                n += 1;
                sent2.fetch_add(1, Ordering::Relaxed);
                let done = done_tx.clone();
                if what == "inbox" {
                    let (conversation, visitor) = conversations[rng.below(conversations.len())];
                    let chats = chats.clone();
                    tokio::spawn(async move {
                        let t = Instant::now();
                        let ctx = context(site, Actor::Visitor(visitor));
                        let message = ConversationCommand::post_visitor_message(
                            MessageId(Uuid::now_v7()),
                            VisitorId(visitor),
                            format!("update {n}: is anyone there?"),
                            Utc::now(),
                        );
                        let ok = chats.execute(conversation, message, &ctx).await.is_ok();
                        let _ = done.send(ok.then(|| t.elapsed()));
                    });
                } else {
                    let session = session_ids[rng.below(session_ids.len())];
                    let sessions = sessions.clone();
                    let path = format!("{}?v={n}", PATHS[rng.below(PATHS.len())]);
                    tokio::spawn(async move {
                        let t = Instant::now();
                        let ctx = context(site, Actor::System);
                        let view = SessionCommand::ViewPage {
                            path,
                            title: None,
                            at: Utc::now(),
                        };
                        let ok = sessions.execute(session, view, &ctx).await.is_ok();
                        let _ = done.send(ok.then(|| t.elapsed()));
                    });
                }
                while let Ok(result) = done_rx.try_recv() {
                    match result {
                        Some(d) => record(&mut latencies, d),
                        None => {
                            errors2.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            drop(done_tx);
            while let Ok(Some(result)) = tokio::time::timeout(Duration::from_secs(5), done_rx.recv()).await {
                match result {
                    Some(d) => record(&mut latencies, d),
                    None => {
                        errors2.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        });
        Ok(Self {
            stop,
            sent,
            errors,
            latency,
            started: Instant::now(),
            what,
        })
    }

    async fn finish(self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let wall = self.started.elapsed().as_secs_f64();
        let latencies = self.latency.await.ok();
        let sent = self.sent.load(Ordering::Relaxed);
        format!(
            "{} load: {sent} updates in {wall:.1} s ({:.1}/s), {} failed, command p50 {} ms p99 {} ms",
            self.what,
            sent as f64 / wall.max(1e-9),
            self.errors.load(Ordering::Relaxed),
            latencies
                .as_ref()
                .map_or_else(|| "-".into(), |h| ms(quantile_ms(h, 0.5))),
            latencies
                .as_ref()
                .map_or_else(|| "-".into(), |h| ms(quantile_ms(h, 0.99))),
        )
    }
}

/// Runs the browser script, serving its load requests; prints its results.
async fn browse(base: &str, store: &PgEventStore, seeded: &Seeded, script: &std::path::Path) -> anyhow::Result<()> {
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .env("LIVEDESK_URL", base)
        .env("SITE_ID", seeded.site.to_string())
        .env("WIDGET_KEY", WIDGET_KEY)
        .env("AGENT_EMAIL", AGENT_EMAIL)
        .env("AGENT_PASSWORD", AGENT_PASSWORD)
        .env("CONVERSATIONS", seeded.conversations.len().to_string())
        .env("SESSIONS", seeded.sessions.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start node (is Node.js installed?)")?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut load: Option<Load> = None;
    let mut results: Vec<String> = Vec::new();
    let mut loads: Vec<String> = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(900), lines.next_line())
            .await
            .context("the browser script printed nothing for 15 minutes")??;
        let Some(line) = line else { break };
        if let Some(what) = line.strip_prefix("@@load ") {
            if let Some(running) = load.take() {
                loads.push(running.finish().await);
            }
            match what.trim() {
                "inbox" => load = Some(Load::start("inbox", store, seeded)?),
                "live" => load = Some(Load::start("live", store, seeded)?),
                _ => {}
            }
            stdin.write_all(b"ok\n").await?;
            stdin.flush().await?;
            continue;
        }
        println!("{line}");
        if line.starts_with("perf ") || line.starts_with("visitor message") {
            results.push(line);
        }
    }
    if let Some(running) = load.take() {
        loads.push(running.finish().await);
    }
    let status = child.wait().await?;
    let mut table = Table::new("console: the load this process wrote", &["load"]);
    for l in loads {
        table.row(vec![l]);
    }
    table.print();
    println!("\n### console: results\n");
    for r in &results {
        println!("    {r}");
    }
    if !status.success() {
        bail!("the browser script failed: {status}");
    }
    Ok(())
}
