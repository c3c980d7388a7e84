//! Assignment: one assignee, and nobody's conversation is taken by accident.

use livedesk_domain::conversation::*;
use livedesk_domain::{Initiator, Role};

use super::*;
use crate::given::{at, given, id};

#[test]
fn assign_to_me_on_an_unassigned_conversation_assigns_it_to_me() {
    open_conversation()
        .when(ConversationCommand::AssignToMe {
            by: as_agent(ana()),
            at: at(1),
        })
        .then([assigned(to_agent(ana()), None, Some(ana()), 1)]);
}

#[test]
fn assign_to_me_on_a_conversation_assigned_to_someone_else_is_rejected_naming_the_holder() {
    let error = given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::AssignToMe {
            by: as_agent(bo()),
            at: at(2),
        })
        .error();
    assert_eq!(error, ConversationError::AlreadyAssigned { to: to_agent(ana()) });
    assert_eq!(error.to_string(), "already assigned to Ana");
}

#[test]
fn assign_to_me_never_takes_a_conversation_even_for_a_supervisor() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::AssignToMe {
            by: as_supervisor(sue()),
            at: at(2),
        })
        .then_error(ConversationError::AlreadyAssigned { to: to_agent(ana()) });
}

#[test]
fn assign_to_me_on_my_own_conversation_changes_nothing() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::AssignToMe {
            by: as_agent(ana()),
            at: at(2),
        })
        .then_nothing();
}

#[test]
fn assign_to_me_picks_a_conversation_from_a_teams_queue() {
    let queued = assigned(Assignee::Team { team: support() }, None, Some(sue()), 1);
    given([opened(), queued])
        .when(ConversationCommand::AssignToMe {
            by: as_agent(ana()),
            at: at(2),
        })
        .then([assigned(
            to_agent(ana()),
            Some(Assignee::Team { team: support() }),
            Some(ana()),
            2,
        )]);
}

#[test]
fn a_supervisor_can_explicitly_reassign_a_conversation_from_another_agent() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::Assign {
            assignee: to_agent(bo()),
            by: as_supervisor(sue()),
            reassign: true,
            at: at(2),
        })
        .then([assigned(to_agent(bo()), Some(to_agent(ana())), Some(sue()), 2)]);
}

#[test]
fn a_reassignment_without_the_explicit_flag_is_rejected_naming_the_holder() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::Assign {
            assignee: to_agent(bo()),
            by: as_supervisor(sue()),
            reassign: false,
            at: at(2),
        })
        .then_error(ConversationError::AlreadyAssigned { to: to_agent(ana()) });
}

#[test]
fn an_agent_cannot_reassign_another_agents_conversation() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::Assign {
            assignee: to_agent(bo()),
            by: as_agent(bo()),
            reassign: true,
            at: at(2),
        })
        .then_error(ConversationError::RoleNotPermitted {
            role: Role::Agent,
            action: "reassign a conversation from another agent",
        });
}

#[test]
fn the_assignee_can_redirect_their_conversation_to_a_team() {
    let team = Assignee::Team { team: support() };
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::Assign {
            assignee: team.clone(),
            by: as_agent(ana()),
            reassign: false,
            at: at(2),
        })
        .then([assigned(team, Some(to_agent(ana())), Some(ana()), 2)]);
}

#[test]
fn routing_assigns_an_unassigned_conversation_and_says_why() {
    let reason = AssignmentReason::RoutingRule { rule_id: id(301) };
    open_conversation()
        .when(ConversationCommand::AssignAutomatically {
            assignee: to_agent(bo()),
            reason: reason.clone(),
            at: at(1),
        })
        .then([ConversationEvent::Assigned(ConversationAssigned {
            assignee: to_agent(bo()),
            previous: None,
            by: None,
            reason,
            at: at(1),
        })]);
}

#[test]
fn routing_never_takes_a_conversation_from_an_agent() {
    given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)])
        .when(ConversationCommand::AssignAutomatically {
            assignee: to_agent(bo()),
            reason: AssignmentReason::VisitorTag,
            at: at(2),
        })
        .then_error(ConversationError::AlreadyAssigned { to: to_agent(ana()) });
}

#[test]
fn another_agent_cannot_unassign_a_conversation_but_a_supervisor_can() {
    let state = || given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)]);
    state()
        .when(ConversationCommand::Unassign {
            by: Initiator::Staff(as_agent(bo())),
            at: at(2),
        })
        .then_error(ConversationError::AlreadyAssigned { to: to_agent(ana()) });
    state()
        .when(ConversationCommand::Unassign {
            by: Initiator::Staff(as_supervisor(sue())),
            at: at(2),
        })
        .then([ConversationEvent::Unassigned(ConversationUnassigned {
            previous: to_agent(ana()),
            by: Some(sue()),
            at: at(2),
        })]);
}

#[test]
fn an_automatic_reassignment_takes_the_conversation_only_from_the_agent_it_names() {
    let reason = AssignmentReason::AgentWentOffline { team_id: id(401) };
    let held_by_ana = || given([opened(), assigned(to_agent(ana()), None, Some(ana()), 1)]);
    held_by_ana()
        .when(ConversationCommand::ReassignAutomatically {
            from: ana().id,
            to: to_agent(bo()),
            reason: reason.clone(),
            at: at(2),
        })
        .then([ConversationEvent::Assigned(ConversationAssigned {
            assignee: to_agent(bo()),
            previous: Some(to_agent(ana())),
            by: None,
            reason: reason.clone(),
            at: at(2),
        })]);
    // Bo took it meanwhile: taking it "from Ana" must not take it from him.
    held_by_ana()
        .when(ConversationCommand::ReassignAutomatically {
            from: bo().id,
            to: to_agent(sue()),
            reason: reason.clone(),
            at: at(2),
        })
        .then_error(ConversationError::AlreadyAssigned { to: to_agent(ana()) });
    open_conversation()
        .when(ConversationCommand::ReassignAutomatically {
            from: ana().id,
            to: to_agent(bo()),
            reason,
            at: at(2),
        })
        .then_error(ConversationError::NotAssignedTo { agent: ana().id });
    held_by_ana()
        .when(ConversationCommand::ReassignAutomatically {
            from: ana().id,
            to: to_agent(bo()),
            reason: AssignmentReason::Manual,
            at: at(2),
        })
        .then_error(ConversationError::ManualReasonForAutomaticAssignment);
}
