//! The vocabulary of a conversation, shared by its commands, events and
//! state.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, RoutingRuleId, SlaPolicyId, TeamId, VisitorId};
use crate::people::{AgentRef, TeamRef};

/// Where a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The Livedesk widget on the site.
    WebChat,
    /// A Facebook page's inbox.
    Facebook,
    /// An integration through the API.
    Api,
}

/// The inbox folder a conversation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The visitor wrote last and nobody has answered. Where every
    /// conversation starts, and where a visitor message puts it back.
    #[default]
    Unread,
    /// An agent has answered; not finished.
    Unresolved,
    /// Finished. Only an agent sets it, explicitly.
    Done,
}

impl fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unread => "Unread",
            Self::Unresolved => "Unresolved",
            Self::Done => "Done",
        })
    }
}

/// Why a status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StatusCause {
    /// A visitor message set it to Unread.
    VisitorMessage,
    /// An agent's reply moved it from Unread to Unresolved.
    AgentReply,
    /// An agent chose it.
    Agent {
        /// Who.
        agent: AgentRef,
    },
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Author {
    /// The visitor.
    Visitor {
        /// Which visitor identity.
        visitor_id: VisitorId,
    },
    /// A human agent.
    Agent {
        /// Who, with the name the visitor sees.
        agent: AgentRef,
    },
    /// An AI assistant, by name (`builtin` or an integration's name).
    Bot {
        /// The assistant's name.
        name: String,
    },
    /// Livedesk itself ("Ana joined the chat").
    System,
}

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A knowledge-base article.
    Article,
    /// An image.
    Image,
    /// A video.
    Video,
    /// An audio recording.
    Audio,
    /// Any other file.
    File,
    /// An interactive flow.
    Flow,
}

/// Something sent along with a message. The content lives elsewhere; the
/// event records what it is and where to find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Where it is: a URL, an upload id, an article or flow id.
    pub reference: String,
}

/// Who a conversation is assigned to. There is at most one assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Assignee {
    /// One agent.
    Agent {
        /// Who.
        agent: AgentRef,
    },
    /// A team's queue: any member may pick it up.
    Team {
        /// Which team.
        team: TeamRef,
    },
}

impl Assignee {
    /// Whether this is the agent `id`.
    pub fn is_agent(&self, id: AgentId) -> bool {
        matches!(self, Self::Agent { agent } if agent.id == id)
    }

    /// Whether two assignees are the same agent or team (names aside).
    pub fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Agent { agent: a }, Self::Agent { agent: b }) => a.id == b.id,
            (Self::Team { team: a }, Self::Team { team: b }) => a.id == b.id,
            _ => false,
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Agent { agent } => agent.fmt(f),
            Self::Team { team } => team.fmt(f),
        }
    }
}

/// Why a conversation was assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssignmentReason {
    /// An agent chose it ("assign to me", redirect, reassignment by hand).
    Manual,
    /// A routing rule matched.
    RoutingRule {
        /// Which rule.
        rule_id: RoutingRuleId,
    },
    /// The visitor's `assignedUser` tag named the agent.
    VisitorTag,
    /// The team's auto-assignment chose the agent: the online member with
    /// the fewest open conversations below capacity
    /// ([`choose_agent`](crate::routing::choose_agent)).
    AutoAssignment {
        /// The team whose queue it came from.
        team_id: TeamId,
    },
    /// The agent went offline and the site reassigns then.
    AgentWentOffline {
        /// The team it was reassigned within.
        team_id: TeamId,
    },
    /// The agent left the visitor unanswered longer than the site allows.
    LeftUnanswered {
        /// The team it was reassigned within.
        team_id: TeamId,
    },
}

/// Why a take-over ended and the AI resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The agent left the conversation (closed it, went offline).
    AgentLeft,
    /// The agent's console was gone longer than the grace period.
    TimedOut,
    /// The agent handed the conversation back to the AI on purpose.
    HandedBack,
}

/// A request an agent sends the visitor from the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialRequestKind {
    /// Ask to start co-browsing.
    CoBrowsing,
    /// Ask for an audio call.
    AudioCall,
    /// Ask for a video call.
    VideoCall,
    /// Ask the visitor to share their desktop.
    RequestDesktop,
    /// Offer to show the agent's screen.
    ShowScreen,
    /// Invite to a conference call.
    Conference,
}

/// The visitor's answer to a special request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialRequestAnswer {
    /// Yes.
    Accepted,
    /// No.
    Declined,
}

/// Who asked for a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HumanRequester {
    /// The visitor asked ("talk to a person").
    Visitor,
    /// The AI gave up and offered a human.
    Bot {
        /// The assistant's name.
        name: String,
    },
}

/// Which promise an SLA clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    /// The first human reply.
    FirstResponse,
    /// The next human reply after a visitor message.
    NextResponse,
    /// Done.
    Resolution,
}

/// One SLA clock: a target and when it falls due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaDue {
    /// What is measured.
    pub target: SlaTarget,
    /// When it is breached if not fulfilled.
    pub due_at: DateTime<Utc>,
}

/// Where an SLA clock stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    /// The policy that set it.
    pub policy_id: SlaPolicyId,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// Pending, fulfilled or breached.
    pub outcome: SlaOutcome,
}

/// How an SLA clock ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaOutcome {
    /// Still running.
    Pending,
    /// Met in time.
    Fulfilled,
    /// Missed.
    Breached,
}
