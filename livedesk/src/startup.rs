//! Building and running the application.

use anyhow::Context;
use livedesk_eventstore::{Limits, PgEventStore, PgStoreConfig};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::{DatabaseConfig, ServeConfig};
use crate::database;
use crate::http::{AppState, router};

/// A built server: bound to its port, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds `config.bind` and wires the store over `pool` (already
    /// migrated).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn build(pool: PgPool, config: &ServeConfig) -> anyhow::Result<Self> {
        let limits = Limits {
            max_event_bytes: config.max_event_bytes,
            ..Limits::default()
        };
        let store = PgEventStore::new(
            pool,
            PgStoreConfig {
                limits,
                ..PgStoreConfig::default()
            },
        );
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        Ok(Self {
            listener,
            state: AppState { store },
        })
    }

    /// The port it listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// What handlers share.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    ///
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }
}

/// `livedesk serve`.
///
/// # Errors
///
/// When the database is unreachable or the address cannot be bound.
pub async fn serve(database: &DatabaseConfig, config: &ServeConfig) -> anyhow::Result<()> {
    let pool = database::connect_and_migrate(database).await?;
    let app = Application::build(pool, config).await?;
    tracing::info!(address = %config.bind, port = app.port(), "livedesk serving");
    app.run_until_stopped().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
