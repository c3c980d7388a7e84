//! Why a conversation command was rejected.

use super::types::{Assignee, SlaTarget};
use crate::ids::{AgentId, RequestId};
use crate::limits::InputError;
use crate::people::{AgentRef, Role};

/// The rule a conversation command breaks. A rejected command appends
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    /// The conversation does not exist yet; open it first.
    #[error("the conversation has not been opened")]
    NotOpened,
    /// `Open` on a conversation that exists.
    #[error("the conversation is already open")]
    AlreadyOpened,
    /// Input breaks a size or content limit (empty message, body too long,
    /// too many attachments, ...).
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// The AI may not post while a human holds the conversation.
    #[error("the AI is paused: {holder} has taken this conversation over")]
    BotPausedByTakeOver {
        /// The agent holding it.
        holder: AgentRef,
    },
    /// Another agent already holds the conversation.
    #[error("already taken over by {by}")]
    AlreadyTakenOver {
        /// The holder.
        by: AgentRef,
    },
    /// Only the holder or a supervisor may release a take-over.
    #[error("only {holder}, who took this conversation over, or a supervisor can release it")]
    NotTheHolder {
        /// The holder.
        holder: AgentRef,
    },
    /// The conversation is assigned to someone else.
    #[error("already assigned to {to}")]
    AlreadyAssigned {
        /// The current assignee.
        to: Assignee,
    },
    /// The role may not do this.
    #[error("the {role} role may not {action}")]
    RoleNotPermitted {
        /// The role of the issuer.
        role: Role,
        /// What was attempted.
        action: &'static str,
    },
    /// An automatic reassignment found the conversation with nobody.
    #[error("not assigned to agent {agent} any more")]
    NotAssignedTo {
        /// The agent it was to be taken from.
        agent: AgentId,
    },
    /// Automatic assignment must say which rule or tag decided it.
    #[error("an automatic assignment needs a routing rule or visitor tag as its reason")]
    ManualReasonForAutomaticAssignment,
    /// The request id is not a special request of this conversation.
    #[error("no special request {0} in this conversation")]
    UnknownSpecialRequest(RequestId),
    /// A special request id was sent twice.
    #[error("special request {0} was already sent")]
    DuplicateSpecialRequest(RequestId),
    /// The visitor already answered this request.
    #[error("special request {0} was already answered")]
    SpecialRequestAlreadyAnswered(RequestId),
    /// No running SLA clock for this target.
    #[error("no pending SLA clock for {0:?}")]
    NoPendingSla(SlaTarget),
    /// A breach recorded before the clock fell due.
    #[error("the SLA clock for {target:?} is not due until {due_at}")]
    SlaNotYetDue {
        /// Which clock.
        target: SlaTarget,
        /// When it falls due.
        due_at: chrono::DateTime<chrono::Utc>,
    },
    /// The same SLA target twice in one policy application.
    #[error("SLA target {0:?} given twice")]
    DuplicateSlaTarget(SlaTarget),
}
