//! Conversation rules; fixtures shared by the files below.

mod assignment;
mod limits;
mod notes;
mod requests;
mod status;
mod take_over;

use livedesk_domain::conversation::*;

use livedesk_domain::{AgentRef, Role, Staff, TeamRef, VisitorId};

use crate::given::{Scenario, at, given, given_no_events, id};

pub(super) fn ana() -> AgentRef {
    AgentRef::new(id(101), "Ana")
}
pub(super) fn bo() -> AgentRef {
    AgentRef::new(id(102), "Bo")
}
pub(super) fn sue() -> AgentRef {
    AgentRef::new(id(103), "Sue")
}
pub(super) fn as_agent(agent: AgentRef) -> Staff {
    Staff::new(agent, Role::Agent)
}
pub(super) fn as_supervisor(agent: AgentRef) -> Staff {
    Staff::new(agent, Role::Supervisor)
}
pub(super) fn visitor() -> VisitorId {
    id(7)
}
pub(super) fn support() -> TeamRef {
    TeamRef {
        id: id(201),
        name: "Support".into(),
    }
}

pub(super) fn opened() -> ConversationEvent {
    ConversationEvent::Opened(ConversationOpened {
        conversation_id: id(1),
        site_id: id(2),
        visitor_id: visitor(),
        session_id: Some(id(3)),
        provider: Provider::WebChat,
        at: at(0),
    })
}

pub(super) fn posted(n: u128, author: Author, body: &str, minute: i64) -> ConversationEvent {
    ConversationEvent::MessagePosted(MessagePosted {
        message_id: id(n),
        author,
        body: body.into(),
        attachments: vec![],
        client_message_id: None,
        at: at(minute),
    })
}

pub(super) fn status(
    from: ConversationStatus,
    to: ConversationStatus,
    cause: StatusCause,
    minute: i64,
) -> ConversationEvent {
    ConversationEvent::StatusChanged(ConversationStatusChanged {
        from,
        to,
        cause,
        at: at(minute),
    })
}

pub(super) fn taken_over(agent: AgentRef) -> ConversationEvent {
    ConversationEvent::TakenOver(ConversationTakenOver { agent, at: at(1) })
}

pub(super) fn assigned(
    assignee: Assignee,
    previous: Option<Assignee>,
    by: Option<AgentRef>,
    minute: i64,
) -> ConversationEvent {
    ConversationEvent::Assigned(ConversationAssigned {
        assignee,
        previous,
        by,
        reason: AssignmentReason::Manual,
        at: at(minute),
    })
}

pub(super) fn to_agent(agent: AgentRef) -> Assignee {
    Assignee::Agent { agent }
}

pub(super) fn open_conversation() -> Scenario<Conversation> {
    given([opened()])
}

pub(super) fn bot_says(n: u128, minute: i64) -> ConversationCommand {
    ConversationCommand::post_bot_message(id(n), "builtin", "How can I help?", at(minute))
}

pub(super) fn bot_said(n: u128, minute: i64) -> ConversationEvent {
    posted(n, Author::Bot { name: "builtin".into() }, "How can I help?", minute)
}

// Opening

#[test]
fn opening_a_conversation_records_site_visitor_session_and_provider() {
    given_no_events::<Conversation>()
        .when(ConversationCommand::open(
            id(1),
            id(2),
            visitor(),
            Some(id(3)),
            Provider::WebChat,
            at(0),
        ))
        .then([opened()]);
}

#[test]
fn a_conversation_is_opened_only_once() {
    open_conversation()
        .when(ConversationCommand::open(
            id(1),
            id(2),
            visitor(),
            None,
            Provider::Api,
            at(1),
        ))
        .then_error(ConversationError::AlreadyOpened);
}

#[test]
fn nothing_can_be_posted_before_the_conversation_is_opened() {
    given_no_events::<Conversation>()
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            "hi",
            at(1),
        ))
        .then_error(ConversationError::NotOpened);
}
