//! Inviting people to the console (admins): the same invitation as
//! `livedesk agents invite`.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use livedesk_domain::{AgentId, Metadata};
use uuid::Uuid;

use super::types::{Role, parse_id};
use super::{api, principal};
use crate::auth::{Permission, parse_role};
use crate::commands::ReadModel;
use crate::console::invite::{self, InvitationRequest, Known};
use crate::error::ApiResult;

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
}
