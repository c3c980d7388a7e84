//! Transcripts: the messages of a conversation as one audience may read
//! them.
//!
//! Everything addressed to a visitor goes through
//! [`ConversationEvent::visible_to_visitor`], so internal notes never reach
//! them.

use chrono::{DateTime, Utc};

use super::event::ConversationEvent;
use super::types::{Attachment, Author};
use crate::ids::MessageId;

/// Who a transcript is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The visitor: messages only.
    Visitor,
    /// Agents and exports: messages and internal notes.
    Team,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// The message or note.
    pub id: MessageId,
    /// When it was posted.
    pub at: DateTime<Utc>,
    /// Who wrote it.
    pub author: Author,
    /// The text.
    pub body: String,
    /// Attachments (none on notes).
    pub attachments: Vec<Attachment>,
    /// An internal note; never in a visitor's transcript.
    pub internal: bool,
}

/// The transcript of `events` (one conversation's, in stream order) for
/// `audience`.
pub fn transcript<'a>(
    events: impl IntoIterator<Item = &'a ConversationEvent>,
    audience: Audience,
) -> Vec<TranscriptLine> {
    events
        .into_iter()
        .filter(|event| audience == Audience::Team || event.visible_to_visitor())
        .filter_map(|event| match event {
            ConversationEvent::MessagePosted(m) => Some(TranscriptLine {
                id: m.message_id,
                at: m.at,
                author: m.author.clone(),
                body: m.body.clone(),
                attachments: m.attachments.clone(),
                internal: false,
            }),
            ConversationEvent::NotePosted(n) => Some(TranscriptLine {
                id: n.note_id,
                at: n.at,
                author: Author::Agent {
                    agent: n.author.clone(),
                },
                body: n.body.clone(),
                attachments: Vec::new(),
                internal: true,
            }),
            _ => None,
        })
        .collect()
}

/// What the visitor may read: [`transcript`] for [`Audience::Visitor`].
pub fn visitor_transcript<'a>(events: impl IntoIterator<Item = &'a ConversationEvent>) -> Vec<TranscriptLine> {
    transcript(events, Audience::Visitor)
}
