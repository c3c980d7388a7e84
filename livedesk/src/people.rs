//! `livedesk agents invite` and `livedesk sites create`: the way from an
//! empty database to a site with an admin who can sign in, without the
//! demo. Like `livedesk tokens`, they read the log itself, so they work
//! whether or not a server is running.

use anyhow::{Context, bail};
use chrono::Utc;
use livedesk_api::auth::parse_role;
use livedesk_api::console::invite::{self, InvitationRequest, Issued, Known};
use livedesk_api::console::{ConsoleConfig, setup};
use livedesk_domain::agent::Agent;
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::{Role, SiteId};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore, PgStoreConfig};
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::{AgentsCommand, DatabaseConfig, SitesCommand};
use crate::database;
use crate::tokens::{find_agent, metadata};

/// Runs `livedesk agents ...`.
///
/// # Errors
///
/// An unknown site or role, a rejected email or name, or an unreachable
/// database.
pub async fn agents(database: &DatabaseConfig, command: AgentsCommand) -> anyhow::Result<()> {
    let AgentsCommand::Invite {
        site,
        email,
        role,
        name,
        public_url,
    } = command;
    let role = person_role(&role)?;
    let pool = database::connect_and_migrate(database).await?;
    let issued = invite_agent(&pool, &config(public_url), site, &email, name, role).await?;
    if issued.sets_password {
        eprintln!(
            "Invited {email} as {role} (agent {}). Give them this one-time link (valid until {}):",
            issued.agent_id.0,
            issued.expires_at.to_rfc3339()
        );
    } else {
        eprintln!(
            "{email} (agent {}) is {role} on the site now and signs in with their password:",
            issued.agent_id.0
        );
    }
    println!("{}", issued.url);
    Ok(())
}

/// What `livedesk agents invite` does: invites `email` to `site` with
/// `role` (a new agent, or a known one given the role) and returns the
/// link to give them.
///
/// # Errors
///
/// An unknown site, a rejected email or name, or a store failure.
pub async fn invite_agent(
    pool: &PgPool,
    config: &ConsoleConfig,
    site: Uuid,
    email: &str,
    name: Option<String>,
    role: Role,
) -> anyhow::Result<Issued> {
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store.clone(), 1);
    if sites.load(site).await.context("reading the site")?.active().is_none() {
        bail!("no site {site}");
    }
    let known = match find_agent(&store, email).await? {
        Some((agent_id, state)) => Some(Known {
            agent_id,
            role: state.profile().and_then(|p| p.roles.get(&SiteId(site)).copied()),
            has_password: livedesk_projections::accounts::has_password(pool, agent_id.0).await?,
        }),
        None => None,
    };
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let request = InvitationRequest {
        site_id: site,
        email: email.to_owned(),
        name,
        role,
    };
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store, 1);
    let (issued, _) = invite::issue(pool, &agents, config, request, known, metadata(site))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    Ok(issued)
}

/// Runs `livedesk sites ...`.
///
/// # Errors
///
/// A rejected name or widget key (or one in use), or an unreachable
/// database.
pub async fn sites(database: &DatabaseConfig, command: SitesCommand) -> anyhow::Result<()> {
    let SitesCommand::Create {
        name,
        widget_key,
        public_url,
    } = command;
    let pool = database::connect_and_migrate(database).await?;
    let created = create_site(&pool, &config(public_url), &name, widget_key).await?;
    eprintln!(
        "Created site {name:?}: id {}, widget key {}.",
        created.site_id, created.widget_key
    );
    eprintln!("Its first admin sets up their account at this one-time link (valid seven days):");
    println!("{}", created.site_id);
    println!("{}", created.admin_link);
    Ok(())
}

/// A site `livedesk sites create` made.
#[derive(Debug, Clone)]
pub struct CreatedSite {
    /// The new site.
    pub site_id: Uuid,
    /// Its widget key.
    pub widget_key: String,
    /// The one-time link for its first admin.
    pub admin_link: String,
}

/// What `livedesk sites create` does: a site named `name` (with a widget
/// key made from the name unless given) and a one-time link for its first
/// admin.
///
/// # Errors
///
/// A rejected name or widget key (or one in use), or a store failure.
pub async fn create_site(
    pool: &PgPool,
    config: &ConsoleConfig,
    name: &str,
    widget_key: Option<String>,
) -> anyhow::Result<CreatedSite> {
    let store = PgEventStore::new(pool.clone(), PgStoreConfig::default());
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store, 1);
    let site_id = Uuid::now_v7();
    let widget_key = widget_key.unwrap_or_else(|| setup::widget_key_for(name));
    let create = SiteCommand::Create {
        site_id: SiteId(site_id),
        name: name.trim().to_owned(),
        allowed_origins: Vec::new(),
        widget_key: widget_key.clone(),
        at: Utc::now(),
    };
    let context = CommandContext {
        metadata: metadata(site_id),
    };
    sites
        .execute(site_id, create, &context)
        .await
        .map_err(|e| anyhow::anyhow!("{}", livedesk_api::error::ApiError::from(e).message()))?;
    let admin_link = invite::link(pool, config, site_id, Role::Admin, None)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    Ok(CreatedSite {
        site_id,
        widget_key,
        admin_link,
    })
}

fn person_role(name: &str) -> anyhow::Result<Role> {
    match parse_role(name) {
        Some(Role::Integrator) => bail!("the integrator role is for API tokens: use `livedesk tokens create`"),
        Some(role) => Ok(role),
        None => bail!("role {name:?} is not one of admin, supervisor, agent, analyst"),
    }
}

/// The console settings the commands need: the address for links.
pub fn config(public_url: String) -> ConsoleConfig {
    ConsoleConfig {
        public_url,
        ..ConsoleConfig::default()
    }
}
