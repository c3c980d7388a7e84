//! Building and running the application.

use std::sync::Arc;

use anyhow::Context;
use livedesk_eventstore::{Limits, PgEventStore, PgStoreConfig, TypingRelay};
use livedesk_projections::{ProjectionRuntime, RuntimeConfig};
use sqlx::PgPool;
use tokio::net::TcpListener;

use livedesk_api::GraphQl;
use livedesk_automation::{Router, SlaEngine, SystemClock};
use livedesk_widget::Widget;

use crate::config::{DatabaseConfig, ServeConfig};
use crate::database;
use crate::http::{AppState, router};

/// A built server: bound to its port, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The SLA engine of this process, unless turned off.
    sla: Option<Arc<SlaEngine>>,
    /// The router of this process, unless turned off.
    router: Option<Arc<Router>>,
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
        let projections = Arc::new(ProjectionRuntime::start(
            store.clone(),
            livedesk_projections::all_projectors(),
            RuntimeConfig::default(),
        ));
        let mut api_config = config.api_config();
        if config.console.public_url.is_none() {
            let mut local = listener.local_addr().context("reading the bound address")?;
            if local.ip().is_unspecified() {
                local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            api_config.console.public_url = format!("http://{local}");
        }
        // One LISTEN for typing per process, shared by the API and the widget.
        let typing = TypingRelay::start(store.pool());
        let graphql = GraphQl::new(store.clone(), projections.clone(), api_config, typing.clone());
        let consoles = graphql.clone();
        let widget = Widget::start(
            store.clone(),
            projections.clone(),
            config.widget.to_config()?,
            Arc::new(move || consoles.console_agents()),
            typing,
        )
        .map_err(|e| anyhow::anyhow!(e))
        .context("starting the widget API")?;
        let sla = config.sla.enabled.then(|| {
            Arc::new(SlaEngine::start(
                store.clone(),
                Arc::new(SystemClock),
                config.sla.to_config(),
            ))
        });
        let router = config.routing.enabled.then(|| {
            Arc::new(Router::start(
                store.clone(),
                Arc::new(SystemClock),
                config.routing.to_config(),
            ))
        });
        let console = crate::console::ConsoleAssets::load(&config.console.dir)
            .with_context(|| format!("reading the console from {}", config.console.dir.display()))?;
        Ok(Self {
            listener,
            sla,
            router,
            state: AppState {
                store,
                projections,
                graphql,
                widget,
                console,
            },
        })
    }

    /// Prints the first-run set-up link while no site exists (a new
    /// database): the console's set-up screen asks for its token.
    pub async fn announce_setup(&self) {
        match self.state.graphql.setup_token().await {
            Ok(Some(token)) => {
                let base = self
                    .state
                    .graphql
                    .console_config()
                    .public_url
                    .trim_end_matches('/')
                    .to_owned();
                tracing::info!("no site exists yet: set Livedesk up at {base}/console/setup?token={token}");
                eprintln!(
                    "\nNo site exists yet. Set Livedesk up in the console:\n  {base}/console/setup?token={token}\n\
                     (or from the command line: livedesk sites create --name \"My shop\")\n"
                );
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error.message(), "could not tell whether a site exists"),
        }
    }

    /// The port it listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// What handlers share.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The projector runtime (status, metrics, changes, `wait_for`).
    pub fn projections(&self) -> &ProjectionRuntime {
        &self.state.projections
    }

    /// The SLA engine of this process (`None` when turned off).
    pub fn sla_engine(&self) -> Option<&SlaEngine> {
        self.sla.as_deref()
    }

    /// The router of this process (`None` when turned off).
    pub fn router(&self) -> Option<&Router> {
        self.router.as_deref()
    }

    /// Serves until Ctrl-C or SIGTERM, then stops the SLA engine, the
    /// router and the projectors.
    ///
    /// # Errors
    ///
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let projections = self.state.projections.clone();
        let widget = self.state.widget.clone();
        let (sla, routing) = (self.sla, self.router);
        let app = router(self.state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        widget.shutdown().await;
        if let Some(sla) = &sla {
            sla.shutdown().await;
        }
        if let Some(routing) = &routing {
            routing.shutdown().await;
        }
        // WebSocket tasks may still hold the runtime: stop it through this
        // handle rather than waiting to be the last one.
        projections.shutdown().await;
        served?;
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
    app.announce_setup().await;
    app.run_until_stopped().await
}

/// `livedesk projections rebuild [NAME]`.
///
/// # Errors
///
/// When the name is unknown, the database is unreachable or an event fails.
pub async fn rebuild_projections(database: &DatabaseConfig, name: Option<&str>) -> anyhow::Result<()> {
    let projectors: Vec<_> = livedesk_projections::all_projectors()
        .into_iter()
        .filter(|p| name.is_none_or(|n| p.name() == n))
        .collect();
    if projectors.is_empty() {
        let known: Vec<_> = livedesk_projections::all_projectors()
            .iter()
            .map(|p| p.name())
            .collect();
        anyhow::bail!(
            "no projector is named {:?}; known: {}",
            name.unwrap_or_default(),
            known.join(", ")
        );
    }
    let pool = database::connect_and_migrate(database).await?;
    let store = PgEventStore::new(pool, PgStoreConfig::default());
    // Every named projector in one pass over the log.
    let reports = livedesk_projections::rebuild_all(&store, &projectors)
        .await
        .context("rebuilding the read models")?;
    for report in reports {
        let secs = report.elapsed.as_secs_f64();
        println!(
            "{}: {} events in {secs:.1} s ({:.0} events/s), checkpoint {}",
            report.projector,
            report.events,
            report.events as f64 / secs.max(1e-9),
            report.position
        );
    }
    Ok(())
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
