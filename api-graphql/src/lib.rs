//! The GraphQL API for agents, analysts and integrators.
//!
//! - [`router`]: `POST`/`GET /graphql` (GraphQL over HTTP, GraphiQL in a
//!   browser), `/graphql/ws` (graphql-transport-ws) and the CSV reports
//!   and exports under `/reports/` ([`reports`], encoded by [`csv`]).
//! - [`auth`]: API tokens (stored hashed) resolved to a principal with a
//!   site and a role; [`tokens`] issues and revokes them.
//! - [`schema`]: queries over the read models, mutations through the
//!   command service with read-your-writes, subscriptions fed by
//!   [`feed`]; the SDL is kept in `api-graphql/schema.graphql`.
//! - Reads of the read models are `livedesk_projections::read` (`reads`
//!   here); the `directory` projector (sites, teams, tokens) is one of
//!   `livedesk_projections::models`.
//! - [`error`]: the one mapping of failures to `extensions.code`.
//!
//! The decisions a client needs are in `docs/api.md`.

pub mod auth;
mod commands;
pub mod console;
pub mod consoles;
pub mod csv;
pub mod error;
pub mod feed;
pub mod reports;
pub mod schema;
pub mod tokens;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use livedesk_eventstore::{PgEventStore, TypingRelay};
use livedesk_projections::ProjectionRuntime;
use sqlx::PgPool;

pub use commands::Commands;
use livedesk_projections::read as reads;
pub use schema::ApiSchema;

/// Limits of the WebSocket transport.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a client has to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// How often the server pings; two intervals without a word close the
    /// connection.
    pub ws_ping_interval: Duration,
    /// Most subscriptions one connection runs at once.
    pub ws_max_subscriptions: usize,
    /// Messages queued for one connection; a subscription waits for room.
    pub ws_send_buffer: usize,
    /// How long a subscription waits for room in a full send buffer before
    /// the connection is closed as a slow consumer (4413).
    pub ws_send_timeout: Duration,
    /// Console sign-in.
    pub console: console::ConsoleConfig,
}

/// What resolvers and transports share.
#[derive(Debug)]
pub struct Api {
    pub(crate) pool: PgPool,
    /// The event log, for reads of the history.
    pub(crate) store: PgEventStore,
    pub(crate) commands: Commands,
    pub(crate) feed: feed::Feed,
    pub(crate) config: ApiConfig,
    pub(crate) consoles: consoles::Consoles,
    pub(crate) ws_metrics: transport::ws::WsMetrics,
    /// The one-time token of the first-run set-up.
    pub(crate) setup: console::SetupToken,
    /// Bumped when console sessions end here (sign out, everywhere): the
    /// sockets of this process authenticated by a session check theirs at
    /// once (other processes' at their next ping).
    pub(crate) sessions_ended: tokio::sync::watch::Sender<u64>,
    /// Typing presence (`setTyping`, the `typing` subscription).
    pub(crate) typing: TypingRelay,
}

/// The state of the GraphQL routes.
#[derive(Clone)]
pub struct GraphQl {
    schema: ApiSchema,
    api: Arc<Api>,
}

impl std::fmt::Debug for GraphQl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphQl").finish_non_exhaustive()
    }
}

impl GraphQl {
    /// The schema over `store`, answering mutations once `projections`
    /// show them and feeding subscriptions from their batches; typing
    /// presence goes through `typing`. Starts the feed task on the current
    /// runtime.
    pub fn new(
        store: PgEventStore,
        projections: Arc<ProjectionRuntime>,
        config: ApiConfig,
        typing: TypingRelay,
    ) -> Self {
        let pool = store.pool().clone();
        let feed = feed::Feed::start(pool.clone(), &projections);
        let api = Arc::new(Api {
            pool,
            store: store.clone(),
            commands: Commands::new(store, projections),
            feed,
            config,
            consoles: consoles::Consoles::default(),
            ws_metrics: transport::ws::WsMetrics::default(),
            setup: console::SetupToken::generate(),
            sessions_ended: tokio::sync::watch::channel(0).0,
            typing,
        });
        let schema = schema::builder().data(api.clone()).finish();
        Self { schema, api }
    }
}

impl GraphQl {
    /// Agents with a console (`/graphql/ws` with their token) connected to
    /// this process.
    pub fn console_agents(&self) -> Vec<uuid::Uuid> {
        self.api.consoles.agents()
    }

    /// The first-run set-up token of this process while no site exists
    /// (`None` once a site exists or the token was used), to print in the
    /// log.
    ///
    /// # Errors
    ///
    /// A store failure.
    pub async fn setup_token(&self) -> error::ApiResult<Option<String>> {
        if console::setup::any_site(&self.api.store).await? {
            return Ok(None);
        }
        Ok(self.api.setup.peek())
    }

    /// The console's settings (the links it prints).
    pub fn console_config(&self) -> &console::ConsoleConfig {
        &self.api.config.console
    }

    /// The API's metrics in Prometheus text format: `/graphql/ws`
    /// connections open, and closed by the server per close code.
    pub fn render_metrics(&self) -> String {
        self.api.ws_metrics.render()
    }
}

/// The GraphQL routes: `/graphql` and `/graphql/ws`, and the reports
/// beside them (`/reports/sla.csv`, `/reports/conversations.csv`,
/// `/reports/transcript.csv`).
pub fn router<S: Clone + Send + Sync + 'static>(graphql: GraphQl) -> Router<S> {
    Router::new()
        .route("/graphql", get(transport::http::get).post(transport::http::post))
        .route("/graphql/ws", get(transport::ws::upgrade))
        .route("/reports/sla.csv", get(reports::sla::sla_csv))
        .route(
            "/reports/conversations.csv",
            get(reports::conversations::conversations_csv),
        )
        .route("/reports/transcript.csv", get(reports::transcript::transcript_csv))
        .with_state(graphql.clone())
        .merge(console::router(graphql))
}
