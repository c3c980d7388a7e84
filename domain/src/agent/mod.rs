//! A person in the console: agent, supervisor, admin or analyst, with a
//! role per site. Stream `agent-{id}`.
//!
//! Rules kept here: an agent is invited once, with a valid email and at
//! least one site role (never the integrator role, which is for tokens);
//! presence changes need an activated agent; setting a password accepts
//! the invitation; display names are 1 to 64
//! characters; capacity is at most 500.

mod command;
mod event;
mod state;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use command::{AgentCommand, AgentError};
pub use event::{
    AgentActivated, AgentCapacityChanged, AgentDisplayNameChanged, AgentEvent, AgentInvited, AgentPasswordSet,
    AgentPresenceChanged, AgentRoleChanged, NotificationPreference, NotificationPreferenceChanged, Presence,
};
pub use state::{AgentProfile, AgentState};

use crate::aggregate::Aggregate;
use crate::ids::{AgentId, SiteId};
use crate::limits::{self, InputError, MAX_NAME_CHARS};
use crate::people::Role;

/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Highest capacity.
pub const MAX_CAPACITY: u16 = 500;
/// Capacity of a new agent.
pub const DEFAULT_CAPACITY: u16 = 5;

/// The agent aggregate. See the [module docs](self) for its rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Agent;

impl Aggregate for Agent {
    const CATEGORY: &'static str = "agent";
    type State = AgentState;
    type Command = AgentCommand;
    type Event = AgentEvent;
    type Error = AgentError;

    /// # Errors
    ///
    /// [`AgentError`] naming the broken rule.
    fn decide(state: &AgentState, command: AgentCommand) -> Result<Vec<AgentEvent>, AgentError> {
        let (profile, active) = match state {
            AgentState::Invited(profile) => (profile, false),
            AgentState::Active(profile) => (profile, true),
            AgentState::NotInvited => {
                return match command {
                    AgentCommand::Invite {
                        agent_id,
                        email,
                        name,
                        roles,
                        at,
                    } => invite(agent_id, email, name, roles, at),
                    _ => Err(AgentError::NotInvited),
                };
            }
        };
        let changed = |changed: bool, event: AgentEvent| Ok(if changed { vec![event] } else { Vec::new() });
        match command {
            AgentCommand::Invite { .. } => Err(AgentError::AlreadyInvited),
            AgentCommand::Activate { at } => changed(!active, AgentEvent::Activated(AgentActivated { at })),
            AgentCommand::ChangeRole { site_id, role, at } => {
                if role == Some(Role::Integrator) {
                    return Err(AgentError::IntegratorRoleForPerson);
                }
                let event = AgentEvent::RoleChanged(AgentRoleChanged { site_id, role, at });
                changed(profile.roles.get(&site_id).copied() != role, event)
            }
            AgentCommand::ChangeDisplayName { display_name, at } => {
                limits::required("display name", &display_name, MAX_DISPLAY_NAME_CHARS)?;
                let differs = profile.display_name != display_name;
                changed(
                    differs,
                    AgentEvent::DisplayNameChanged(AgentDisplayNameChanged { display_name, at }),
                )
            }
            AgentCommand::ChangeNotificationPreference { preference, at } => {
                let event = AgentEvent::NotificationPreferenceChanged(NotificationPreferenceChanged { preference, at });
                changed(profile.notifications != preference, event)
            }
            AgentCommand::ChangePresence { presence, at } => {
                if !active {
                    return Err(AgentError::NotActivated);
                }
                changed(
                    profile.presence != presence,
                    AgentEvent::PresenceChanged(AgentPresenceChanged { presence, at }),
                )
            }
            AgentCommand::SetPassword { at } => {
                let set = AgentEvent::PasswordSet(AgentPasswordSet { at });
                Ok(if active {
                    vec![set]
                } else {
                    vec![AgentEvent::Activated(AgentActivated { at }), set]
                })
            }
            AgentCommand::ChangeCapacity { max_concurrent, at } => {
                if max_concurrent > MAX_CAPACITY {
                    return Err(InputError::Invalid {
                        field: "capacity",
                        reason: "at most 500",
                    }
                    .into());
                }
                let event = AgentEvent::CapacityChanged(AgentCapacityChanged { max_concurrent, at });
                changed(profile.capacity != max_concurrent, event)
            }
        }
    }

    fn evolve(state: AgentState, event: &AgentEvent) -> AgentState {
        state::evolve(state, event)
    }
}

fn invite(
    agent_id: AgentId,
    email: String,
    name: String,
    roles: BTreeMap<SiteId, Role>,
    at: DateTime<Utc>,
) -> Result<Vec<AgentEvent>, AgentError> {
    limits::required("email", &email, MAX_NAME_CHARS)?;
    let looks_like_email = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !looks_like_email || email.chars().any(char::is_whitespace) {
        return Err(InputError::Invalid {
            field: "email",
            reason: "not an email address",
        }
        .into());
    }
    limits::required("name", &name, MAX_DISPLAY_NAME_CHARS)?;
    if roles.is_empty() {
        return Err(InputError::Empty { field: "site roles" }.into());
    }
    if roles.values().any(|role| *role == Role::Integrator) {
        return Err(AgentError::IntegratorRoleForPerson);
    }
    Ok(vec![AgentEvent::Invited(AgentInvited {
        agent_id,
        email,
        name,
        roles,
        at,
    })])
}
