//! What the widget API is configured with (the binary fills it from flags
//! and environment variables).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which AI assistant answers visitors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssistantChoice {
    /// No assistant: conversations wait for a human.
    Off,
    /// The built-in responder over the site's text blocks.
    Builtin,
    /// An OpenAI-compatible chat-completions endpoint.
    OpenAi {
        /// The full endpoint URL (`https://api.openai.com/v1/chat/completions`).
        url: String,
        /// The model name.
        model: String,
        /// The API key (sent as `Authorization: Bearer`); never logged.
        key: Option<String>,
    },
}

/// Settings of the widget API.
#[derive(Clone)]
pub struct WidgetConfig {
    /// The HMAC-SHA256 key visitor tokens are signed with. Every replica
    /// needs the same one.
    pub token_secret: Vec<u8>,
    /// How long a visitor token is valid.
    pub token_ttl: Duration,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests one client IP may burst.
    pub rate_burst: u32,
    /// Requests per second one client IP gets back.
    pub rate_per_sec: f64,
    /// Header a trusted proxy puts the client IP in (`X-Forwarded-For`; the
    /// last address is used). `None`: the TCP peer address.
    pub client_ip_header: Option<String>,
    /// Header a trusted proxy puts the visitor's country in (`CF-IPCountry`).
    pub country_header: Option<String>,
    /// A MaxMind-format country database (GeoLite2-Country.mmdb).
    pub geoip_db: Option<PathBuf>,
    /// How often a process records that its open widget WebSockets and
    /// agent consoles are alive. Keep it under the shortest leave timeout.
    pub touch_interval: Duration,
    /// How often the elected process looks for silent sessions and
    /// abandoned take-overs.
    pub sweep_interval: Duration,
    /// How long an agent's console may be gone before their take-overs are
    /// released to the assistant.
    pub console_grace: Duration,
    /// The assistant.
    pub assistant: AssistantChoice,
    /// The name the visitor sees on the assistant's messages.
    pub assistant_label: String,
    /// Addresses never rate limited (load tests from one machine).
    pub rate_exempt: Vec<IpAddr>,
}

impl std::fmt::Debug for WidgetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetConfig")
            .field("token_ttl", &self.token_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_burst", &self.rate_burst)
            .field("rate_per_sec", &self.rate_per_sec)
            .field("client_ip_header", &self.client_ip_header)
            .field("country_header", &self.country_header)
            .field("geoip_db", &self.geoip_db)
            .field("touch_interval", &self.touch_interval)
            .field("sweep_interval", &self.sweep_interval)
            .field("console_grace", &self.console_grace)
            .field("assistant_label", &self.assistant_label)
            .finish_non_exhaustive()
    }
}

impl WidgetConfig {
    /// Defaults with `token_secret`.
    pub fn new(token_secret: Vec<u8>) -> Self {
        Self {
            token_secret,
            token_ttl: Duration::from_secs(24 * 3600),
            max_body_bytes: 64 * 1024,
            rate_burst: 60,
            rate_per_sec: 10.0,
            client_ip_header: None,
            country_header: None,
            geoip_db: None,
            touch_interval: Duration::from_secs(5),
            sweep_interval: Duration::from_secs(2),
            console_grace: Duration::from_secs(60),
            assistant: AssistantChoice::Builtin,
            assistant_label: "Assistant".into(),
            rate_exempt: Vec::new(),
        }
    }
}
