//! Notes and what the visitor sees.

use livedesk_domain::conversation::*;

use super::*;
use crate::given::{at, id};

#[test]
fn a_note_is_recorded_for_the_team() {
    open_conversation()
        .when(ConversationCommand::post_note(id(20), ana(), "VIP customer", at(1)))
        .then([ConversationEvent::NotePosted(NotePosted {
            note_id: id(20),
            author: ana(),
            body: "VIP customer".into(),
            at: at(1),
        })]);
}

#[test]
fn notes_never_appear_in_what_the_visitor_sees() {
    let mut events = vec![opened()];
    events.extend(
        open_conversation()
            .when(ConversationCommand::post_visitor_message(
                id(10),
                visitor(),
                "Hello",
                at(1),
            ))
            .events(),
    );
    let note = open_conversation()
        .when(ConversationCommand::post_note(id(20), ana(), "secret", at(2)))
        .events();
    assert!(note.iter().all(|event| !event.visible_to_visitor()));
    events.extend(note);

    let seen = visitor_transcript(&events);
    assert_eq!(seen.len(), 1);
    assert!(seen.iter().all(|line| !line.internal && line.body != "secret"));

    let team = transcript(&events, Audience::Team);
    assert_eq!(team.len(), 2);
    assert!(team[1].internal && team[1].body == "secret");
}

#[test]
fn silent_watching_is_recorded_but_never_shown_to_the_visitor() {
    let events = open_conversation()
        .when(ConversationCommand::WatchSilently {
            agent: sue(),
            at: at(1),
        })
        .events();
    assert_eq!(
        events,
        [ConversationEvent::Watched(ConversationWatched {
            agent: sue(),
            at: at(1)
        })]
    );
    assert!(!events[0].visible_to_visitor());
}
