//! An agent folded from its events.

use std::collections::BTreeMap;

use super::DEFAULT_CAPACITY;
use super::event::{AgentEvent, NotificationPreference, Presence};
use crate::ids::{AgentId, SiteId};
use crate::people::{AgentRef, Role};

/// The lifecycle of an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AgentState {
    /// No events yet.
    #[default]
    NotInvited,
    /// Invited, not yet active.
    Invited(AgentProfile),
    /// Working.
    Active(AgentProfile),
}

impl AgentState {
    /// The profile, once invited.
    pub fn profile(&self) -> Option<&AgentProfile> {
        match self {
            Self::NotInvited => None,
            Self::Invited(profile) | Self::Active(profile) => Some(profile),
        }
    }
}

/// What is known about an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProfile {
    /// The agent.
    pub id: AgentId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The name visitors see.
    pub display_name: String,
    /// Role per site.
    pub roles: BTreeMap<SiteId, Role>,
    /// When to notify.
    pub notifications: NotificationPreference,
    /// Online, away, offline.
    pub presence: Presence,
    /// Most conversations at once.
    pub capacity: u16,
}

impl AgentProfile {
    /// The agent as conversation events name them.
    pub fn agent_ref(&self) -> AgentRef {
        AgentRef::new(self.id, self.display_name.clone())
    }
}

/// Folds one event. Events that do not fit the state leave it unchanged.
pub(super) fn evolve(state: AgentState, event: &AgentEvent) -> AgentState {
    match (state, event) {
        (AgentState::NotInvited, AgentEvent::Invited(e)) => AgentState::Invited(AgentProfile {
            id: e.agent_id,
            email: e.email.clone(),
            name: e.name.clone(),
            display_name: e.name.clone(),
            roles: e.roles.clone(),
            notifications: NotificationPreference::default(),
            presence: Presence::Offline,
            capacity: DEFAULT_CAPACITY,
        }),
        (AgentState::Invited(profile), AgentEvent::Activated(_)) => AgentState::Active(profile),
        (AgentState::Invited(mut profile), event) => {
            apply(&mut profile, event);
            AgentState::Invited(profile)
        }
        (AgentState::Active(mut profile), event) => {
            apply(&mut profile, event);
            AgentState::Active(profile)
        }
        (state, _) => state,
    }
}

fn apply(profile: &mut AgentProfile, event: &AgentEvent) {
    match event {
        AgentEvent::Invited(_) | AgentEvent::Activated(_) | AgentEvent::PasswordSet(_) => {}
        AgentEvent::RoleChanged(e) => match e.role {
            Some(role) => {
                profile.roles.insert(e.site_id, role);
            }
            None => {
                profile.roles.remove(&e.site_id);
            }
        },
        AgentEvent::DisplayNameChanged(e) => profile.display_name.clone_from(&e.display_name),
        AgentEvent::NotificationPreferenceChanged(e) => profile.notifications = e.preference,
        AgentEvent::PresenceChanged(e) => profile.presence = e.presence,
        AgentEvent::CapacityChanged(e) => profile.capacity = e.max_concurrent,
    }
}
