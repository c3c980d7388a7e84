//! What admins and agents ask of an agent, and why it may be refused.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::event::{NotificationPreference, Presence};
use crate::ids::{AgentId, SiteId};
use crate::limits::InputError;
use crate::people::Role;

/// A request to change an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCommand {
    /// Invite a person.
    Invite {
        /// The new agent.
        agent_id: AgentId,
        /// Their email.
        email: String,
        /// Their name (also the first display name).
        name: String,
        /// Their role on each site; at least one.
        roles: BTreeMap<SiteId, Role>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person accepted the invitation.
    Activate {
        /// When.
        at: DateTime<Utc>,
    },
    /// Set or remove (`None`) the role on a site.
    ChangeRole {
        /// The site.
        site_id: SiteId,
        /// The role.
        role: Option<Role>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Change the name visitors see.
    ChangeDisplayName {
        /// The name.
        display_name: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Change when to be notified.
    ChangeNotificationPreference {
        /// The preference.
        preference: NotificationPreference,
        /// When.
        at: DateTime<Utc>,
    },
    /// Go online, away or offline.
    ChangePresence {
        /// Presence.
        presence: Presence,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person set a console password (by an invitation link, or the
    /// first-run set-up). Neither the password nor its hash is recorded:
    /// the event says only that a password was set. An invited agent who
    /// sets a password has accepted the invitation.
    SetPassword {
        /// When.
        at: DateTime<Utc>,
    },
    /// Change the most conversations handled at once.
    ChangeCapacity {
        /// At most [`MAX_CAPACITY`](super::MAX_CAPACITY).
        max_concurrent: u16,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The rule an agent command breaks. A rejected command appends nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The agent was never invited.
    #[error("the agent has not been invited")]
    NotInvited,
    /// `Invite` on an existing agent.
    #[error("the agent was already invited")]
    AlreadyInvited,
    /// Presence before accepting the invitation.
    #[error("the agent has not accepted the invitation yet")]
    NotActivated,
    /// Input breaks a size or shape rule.
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// The integrator role is for API tokens.
    #[error("the integrator role is for API tokens, not people")]
    IntegratorRoleForPerson,
}
