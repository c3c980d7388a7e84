//! Invitations: one-time links to set a console password. An admin
//! invites a person (`inviteAgent`, `livedesk agents invite`); `livedesk
//! sites create` makes a link for a new site's first admin, who names
//! themselves when they accept. Only the SHA-256 of a link's secret is
//! stored; a link works once, until it expires.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use livedesk_domain::agent::{Agent, AgentCommand};
use livedesk_domain::{Actor, AgentId, Metadata, Role, SiteId};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use livedesk_projections::accounts::{self, Invitation};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::routes::{read, refuse, signed_in};
use super::{ConsoleConfig, cookie, password, session};
use crate::GraphQl;
use crate::auth::{NewToken, hash, parse_role};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};

/// A person to invite to a site.
#[derive(Debug, Clone)]
pub struct InvitationRequest {
    /// The site.
    pub site_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name (the first display name).
    pub name: String,
    /// Their role on the site.
    pub role: Role,
}

/// An agent already known by the invitation's email.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// The agent.
    pub agent_id: AgentId,
    /// Their role on the invitation's site now.
    pub role: Option<Role>,
    /// Whether they have a password already.
    pub has_password: bool,
}

/// An invitation made.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The agent invited.
    pub agent_id: AgentId,
    /// The link to give them: a one-time link to set their password, or
    /// the sign-in page when they have a password already (an invitation
    /// never resets the password of someone who has one: that would let
    /// an admin of one site take over an agent of another).
    pub url: String,
    /// Whether the link sets a password.
    pub sets_password: bool,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Invites a person: a new agent (`AgentInvited`), or a known one given
/// the role on the site (`AgentRoleChanged`); then a one-time link unless
/// they have a password. Returns the last position appended, if any, with
/// the invitation.
///
/// # Errors
///
/// The domain's rejection (a bad email or name, the integrator role), or a
/// store failure.
pub async fn issue(
    pool: &PgPool,
    agents: &CommandService<PgEventStore, Agent>,
    config: &ConsoleConfig,
    request: InvitationRequest,
    known: Option<Known>,
    metadata: Metadata,
) -> ApiResult<(Issued, Option<u64>)> {
    let context = CommandContext { metadata };
    let at = Utc::now();
    let site = SiteId(request.site_id);
    let (agent_id, command) = match known {
        Some(known) => {
            let change = (known.role != Some(request.role)).then_some(AgentCommand::ChangeRole {
                site_id: site,
                role: Some(request.role),
                at,
            });
            (known.agent_id, change)
        }
        None => {
            let agent_id = AgentId(Uuid::now_v7());
            let invite = AgentCommand::Invite {
                agent_id,
                email: request.email.trim().to_owned(),
                name: request.name.trim().to_owned(),
                roles: [(site, request.role)].into(),
                at,
            };
            (agent_id, Some(invite))
        }
    };
    let position = match command {
        Some(command) => agents
            .execute(agent_id.0, command, &context)
            .await?
            .append
            .map(|a| a.last_position),
        None => None,
    };
    let expires_at = at + chrono::Duration::from_std(config.invitation_lifetime).unwrap_or_default();
    if known.is_some_and(|k| k.has_password) {
        let url = format!("{}/console/signin", config.public_url.trim_end_matches('/'));
        let issued = Issued {
            agent_id,
            url,
            sets_password: false,
            expires_at,
        };
        return Ok((issued, position));
    }
    let url = link(pool, config, request.site_id, request.role, Some(agent_id.0)).await?;
    let issued = Issued {
        agent_id,
        url,
        sets_password: true,
        expires_at,
    };
    Ok((issued, position))
}

/// Stores a one-time link for `role` on `site_id` (for `agent_id`, or for
/// whoever accepts it when `None`) and returns its URL.
///
/// # Errors
///
/// A database failure.
pub async fn link(
    pool: &PgPool,
    config: &ConsoleConfig,
    site_id: Uuid,
    role: Role,
    agent_id: Option<Uuid>,
) -> ApiResult<String> {
    let token = NewToken::generate();
    let invitation = Invitation {
        site_id,
        role: role.to_string(),
        agent_id,
        expires_at: Utc::now() + chrono::Duration::from_std(config.invitation_lifetime).unwrap_or_default(),
        used_at: None,
    };
    accounts::create_invitation(pool, &token.hash, &invitation).await?;
    Ok(format!(
        "{}/console/invite?token={}",
        config.public_url.trim_end_matches('/'),
        token.secret
    ))
}

/// A usable invitation by its secret.
async fn usable(pool: &PgPool, secret: &str) -> ApiResult<Invitation> {
    accounts::invitation(pool, &hash(secret))
        .await?
        .filter(|i| i.used_at.is_none() && i.expires_at > Utc::now())
        .ok_or_else(|| ApiError::NotFound("this invitation link is unknown, used or expired".into()))
}

/// `GET /console/api/invitations/{token}`: who the link is for.
pub(super) async fn show(State(state): State<GraphQl>, headers: HeaderMap, Path(secret): Path<String>) -> Response {
    let answer = async {
        cookie::require_same_origin(&headers)?;
        let invitation = usable(&state.api.pool, &secret).await?;
        let agent = match invitation.agent_id {
            Some(id) => crate::reads::agent(&state.api.pool, id).await?,
            None => None,
        };
        let site = crate::reads::site(&state.api.pool, invitation.site_id).await?;
        ApiResult::Ok(serde_json::json!({
            "email": agent.as_ref().map(|a| a.email.clone()),
            "name": agent.as_ref().map(|a| a.name.clone()),
            "siteName": site.map(|s| s.name),
            "role": invitation.role,
        }))
    };
    match answer.await {
        Ok(view) => Json(view).into_response(),
        Err(error) => refuse(&error),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Accept {
    token: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `POST /console/api/invitations/accept`: sets the password (creating
/// the agent for a first-admin link) and signs in.
pub(super) async fn accept(State(state): State<GraphQl>, headers: HeaderMap, bytes: axum::body::Bytes) -> Response {
    let request: Accept = match read(&headers, &bytes) {
        Ok(request) => request,
        Err(error) => return refuse(&error),
    };
    match accept_invitation(&state, &headers, request).await {
        Ok(started) => signed_in(&state, started, &headers),
        Err(error) => refuse(&error),
    }
}

async fn accept_invitation(state: &GraphQl, headers: &HeaderMap, request: Accept) -> ApiResult<session::Started> {
    let api = &state.api;
    password::validate(&request.password)?;
    let invitation = usable(&api.pool, &request.token).await?;
    let role = parse_role(&invitation.role).ok_or_else(|| ApiError::internal("an invitation with an unknown role"))?;
    let agent_id = match invitation.agent_id {
        Some(agent) => agent,
        None => {
            let (Some(name), Some(email)) = (request.name, request.email) else {
                return Err(ApiError::BadInput(
                    "this link is for a site's first admin: give your name and email".into(),
                ));
            };
            create_person(api, invitation.site_id, &email, &name, role).await?
        }
    };
    let hashed = password::hash(request.password).await?;
    if !accounts::accept_invitation(&api.pool, &hash(&request.token), agent_id, &hashed).await? {
        return Err(ApiError::NotFound(
            "this invitation link is unknown, used or expired".into(),
        ));
    }
    record_password_set(api, agent_id, invitation.site_id).await?;
    session::start(&api.pool, &api.config.console, agent_id, invitation.site_id, headers).await
}

/// Invites a new agent with `role` on `site_id` for a first-admin link or
/// the first-run set-up; refused when the email is someone's already.
pub(super) async fn create_person(
    api: &crate::Api,
    site_id: Uuid,
    email: &str,
    name: &str,
    role: Role,
) -> ApiResult<Uuid> {
    if accounts::account_by_email(&api.pool, email.trim()).await?.is_some() {
        return Err(ApiError::Conflict {
            message: "an agent with this email exists; ask an admin of the site to invite them".into(),
            holder: None,
        });
    }
    let agent_id = AgentId(Uuid::now_v7());
    let command = AgentCommand::Invite {
        agent_id,
        email: email.trim().to_owned(),
        name: name.trim().to_owned(),
        roles: [(SiteId(site_id), role)].into(),
        at: Utc::now(),
    };
    run_as(api, agent_id.0, site_id, command).await?;
    Ok(agent_id.0)
}

/// Appends `AgentPasswordSet` (and `AgentActivated` for an invited agent).
async fn record_password_set(api: &crate::Api, agent_id: Uuid, site_id: Uuid) -> ApiResult<()> {
    run_as(api, agent_id, site_id, AgentCommand::SetPassword { at: Utc::now() }).await
}

/// Runs an agent command as the agent themselves and waits until the
/// `agents` read model shows it (sign-in reads it).
async fn run_as(api: &crate::Api, agent_id: Uuid, site_id: Uuid, command: AgentCommand) -> ApiResult<()> {
    let context = CommandContext {
        metadata: Metadata {
            site_id: Some(site_id),
            actor: Some(Actor::Agent(agent_id)),
            correlation_id: Some(Uuid::now_v7()),
            ..Metadata::default()
        },
    };
    let executed = api.commands.agents.execute(agent_id, command, &context).await?;
    if let Some(append) = executed.append {
        api.commands.settle(ReadModel::Agents, append.last_position).await?;
    }
    Ok(())
}
