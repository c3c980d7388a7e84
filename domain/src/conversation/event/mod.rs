//! What happens in a conversation. Stored in `conversation-{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

mod handling;
mod requests;

pub use handling::{
    ConversationAssigned, ConversationReleased, ConversationTakenOver, ConversationUnassigned, ConversationWatched,
};
pub use requests::{
    HumanRequested, SlaApplied, SlaBreached, SlaFulfilled, SpecialRequestAnswered, SpecialRequestSent,
    TranscriptExported,
};

use super::types::{Attachment, Author, ConversationStatus, Provider, StatusCause};
use crate::codec::event_codec;
use crate::ids::{ConversationId, MessageId, SessionId, SiteId, VisitorId};
use crate::people::AgentRef;

/// Everything that can happen in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationEvent {
    /// See [`ConversationOpened`].
    Opened(ConversationOpened),
    /// See [`MessagePosted`].
    MessagePosted(MessagePosted),
    /// See [`NotePosted`].
    NotePosted(NotePosted),
    /// See [`ConversationStatusChanged`].
    StatusChanged(ConversationStatusChanged),
    /// See [`ConversationAssigned`].
    Assigned(ConversationAssigned),
    /// See [`ConversationUnassigned`].
    Unassigned(ConversationUnassigned),
    /// See [`ConversationTakenOver`].
    TakenOver(ConversationTakenOver),
    /// See [`ConversationReleased`].
    Released(ConversationReleased),
    /// See [`ConversationWatched`].
    Watched(ConversationWatched),
    /// See [`HumanRequested`].
    HumanRequested(HumanRequested),
    /// See [`SpecialRequestSent`].
    SpecialRequestSent(SpecialRequestSent),
    /// See [`SpecialRequestAnswered`].
    SpecialRequestAnswered(SpecialRequestAnswered),
    /// See [`TranscriptExported`].
    TranscriptExported(TranscriptExported),
    /// See [`SlaApplied`].
    SlaApplied(SlaApplied),
    /// See [`SlaFulfilled`].
    SlaFulfilled(SlaFulfilled),
    /// See [`SlaBreached`].
    SlaBreached(SlaBreached),
}

event_codec! {
    ConversationEvent {
        Opened(ConversationOpened): "ConversationOpened", v = 1;
        MessagePosted(MessagePosted): "MessagePosted", v = 2, upcast { 1 => upcast_message_posted_v1 };
        NotePosted(NotePosted): "NotePosted", v = 1;
        StatusChanged(ConversationStatusChanged): "ConversationStatusChanged", v = 1;
        Assigned(ConversationAssigned): "ConversationAssigned", v = 1;
        Unassigned(ConversationUnassigned): "ConversationUnassigned", v = 1;
        TakenOver(ConversationTakenOver): "ConversationTakenOver", v = 1;
        Released(ConversationReleased): "ConversationReleased", v = 1;
        Watched(ConversationWatched): "ConversationWatched", v = 1;
        HumanRequested(HumanRequested): "HumanRequested", v = 1;
        SpecialRequestSent(SpecialRequestSent): "SpecialRequestSent", v = 1;
        SpecialRequestAnswered(SpecialRequestAnswered): "SpecialRequestAnswered", v = 1;
        TranscriptExported(TranscriptExported): "TranscriptExported", v = 1;
        SlaApplied(SlaApplied): "SlaApplied", v = 1;
        SlaFulfilled(SlaFulfilled): "SlaFulfilled", v = 1;
        SlaBreached(SlaBreached): "SlaBreached", v = 1;
    }
}

impl ConversationEvent {
    /// Whether the visitor may see this event (in the widget, in anything
    /// addressed to them). Notes, status, assignment, silent watching,
    /// exports and SLA clocks are for the team only.
    pub fn visible_to_visitor(&self) -> bool {
        match self {
            Self::Opened(_)
            | Self::MessagePosted(_)
            | Self::TakenOver(_)
            | Self::Released(_)
            | Self::HumanRequested(_)
            | Self::SpecialRequestSent(_)
            | Self::SpecialRequestAnswered(_) => true,
            Self::NotePosted(_)
            | Self::StatusChanged(_)
            | Self::Assigned(_)
            | Self::Unassigned(_)
            | Self::Watched(_)
            | Self::TranscriptExported(_)
            | Self::SlaApplied(_)
            | Self::SlaFulfilled(_)
            | Self::SlaBreached(_) => false,
        }
    }

    /// When it happened (the time the command carried).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Opened(e) => e.at,
            Self::MessagePosted(e) => e.at,
            Self::NotePosted(e) => e.at,
            Self::StatusChanged(e) => e.at,
            Self::Assigned(e) => e.at,
            Self::Unassigned(e) => e.at,
            Self::TakenOver(e) => e.at,
            Self::Released(e) => e.at,
            Self::Watched(e) => e.at,
            Self::HumanRequested(e) => e.at,
            Self::SpecialRequestSent(e) => e.at,
            Self::SpecialRequestAnswered(e) => e.at,
            Self::TranscriptExported(e) => e.at,
            Self::SlaApplied(e) => e.at,
            Self::SlaFulfilled(e) => e.at,
            Self::SlaBreached(e) => e.at,
        }
    }
}

/// A chat began. The first event of every conversation; its status starts
/// as Unread, unassigned, handled by the AI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationOpened {
    /// This conversation.
    pub conversation_id: ConversationId,
    /// The site it belongs to.
    pub site_id: SiteId,
    /// The visitor it is with.
    pub visitor_id: VisitorId,
    /// The browsing session it started in; `None` for Facebook and API.
    pub session_id: Option<SessionId>,
    /// Where it came from.
    pub provider: Provider,
    /// When.
    pub at: DateTime<Utc>,
}

/// A message addressed to everyone in the conversation, the visitor
/// included.
///
/// Schema v2 added `attachments` and `client_message_id`; v1 payloads are
/// upcast with no attachments and no client id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePosted {
    /// This message.
    pub message_id: MessageId,
    /// Who wrote it.
    pub author: Author,
    /// The text; may be empty when there are attachments.
    pub body: String,
    /// Up to 10 attachments.
    pub attachments: Vec<Attachment>,
    /// The sender's own id for the message; a repeat is not posted twice.
    pub client_message_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// [`MessagePosted`] as schema v1 wrote it.
#[derive(Deserialize)]
struct MessagePostedV1 {
    message_id: MessageId,
    author: Author,
    body: String,
    at: DateTime<Utc>,
}

fn upcast_message_posted_v1(payload: &RawValue) -> Result<MessagePosted, serde_json::Error> {
    let v1: MessagePostedV1 = serde_json::from_str(payload.get())?;
    Ok(MessagePosted {
        message_id: v1.message_id,
        author: v1.author,
        body: v1.body,
        attachments: Vec::new(),
        client_message_id: None,
        at: v1.at,
    })
}

/// An internal note: for the team, never shown to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotePosted {
    /// This note.
    pub note_id: MessageId,
    /// Who wrote it.
    pub author: AgentRef,
    /// The text.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The inbox status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationStatusChanged {
    /// The status before.
    pub from: ConversationStatus,
    /// The status now; never equal to `from`.
    pub to: ConversationStatus,
    /// Why.
    pub cause: StatusCause,
    /// When.
    pub at: DateTime<Utc>,
}
