//! `spawn_app`: the server on port 0 over the test's database.

use livedesk::config::{ServeConfig, WsConfig};
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
    pub http: reqwest::Client,
}

/// Migrates `pool`'s database, starts the server on a free loopback port
/// and returns once it accepts connections.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, WsConfig::default()).await
}

/// [`spawn_app`] with other WebSocket limits.
pub async fn spawn_app_with(pool: PgPool, ws: WsConfig) -> TestApp {
    livedesk_eventstore::MIGRATOR.run(&pool).await.expect("migrations");
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        max_event_bytes: 1024 * 1024,
        ws,
    };
    let app = Application::build(pool, &config).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let projections = app.state().projections.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        store,
        projections,
        http: reqwest::Client::new(),
    }
}
