//! Special requests, exports, SLA clocks.

use livedesk_domain::conversation::*;

use super::*;
use crate::given::{at, given, id};

#[test]
fn a_special_request_is_answered_once() {
    let sent = ConversationEvent::SpecialRequestSent(SpecialRequestSent {
        request_id: id(50),
        kind: SpecialRequestKind::CoBrowsing,
        by: ana(),
        at: at(1),
    });
    let answer = |answer| ConversationCommand::AnswerSpecialRequest {
        request_id: id(50),
        answer,
        at: at(2),
    };
    let answered = given([opened(), sent.clone()])
        .when(answer(SpecialRequestAnswer::Accepted))
        .events();
    assert!(answered.iter().all(ConversationEvent::visible_to_visitor));
    given([opened(), sent].into_iter().chain(answered))
        .when(answer(SpecialRequestAnswer::Declined))
        .then_error(ConversationError::SpecialRequestAlreadyAnswered(id(50)));
}

#[test]
fn answering_an_unknown_special_request_is_rejected() {
    open_conversation()
        .when(ConversationCommand::AnswerSpecialRequest {
            request_id: id(50),
            answer: SpecialRequestAnswer::Accepted,
            at: at(1),
        })
        .then_error(ConversationError::UnknownSpecialRequest(id(50)));
}

#[test]
fn a_transcript_export_is_recorded_with_who_exported_it() {
    open_conversation()
        .when(ConversationCommand::ExportTranscript { by: sue(), at: at(5) })
        .then([ConversationEvent::TranscriptExported(TranscriptExported {
            by: sue(),
            at: at(5),
        })]);
}

#[test]
fn an_sla_breach_is_recorded_with_its_due_time_only_once_due_and_only_once() {
    let applied = ConversationEvent::SlaApplied(SlaApplied {
        policy_id: id(60),
        targets: vec![SlaDue {
            target: SlaTarget::FirstResponse,
            due_at: at(10),
        }],
        at: at(0),
    });
    let breach = |minute| ConversationCommand::BreachSla {
        target: SlaTarget::FirstResponse,
        at: at(minute),
    };
    given([opened(), applied.clone()])
        .when(breach(9))
        .then_error(ConversationError::SlaNotYetDue {
            target: SlaTarget::FirstResponse,
            due_at: at(10),
        });
    let breached = given([opened(), applied.clone()]).when(breach(30)).events();
    assert_eq!(
        breached,
        [ConversationEvent::SlaBreached(SlaBreached {
            policy_id: id(60),
            target: SlaTarget::FirstResponse,
            due_at: at(10),
            at: at(30),
        })]
    );
    given([opened(), applied].into_iter().chain(breached))
        .when(ConversationCommand::FulfilSla {
            target: SlaTarget::FirstResponse,
            at: at(31),
        })
        .then_error(ConversationError::NoPendingSla(SlaTarget::FirstResponse));
}
