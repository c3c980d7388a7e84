//! What happens to a person in the console. Stored in `agent-{id}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codec::event_codec;
use crate::ids::{AgentId, SiteId};
use crate::people::Role;

/// When an agent wants a sound or notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationPreference {
    /// On every new message.
    #[default]
    EveryMessage,
    /// Only when a new conversation starts.
    NewConversationsOnly,
    /// Never.
    None,
}

/// Whether an agent is at the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Available for conversations.
    Online,
    /// At the console, not taking new conversations.
    Away,
    /// Not at the console.
    #[default]
    Offline,
}

/// Everything that can happen to an agent.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// See [`AgentInvited`].
    Invited(AgentInvited),
    /// See [`AgentActivated`].
    Activated(AgentActivated),
    /// See [`AgentRoleChanged`].
    RoleChanged(AgentRoleChanged),
    /// See [`AgentDisplayNameChanged`].
    DisplayNameChanged(AgentDisplayNameChanged),
    /// See [`NotificationPreferenceChanged`].
    NotificationPreferenceChanged(NotificationPreferenceChanged),
    /// See [`AgentPresenceChanged`].
    PresenceChanged(AgentPresenceChanged),
    /// See [`AgentCapacityChanged`].
    CapacityChanged(AgentCapacityChanged),
    /// See [`AgentPasswordSet`].
    PasswordSet(AgentPasswordSet),
}

event_codec! {
    AgentEvent {
        Invited(AgentInvited): "AgentInvited", v = 1;
        Activated(AgentActivated): "AgentActivated", v = 1;
        RoleChanged(AgentRoleChanged): "AgentRoleChanged", v = 1;
        DisplayNameChanged(AgentDisplayNameChanged): "AgentDisplayNameChanged", v = 1;
        NotificationPreferenceChanged(NotificationPreferenceChanged): "NotificationPreferenceChanged", v = 1;
        PresenceChanged(AgentPresenceChanged): "AgentPresenceChanged", v = 1;
        CapacityChanged(AgentCapacityChanged): "AgentCapacityChanged", v = 1;
        PasswordSet(AgentPasswordSet): "AgentPasswordSet", v = 1;
    }
}

/// A person was invited. Their display name starts as their name; capacity
/// 5, every-message notifications, offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInvited {
    /// The agent.
    pub agent_id: AgentId,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role on each site.
    pub roles: BTreeMap<SiteId, Role>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The invitation was accepted; the agent can work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentActivated {
    /// When.
    pub at: DateTime<Utc>,
}

/// The agent's role on a site changed; `None` removes them from the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRoleChanged {
    /// The site.
    pub site_id: SiteId,
    /// The role now.
    pub role: Option<Role>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The name visitors see on a take-over changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDisplayNameChanged {
    /// The name now.
    pub display_name: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The agent chose when to be notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPreferenceChanged {
    /// The preference now.
    pub preference: NotificationPreference,
    /// When.
    pub at: DateTime<Utc>,
}

/// The agent went online, away or offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPresenceChanged {
    /// Presence now.
    pub presence: Presence,
    /// When.
    pub at: DateTime<Utc>,
}

/// The most conversations the agent handles at once changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCapacityChanged {
    /// Maximum concurrent conversations now.
    pub max_concurrent: u16,
    /// When.
    pub at: DateTime<Utc>,
}

/// The agent set a console password. The password and its hash are kept
/// out of the log (the hash lives beside the read models and is never
/// exported); the event records only that a password was set, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPasswordSet {
    /// When.
    pub at: DateTime<Utc>,
}
