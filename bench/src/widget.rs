//! Scenario `widget`: many idle widget WebSockets on one server process,
//! and visitor-message-to-agent latency while some of them chat (issue 6).
//!
//! The real server (`Application::build`) runs in this process; the
//! visitors and the agent run in a child process (this binary again, with
//! `--widget-clients`, see [`clients`]), so that this process's resident
//! memory is the server's alone and the clients' is measured apart. The
//! two talk over the child's stdin and stdout, one JSON line per step.

pub mod clients;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use livedesk::config::{ServeConfig, WidgetArgs, WsConfig};
use livedesk::startup::Application;
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::{AgentId, Role, SiteId};
use livedesk_eventstore::{CommandService, EventStore, PgEventStore};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use uuid::Uuid;

use crate::Scale;
use crate::table::{Table, ms};

const WIDGET_KEY: &str = "bench-widget";
/// Fixed, so that a token printed in a log could be checked afterwards.
const TOKEN_SECRET: &str = "livedesk-bench-widget-token-secret";
/// Each sender posts once per period.
const PERIOD: Duration = Duration::from_secs(2);
/// Targets of issue 6.
const TARGET_KIB: f64 = 32.0;
const TARGET_P99_MS: f64 = 50.0;
/// Time given to the server after each step before its memory is read.
const SETTLE: Duration = Duration::from_secs(3);

/// What the child does, sent as its first stdin line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Plan {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    pub widget_key: String,
    /// An agent token of the site, for `/graphql/ws`.
    pub agent_token: String,
    pub sessions: usize,
    pub senders: usize,
    pub period_ms: u64,
    pub warmup_ms: u64,
    pub measure_ms: u64,
}

/// One stdout line of the child: a step done.
#[derive(Debug, Serialize, Deserialize)]
pub struct Step {
    /// `sessions`, `sockets` or `load`.
    pub stage: String,
    /// The child's resident memory now, KiB.
    pub client_rss_kib: u64,
    /// Sessions or sockets open.
    pub open: usize,
    /// Sockets the server closed so far.
    pub closed: usize,
    /// Filled by `load`.
    pub load: Option<LoadReport>,
}

/// What the chatting phase measured (milliseconds).
#[derive(Debug, Serialize, Deserialize)]
pub struct LoadReport {
    /// Messages posted inside the measured window.
    pub sent: u64,
    /// Of those, delivered to the agent's subscription.
    pub delivered: u64,
    /// POSTs that failed (any phase).
    pub errors: u64,
    pub post_p50: f64,
    pub post_p99: f64,
    pub deliver_p50: f64,
    pub deliver_p99: f64,
    pub deliver_p999: f64,
    pub deliver_max: f64,
}

pub async fn run(pool: &PgPool, scale: Scale, assistant: &str, senders: Option<usize>) -> anyhow::Result<()> {
    let (sessions, default_senders) = if scale.quick { (1_000, 100) } else { (10_000, 1_000) };
    let senders = senders.unwrap_or(default_senders);
    if senders > sessions {
        bail!("{senders} senders asked for, but only {sessions} sessions are opened");
    }
    let (warmup, measure) = if scale.quick {
        (Duration::from_secs(2), Duration::from_secs(5))
    } else {
        (Duration::from_secs(4), Duration::from_secs(20))
    };
    println!(
        "\n## widget\n\nThe server (`Application::build`, assistant `{assistant}`, widget rate limit out of the way) \
         runs in this process; a child process opens {sessions} widget sessions (`POST /widget/v1/sessions`) and \
         {sessions} WebSockets (`/widget/v1/ws`), then an agent subscribes to `notifications` on `/graphql/ws` and \
         {senders} of the visitors each `POST /widget/v1/messages` every {} s ({} s warm-up, {} s measured). Server \
         memory is this process's RSS growth over the step, divided by the sessions; the clients' memory is the \
         child's own and is not in it. Latency runs from just before the POST to the agent's socket reading the \
         notification, both on the child's clock.",
        PERIOD.as_secs(),
        warmup.as_secs(),
        measure.as_secs()
    );
    let needed = sessions + senders + 512;
    let limit = open_files_limit().unwrap_or(0);
    if limit < needed as u64 {
        bail!("the open files limit is {limit}, {needed} are needed: run `ulimit -n 65536` first");
    }

    let config = ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        max_event_bytes: 1024 * 1024,
        ws: WsConfig::default(),
        widget: WidgetArgs {
            token_secret: Some(TOKEN_SECRET.to_owned()),
            // Every visitor comes from this machine.
            rate_exempt: vec![std::net::Ipv4Addr::LOCALHOST.into()],
            assistant: assistant.to_owned(),
            ..WidgetArgs::default()
        },
        sla: livedesk::config::SlaArgs::default(),
        routing: livedesk::config::RoutingArgs::default(),
        console: livedesk::config::ConsoleArgs::default(),
    };
    let app = Application::build(pool.clone(), &config).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    let widget = app.state().widget.clone();
    let server = tokio::spawn(app.run_until_stopped());
    let agent_token = seed(&store).await?;
    projections
        .wait_for_all(store.head().await?, Duration::from_secs(30))
        .await?;
    tokio::time::sleep(SETTLE).await;
    let baseline = rss_kib();

    let plan = Plan {
        base,
        widget_key: WIDGET_KEY.to_owned(),
        agent_token,
        sessions,
        senders,
        period_ms: PERIOD.as_millis() as u64,
        warmup_ms: warmup.as_millis() as u64,
        measure_ms: measure.as_millis() as u64,
    };
    let result = drive(&plan, &store, &projections, baseline).await;
    server.abort();
    widget.shutdown().await;
    projections.shutdown().await;
    result
}

/// Runs the child through its steps and prints the tables.
async fn drive(
    plan: &Plan,
    store: &PgEventStore,
    projections: &std::sync::Arc<livedesk_projections::ProjectionRuntime>,
    baseline: u64,
) -> anyhow::Result<()> {
    let mut child = Clients::spawn(plan).await?;
    let mut memory = Table::new(
        format!("widget: memory, {} sessions on one process", plan.sessions),
        &[
            "step",
            "server RSS MiB",
            "growth MiB",
            "server KiB / session",
            "client process RSS MiB",
            "client KiB / session",
        ],
    );
    memory.row(vec![
        "server started, site created".into(),
        mib(baseline),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
    ]);
    let mut idle_kib = 0.0;
    let mut previous = baseline;
    for (stage, label) in [
        ("sessions", "sessions started (HTTP), no socket"),
        ("sockets", "+ one idle WebSocket each"),
    ] {
        let step = child.step(stage).await?;
        projections
            .wait_for_all(store.head().await?, Duration::from_secs(120))
            .await?;
        tokio::time::sleep(SETTLE).await;
        let rss = rss_kib();
        let n = plan.sessions as f64;
        memory.row(vec![
            format!("{label} ({} open)", step.open),
            mib(rss),
            format!("+{}", mib(rss.saturating_sub(previous))),
            format!("{:.1}", rss.saturating_sub(previous) as f64 / n),
            mib(step.client_rss_kib),
            "-".into(),
        ]);
        previous = rss;
        if stage == "sockets" {
            idle_kib = rss.saturating_sub(baseline) as f64 / n;
            memory.row(vec![
                "**idle session total (both steps)**".into(),
                mib(rss),
                format!("+{}", mib(rss.saturating_sub(baseline))),
                format!("**{idle_kib:.1}**"),
                mib(step.client_rss_kib),
                format!("{:.1}", step.client_rss_kib as f64 / n),
            ]);
        }
        child.next().await?;
    }
    // The senders' conversations are opened before the load (in the load
    // they were opened by the warm-up's first messages), so that...
    child.step("conversations").await?;
    projections
        .wait_for_all(store.head().await?, Duration::from_secs(120))
        .await?;
    child.next().await?;
    // ... what autovacuum would have done by now on a server that has run
    // for a while covers them too: statistics for the tables the sessions
    // and conversations filled, so the planner reads 100 of 10,000 rows by
    // index, not by a scan (and the projectors' prepared statements are
    // planned for tables of that size, not for empty ones).
    crate::env::settle(store.pool()).await?;
    let sampler = ProjectorSampler::start(projections);
    let step = child.step("load").await?;
    let projector_table = sampler.finish(projections).await;
    let load = step.load.context("the child reported no load numbers")?;
    let loaded = rss_kib();
    child.finish().await?;
    memory.row(vec![
        format!("after the chat load ({} sockets closed by the server)", step.closed),
        mib(loaded),
        format!("+{}", mib(loaded.saturating_sub(baseline))),
        format!("{:.1}", loaded.saturating_sub(baseline) as f64 / plan.sessions as f64),
        mib(step.client_rss_kib),
        "-".into(),
    ]);
    memory.print();

    let mut latency = Table::new(
        format!(
            "widget: visitor message → agent `notifications`, {} senders every {} s, {} idle sockets open",
            plan.senders,
            PERIOD.as_secs(),
            plan.sessions
        ),
        &[
            "messages in window",
            "delivered",
            "POST errors",
            "POST p50 ms",
            "POST p99 ms",
            "deliver p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
        ],
    );
    latency.row(vec![
        load.sent.to_string(),
        load.delivered.to_string(),
        load.errors.to_string(),
        ms(load.post_p50),
        ms(load.post_p99),
        ms(load.deliver_p50),
        format!("**{}**", ms(load.deliver_p99)),
        ms(load.deliver_p999),
        ms(load.deliver_max),
    ]);
    latency.print();
    projector_table.print();
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    println!(
        "\ntargets: idle session under {TARGET_KIB} KiB of server memory: {idle_kib:.1} KiB, {}; \
         visitor message → agent p99 under {TARGET_P99_MS} ms ({} senders): {} ms, {}{}",
        verdict(idle_kib < TARGET_KIB),
        plan.senders,
        ms(load.deliver_p99),
        verdict(load.deliver_p99 < TARGET_P99_MS && load.delivered == load.sent),
        if load.delivered == load.sent {
            String::new()
        } else {
            format!(
                " ({} of {} messages never arrived)",
                load.sent - load.delivered,
                load.sent
            )
        }
    );
    Ok(())
}

/// Watches every projector through the chat load (warm-up included): how
/// busy each one was and how far behind it fell, so that a latency that
/// grows points at the stage that cannot keep up.
struct ProjectorSampler {
    before: Vec<livedesk_projections::ProjectorStatus>,
    started: std::time::Instant,
    stop: tokio::sync::watch::Sender<bool>,
    /// Per projector: the largest `lag_ms` and `lag_events` seen.
    task: tokio::task::JoinHandle<BTreeMap<&'static str, (u64, u64)>>,
}

impl ProjectorSampler {
    fn start(projections: &std::sync::Arc<livedesk_projections::ProjectionRuntime>) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let runtime = projections.clone();
        let task = tokio::spawn(async move {
            let mut worst: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                for status in runtime.status() {
                    let entry = worst.entry(status.name).or_default();
                    entry.0 = entry.0.max(status.lag_ms);
                    entry.1 = entry.1.max(status.lag_events);
                }
            }
            worst
        });
        Self {
            before: projections.status(),
            started: std::time::Instant::now(),
            stop,
            task,
        }
    }

    async fn finish(self, projections: &livedesk_projections::ProjectionRuntime) -> Table {
        let wall = self.started.elapsed();
        let _ = self.stop.send(true);
        let worst = self.task.await.unwrap_or_default();
        let mut table = Table::new(
            format!(
                "widget: projectors during the chat load ({:.1} s, warm-up included)",
                wall.as_secs_f64()
            ),
            &[
                "projector",
                "batches",
                "events",
                "events / batch",
                "busy s",
                "busy % of wall",
                "max lag ms",
                "max lag events",
            ],
        );
        for after in projections.status() {
            let Some(before) = self.before.iter().find(|b| b.name == after.name) else {
                continue;
            };
            let batches = after.batches - before.batches;
            let events = after.events_applied - before.events_applied;
            let busy = (after.busy_ms - before.busy_ms) as f64 / 1000.0;
            let (lag_ms, lag_events) = worst.get(after.name).copied().unwrap_or_default();
            table.row(vec![
                after.name.to_owned(),
                batches.to_string(),
                events.to_string(),
                format!("{:.1}", events as f64 / batches.max(1) as f64),
                format!("{busy:.1}"),
                format!("{:.0}%", 100.0 * busy / wall.as_secs_f64()),
                lag_ms.to_string(),
                lag_events.to_string(),
            ]);
        }
        table
    }
}

/// Creates the site and an active agent; returns the agent's token.
async fn seed(store: &PgEventStore) -> anyhow::Result<String> {
    let site = Uuid::now_v7();
    let (sites, context) = crate::env::create_site(store, site, WIDGET_KEY).await?;
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 4);
    let agent = Uuid::now_v7();
    let invite = AgentCommand::Invite {
        agent_id: AgentId(agent),
        email: "agent@bench.example".into(),
        name: "Agent".into(),
        roles: BTreeMap::from([(SiteId(site), Role::Agent)]),
        at: Utc::now(),
    };
    agents
        .execute(agent, invite, &context)
        .await
        .context("inviting the agent")?;
    agents
        .execute(agent, AgentCommand::Activate { at: Utc::now() }, &context)
        .await
        .context("activating the agent")?;
    let request = TokenRequest {
        site_id: site,
        name: "bench agent".into(),
        role: Role::Agent,
        agent: Some((AgentId(agent), Role::Agent)),
        event_categories: Vec::new(),
    };
    let issued = tokens::issue(&sites, request, context.metadata.clone())
        .await
        .map_err(|e| anyhow::anyhow!("issuing the agent token: {}", e.message()))?;
    Ok(issued.secret)
}

/// The child process of clients.
struct Clients {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Clients {
    async fn spawn(plan: &Plan) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let mut child = tokio::process::Command::new(exe)
            .arg("--widget-clients")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the client process")?;
        let mut stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let line = serde_json::to_string(plan)? + "\n";
        stdin.write_all(line.as_bytes()).await?;
        stdin.flush().await?;
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
        })
    }

    /// Waits for the child to report `stage` done.
    async fn step(&mut self, stage: &str) -> anyhow::Result<Step> {
        let line = tokio::time::timeout(Duration::from_secs(600), self.stdout.next_line())
            .await
            .with_context(|| format!("the client process took over 10 minutes on {stage}"))??
            .with_context(|| format!("the client process ended before {stage} (its error is above)"))?;
        let step: Step = serde_json::from_str(&line).with_context(|| format!("client line {line:?}"))?;
        if step.stage != stage {
            bail!("the client process reported {} instead of {stage}", step.stage);
        }
        Ok(step)
    }

    /// Lets the child go on.
    async fn next(&mut self) -> anyhow::Result<()> {
        self.stdin.write_all(b"next\n").await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn finish(mut self) -> anyhow::Result<()> {
        self.next().await?;
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .context("the client process did not exit")??;
        if !status.success() {
            bail!("the client process failed: {status}");
        }
        Ok(())
    }
}

/// This process's resident memory, KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// The soft limit of open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.trim_start_matches("Max open files").split_whitespace().next()?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}
