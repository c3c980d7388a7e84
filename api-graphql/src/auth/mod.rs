//! Who is asking: API tokens resolved to a [`Principal`], and what each
//! role may do.

mod token;

use livedesk_domain::{Actor, AgentId, AgentRef, Role, Staff, StreamCategory};
use sqlx::PgPool;
use uuid::Uuid;

pub use token::{NewToken, TOKEN_PREFIX, bearer, hash};

use crate::error::{ApiError, ApiResult};
use crate::reads;

/// What a request may do, decided by the token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the site's live view, inbox, visitors, agents, teams.
    Read,
    /// Read internal notes (everyone but integrators).
    ReadNotes,
    /// Assign, reply, take over, change status, notes, requests.
    HandleConversations,
    /// Post as the AI assistant (integrators).
    PostAsBot,
    /// Change one's own display name, presence, notifications.
    ManageOwnProfile,
    /// Export transcripts (read-only roles included; audited).
    ExportTranscripts,
    /// Read reports (the SLA report): admins, supervisors and analysts.
    ReadReports,
    /// Read the event history (`events`, `stream`, state as of a moment,
    /// `auditLog`, the `events` subscription): admins, supervisors,
    /// analysts and integrators, within the token's category scope.
    ReadHistory,
    /// Text blocks and teams.
    ManageContent,
    /// Site settings, custom fields, API tokens.
    ManageSite,
}

impl Permission {
    fn allows(self, role: Role) -> bool {
        match self {
            Self::Read => true,
            Self::ReadNotes => role != Role::Integrator,
            Self::HandleConversations | Self::ManageOwnProfile => role.can_handle_conversations(),
            Self::PostAsBot => role == Role::Integrator,
            Self::ExportTranscripts => role != Role::Integrator,
            Self::ReadReports => matches!(role, Role::Admin | Role::Supervisor | Role::Analyst),
            Self::ReadHistory => matches!(role, Role::Admin | Role::Supervisor | Role::Analyst | Role::Integrator),
            Self::ManageContent => role.can_supervise(),
            Self::ManageSite => role == Role::Admin,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Read => "read this site",
            Self::ReadNotes => "read internal notes",
            Self::HandleConversations => "handle conversations",
            Self::PostAsBot => "post as the AI assistant",
            Self::ManageOwnProfile => "change an agent profile",
            Self::ExportTranscripts => "export transcripts",
            Self::ReadReports => "read reports",
            Self::ReadHistory => "read the event history",
            Self::ManageContent => "manage text blocks and teams",
            Self::ManageSite => "manage site settings, custom fields and tokens",
        }
    }
}

/// The caller of a request: an API token with its site, role and, when
/// issued with `--agent`, the agent it acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token.
    pub token_id: Uuid,
    /// Its name ("CRM sync"); the AI assistant's name for integrators.
    pub token_name: String,
    /// The one site it may see.
    pub site_id: Uuid,
    /// What it may do.
    pub role: Role,
    /// The agent it acts as, with the display name visitors see now.
    pub agent: Option<AgentRef>,
    /// The stream categories its history reads are limited to; empty for
    /// all.
    pub event_categories: Vec<StreamCategory>,
}

impl Principal {
    /// Who the events this caller causes are attributed to:
    /// `agent:{id}` for a token acting as an agent, `integrator:{token id}`
    /// otherwise.
    pub fn actor(&self) -> Actor {
        match &self.agent {
            Some(agent) => Actor::Agent(agent.id.0),
            None => Actor::Integrator(self.token_id),
        }
    }

    /// Checks the role allows `permission`.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`] naming the role and what it may not do.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if permission.allows(self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not {}",
                self.role,
                permission.describe()
            )))
        }
    }

    /// Checks the token may see `site_id` and do `permission` there.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`].
    pub fn require_on(&self, site_id: Uuid, permission: Permission) -> ApiResult<()> {
        self.require_site(site_id)?;
        self.require(permission)
    }

    /// Checks the token may see `site_id`.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`].
    pub fn require_site(&self, site_id: Uuid) -> ApiResult<()> {
        if site_id == self.site_id {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this token may not access that site".into()))
        }
    }

    /// The agent acting, with their role, for commands that need a person.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`] when the role may not `permission` or the
    /// token acts as no agent.
    pub fn staff(&self, permission: Permission) -> ApiResult<Staff> {
        self.require(permission)?;
        Ok(Staff::new(self.agent_ref()?, self.role))
    }

    /// The agent this token acts as.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`] when it acts as no agent.
    pub fn agent_ref(&self) -> ApiResult<AgentRef> {
        self.agent
            .clone()
            .ok_or_else(|| ApiError::Forbidden("this token acts as no agent; create one with `--agent <email>`".into()))
    }

    /// The agent id, if the token acts as one.
    pub fn agent_id(&self) -> Option<AgentId> {
        self.agent.as_ref().map(|a| a.id)
    }

    /// Whether the token's scope lets it read streams of `category`.
    pub fn may_read_category(&self, category: StreamCategory) -> bool {
        self.event_categories.is_empty() || self.event_categories.contains(&category)
    }

    /// The categories a history read covers: those `asked` (all when
    /// empty) within the token's scope, as stream names spell them; empty
    /// means every category.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`] naming a category asked for outside the
    /// scope.
    pub fn history_categories(&self, asked: &[StreamCategory]) -> ApiResult<Vec<String>> {
        if let Some(outside) = asked.iter().find(|c| !self.may_read_category(**c)) {
            return Err(ApiError::Forbidden(format!(
                "this token may not read {} events",
                outside.as_str()
            )));
        }
        let covered = if asked.is_empty() {
            &self.event_categories
        } else {
            asked
        };
        Ok(covered.iter().map(|c| c.as_str().to_owned()).collect())
    }

    /// The event types a history read leaves out for this role: internal
    /// notes unless it may read them.
    pub fn hidden_event_types(&self) -> Vec<String> {
        if self.require(Permission::ReadNotes).is_ok() {
            Vec::new()
        } else {
            vec![NOTE_POSTED.to_owned()]
        }
    }
}

/// The event type of an internal note.
const NOTE_POSTED: &str = "NotePosted";

/// Resolves a bearer token (`None`: no `Authorization`) to its principal.
///
/// # Errors
///
/// [`ApiError::Unauthenticated`] for a missing, unknown or revoked token,
/// or one whose agent lost access to the site.
pub async fn authenticate(pool: &PgPool, token: Option<&str>) -> ApiResult<Principal> {
    let Some(token) = token else {
        return Err(ApiError::Unauthenticated(
            "missing API token: send `Authorization: Bearer <token>`".into(),
        ));
    };
    let invalid = || ApiError::Unauthenticated("invalid or revoked API token".into());
    let login = reads::token_login(pool, &hash(token)).await?.ok_or_else(invalid)?;
    if login.revoked {
        return Err(invalid());
    }
    let reads::TokenLogin {
        token_id,
        name: token_name,
        site_id,
        role,
        agent_id,
        display_name,
        agent_site_role,
        event_categories,
        ..
    } = login;
    let event_categories = event_categories
        .iter()
        .map(|c| {
            StreamCategory::parse(c).ok_or_else(|| ApiError::internal(format!("token {token_id} has scope {c:?}")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let role = parse_role(&role).ok_or_else(|| ApiError::internal(format!("token {token_id} has role {role:?}")))?;
    let agent = match agent_id {
        None => None,
        Some(id) => {
            let (Some(display_name), Some(agent_role)) =
                (display_name, agent_site_role.as_deref().and_then(parse_role))
            else {
                return Err(ApiError::Unauthenticated(
                    "the agent of this token no longer has access to its site".into(),
                ));
            };
            // An agent whose role was lowered keeps no more through an
            // older token.
            if crate::tokens::exceeds(role, agent_role) {
                return Err(ApiError::Unauthenticated(format!(
                    "the agent of this token is now {agent_role} on its site; the token is {role}"
                )));
            }
            Some(AgentRef::new(AgentId(id), display_name))
        }
    };
    Ok(Principal {
        token_id,
        token_name,
        site_id,
        role,
        agent,
        event_categories,
    })
}

/// A role from its stored, snake_case name.
pub fn parse_role(name: &str) -> Option<Role> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysts_and_integrators_cannot_handle_conversations_and_only_admins_manage_the_site() {
        for role in [Role::Analyst, Role::Integrator] {
            assert!(!Permission::HandleConversations.allows(role));
        }
        assert!(Permission::PostAsBot.allows(Role::Integrator));
        assert!(!Permission::PostAsBot.allows(Role::Admin));
        assert!(Permission::ManageSite.allows(Role::Admin));
        assert!(!Permission::ManageSite.allows(Role::Supervisor));
        assert!(!Permission::ReadNotes.allows(Role::Integrator));
        for role in [Role::Admin, Role::Supervisor, Role::Analyst] {
            assert!(Permission::ReadReports.allows(role));
        }
        for role in [Role::Agent, Role::Integrator] {
            assert!(!Permission::ReadReports.allows(role));
        }
        for role in [Role::Admin, Role::Supervisor, Role::Analyst, Role::Integrator] {
            assert!(Permission::ReadHistory.allows(role));
        }
        assert!(!Permission::ReadHistory.allows(Role::Agent));
        assert_eq!(parse_role("supervisor"), Some(Role::Supervisor));
        assert_eq!(parse_role("root"), None);
    }
}
