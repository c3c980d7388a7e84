//! `livedesk tokens create | revoke | list`: API tokens from the command
//! line. Everything is read from the event log itself (not the read
//! models), so it works whether or not a server is running.

use anyhow::{Context, bail};
use livedesk_api::auth::parse_role;
use livedesk_api::tokens::{self, TokenRequest};
use livedesk_domain::agent::{Agent, AgentEvent, AgentState};
use livedesk_domain::site::Site;
use livedesk_domain::{Actor, AgentId, Metadata};
use livedesk_eventstore::{CommandService, EventStore, Filter, PgEventStore, PgStoreConfig};
use uuid::Uuid;

use crate::config::{DatabaseConfig, TokensCommand};
use crate::database;

/// Runs one `livedesk tokens` command.
///
/// # Errors
///
/// Unknown site, agent or token, a role the agent does not have, or an
/// unreachable database.
pub async fn run(database: &DatabaseConfig, command: TokensCommand) -> anyhow::Result<()> {
    let pool = database::connect_and_migrate(database).await?;
    let store = PgEventStore::new(pool, PgStoreConfig::default());
    let sites: CommandService<PgEventStore, Site> = CommandService::new(store.clone(), 16);
    match command {
        TokensCommand::Create {
            site,
            role,
            agent,
            name,
            categories,
        } => {
            let role = parse_role(&role).with_context(|| {
                format!("role {role:?} is not one of admin, supervisor, agent, analyst, integrator")
            })?;
            let agent = match agent {
                Some(email) => Some(agent_on_site(&store, &email, site).await?),
                None => None,
            };
            let name = name.unwrap_or_else(|| format!("{role} token"));
            let request = TokenRequest {
                site_id: site,
                name,
                role,
                agent,
                event_categories: categories,
            };
            let issued = tokens::issue(&sites, request, metadata(site))
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            eprintln!(
                "Issued {role} token {} for site {site}. The secret below is shown once and stored nowhere:",
                issued.token_id
            );
            println!("{}", issued.secret);
        }
        TokensCommand::Revoke { site, token } => {
            let position = tokens::revoke(&sites, site, token, metadata(site))
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            match position {
                Some(_) => eprintln!("Revoked token {token}."),
                None => eprintln!("Token {token} was already revoked."),
            }
        }
        TokensCommand::List { site } => {
            let state = sites.load(site).await.context("reading the site")?;
            let Some(profile) = state.active() else {
                bail!("no site {site}");
            };
            for (id, token) in &profile.api_tokens {
                let agent = token.agent_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
                let state = if token.revoked { "revoked" } else { "active" };
                println!("{id}\t{}\t{state}\tagent {agent}\t{}", token.role, token.name);
            }
        }
    }
    Ok(())
}

/// Metadata of what the command line does on `site`.
pub(crate) fn metadata(site: Uuid) -> Metadata {
    Metadata {
        site_id: Some(site),
        actor: Some(Actor::System),
        correlation_id: Some(Uuid::now_v7()),
        ..Metadata::default()
    }
}

/// The agent invited with `email` (any case) and their role on `site`.
async fn agent_on_site(
    store: &PgEventStore,
    email: &str,
    site: Uuid,
) -> anyhow::Result<(AgentId, livedesk_domain::Role)> {
    let Some((agent, state)) = find_agent(store, email).await? else {
        bail!("no agent was invited with the email {email}");
    };
    let role = state
        .profile()
        .and_then(|p| p.roles.get(&livedesk_domain::SiteId(site)).copied())
        .with_context(|| format!("{email} has no role on site {site}"))?;
    Ok((agent, role))
}

/// The agent last invited with `email` (any case), as the log has it now
/// (not the read models, which need a running server).
///
/// # Errors
///
/// A store failure.
pub async fn find_agent(store: &PgEventStore, email: &str) -> anyhow::Result<Option<(AgentId, AgentState)>> {
    let filter = Filter {
        event_types: vec!["AgentInvited".into()],
        categories: vec!["agent".into()],
        ..Filter::all()
    };
    let mut after = 0;
    let mut found = None;
    loop {
        let page = store.read_all(after, 1000, &filter).await.context("reading agents")?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for event in &page {
            if let Ok(AgentEvent::Invited(invited)) = event.decode::<AgentEvent>()
                && invited.email.eq_ignore_ascii_case(email.trim())
            {
                found = Some(invited.agent_id);
            }
        }
    }
    let Some(agent) = found else {
        return Ok(None);
    };
    let agents: CommandService<PgEventStore, Agent> = CommandService::new(store.clone(), 1);
    let state = agents.load(agent.0).await.context("reading the agent")?;
    Ok(Some((agent, state)))
}
