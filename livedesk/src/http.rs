//! Routers of the areas served so far: health, metrics, GraphQL (with the
//! console's sign-in), the widget API and the console's files.

use std::fmt::Write;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

use livedesk_api::GraphQl;
use livedesk_eventstore::PgEventStore;
use livedesk_projections::ProjectionRuntime;

/// What every handler may use.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The event store (and through it the pool).
    pub store: PgEventStore,
    /// The projectors keeping the read models.
    pub projections: Arc<ProjectionRuntime>,
    /// The GraphQL API.
    pub graphql: GraphQl,
    /// The widget API.
    pub widget: livedesk_widget::Widget,
    /// The built agent console.
    pub console: crate::console::ConsoleAssets,
}

/// Every route, merged in one place.
pub fn router(state: AppState) -> Router {
    let graphql = state.graphql.clone();
    let widget = state.widget.clone();
    let console = state.console.clone();
    Router::new()
        .merge(health())
        .merge(metrics())
        .with_state(state)
        .merge(livedesk_api::router(graphql))
        .merge(livedesk_widget::router(widget))
        .merge(crate::console::router(console))
}

fn health() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

fn metrics() -> Router<AppState> {
    Router::new().route("/metrics", get(render_metrics))
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("SELECT 1").execute(state.store.pool()).await {
        Ok(_) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database unavailable" })),
            )
        }
    }
}

/// Prometheus text exposition.
async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    state.store.metrics().render(&mut out);
    out.push_str(&state.projections.render_metrics());
    out.push_str(&state.widget.render_metrics());
    out.push_str(&state.graphql.render_metrics());
    let pool = state.store.pool();
    let _ = writeln!(
        out,
        "# HELP livedesk_db_pool_connections Open connections in the shared pool."
    );
    let _ = writeln!(
        out,
        "# TYPE livedesk_db_pool_connections gauge\nlivedesk_db_pool_connections {}",
        pool.size()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
