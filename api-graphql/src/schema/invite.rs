//! Inviting people to the console (admins): the same invitation as
//! `livedesk agents invite`.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use livedesk_domain::agent::AgentCommand;
use livedesk_domain::{AgentId, Metadata, SiteId};
use uuid::Uuid;

use super::types::{Role, parse_id};
use super::{api, principal};
use crate::auth::{Permission, parse_role};
use crate::commands::ReadModel;
use crate::console::invite::{self, InvitationRequest, Known};
use crate::error::{ApiError, ApiResult};

/// An invitation made.
#[derive(Debug, Clone, SimpleObject)]
pub struct Invitation {
    /// The agent invited (new, or known by the email).
    pub agent_id: ID,
    /// The link to give them: a one-time link to set a password, or the
    /// sign-in page for someone who has a password already.
    pub url: String,
    /// Whether `url` sets a password (`false`: they sign in as they are).
    pub sets_password: bool,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Invitations.
#[derive(Debug, Default)]
pub struct InviteMutation;

#[Object]
impl InviteMutation {
    /// Invites a person to the site with a role (admins): a new agent, or
    /// one known by the email given the role here. The answer holds a
    /// one-time link (the only copy) for them to set a password; it works
    /// for seven days.
    async fn invite_agent(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        email: String,
        name: String,
        role: Role,
    ) -> ApiResult<Invitation> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let api = api(ctx);
        let known = livedesk_projections::accounts::account_by_email(&api.pool, email.trim())
            .await?
            .map(|account| Known {
                agent_id: AgentId(account.agent_id),
                role: account.roles.get(&site).and_then(|r| parse_role(r)),
                has_password: account.password_hash.is_some(),
            });
        let request = InvitationRequest {
            site_id: site,
            email,
            name,
            role: role.into(),
        };
        let metadata = Metadata {
            site_id: Some(site),
            actor: Some(principal.actor()),
            correlation_id: Some(Uuid::now_v7()),
            ..Metadata::default()
        };
        let (issued, position) = invite::issue(
            &api.pool,
            &api.commands.agents,
            &api.config.console,
            request,
            known,
            metadata,
        )
        .await?;
        if let Some(position) = position {
            api.commands.settle(ReadModel::Agents, position).await?;
        }
        Ok(Invitation {
            agent_id: ID(issued.agent_id.0.to_string()),
            url: issued.url,
            sets_password: issued.sets_password,
            expires_at: issued.expires_at,
        })
    }

    /// Gives an agent of the site another role, or removes them from the
    /// site (`role: null`) (admins). Their console sessions on the site
    /// end at their next request; nobody can change their own role.
    async fn set_agent_role(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        agent_id: ID,
        role: Option<Role>,
    ) -> ApiResult<bool> {
        let site = parse_id("siteId", &site_id)?;
        let agent = parse_id("agentId", &agent_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        if principal.agent_id().is_some_and(|me| me.0 == agent) {
            return Err(ApiError::BadInput(
                "you cannot change your own role: ask another admin of the site".into(),
            ));
        }
        let role: Option<livedesk_domain::Role> = role.map(Into::into);
        if role == Some(livedesk_domain::Role::Integrator) {
            return Err(ApiError::BadInput("the integrator role is for API tokens".into()));
        }
        let api = api(ctx);
        if api
            .commands
            .agents
            .load(agent)
            .await
            .map_err(ApiError::from)?
            .profile()
            .is_none()
        {
            return Err(ApiError::NotFound("no such agent".into()));
        }
        let command = AgentCommand::ChangeRole {
            site_id: SiteId(site),
            role,
            at: Utc::now(),
        };
        api.commands
            .run(&api.commands.agents, agent, command, principal, site, ReadModel::Agents)
            .await?;
        Ok(true)
    }
}
