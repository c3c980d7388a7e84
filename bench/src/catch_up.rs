//! Scenario `catch-up` (issue 8): a new integrator catching up from
//! position 0 over one site's 1,000,000 events through the `events`
//! subscription on `/graphql/ws`.
//!
//! The real server (`Application::build`) runs in this process; the
//! WebSocket client runs in a child process (this binary again, with
//! `--catch-up-client`, see [`client`]), so that this process's memory and
//! CPU time are the server's alone. The two talk over the child's stdin
//! and stdout, one JSON line each way.

pub mod client;

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use livedesk::config::{RoutingArgs, ServeConfig, SlaArgs, WidgetArgs, WsConfig};
use livedesk::startup::Application;
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::{Role, StreamCategory};
use livedesk_eventstore::{EventStore, PgEventStore};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

use crate::table::{Table, rate};
use crate::{Scale, cpu, env, events, read};

/// Catch-ups from 0, each on a fresh connection; the best counts.
const RUNS: usize = 2;

/// What the child does, sent as its stdin line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Plan {
    /// `ws://127.0.0.1:{port}/graphql/ws`.
    pub ws_url: String,
    /// An integrator token of the site.
    pub token: String,
    /// The site.
    pub site: String,
    /// Events the subscription must deliver before the child stops.
    pub expected: u64,
}

/// What the child measured, its stdout line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    /// Events received.
    pub events: u64,
    /// `next` messages received.
    pub pushes: u64,
    /// Bytes of the text frames received.
    pub bytes: u64,
    /// From `subscribe` sent to the last event received.
    pub seconds: f64,
    /// From `subscribe` sent to the first push.
    pub first_push_ms: f64,
    /// The child's CPU time over the whole run.
    pub cpu_seconds: f64,
}

/// Fills the log, starts the server, runs the catch-ups, prints the table.
pub async fn run(pool: &PgPool, scale: Scale) -> anyhow::Result<()> {
    let total = scale.read_events;
    let site = events::site(0);
    let ws = WsConfig::default();
    println!(
        "\n## catch-up\n\n`events` is filled with {} rows of one site by the `read` scenario's `INSERT ... SELECT \
         generate_series` ({} conversations of {} `MessagePosted` events, interleaved), then `VACUUM ANALYZE` and \
         `CHECKPOINT`; the projector checkpoints start at the fill's head (the read models are not measured; the SLA \
         engine and the router are off). The server (`Application::build`, default WebSocket settings: send buffer \
         {}, send timeout {} ms) runs in this process; the site and an integrator token scoped to \
         `conversation,session` are created through the command path. A child process opens `/graphql/ws`, \
         authenticates and subscribes to `events(filter: {{siteId}}, after: \"0\")` with the fields `cursor events \
         {{ position streamId streamVersion type payload actor recordedAt siteId }}`, and reads until it has every \
         event (checking that positions strictly increase and each push's cursor is its last event's). Seconds run \
         from `subscribe` to the last event. Server RSS is this process's `VmRSS` before and after, peak its \
         `VmHWM` reset through `/proc/self/clear_refs`; CPU seconds are `/proc` times over the pass.",
        rate(total as f64),
        rate((total / read::EVENTS_PER_STREAM) as f64),
        read::EVENTS_PER_STREAM,
        ws.send_buffer,
        ws.send_timeout_ms,
    );
    empty_read_models(pool).await?;
    read::fill_sites(pool, total, &[site; 4]).await?;
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(pool)
        .await?;
    for projector in livedesk_projections::all_projectors() {
        sqlx::query("INSERT INTO projector_checkpoints (name, position) VALUES ($1, $2)")
            .bind(projector.name())
            .bind(head)
            .execute(pool)
            .await
            .context("placing the projector checkpoints")?;
    }
    env::settle(pool).await?;

    let config = ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        max_event_bytes: 1024 * 1024,
        ws,
        widget: WidgetArgs::default(),
        sla: SlaArgs {
            enabled: false,
            ..SlaArgs::default()
        },
        routing: RoutingArgs {
            enabled: false,
            ..RoutingArgs::default()
        },
        console: livedesk::config::ConsoleArgs::default(),
    };
    let app = Application::build(pool.clone(), &config).await?;
    let ws_url = format!("ws://127.0.0.1:{}/graphql/ws", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    let widget = app.state().widget.clone();
    let server = tokio::spawn(app.run_until_stopped());
    let result = async {
        let token = seed(&store, site).await?;
        projections
            .wait_for_all(store.head().await?, Duration::from_secs(30))
            .await?;
        let plan = Plan {
            ws_url,
            token,
            site: site.to_string(),
            expected: total,
        };
        passes(&plan).await
    }
    .await;
    server.abort();
    widget.shutdown().await;
    projections.shutdown().await;
    result
}

/// Runs [`RUNS`] catch-ups and prints the table.
async fn passes(plan: &Plan) -> anyhow::Result<()> {
    let mut table = Table::new(
        format!(
            "catch-up: one integrator, {} events from position 0 over `/graphql/ws`",
            rate(plan.expected as f64)
        ),
        &[
            "pass",
            "events",
            "seconds",
            "events/s",
            "pushes",
            "MiB received",
            "first push ms",
            "server RSS before MiB",
            "server RSS after MiB",
            "server peak MiB",
            "CPU s: server",
            "PostgreSQL",
            "client",
        ],
    );
    let mut best = 0.0_f64;
    for pass in 1..=RUNS {
        // "5" resets VmHWM to the current RSS (Linux 4.0+).
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before = env::status_kib("VmRSS:").unwrap_or(0);
        let (server_cpu, ours) = (cpu::own_seconds(), cpu::Snapshot::now());
        let report = catch_up(plan).await.with_context(|| format!("pass {pass}"))?;
        let server = cpu::own_seconds() - server_cpu;
        let postgres = (ours.ours_seconds_since() - server).max(0.0);
        if report.events != plan.expected {
            bail!("received {} events, expected {}", report.events, plan.expected);
        }
        let per_s = report.events as f64 / report.seconds;
        best = best.max(per_s);
        table.row(vec![
            format!("pass {pass}"),
            rate(report.events as f64),
            format!("{:.2}", report.seconds),
            rate(per_s),
            format!(
                "{} ({:.0} events each)",
                rate(report.pushes as f64),
                report.events as f64 / report.pushes.max(1) as f64
            ),
            format!("{:.0}", report.bytes as f64 / 1_048_576.0),
            format!("{:.1}", report.first_push_ms),
            mib(before),
            mib(env::status_kib("VmRSS:").unwrap_or(0)),
            if reset {
                mib(env::status_kib("VmHWM:").unwrap_or(0))
            } else {
                "n/a (no reset)".into()
            },
            format!("{server:.1}"),
            format!("{postgres:.1}"),
            format!("{:.1}", report.cpu_seconds),
        ]);
    }
    table.print();
    println!("\ncatch-up from 0, best of {RUNS}: {} events/s", rate(best));
    Ok(())
}

/// One catch-up: the child connects, reads everything, reports.
async fn catch_up(plan: &Plan) -> anyhow::Result<Report> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut child = tokio::process::Command::new(exe)
        .arg("--catch-up-client")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the client process")?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    stdin
        .write_all((serde_json::to_string(plan)? + "\n").as_bytes())
        .await?;
    drop(stdin);
    let stdout = child.stdout.take().context("no stdout")?;
    let line = tokio::time::timeout(Duration::from_secs(900), BufReader::new(stdout).lines().next_line())
        .await
        .context("the client process took over 15 minutes")??
        .context("the client process ended without a report (its error is above)")?;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .context("the client process did not exit")??;
    if !status.success() {
        bail!("the client process failed: {status}");
    }
    serde_json::from_str(&line).with_context(|| format!("client line {line:?}"))
}

/// Empties the read models and their checkpoints (other scenarios leave
/// rows of their own logs behind).
async fn empty_read_models(pool: &PgPool) -> anyhow::Result<()> {
    let mut tables: Vec<&str> = vec!["projector_checkpoints", "automation_checkpoints"];
    for projector in livedesk_projections::all_projectors() {
        tables.extend(projector.tables());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {}", tables.join(", "))))
        .execute(pool)
        .await
        .context("emptying the read models")?;
    Ok(())
}

/// Creates the site the fill's events belong to and issues an integrator
/// token scoped to conversations and sessions; returns its secret.
async fn seed(store: &PgEventStore, site: Uuid) -> anyhow::Result<String> {
    let (sites, context) = crate::env::create_site(store, site, "bench-catch-up").await?;
    let request = TokenRequest {
        site_id: site,
        name: "bench integrator".into(),
        role: Role::Integrator,
        agent: None,
        event_categories: vec![StreamCategory::Conversation, StreamCategory::Session],
    };
    let issued = tokens::issue(&sites, request, context.metadata.clone())
        .await
        .map_err(|e| anyhow::anyhow!("issuing the integrator token: {}", e.message()))?;
    Ok(issued.secret)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}
