//! Payloads of who handles a conversation: assignment, take-over, silent
//! watching.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::types::{Assignee, AssignmentReason, ReleaseReason};
use crate::people::AgentRef;

/// The conversation got an assignee (replacing the previous one, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationAssigned {
    /// The new assignee.
    pub assignee: Assignee,
    /// Who it was assigned to before.
    pub previous: Option<Assignee>,
    /// The agent who assigned it; `None` when Livedesk did (routing).
    pub by: Option<AgentRef>,
    /// Why.
    pub reason: AssignmentReason,
    /// When.
    pub at: DateTime<Utc>,
}

/// The conversation has no assignee any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationUnassigned {
    /// Who it was assigned to.
    pub previous: Assignee,
    /// The agent who unassigned it; `None` when Livedesk did.
    pub by: Option<AgentRef>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A human took the conversation over: the AI stops replying, and the
/// visitor sees "Live agent" with the display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationTakenOver {
    /// The agent now holding it, with the name the visitor sees.
    pub agent: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// The take-over ended: the AI may reply again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationReleased {
    /// The agent who held it.
    pub agent: AgentRef,
    /// Who released it (the holder or a supervisor); `None` when Livedesk
    /// did (the agent's console was gone).
    pub by: Option<AgentRef>,
    /// Why.
    pub reason: ReleaseReason,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent watched the conversation silently. For the audit log only; the
/// visitor is never told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationWatched {
    /// Who watched.
    pub agent: AgentRef,
    /// When they started.
    pub at: DateTime<Utc>,
}
