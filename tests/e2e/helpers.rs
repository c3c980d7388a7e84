//! `spawn_app`: the server on port 0 over the test's database.

use livedesk::config::{ServeConfig, WidgetArgs, WsConfig};
use livedesk::startup::Application;
use std::sync::Arc;

use livedesk_eventstore::PgEventStore;
use livedesk_projections::ProjectionRuntime;
use sqlx::PgPool;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub store: PgEventStore,
    pub projections: Arc<ProjectionRuntime>,
    pub widget: livedesk_widget::Widget,
    pub graphql: livedesk_api::GraphQl,
    pub http: reqwest::Client,
}

/// Migrates `pool`'s database, starts the server on a free loopback port
/// and returns once it accepts connections.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, WsConfig::default()).await
}

/// [`spawn_app`] with other WebSocket limits.
pub async fn spawn_app_with(pool: PgPool, ws: WsConfig) -> TestApp {
    spawn_app_configured(pool, ws, widget_args()).await
}

/// The widget settings tests use: a known token secret, sweeps and
/// liveness records every 100 ms, no rate limit to speak of.
pub fn widget_args() -> WidgetArgs {
    WidgetArgs {
        token_secret: Some(TOKEN_SECRET.into()),
        touch_interval_ms: 100,
        sweep_interval_ms: 100,
        console_grace_ms: 60_000,
        rate_burst: 10_000,
        rate_per_sec: 10_000.0,
        ..WidgetArgs::default()
    }
}

/// The visitor-token secret of test servers.
pub const TOKEN_SECRET: &str = "e2e-visitor-token-secret";

/// [`spawn_app`] with other WebSocket and widget settings.
pub async fn spawn_app_configured(pool: PgPool, ws: WsConfig, widget: WidgetArgs) -> TestApp {
    spawn_app_with_console(pool, ws, widget, livedesk::config::ConsoleArgs::default()).await
}

/// [`spawn_app`] with other WebSocket, widget and console settings.
pub async fn spawn_app_with_console(
    pool: PgPool,
    ws: WsConfig,
    widget: WidgetArgs,
    console: livedesk::config::ConsoleArgs,
) -> TestApp {
    livedesk_eventstore::MIGRATOR.run(&pool).await.expect("migrations");
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        max_event_bytes: 1024 * 1024,
        ws,
        widget,
        sla: livedesk::config::SlaArgs::default(),
        routing: livedesk::config::RoutingArgs::default(),
        console,
    };
    let app = Application::build(pool, &config).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    let widget = app.state().widget.clone();
    let graphql = app.state().graphql.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        store,
        projections,
        widget,
        graphql,
        http: reqwest::Client::new(),
    }
}

/// Runs `tests/browser/{script}` with node and `env`, waits up to `limit`
/// and returns what it printed; panics with its output when it failed.
/// The scripts need `npm ci` in `tests/browser` and Debian's Chromium
/// (`scripts/browser.sh`).
pub async fn run_browser_script(script: &str, env: &[(&str, String)], limit: std::time::Duration) -> String {
    let path = format!("{}/browser/{script}", env!("CARGO_MANIFEST_DIR"));
    let run = tokio::process::Command::new("node")
        .arg(&path)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("{script} finished within {limit:?}"))
        .expect("node runs (is Node.js installed, and `npm ci` done in tests/browser?)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}
