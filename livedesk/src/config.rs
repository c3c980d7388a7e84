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
    Serve(Box<ServeConfig>),
    /// Serve with a demo site ("Demo Shop", widget key `demo-shop`), two agents
    /// whose fresh tokens are printed, and simulated visitors.
    Demo {
        /// Simulated visitors at any time.
        #[arg(long, env = "LIVEDESK_DEMO_VISITORS", default_value_t = 25)]
        visitors: usize,
        /// How to serve.
        #[command(flatten)]
        serve: Box<ServeConfig>,
    },
    /// Apply the embedded migrations and exit.
    Migrate,
    /// Manage the read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Issue, list and revoke API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Invite people to the console.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Create sites.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// Read the event log.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Write the CSV exports of `/reports/` from the database.
    #[command(subcommand)]
    Reports(ReportsCommand),
}

/// `livedesk agents ...`.
#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Invite a person to a site's console with a role, and print the
    /// one-time link (valid seven days) where they set their password.
    Invite {
        /// The site (id).
        #[arg(long)]
        site: uuid::Uuid,
        /// Their email (what they sign in with).
        #[arg(long)]
        email: String,
        /// admin, supervisor, agent or analyst.
        #[arg(long)]
        role: String,
        /// Their name (the first display name); the email's local part
        /// when left out.
        #[arg(long)]
        name: Option<String>,
        /// The address people open Livedesk at, for the link.
        #[arg(
            long = "public-url",
            env = "LIVEDESK_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

/// `livedesk sites ...`.
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Create a site and print its id, its widget key and a one-time link
    /// (valid seven days) for its first admin, who names themselves and
    /// sets a password there.
    Create {
        /// Its name ("Acme Shop").
        #[arg(long)]
        name: String,
        /// The widget's public key (8-128 characters of A-Za-z0-9_-);
        /// made from the name when left out.
        #[arg(long = "widget-key")]
        widget_key: Option<String>,
        /// The address people open Livedesk at, for the link.
        #[arg(
            long = "public-url",
            env = "LIVEDESK_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

/// `livedesk reports ...`: the same bytes as `/reports/...`.
#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// A conversation's transcript, internal notes included
    /// (`at,author_type,author,internal,body,attachments`).
    Transcript {
        /// The conversation (id).
        #[arg(long)]
        conversation: uuid::Uuid,
        /// The file to write (created or truncated); stdout when left out.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// One line per conversation a site opened in `[from, to)`, with its
    /// status, assignee, times and SLA results.
    Conversations {
        /// The site (id).
        #[arg(long)]
        site: uuid::Uuid,
        /// Conversations opened at or after this RFC 3339 instant.
        #[arg(long, value_parser = crate::export::parse_instant)]
        from: chrono::DateTime<chrono::Utc>,
        /// Conversations opened before this RFC 3339 instant.
        #[arg(long, value_parser = crate::export::parse_instant)]
        to: chrono::DateTime<chrono::Utc>,
        /// The file to write (created or truncated); stdout when left out.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

/// `livedesk events ...`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Write a site's events, in position order, as JSON Lines or CSV, in
    /// constant memory; a summary line goes to stderr.
    Export(ExportArgs),
}

/// `livedesk events export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The site (id) whose events are exported.
    #[arg(long)]
    pub site: uuid::Uuid,
    /// Only events recorded at or after this RFC 3339 instant
    /// (2026-01-31T00:00:00Z).
    #[arg(long, value_parser = crate::export::parse_instant)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events recorded before this RFC 3339 instant.
    #[arg(long, value_parser = crate::export::parse_instant)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// jsonl (one JSON object per line) or csv (RFC 4180, with a header).
    #[arg(long, value_enum)]
    pub format: crate::export::Format,
    /// The file to write (created or truncated); stdout when left out.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

/// A stream category named on the command line.
fn parse_category(name: &str) -> Result<livedesk_domain::StreamCategory, String> {
    livedesk_domain::StreamCategory::parse(name)
        .ok_or_else(|| format!("{name:?} is not one of site, agent, visitor, session, conversation"))
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
        /// Limit the token's history reads (events, stream, auditLog, the
        /// events subscription) to these stream categories: site, agent,
        /// visitor, session, conversation (comma separated). All when
        /// left out.
        #[arg(long, value_delimiter = ',', value_parser = parse_category)]
        categories: Vec<livedesk_domain::StreamCategory>,
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
        /// sla_results, audit_log, directory. All of them when left out.
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
    /// The widget API.
    #[command(flatten)]
    pub widget: WidgetArgs,
    /// The SLA engine.
    #[command(flatten)]
    pub sla: SlaArgs,
    /// The router (routing rules and auto-assignment).
    #[command(flatten)]
    pub routing: RoutingArgs,
    /// The agent console and its sign-in.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

impl ServeConfig {
    /// The GraphQL API's settings.
    pub fn api_config(&self) -> livedesk_api::ApiConfig {
        let mut api = livedesk_api::ApiConfig::from(&self.ws);
        api.console = self.console.to_config(self.bind);
        api
    }
}

/// The agent console (`/console`) and its sign-in.
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// The address people open Livedesk at, for the links printed and
    /// shown (invitations, set-up); `http://<bind address>` when left out.
    #[arg(long = "public-url", env = "LIVEDESK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The built console (`npm run build` in `console/` writes it).
    #[arg(long = "console-dir", env = "LIVEDESK_CONSOLE_DIR", default_value = DEFAULT_CONSOLE_DIR)]
    pub dir: std::path::PathBuf,
    /// Minutes a console session may go unused before it ends.
    #[arg(
        long = "console-session-idle-mins",
        env = "LIVEDESK_CONSOLE_SESSION_IDLE_MINS",
        default_value_t = 480
    )]
    pub session_idle_mins: u64,
    /// Hours a console session lasts at most, used or not.
    #[arg(
        long = "console-session-hours",
        env = "LIVEDESK_CONSOLE_SESSION_HOURS",
        default_value_t = 168
    )]
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (set it when a TLS proxy is in
    /// front; requests with `X-Forwarded-Proto: https` get it anyway).
    #[arg(
        long = "console-secure-cookies",
        env = "LIVEDESK_CONSOLE_SECURE_COOKIES",
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub secure_cookies: bool,
    /// Failed sign-ins per account within 15 minutes before more are
    /// refused (`RATE_LIMITED`).
    #[arg(
        long = "console-sign-in-failures-per-account",
        env = "LIVEDESK_CONSOLE_SIGN_IN_FAILURES_PER_ACCOUNT",
        default_value_t = 5
    )]
    pub failures_per_account: i64,
    /// Failed sign-ins per client address within 15 minutes.
    #[arg(
        long = "console-sign-in-failures-per-address",
        env = "LIVEDESK_CONSOLE_SIGN_IN_FAILURES_PER_ADDRESS",
        default_value_t = 30
    )]
    pub failures_per_address: i64,
}

/// Where `npm run build` puts the console in this checkout.
pub const DEFAULT_CONSOLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../console/dist");

impl Default for ConsoleArgs {
    fn default() -> Self {
        Self {
            public_url: None,
            dir: DEFAULT_CONSOLE_DIR.into(),
            session_idle_mins: 480,
            session_hours: 168,
            secure_cookies: false,
            failures_per_account: 5,
            failures_per_address: 30,
        }
    }
}

impl ConsoleArgs {
    /// Sign-in settings for a server bound to `bind`.
    pub fn to_config(&self, bind: SocketAddr) -> livedesk_api::console::ConsoleConfig {
        use std::time::Duration;
        livedesk_api::console::ConsoleConfig {
            session_idle: Duration::from_secs(self.session_idle_mins.max(1) * 60),
            session_lifetime: Duration::from_secs(self.session_hours.max(1) * 3600),
            max_failures_per_account: self.failures_per_account.max(1),
            max_failures_per_address: self.failures_per_address.max(1),
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{bind}")),
            secure_cookies: self.secure_cookies,
            ..livedesk_api::console::ConsoleConfig::default()
        }
    }
}

/// The router (`livedesk-automation`): one active across processes.
#[derive(Debug, Clone, Args)]
pub struct RoutingArgs {
    /// Run the router in this process (it still waits for the lock: one
    /// process routes at a time). `false` leaves it to others.
    #[arg(
        id = "router",
        long = "router",
        env = "LIVEDESK_ROUTER",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub enabled: bool,
    /// Longest time between two sweeps of the team queues, in
    /// milliseconds (queues are also served as soon as someone may have
    /// become free).
    #[arg(
        id = "router_tick_ms",
        long = "router-tick-ms",
        env = "LIVEDESK_ROUTER_TICK_MS",
        default_value_t = 5_000
    )]
    pub tick_ms: u64,
    /// How often a standby process tries to take the router's lock, in
    /// milliseconds.
    #[arg(
        id = "router_lock_retry_ms",
        long = "router-lock-retry-ms",
        env = "LIVEDESK_ROUTER_LOCK_RETRY_MS",
        default_value_t = 1_000
    )]
    pub lock_retry_ms: u64,
}

impl Default for RoutingArgs {
    fn default() -> Self {
        Self {
            enabled: true,
            tick_ms: 5_000,
            lock_retry_ms: 1_000,
        }
    }
}

impl RoutingArgs {
    /// The router's configuration.
    pub fn to_config(&self) -> livedesk_automation::RouterConfig {
        livedesk_automation::RouterConfig {
            tick: std::time::Duration::from_millis(self.tick_ms.max(1)),
            lock_retry: std::time::Duration::from_millis(self.lock_retry_ms.max(1)),
            ..livedesk_automation::RouterConfig::default()
        }
    }
}

/// The SLA engine (`livedesk-automation`): one active across processes.
#[derive(Debug, Clone, Args)]
pub struct SlaArgs {
    /// Run the SLA engine in this process (it still waits for the lock:
    /// one process runs it at a time). `false` leaves it to others.
    #[arg(
        long = "sla-engine",
        env = "LIVEDESK_SLA_ENGINE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub enabled: bool,
    /// Longest time between two passes of the breach timer, in
    /// milliseconds (it also wakes at the nearest due time it knows of).
    #[arg(long = "sla-tick-ms", env = "LIVEDESK_SLA_TICK_MS", default_value_t = 5_000)]
    pub tick_ms: u64,
    /// How often a standby process tries to take the SLA engine's lock, in
    /// milliseconds.
    #[arg(
        long = "sla-lock-retry-ms",
        env = "LIVEDESK_SLA_LOCK_RETRY_MS",
        default_value_t = 1_000
    )]
    pub lock_retry_ms: u64,
}

impl Default for SlaArgs {
    fn default() -> Self {
        Self {
            enabled: true,
            tick_ms: 5_000,
            lock_retry_ms: 1_000,
        }
    }
}

impl SlaArgs {
    /// The engine's configuration.
    pub fn to_config(&self) -> livedesk_automation::SlaEngineConfig {
        livedesk_automation::SlaEngineConfig {
            tick: std::time::Duration::from_millis(self.tick_ms.max(1)),
            lock_retry: std::time::Duration::from_millis(self.lock_retry_ms.max(1)),
            ..livedesk_automation::SlaEngineConfig::default()
        }
    }
}

/// Settings of the widget API (`/widget/v1`).
#[derive(Debug, Clone, Args)]
pub struct WidgetArgs {
    /// Secret that signs visitor tokens (HMAC-SHA256). Give every replica
    /// the same one; when unset a random one is drawn at start, so tokens
    /// die with the process.
    #[arg(
        long = "widget-token-secret",
        env = "LIVEDESK_WIDGET_TOKEN_SECRET",
        hide_env_values = true
    )]
    pub token_secret: Option<String>,
    /// Seconds a visitor token is valid.
    #[arg(
        long = "widget-token-ttl-secs",
        env = "LIVEDESK_WIDGET_TOKEN_TTL_SECS",
        default_value_t = 86_400
    )]
    pub token_ttl_secs: u64,
    /// Largest widget request body, in bytes.
    #[arg(
        long = "widget-max-body-bytes",
        env = "LIVEDESK_WIDGET_MAX_BODY_BYTES",
        default_value_t = 65_536
    )]
    pub max_body_bytes: usize,
    /// Requests one client IP may send at once before 429.
    #[arg(long = "widget-rate-burst", env = "LIVEDESK_WIDGET_RATE_BURST", default_value_t = 60)]
    pub rate_burst: u32,
    /// Requests per second one client IP gets back.
    #[arg(
        long = "widget-rate-per-sec",
        env = "LIVEDESK_WIDGET_RATE_PER_SEC",
        default_value_t = 10.0
    )]
    pub rate_per_sec: f64,
    /// Header a trusted proxy puts the client IP in (e.g. X-Forwarded-For;
    /// its last address is used). Only set it behind such a proxy.
    #[arg(long = "widget-client-ip-header", env = "LIVEDESK_WIDGET_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Client addresses the rate limit leaves alone (comma-separated).
    #[arg(
        long = "widget-rate-exempt",
        env = "LIVEDESK_WIDGET_RATE_EXEMPT",
        value_delimiter = ','
    )]
    pub rate_exempt: Vec<std::net::IpAddr>,
    /// Header a trusted proxy puts the visitor's country in (e.g.
    /// CF-IPCountry).
    #[arg(long = "widget-country-header", env = "LIVEDESK_WIDGET_COUNTRY_HEADER")]
    pub country_header: Option<String>,
    /// A MaxMind-format country database (GeoLite2-Country.mmdb).
    #[arg(long = "widget-geoip-db", env = "LIVEDESK_WIDGET_GEOIP_DB")]
    pub geoip_db: Option<std::path::PathBuf>,
    /// Milliseconds between liveness records of open widget sockets and
    /// consoles (keep it under the shortest leave timeout).
    #[arg(
        long = "widget-touch-interval-ms",
        env = "LIVEDESK_WIDGET_TOUCH_INTERVAL_MS",
        default_value_t = 5_000
    )]
    pub touch_interval_ms: u64,
    /// Milliseconds between sweeps for silent sessions and abandoned
    /// take-overs (run by one elected process).
    #[arg(
        long = "widget-sweep-interval-ms",
        env = "LIVEDESK_WIDGET_SWEEP_INTERVAL_MS",
        default_value_t = 2_000
    )]
    pub sweep_interval_ms: u64,
    /// Milliseconds an agent's console may be gone before their take-overs
    /// go back to the assistant.
    #[arg(
        long = "console-grace-ms",
        env = "LIVEDESK_CONSOLE_GRACE_MS",
        default_value_t = 60_000
    )]
    pub console_grace_ms: u64,
    /// The assistant: off, builtin or openai.
    #[arg(long = "assistant", env = "LIVEDESK_ASSISTANT", default_value = "builtin")]
    pub assistant: String,
    /// The name visitors see on the assistant's messages.
    #[arg(
        long = "assistant-label",
        env = "LIVEDESK_ASSISTANT_LABEL",
        default_value = "Assistant"
    )]
    pub assistant_label: String,
    /// Chat-completions URL for `--assistant openai`.
    #[arg(
        long = "openai-url",
        env = "LIVEDESK_OPENAI_URL",
        default_value = "https://api.openai.com/v1/chat/completions"
    )]
    pub openai_url: String,
    /// Model for `--assistant openai`.
    #[arg(long = "openai-model", env = "LIVEDESK_OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,
    /// API key for `--assistant openai`.
    #[arg(long = "openai-key", env = "LIVEDESK_OPENAI_KEY", hide_env_values = true)]
    pub openai_key: Option<String>,
}

impl Default for WidgetArgs {
    fn default() -> Self {
        Self {
            token_secret: None,
            token_ttl_secs: 86_400,
            max_body_bytes: 65_536,
            rate_burst: 60,
            rate_per_sec: 10.0,
            rate_exempt: Vec::new(),
            client_ip_header: None,
            country_header: None,
            geoip_db: None,
            touch_interval_ms: 5_000,
            sweep_interval_ms: 2_000,
            console_grace_ms: 60_000,
            assistant: "builtin".into(),
            assistant_label: "Assistant".into(),
            openai_url: "https://api.openai.com/v1/chat/completions".into(),
            openai_model: "gpt-4o-mini".into(),
            openai_key: None,
        }
    }
}

impl WidgetArgs {
    /// The widget's configuration.
    ///
    /// # Errors
    ///
    /// An unknown assistant.
    pub fn to_config(&self) -> anyhow::Result<livedesk_widget::WidgetConfig> {
        use std::time::Duration;
        let secret = match &self.token_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                tracing::warn!("no LIVEDESK_WIDGET_TOKEN_SECRET: visitor tokens are valid only in this process");
                (0..32).map(|_| rand::random::<u8>()).collect()
            }
        };
        let assistant = match self.assistant.as_str() {
            "off" => livedesk_widget::AssistantChoice::Off,
            "builtin" => livedesk_widget::AssistantChoice::Builtin,
            "openai" => livedesk_widget::AssistantChoice::OpenAi {
                url: self.openai_url.clone(),
                model: self.openai_model.clone(),
                key: self.openai_key.clone(),
            },
            other => anyhow::bail!("--assistant {other:?}: choose off, builtin or openai"),
        };
        let mut config = livedesk_widget::WidgetConfig::new(secret);
        config.token_ttl = Duration::from_secs(self.token_ttl_secs);
        config.max_body_bytes = self.max_body_bytes;
        config.rate_burst = self.rate_burst;
        config.rate_per_sec = self.rate_per_sec;
        config.rate_exempt.clone_from(&self.rate_exempt);
        config.client_ip_header.clone_from(&self.client_ip_header);
        config.country_header.clone_from(&self.country_header);
        config.geoip_db.clone_from(&self.geoip_db);
        config.touch_interval = Duration::from_millis(self.touch_interval_ms.max(10));
        config.sweep_interval = Duration::from_millis(self.sweep_interval_ms.max(10));
        config.console_grace = Duration::from_millis(self.console_grace_ms);
        config.assistant = assistant;
        config.assistant_label.clone_from(&self.assistant_label);
        Ok(config)
    }
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
    /// Messages queued for one connection; subscriptions wait for room.
    #[arg(long = "ws-send-buffer", env = "LIVEDESK_WS_SEND_BUFFER", default_value_t = 256)]
    pub send_buffer: usize,
    /// Milliseconds a subscription waits for room in a full send buffer
    /// before the client is closed as a slow consumer (4413).
    #[arg(
        long = "ws-send-timeout-ms",
        env = "LIVEDESK_WS_SEND_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub send_timeout_ms: u64,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            init_timeout_ms: 10_000,
            ping_interval_ms: 15_000,
            max_subscriptions: 100,
            send_buffer: 256,
            send_timeout_ms: 10_000,
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
            ws_send_timeout: std::time::Duration::from_millis(ws.send_timeout_ms),
            console: livedesk_api::console::ConsoleConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command};

    #[test]
    fn the_command_line_has_no_clashing_arguments() {
        // Flattened argument groups share one namespace of ids: two fields
        // called `enabled` make `demo` demand an argument nobody can give.
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_and_demo_parse_with_the_router_and_the_sla_engine_switched() {
        let cli = Cli::try_parse_from(["livedesk", "demo"]).expect("demo parses");
        assert!(matches!(cli.command, Command::Demo { .. }));
        let cli = Cli::try_parse_from([
            "livedesk",
            "serve",
            "--router",
            "false",
            "--sla-engine",
            "false",
            "--router-tick-ms",
            "250",
        ])
        .expect("serve parses");
        let Command::Serve(serve) = cli.command else {
            panic!("not serve");
        };
        assert!(!serve.routing.enabled && !serve.sla.enabled);
        assert_eq!(serve.routing.tick_ms, 250);
    }

    #[test]
    fn reports_parse_their_ids_and_instants() {
        let cli = Cli::try_parse_from([
            "livedesk",
            "reports",
            "conversations",
            "--site",
            "0193a1b2-0000-7000-8000-000000000000",
            "--from",
            "2026-12-01T00:00:00Z",
            "--to",
            "2026-12-02T00:00:00+01:00",
        ])
        .expect("reports conversations parses");
        let Command::Reports(super::ReportsCommand::Conversations { to, output, .. }) = cli.command else {
            panic!("not reports conversations");
        };
        assert_eq!(to.to_rfc3339(), "2026-12-01T23:00:00+00:00");
        assert!(output.is_none());
        let cli = Cli::try_parse_from([
            "livedesk",
            "reports",
            "transcript",
            "--conversation",
            "0193a1b2-0000-7000-8000-000000000001",
            "--output",
            "t.csv",
        ])
        .expect("reports transcript parses");
        assert!(matches!(
            cli.command,
            Command::Reports(super::ReportsCommand::Transcript { output: Some(_), .. })
        ));
        assert!(Cli::try_parse_from(["livedesk", "reports", "transcript", "--conversation", "nope"]).is_err());
    }
}
