//! Take-over: the AI stops while a human holds the conversation.

use livedesk_domain::conversation::*;
use livedesk_domain::{Initiator, Role, Staff};

use super::*;
use crate::given::{at, given};

#[test]
fn the_bot_may_reply_while_nobody_has_taken_over() {
    open_conversation().when(bot_says(10, 1)).then([bot_said(10, 1)]);
}

#[test]
fn a_bot_message_is_rejected_while_an_agent_has_taken_over() {
    given([opened(), taken_over(ana())])
        .when(bot_says(10, 2))
        .then_error(ConversationError::BotPausedByTakeOver { holder: ana() });
}

#[test]
fn the_bot_resumes_after_the_agent_releases() {
    let released = ConversationEvent::Released(ConversationReleased {
        agent: ana(),
        by: Some(ana()),
        reason: ReleaseReason::HandedBack,
        at: at(2),
    });
    given([opened(), taken_over(ana()), released])
        .when(bot_says(10, 3))
        .then([bot_said(10, 3)]);
}

#[test]
fn taking_over_records_the_agent_and_the_name_the_visitor_sees() {
    open_conversation()
        .when(ConversationCommand::TakeOver {
            by: as_agent(ana()),
            at: at(1),
        })
        .then([taken_over(ana())]);
}

#[test]
fn a_second_take_over_by_another_agent_is_a_conflict_naming_the_holder() {
    let error = given([opened(), taken_over(ana())])
        .when(ConversationCommand::TakeOver {
            by: as_supervisor(bo()),
            at: at(2),
        })
        .error();
    assert_eq!(error, ConversationError::AlreadyTakenOver { by: ana() });
    assert_eq!(error.to_string(), "already taken over by Ana");
}

#[test]
fn taking_over_again_by_the_holder_changes_nothing() {
    given([opened(), taken_over(ana())])
        .when(ConversationCommand::TakeOver {
            by: as_agent(ana()),
            at: at(2),
        })
        .then_nothing();
}

#[test]
fn analysts_cannot_take_a_conversation_over() {
    open_conversation()
        .when(ConversationCommand::TakeOver {
            by: Staff::new(ana(), Role::Analyst),
            at: at(1),
        })
        .then_error(ConversationError::RoleNotPermitted {
            role: Role::Analyst,
            action: "take conversations over",
        });
}

#[test]
fn another_agent_cannot_release_a_take_over() {
    given([opened(), taken_over(ana())])
        .when(ConversationCommand::Release {
            by: Initiator::Staff(as_agent(bo())),
            reason: ReleaseReason::HandedBack,
            at: at(2),
        })
        .then_error(ConversationError::NotTheHolder { holder: ana() });
}

#[test]
fn the_holder_can_release_a_take_over() {
    given([opened(), taken_over(ana())])
        .when(ConversationCommand::Release {
            by: Initiator::Staff(as_agent(ana())),
            reason: ReleaseReason::AgentLeft,
            at: at(2),
        })
        .then([ConversationEvent::Released(ConversationReleased {
            agent: ana(),
            by: Some(ana()),
            reason: ReleaseReason::AgentLeft,
            at: at(2),
        })]);
}

#[test]
fn a_supervisor_can_release_another_agents_take_over() {
    given([opened(), taken_over(ana())])
        .when(ConversationCommand::Release {
            by: Initiator::Staff(as_supervisor(sue())),
            reason: ReleaseReason::HandedBack,
            at: at(2),
        })
        .then([ConversationEvent::Released(ConversationReleased {
            agent: ana(),
            by: Some(sue()),
            reason: ReleaseReason::HandedBack,
            at: at(2),
        })]);
}

#[test]
fn livedesk_releases_a_take_over_when_the_agents_console_is_gone() {
    given([opened(), taken_over(ana())])
        .when(ConversationCommand::Release {
            by: Initiator::System,
            reason: ReleaseReason::TimedOut,
            at: at(9),
        })
        .then([ConversationEvent::Released(ConversationReleased {
            agent: ana(),
            by: None,
            reason: ReleaseReason::TimedOut,
            at: at(9),
        })]);
}

#[test]
fn releasing_a_conversation_nobody_holds_changes_nothing() {
    open_conversation()
        .when(ConversationCommand::Release {
            by: Initiator::System,
            reason: ReleaseReason::TimedOut,
            at: at(9),
        })
        .then_nothing();
}

#[test]
fn asking_for_a_human_is_recorded_once_and_not_while_one_is_there() {
    let ask = |minute| ConversationCommand::RequestHuman {
        by: HumanRequester::Visitor,
        at: at(minute),
    };
    let asked = ConversationEvent::HumanRequested(HumanRequested {
        by: HumanRequester::Visitor,
        at: at(1),
    });
    open_conversation().when(ask(1)).then([asked.clone()]);
    given([opened(), asked]).when(ask(2)).then_nothing();
    given([opened(), taken_over(ana())]).when(ask(2)).then_nothing();
}
