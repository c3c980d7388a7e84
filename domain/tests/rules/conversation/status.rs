//! Inbox status: Unread, Unresolved, Done.

use livedesk_domain::conversation::*;

use super::*;
use crate::given::{at, given, id};

#[test]
fn a_visitor_message_on_a_new_conversation_keeps_it_unread() {
    open_conversation()
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            "Hello",
            at(1),
        ))
        .then([posted(10, Author::Visitor { visitor_id: visitor() }, "Hello", 1)]);
}

#[test]
fn an_agent_reply_on_an_unread_conversation_makes_it_unresolved() {
    open_conversation()
        .when(ConversationCommand::post_agent_message(
            id(10),
            ana(),
            "Hi, Ana here",
            at(1),
        ))
        .then([
            posted(10, Author::Agent { agent: ana() }, "Hi, Ana here", 1),
            status(
                ConversationStatus::Unread,
                ConversationStatus::Unresolved,
                StatusCause::AgentReply,
                1,
            ),
        ]);
}

#[test]
fn a_bot_reply_leaves_the_status_alone() {
    let state = open_conversation().when(bot_says(10, 1)).then([bot_said(10, 1)]);
    assert_eq!(state.open().map(|c| c.status), Some(ConversationStatus::Unread));
}

#[test]
fn a_visitor_message_reopens_a_done_conversation_as_unread() {
    let done = status(
        ConversationStatus::Unresolved,
        ConversationStatus::Done,
        StatusCause::Agent { agent: ana() },
        3,
    );
    let replied = status(
        ConversationStatus::Unread,
        ConversationStatus::Unresolved,
        StatusCause::AgentReply,
        2,
    );
    given([opened(), replied, done])
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            "One more thing",
            at(4),
        ))
        .then([
            posted(10, Author::Visitor { visitor_id: visitor() }, "One more thing", 4),
            status(
                ConversationStatus::Done,
                ConversationStatus::Unread,
                StatusCause::VisitorMessage,
                4,
            ),
        ]);
}

#[test]
fn an_agent_reply_on_a_done_conversation_does_not_reopen_it() {
    let done = status(
        ConversationStatus::Unread,
        ConversationStatus::Done,
        StatusCause::Agent { agent: ana() },
        2,
    );
    given([opened(), done])
        .when(ConversationCommand::post_agent_message(
            id(10),
            ana(),
            "PS: here is the link",
            at(3),
        ))
        .then([posted(10, Author::Agent { agent: ana() }, "PS: here is the link", 3)]);
}

#[test]
fn done_is_set_explicitly_by_an_agent() {
    open_conversation()
        .when(ConversationCommand::ChangeStatus {
            status: ConversationStatus::Done,
            by: as_agent(ana()),
            at: at(2),
        })
        .then([status(
            ConversationStatus::Unread,
            ConversationStatus::Done,
            StatusCause::Agent { agent: ana() },
            2,
        )]);
}

#[test]
fn setting_the_status_a_conversation_already_has_changes_nothing() {
    open_conversation()
        .when(ConversationCommand::ChangeStatus {
            status: ConversationStatus::Unread,
            by: as_agent(ana()),
            at: at(2),
        })
        .then_nothing();
}
