//! Who acts in the console: agents with a role on a site, and teams.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, TeamId};

/// What a person or token may do on a site.
///
/// Agents are invited as admin, supervisor, agent or analyst; `Integrator`
/// is for API tokens of integrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including settings and tokens.
    Admin,
    /// Handles conversations and may overrule agents: reassign, release
    /// another agent's take-over.
    Supervisor,
    /// Handles conversations.
    Agent,
    /// Reads history and reports; changes nothing.
    Analyst,
    /// An integration acting through an API token.
    Integrator,
}

impl Role {
    /// Whether this role may overrule another agent (admins and
    /// supervisors).
    pub fn can_supervise(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor)
    }

    /// Whether this role may handle conversations (everyone but analysts and
    /// integrators).
    pub fn can_handle_conversations(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor | Self::Agent)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::Analyst => "analyst",
            Self::Integrator => "integrator",
        })
    }
}

/// An agent as events remember them: the id, and the display name visitors
/// and colleagues saw at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentRef {
    /// Who.
    pub id: AgentId,
    /// The name shown ("Ana from support").
    pub display_name: String,
}

impl AgentRef {
    /// An agent with the name it is shown by.
    pub fn new(id: AgentId, display_name: impl Into<String>) -> Self {
        Self {
            id,
            display_name: display_name.into(),
        }
    }
}

impl fmt::Display for AgentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name)
    }
}

/// A team as events remember it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TeamRef {
    /// Which team.
    pub id: TeamId,
    /// Its name at that moment.
    pub name: String,
}

impl fmt::Display for TeamRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "team {}", self.name)
    }
}

/// An agent issuing a command, with the role they hold on the command's
/// site. Carried by commands whose rules depend on the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// Who.
    pub agent: AgentRef,
    /// Their role on the site.
    pub role: Role,
}

impl Staff {
    /// An agent acting with a role.
    pub fn new(agent: AgentRef, role: Role) -> Self {
        Self { agent, role }
    }
}

/// Who issued a command that both people and Livedesk's own timers issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    /// A person in the console.
    Staff(Staff),
    /// Livedesk itself: a timer, a sweep, a routing rule.
    System,
}

impl Initiator {
    /// The agent behind it, if a person.
    pub fn agent(&self) -> Option<&AgentRef> {
        match self {
            Self::Staff(staff) => Some(&staff.agent),
            Self::System => None,
        }
    }
}
