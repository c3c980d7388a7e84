//! Limits and deduplication.

use livedesk_domain::conversation::*;
use livedesk_domain::limits::InputError;

use super::*;
use crate::given::{at, given, id};

#[test]
fn an_empty_message_is_rejected() {
    open_conversation()
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            "  \n ",
            at(1),
        ))
        .then_error(InputError::Empty { field: "message" }.into());
}

#[test]
fn a_message_with_only_an_attachment_is_not_empty() {
    let image = Attachment {
        kind: AttachmentKind::Image,
        reference: "upload:42".into(),
    };
    let events = open_conversation()
        .when(ConversationCommand::post_agent_message(id(10), ana(), "", at(1)).with_attachments(vec![image.clone()]))
        .events();
    assert!(matches!(&events[0], ConversationEvent::MessagePosted(m) if m.attachments == [image]));
}

#[test]
fn a_body_of_ten_thousand_characters_is_accepted_and_one_more_is_rejected() {
    let fits = "x".repeat(10_000);
    open_conversation()
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            fits,
            at(1),
        ))
        .events();
    open_conversation()
        .when(ConversationCommand::post_visitor_message(
            id(10),
            visitor(),
            "x".repeat(10_001),
            at(1),
        ))
        .then_error(
            InputError::TooLong {
                field: "message body",
                chars: 10_001,
                max: 10_000,
            }
            .into(),
        );
}

#[test]
fn the_body_limit_is_the_one_the_site_configured() {
    open_conversation()
        .when(
            ConversationCommand::post_visitor_message(id(10), visitor(), "x".repeat(501), at(1))
                .with_max_body_chars(500),
        )
        .then_error(
            InputError::TooLong {
                field: "message body",
                chars: 501,
                max: 500,
            }
            .into(),
        );
}

#[test]
fn more_than_ten_attachments_are_rejected() {
    let file = Attachment {
        kind: AttachmentKind::File,
        reference: "upload:1".into(),
    };
    open_conversation()
        .when(ConversationCommand::post_agent_message(id(10), ana(), "files", at(1)).with_attachments(vec![file; 11]))
        .then_error(
            InputError::TooMany {
                field: "attachments",
                count: 11,
                max: 10,
            }
            .into(),
        );
}

#[test]
fn a_note_over_the_limit_is_rejected() {
    open_conversation()
        .when(ConversationCommand::post_note(id(20), ana(), "x".repeat(10_001), at(1)))
        .then_error(
            InputError::TooLong {
                field: "note",
                chars: 10_001,
                max: 10_000,
            }
            .into(),
        );
}

#[test]
fn a_repeated_client_message_id_posts_nothing_new() {
    let send =
        |n| ConversationCommand::post_visitor_message(id(n), visitor(), "Hello", at(1)).with_client_message_id("c-1");
    let first = open_conversation().when(send(10)).events();
    given([opened()].into_iter().chain(first)).when(send(11)).then_nothing();
}
