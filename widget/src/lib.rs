//! The visitor-facing widget API: `/widget/v1/...` (JSON over HTTP) and
//! one WebSocket per tab for live delivery. The endpoints, the visitor
//! token and the session rules are described in `docs/widget.md`.
//!
//! - [`token`]: signed visitor tokens and identity signatures.
//! - [`sites`]: the sites (widget key, settings, text blocks) folded from
//!   the log.
//! - `session`: start, resume, join, renew and end sessions.
//! - [`live`]: one tail of the log per process feeding every widget
//!   socket.
//! - `sweep` (with `livedesk_projections::liveness`): heartbeats recorded by every process; the
//!   one elected sweeper ends silent sessions and releases abandoned
//!   take-overs.
//! - [`assistant`]: the [`assistant::Responder`] trait, the built-in
//!   responder and the OpenAI-compatible adapter.

pub mod assistant;
mod body;
pub mod client;
pub mod config;
pub mod error;
pub mod limit;
pub mod live;
mod routes;
pub use routes::DEMO_WIDGET_KEY;
mod session;
pub mod sites;
mod stats;
mod sweep;
pub mod token;
pub mod view;

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use livedesk_domain::conversation::Conversation;
use livedesk_domain::session::Session;
use livedesk_domain::visitor::Visitor;
use livedesk_eventstore::{CommandService, PgEventStore, TypingRelay};
use livedesk_projections::ProjectionRuntime;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use config::{AssistantChoice, WidgetConfig};
pub use error::{WidgetError, WidgetResult};
pub use stats::Stats;

/// Aggregate states each command service keeps in memory.
const CACHE: usize = 10_000;

/// Which agents have a console connected in this process.
pub type ConsoleAgents = Arc<dyn Fn() -> Vec<Uuid> + Send + Sync>;

/// The widget API's state, shared by its routes and background tasks.
#[derive(Clone)]
pub struct Widget {
    inner: Arc<Inner>,
}

/// What [`Widget`] holds.
pub struct Inner {
    pub(crate) config: WidgetConfig,
    pub(crate) store: PgEventStore,
    pub(crate) pool: PgPool,
    pub(crate) projections: Arc<ProjectionRuntime>,
    pub(crate) sites: sites::Sites,
    pub(crate) signer: token::TokenSigner,
    pub(crate) geo: client::Geo,
    pub(crate) limiter: limit::RateLimiter,
    pub(crate) hub: live::Hub,
    pub(crate) labels: view::Labels,
    pub(crate) sessions: CommandService<PgEventStore, Session>,
    pub(crate) visitors: CommandService<PgEventStore, Visitor>,
    pub(crate) conversations: CommandService<PgEventStore, Conversation>,
    pub(crate) assistant: Option<assistant::Assistant>,
    pub(crate) stats: Stats,
    /// Typing presence between visitors and agents (not in the log).
    pub(crate) typing: TypingRelay,
    consoles: ConsoleAgents,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Widget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Widget")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Deref for Widget {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl Widget {
    /// The widget API over `store`, reading `projections`' read models;
    /// `consoles` says which agents have a console connected here; typing
    /// notices go out and come in through `typing`. Starts its background
    /// tasks (site view, live feed, typing feed, liveness, the sweep
    /// contender) on the current runtime.
    ///
    /// # Errors
    ///
    /// When the GeoIP database or the assistant's HTTP client cannot be
    /// set up.
    pub fn start(
        store: PgEventStore,
        projections: Arc<ProjectionRuntime>,
        config: WidgetConfig,
        consoles: ConsoleAgents,
        typing: TypingRelay,
    ) -> Result<Self, String> {
        let geo = client::Geo::open(config.country_header.clone(), config.geoip_db.as_deref())
            .map_err(|e| format!("opening the GeoIP database: {e}"))?;
        let responder = assistant::responder(&config.assistant)?;
        let labels = view::Labels {
            assistant_name: responder
                .as_ref()
                .map_or_else(|| "assistant".to_owned(), |r| r.name().to_owned()),
            assistant_label: config.assistant_label.clone(),
        };
        let pool = store.pool().clone();
        let widget = Self {
            inner: Arc::new(Inner {
                signer: token::TokenSigner::new(config.token_secret.clone()),
                limiter: limit::RateLimiter::new(config.rate_burst, config.rate_per_sec),
                sites: sites::Sites::new(store.clone()),
                hub: live::Hub::new(labels.clone()),
                labels,
                sessions: CommandService::new(store.clone(), CACHE),
                visitors: CommandService::new(store.clone(), CACHE),
                conversations: CommandService::new(store.clone(), CACHE),
                assistant: responder.map(assistant::Assistant::new),
                stats: Stats::default(),
                config,
                store,
                pool,
                projections,
                geo,
                consoles,
                typing,
                tasks: Mutex::new(Vec::new()),
            }),
        };
        let tasks = vec![
            widget.sites.follow(),
            tokio::spawn(widget.hub.clone().follow(widget.store.clone())),
            tokio::spawn(widget.hub.clone().follow_typing(widget.typing.subscribe())),
            tokio::spawn(sweep::touch(widget.clone())),
            tokio::spawn(sweep::contend(widget.clone())),
        ];
        *widget.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = tasks;
        Ok(widget)
    }

    /// Counters of the sweep and the assistant (also in `/metrics`).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stops the background tasks (the sweep's lock is released with its
    /// connection).
    pub async fn shutdown(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }

    /// Prometheus text of the widget's counters.
    pub fn render_metrics(&self) -> String {
        self.stats.render(self.hub.connected_sessions().len())
    }
}

/// The widget routes under `/widget/v1`, open to every origin (the script
/// runs on customers' sites).
pub fn router<S: Clone + Send + Sync + 'static>(widget: Widget) -> Router<S> {
    routes::router(widget)
}
