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
}

/// `livedesk projections ...`.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Replay a projector (or every projector) from position 0 into shadow
    /// tables and swap them in atomically; running servers keep serving.
    Rebuild {
        /// The projector: live_view, inbox, agents, text_blocks, sla_queue,
        /// audit_log. All of them when left out.
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
}
