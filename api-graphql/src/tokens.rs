//! Issuing and revoking API tokens: shared by the `livedesk tokens` command
//! and the admin mutations. The secret is returned once and never stored.

use chrono::Utc;
use livedesk_domain::site::{Site, SiteCommand};
use livedesk_domain::{AgentId, ApiTokenId, Metadata, Role, StreamCategory};
use livedesk_eventstore::{CommandContext, CommandService, PgEventStore};
use uuid::Uuid;

use crate::auth::NewToken;
use crate::error::{ApiError, ApiResult};

/// Longest name of an integrator token: it is the AI assistant's name on
/// the messages it posts.
pub const MAX_INTEGRATOR_NAME_CHARS: usize = livedesk_domain::conversation::MAX_BOT_NAME_CHARS;

/// A token to issue.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The site it may see.
    pub site_id: Uuid,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The agent it acts as, with the agent's own role on the site.
    pub agent: Option<(AgentId, Role)>,
    /// The stream categories its history reads are limited to; empty for
    /// all.
    pub event_categories: Vec<StreamCategory>,
}

/// A token just issued.
#[derive(Debug)]
pub struct Issued {
    /// Its id.
    pub token_id: Uuid,
    /// The secret, to show once.
    pub secret: String,
    /// The position of the `ApiTokenIssued` event.
    pub position: Option<u64>,
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 4,
        Role::Supervisor => 3,
        Role::Agent => 2,
        Role::Analyst | Role::Integrator => 1,
    }
}

/// Whether a token of `role` would give its agent more than their own
/// `agent_role` on the site.
pub fn exceeds(role: Role, agent_role: Role) -> bool {
    rank(role) > rank(agent_role) || agent_role == Role::Analyst && role != Role::Analyst
}

/// Checks the request: an integrator acts as no agent and has a name short
/// enough to sign its messages; a token acting as an agent has at most the
/// agent's own role.
///
/// # Errors
///
/// [`ApiError::BadInput`] naming the rule.
pub fn validate(request: &TokenRequest) -> ApiResult<()> {
    match (request.role, request.agent) {
        (Role::Integrator, Some(_)) => Err(ApiError::BadInput(
            "an integrator token acts as no agent; leave out the agent".into(),
        )),
        (Role::Integrator, None) if request.name.chars().count() > MAX_INTEGRATOR_NAME_CHARS => {
            Err(ApiError::BadInput(format!(
                "an integrator token's name signs its messages: at most {MAX_INTEGRATOR_NAME_CHARS} characters"
            )))
        }
        (role, Some((_, agent_role))) if exceeds(role, agent_role) => Err(ApiError::BadInput(format!(
            "the agent is {agent_role} on this site; a token acting as them cannot be {role}"
        ))),
        _ => Ok(()),
    }
}

/// Issues a token: appends `ApiTokenIssued` (hash only) to the site.
///
/// # Errors
///
/// [`ApiError`] for a rejected request or an unknown site.
pub async fn issue(
    sites: &CommandService<PgEventStore, Site>,
    request: TokenRequest,
    metadata: Metadata,
) -> ApiResult<Issued> {
    validate(&request)?;
    let token_id = Uuid::now_v7();
    let token = NewToken::generate();
    let command = SiteCommand::IssueApiToken {
        token_id: ApiTokenId(token_id),
        name: request.name,
        token_hash: token.hash,
        role: request.role,
        agent_id: request.agent.map(|(id, _)| id),
        event_categories: request.event_categories,
        at: Utc::now(),
    };
    let executed = sites
        .execute(request.site_id, command, &CommandContext { metadata })
        .await?;
    Ok(Issued {
        token_id,
        secret: token.secret,
        position: executed.append.map(|a| a.last_position),
    })
}

/// Revokes a token of `site_id`; revoking a revoked token changes nothing.
///
/// # Errors
///
/// [`ApiError::NotFound`] for a token the site does not have.
pub async fn revoke(
    sites: &CommandService<PgEventStore, Site>,
    site_id: Uuid,
    token_id: Uuid,
    metadata: Metadata,
) -> ApiResult<Option<u64>> {
    let command = SiteCommand::RevokeApiToken {
        token_id: ApiTokenId(token_id),
        at: Utc::now(),
    };
    let executed = sites.execute(site_id, command, &CommandContext { metadata }).await?;
    Ok(executed.append.map(|a| a.last_position))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(role: Role, agent: Option<Role>) -> TokenRequest {
        TokenRequest {
            site_id: Uuid::nil(),
            name: "x".into(),
            role,
            agent: agent.map(|r| (AgentId(Uuid::nil()), r)),
            event_categories: Vec::new(),
        }
    }

    #[test]
    fn a_token_never_has_more_power_than_its_agent() {
        assert!(validate(&request(Role::Agent, Some(Role::Supervisor))).is_ok());
        assert!(validate(&request(Role::Admin, Some(Role::Agent))).is_err());
        assert!(validate(&request(Role::Agent, Some(Role::Analyst))).is_err());
        assert!(validate(&request(Role::Analyst, Some(Role::Analyst))).is_ok());
        assert!(validate(&request(Role::Integrator, Some(Role::Admin))).is_err());
        assert!(validate(&request(Role::Integrator, None)).is_ok());
    }
}
