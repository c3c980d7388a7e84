//! A conversation: one chat between a visitor and the site, handled by the
//! AI assistant until a human takes over. Stream `conversation-{id}`.
//!
//! Rules kept here:
//!
//! - The AI may not post while an agent has taken the conversation over; it
//!   resumes after the release. Only the holder, a supervisor or Livedesk
//!   (console gone) releases; a second agent's take-over is rejected naming
//!   the holder.
//! - At most one assignee. "Assign to me" never takes a conversation from
//!   another agent; a supervisor's explicit reassignment does.
//! - A visitor message makes the status Unread, reopening Done; an agent
//!   reply turns Unread into Unresolved; Done is only ever set explicitly.
//! - Notes never reach the visitor ([`ConversationEvent::visible_to_visitor`],
//!   [`visitor_transcript`]).
//! - Message bodies up to the site's limit (10,000 characters by default),
//!   up to 10 attachments, no empty messages; a repeated client message id
//!   posts nothing.
//! - Nothing is deleted or rewritten: corrections are new events.

mod command;
mod decide;
mod error;
mod event;
mod handling;
mod requests;
mod state;
mod transcript;
mod types;

pub use command::ConversationCommand;
pub use decide::MAX_BOT_NAME_CHARS;
pub use error::ConversationError;
pub use event::{
    ConversationAssigned, ConversationEvent, ConversationOpened, ConversationReleased, ConversationStatusChanged,
    ConversationTakenOver, ConversationUnassigned, ConversationWatched, HumanRequested, MessagePosted, NotePosted,
    SlaApplied, SlaBreached, SlaFulfilled, SpecialRequestAnswered, SpecialRequestSent, TranscriptExported,
};
pub use state::{ConversationState, OpenConversation};
pub use transcript::{Audience, TranscriptLine, transcript, visitor_transcript};
pub use types::{
    Assignee, AssignmentReason, Attachment, AttachmentKind, Author, ConversationStatus, HumanRequester, Provider,
    ReleaseReason, SlaClock, SlaDue, SlaOutcome, SlaTarget, SpecialRequestAnswer, SpecialRequestKind, StatusCause,
};

use crate::aggregate::Aggregate;

/// The conversation aggregate. See the [module docs](self) for its rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conversation;

impl Aggregate for Conversation {
    const CATEGORY: &'static str = "conversation";
    type State = ConversationState;
    type Command = ConversationCommand;
    type Event = ConversationEvent;
    type Error = ConversationError;

    /// # Errors
    ///
    /// [`ConversationError`] naming the broken rule.
    fn decide(
        state: &ConversationState,
        command: ConversationCommand,
    ) -> Result<Vec<ConversationEvent>, ConversationError> {
        decide::decide(state, command)
    }

    fn evolve(state: ConversationState, event: &ConversationEvent) -> ConversationState {
        state::evolve(state, event)
    }
}
