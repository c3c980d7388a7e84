//! Which events a conversation command produces: opening, messages, notes
//! and status. Assignment and take-over live in [`super::handling`]; special
//! requests, SLA clocks and audit records in [`super::requests`].
//!
//! A command whose wanted outcome already holds (take over what you hold,
//! set the status it has, repeat a client message id) produces no events.

use chrono::{DateTime, Utc};

use super::command::ConversationCommand as Cmd;
use super::error::ConversationError;
use super::event::{ConversationEvent, ConversationOpened, ConversationStatusChanged, MessagePosted, NotePosted};
use super::state::{ConversationState, OpenConversation};
use super::types::{Attachment, Author, ConversationStatus, StatusCause};
use super::{handling, requests};
use crate::limits::{self, InputError, MAX_ATTACHMENTS, MAX_REFERENCE_CHARS, MAX_TAG_VALUE_CHARS};
use crate::people::{Role, Staff};

/// Longest AI assistant name.
pub const MAX_BOT_NAME_CHARS: usize = 64;

pub(super) type Decision = Result<Vec<ConversationEvent>, ConversationError>;

pub(super) fn decide(state: &ConversationState, command: Cmd) -> Decision {
    let c = match state {
        ConversationState::Open(c) => c.as_ref(),
        ConversationState::NotOpened => {
            return match command {
                Cmd::Open {
                    conversation_id,
                    site_id,
                    visitor_id,
                    session_id,
                    provider,
                    at,
                } => {
                    let opened = ConversationOpened {
                        conversation_id,
                        site_id,
                        visitor_id,
                        session_id,
                        provider,
                        at,
                    };
                    Ok(vec![ConversationEvent::Opened(opened)])
                }
                _ => Err(ConversationError::NotOpened),
            };
        }
    };
    match command {
        Cmd::Open { .. } => Err(ConversationError::AlreadyOpened),
        Cmd::PostMessage {
            message_id,
            author,
            body,
            attachments,
            client_message_id,
            max_body_chars,
            at,
        } => {
            let message = MessagePosted {
                message_id,
                author,
                body,
                attachments,
                client_message_id,
                at,
            };
            post_message(c, message, max_body_chars)
        }
        Cmd::PostNote {
            note_id,
            author,
            body,
            max_body_chars,
            at,
        } => {
            limits::required("note", &body, max_body_chars as usize)?;
            Ok(vec![ConversationEvent::NotePosted(NotePosted {
                note_id,
                author,
                body,
                at,
            })])
        }
        Cmd::ChangeStatus { status, by, at } => change_status(c, status, by, at),
        Cmd::AssignToMe { by, at } => handling::assign_to_me(c, by, at),
        Cmd::Assign {
            assignee,
            by,
            reassign,
            at,
        } => handling::assign(c, assignee, by, reassign, at),
        Cmd::AssignAutomatically { assignee, reason, at } => handling::assign_automatically(c, assignee, reason, at),
        Cmd::ReassignAutomatically { from, to, reason, at } => {
            handling::reassign_automatically(c, from, to, reason, at)
        }
        Cmd::Unassign { by, at } => handling::unassign(c, by, at),
        Cmd::TakeOver { by, at } => handling::take_over(c, by, at),
        Cmd::Release { by, reason, at } => handling::release(c, by, reason, at),
        Cmd::WatchSilently { agent, at } => Ok(requests::watch(agent, at)),
        Cmd::RequestHuman { by, at } => requests::request_human(c, by, at),
        Cmd::SendSpecialRequest {
            request_id,
            kind,
            by,
            at,
        } => requests::send_special(c, request_id, kind, by, at),
        Cmd::AnswerSpecialRequest { request_id, answer, at } => requests::answer_special(c, request_id, answer, at),
        Cmd::ExportTranscript { by, at } => Ok(requests::export_transcript(by, at)),
        Cmd::ApplySla { policy_id, targets, at } => requests::apply_sla(policy_id, targets, at),
        Cmd::FulfilSla { target, at } => requests::fulfil_sla(c, target, at),
        Cmd::BreachSla { target, at } => requests::breach_sla(c, target, at),
    }
}

/// Posts a message, then moves the status: a visitor message makes the
/// conversation Unread (reopening Done), an agent reply makes Unread
/// Unresolved. Bot and system messages leave the status alone.
fn post_message(c: &OpenConversation, message: MessagePosted, max_body_chars: u32) -> Decision {
    if let Some(client_id) = &message.client_message_id {
        if c.client_message_ids.contains(client_id) {
            return Ok(Vec::new());
        }
        limits::required("client message id", client_id, MAX_TAG_VALUE_CHARS)?;
    }
    validate_content(&message.body, &message.attachments, max_body_chars)?;
    if let Author::Bot { name } = &message.author {
        limits::required("bot name", name, MAX_BOT_NAME_CHARS)?;
        if let Some(holder) = &c.taken_over_by {
            return Err(ConversationError::BotPausedByTakeOver { holder: holder.clone() });
        }
    }
    let at = message.at;
    let new_status = match (&message.author, c.status) {
        (Author::Visitor { .. }, from) if from != ConversationStatus::Unread => {
            Some((from, ConversationStatus::Unread, StatusCause::VisitorMessage))
        }
        (Author::Agent { .. }, ConversationStatus::Unread) => Some((
            ConversationStatus::Unread,
            ConversationStatus::Unresolved,
            StatusCause::AgentReply,
        )),
        _ => None,
    };
    let mut events = vec![ConversationEvent::MessagePosted(message)];
    if let Some((from, to, cause)) = new_status {
        events.push(ConversationEvent::StatusChanged(ConversationStatusChanged {
            from,
            to,
            cause,
            at,
        }));
    }
    Ok(events)
}

/// A message needs a non-blank body or at least one attachment; the body
/// fits the site's limit; at most [`MAX_ATTACHMENTS`], each with a
/// reference.
fn validate_content(body: &str, attachments: &[Attachment], max_body_chars: u32) -> Result<(), InputError> {
    if body.trim().is_empty() && attachments.is_empty() {
        return Err(InputError::Empty { field: "message" });
    }
    limits::at_most("message body", body, max_body_chars as usize)?;
    limits::at_most_items("attachments", attachments, MAX_ATTACHMENTS)?;
    for attachment in attachments {
        limits::required("attachment reference", &attachment.reference, MAX_REFERENCE_CHARS)?;
    }
    Ok(())
}

fn change_status(c: &OpenConversation, to: ConversationStatus, by: Staff, at: DateTime<Utc>) -> Decision {
    require_handler(&by, "change a conversation's status")?;
    if c.status == to {
        return Ok(Vec::new());
    }
    let cause = StatusCause::Agent { agent: by.agent };
    Ok(vec![ConversationEvent::StatusChanged(ConversationStatusChanged {
        from: c.status,
        to,
        cause,
        at,
    })])
}

/// Rejects roles that do not handle conversations (analysts, integrators).
pub(super) fn require_handler(by: &Staff, action: &'static str) -> Result<(), ConversationError> {
    if by.role.can_handle_conversations() {
        Ok(())
    } else {
        Err(ConversationError::RoleNotPermitted { role: by.role, action })
    }
}

/// Rejects roles that may not overrule other agents.
pub(super) fn require_supervisor(role: Role, action: &'static str) -> Result<(), ConversationError> {
    if role.can_supervise() {
        Ok(())
    } else {
        Err(ConversationError::RoleNotPermitted { role, action })
    }
}
