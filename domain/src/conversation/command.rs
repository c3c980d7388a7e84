//! What people and Livedesk ask of a conversation.

use chrono::{DateTime, Utc};

use super::types::{
    Assignee, AssignmentReason, Attachment, Author, ConversationStatus, HumanRequester, Provider, ReleaseReason,
    SlaDue, SlaTarget, SpecialRequestAnswer, SpecialRequestKind,
};
use crate::ids::{AgentId, ConversationId, MessageId, RequestId, SessionId, SiteId, SlaPolicyId, VisitorId};
use crate::limits::DEFAULT_MAX_MESSAGE_CHARS;
use crate::people::{AgentRef, Initiator, Staff};

/// A request to change a conversation. Every command carries the time it
/// happens (`at`) and any new ids; the domain reads no clock.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationCommand {
    /// Start a chat. Only on a conversation that does not exist yet.
    Open {
        /// The new conversation's id.
        conversation_id: ConversationId,
        /// Its site.
        site_id: SiteId,
        /// The visitor it is with.
        visitor_id: VisitorId,
        /// The browsing session, for web chat.
        session_id: Option<SessionId>,
        /// Where it comes from.
        provider: Provider,
        /// When.
        at: DateTime<Utc>,
    },
    /// Post a message everyone in the conversation sees.
    PostMessage {
        /// The new message's id.
        message_id: MessageId,
        /// Who writes.
        author: Author,
        /// The text.
        body: String,
        /// Up to 10 attachments.
        attachments: Vec<Attachment>,
        /// The sender's id for deduplication: a repeat posts nothing.
        client_message_id: Option<String>,
        /// The site's body limit in characters (10,000 unless the site
        /// changed it).
        max_body_chars: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// Post an internal note for the team.
    PostNote {
        /// The new note's id.
        note_id: MessageId,
        /// Who writes.
        author: AgentRef,
        /// The text.
        body: String,
        /// The site's body limit in characters.
        max_body_chars: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// Move the conversation to another inbox status; the only way to Done.
    ChangeStatus {
        /// The status wanted.
        status: ConversationStatus,
        /// Who.
        by: Staff,
        /// When.
        at: DateTime<Utc>,
    },
    /// "Assign to me": never takes a conversation from another agent.
    AssignToMe {
        /// Who presses the button.
        by: Staff,
        /// When.
        at: DateTime<Utc>,
    },
    /// Assign or redirect to an agent or a team by hand. Taking a
    /// conversation from another agent needs `reassign` and a supervisor.
    Assign {
        /// The new assignee.
        assignee: Assignee,
        /// Who assigns.
        by: Staff,
        /// An explicit reassignment away from another agent.
        reassign: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// Assignment by Livedesk (routing rule, visitor tag). Never takes a
    /// conversation from an agent; may move it from a team's queue to an
    /// agent.
    AssignAutomatically {
        /// The new assignee.
        assignee: Assignee,
        /// Why (not [`AssignmentReason::Manual`]).
        reason: AssignmentReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// Reassignment by Livedesk (the agent went offline, or left the
    /// visitor unanswered): takes the conversation from agent `from` only,
    /// so it never takes it from whoever got it meanwhile.
    ReassignAutomatically {
        /// The agent it is taken from.
        from: AgentId,
        /// The new assignee (another agent, or the team's queue).
        to: Assignee,
        /// Why (not [`AssignmentReason::Manual`]).
        reason: AssignmentReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// Remove the assignee.
    Unassign {
        /// Who: the assignee, any agent for a team's queue, a supervisor, or
        /// Livedesk.
        by: Initiator,
        /// When.
        at: DateTime<Utc>,
    },
    /// Take the conversation over from the AI.
    TakeOver {
        /// Who.
        by: Staff,
        /// When.
        at: DateTime<Utc>,
    },
    /// End a take-over; the AI resumes.
    Release {
        /// The holder, a supervisor, or Livedesk (console gone).
        by: Initiator,
        /// Why.
        reason: ReleaseReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// Record that an agent watches silently (audit only).
    WatchSilently {
        /// Who.
        agent: AgentRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// Ask for a human agent.
    RequestHuman {
        /// The visitor or the AI.
        by: HumanRequester,
        /// When.
        at: DateTime<Utc>,
    },
    /// Send the visitor a special request.
    SendSpecialRequest {
        /// The new request's id.
        request_id: RequestId,
        /// What is asked.
        kind: SpecialRequestKind,
        /// Who asks.
        by: AgentRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor answers a special request.
    AnswerSpecialRequest {
        /// The request.
        request_id: RequestId,
        /// Yes or no.
        answer: SpecialRequestAnswer,
        /// When.
        at: DateTime<Utc>,
    },
    /// Record a transcript export (audit only).
    ExportTranscript {
        /// Who exports.
        by: AgentRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// Start SLA clocks.
    ApplySla {
        /// The policy.
        policy_id: SlaPolicyId,
        /// The clocks, each target at most once.
        targets: Vec<SlaDue>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Stop a pending SLA clock as met.
    FulfilSla {
        /// Which clock.
        target: SlaTarget,
        /// When.
        at: DateTime<Utc>,
    },
    /// Stop a pending SLA clock as missed.
    BreachSla {
        /// Which clock.
        target: SlaTarget,
        /// When the breach is recorded.
        at: DateTime<Utc>,
    },
}

impl ConversationCommand {
    /// Opens a conversation.
    pub fn open(
        conversation_id: ConversationId,
        site_id: SiteId,
        visitor_id: VisitorId,
        session_id: Option<SessionId>,
        provider: Provider,
        at: DateTime<Utc>,
    ) -> Self {
        Self::Open {
            conversation_id,
            site_id,
            visitor_id,
            session_id,
            provider,
            at,
        }
    }

    /// Posts a plain text message with no attachments, no client id and the
    /// default body limit.
    pub fn post_message(message_id: MessageId, author: Author, body: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self::PostMessage {
            message_id,
            author,
            body: body.into(),
            attachments: Vec::new(),
            client_message_id: None,
            max_body_chars: DEFAULT_MAX_MESSAGE_CHARS,
            at,
        }
    }

    /// Posts a plain text message from the visitor.
    pub fn post_visitor_message(
        message_id: MessageId,
        visitor_id: VisitorId,
        body: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self::post_message(message_id, Author::Visitor { visitor_id }, body, at)
    }

    /// Posts a plain text message from an agent.
    pub fn post_agent_message(
        message_id: MessageId,
        agent: AgentRef,
        body: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self::post_message(message_id, Author::Agent { agent }, body, at)
    }

    /// Posts a plain text message from an AI assistant.
    pub fn post_bot_message(
        message_id: MessageId,
        bot: impl Into<String>,
        body: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self::post_message(message_id, Author::Bot { name: bot.into() }, body, at)
    }

    /// Posts an internal note with the default body limit.
    pub fn post_note(note_id: MessageId, author: AgentRef, body: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self::PostNote {
            note_id,
            author,
            body: body.into(),
            max_body_chars: DEFAULT_MAX_MESSAGE_CHARS,
            at,
        }
    }

    /// Adds attachments to a [`PostMessage`](Self::PostMessage); other
    /// commands are returned unchanged.
    #[must_use]
    pub fn with_attachments(mut self, with: Vec<Attachment>) -> Self {
        if let Self::PostMessage { attachments, .. } = &mut self {
            *attachments = with;
        }
        self
    }

    /// Sets the client message id of a [`PostMessage`](Self::PostMessage);
    /// other commands are returned unchanged.
    #[must_use]
    pub fn with_client_message_id(mut self, id: impl Into<String>) -> Self {
        if let Self::PostMessage { client_message_id, .. } = &mut self {
            *client_message_id = Some(id.into());
        }
        self
    }

    /// Sets the site's body limit on a message or note; other commands are
    /// returned unchanged.
    #[must_use]
    pub fn with_max_body_chars(mut self, max: u32) -> Self {
        if let Self::PostMessage { max_body_chars, .. } | Self::PostNote { max_body_chars, .. } = &mut self {
            *max_body_chars = max;
        }
        self
    }
}
