//! Typed configuration from flags and environment variables.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// Livedesk: event-sourced live chat and live view.
#[derive(Debug, Parser)]
#[command(name = "livedesk", version)]
pub struct Cli {
    /// Database settings, shared by every command.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve HTTP until stopped (Ctrl-C or SIGTERM).
    Serve(ServeConfig),
    /// Apply the embedded migrations and exit.
    Migrate,
    /// Manage the read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Issue, list and revoke API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// `livedesk tokens ...`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a token and print its secret once (stdout; details on
    /// stderr). Only its hash is stored.
    Create {
        /// The site (id) the token may see.
        #[arg(long)]
        site: uuid::Uuid,
        /// admin, supervisor, agent, analyst or integrator.
        #[arg(long)]
        role: String,
        /// The agent (email) the token acts as; needed to handle
        /// conversations. Not for integrator tokens.
        #[arg(long)]
        agent: Option<String>,
        /// What the token is for; an integrator's name signs the AI's
        /// messages.
        #[arg(long)]
        name: Option<String>,
    },
    /// Revoke a token: it stops authenticating at once.
    Revoke {
        /// The site (id) of the token.
        #[arg(long)]
        site: uuid::Uuid,
        /// The token's id (as `create` and `list` print it).
        token: uuid::Uuid,
    },
    /// List a site's tokens (never their secrets).
    List {
        /// The site (id).
        #[arg(long)]
        site: uuid::Uuid,
    },
}

/// `livedesk projections ...`.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Replay a projector (or every projector) from position 0 into shadow
    /// tables and swap them in atomically; running servers keep serving.
    Rebuild {
        /// The projector: live_view, inbox, agents, text_blocks, sla_queue,
        /// audit_log, directory. All of them when left out.
        name: Option<String>,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. The database is created if the server has none by
    /// that name.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/livedesk?sslmode=disable",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Connections in the shared pool (LISTEN connections come on top).
    #[arg(long, env = "LIVEDESK_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,
}

/// How to serve.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "LIVEDESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Largest event payload accepted, in bytes.
    #[arg(long, env = "LIVEDESK_MAX_EVENT_BYTES", default_value_t = 1024 * 1024)]
    pub max_event_bytes: usize,
    /// GraphQL WebSocket limits.
    #[command(flatten)]
    pub ws: WsConfig,
}

/// Limits of GraphQL over WebSocket (`/graphql/ws`).
#[derive(Debug, Clone, Args)]
pub struct WsConfig {
    /// Milliseconds a client has to send `connection_init` (then 4408).
    #[arg(
        long = "ws-init-timeout-ms",
        env = "LIVEDESK_WS_INIT_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub init_timeout_ms: u64,
    /// Milliseconds between server pings; two without a word close the
    /// connection (4504).
    #[arg(
        long = "ws-ping-interval-ms",
        env = "LIVEDESK_WS_PING_INTERVAL_MS",
        default_value_t = 15_000
    )]
    pub ping_interval_ms: u64,
    /// Most subscriptions on one connection.
    #[arg(
        long = "ws-max-subscriptions",
        env = "LIVEDESK_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 100
    )]
    pub max_subscriptions: usize,
    /// Messages queued for one connection before it is closed as a slow
    /// consumer (4413).
    #[arg(long = "ws-send-buffer", env = "LIVEDESK_WS_SEND_BUFFER", default_value_t = 256)]
    pub send_buffer: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            init_timeout_ms: 10_000,
            ping_interval_ms: 15_000,
            max_subscriptions: 100,
            send_buffer: 256,
        }
    }
}

impl From<&WsConfig> for livedesk_api::ApiConfig {
    fn from(ws: &WsConfig) -> Self {
        Self {
            ws_init_timeout: std::time::Duration::from_millis(ws.init_timeout_ms),
            ws_ping_interval: std::time::Duration::from_millis(ws.ping_interval_ms.max(1)),
            ws_max_subscriptions: ws.max_subscriptions,
            ws_send_buffer: ws.send_buffer,
        }
    }
}
