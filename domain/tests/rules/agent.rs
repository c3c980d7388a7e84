use std::collections::BTreeMap;

use livedesk_domain::Role;
use livedesk_domain::agent::*;
use livedesk_domain::limits::InputError;

use crate::given::{at, given, given_no_events, id};

fn invited() -> AgentEvent {
    AgentEvent::Invited(AgentInvited {
        agent_id: id(101),
        email: "ana@shop.example".into(),
        name: "Ana Novak".into(),
        roles: BTreeMap::from([(id(1), Role::Agent)]),
        at: at(0),
    })
}

fn activated() -> AgentEvent {
    AgentEvent::Activated(AgentActivated { at: at(1) })
}

#[test]
fn an_invited_agent_is_shown_by_their_name_until_they_choose_a_display_name() {
    let state = given_no_events::<Agent>()
        .when(AgentCommand::Invite {
            agent_id: id(101),
            email: "ana@shop.example".into(),
            name: "Ana Novak".into(),
            roles: BTreeMap::from([(id(1), Role::Agent)]),
            at: at(0),
        })
        .then([invited()]);
    assert_eq!(state.profile().map(|p| p.display_name.as_str()), Some("Ana Novak"));
    let state = given([invited()])
        .when(AgentCommand::ChangeDisplayName {
            display_name: "Ana from support".into(),
            at: at(2),
        })
        .then([AgentEvent::DisplayNameChanged(AgentDisplayNameChanged {
            display_name: "Ana from support".into(),
            at: at(2),
        })]);
    assert_eq!(
        state.profile().map(|p| p.agent_ref().display_name),
        Some("Ana from support".into())
    );
}

#[test]
fn people_cannot_hold_the_integrator_role() {
    given([invited()])
        .when(AgentCommand::ChangeRole {
            site_id: id(1),
            role: Some(Role::Integrator),
            at: at(1),
        })
        .then_error(AgentError::IntegratorRoleForPerson);
}

#[test]
fn presence_needs_an_activated_agent() {
    given([invited()])
        .when(AgentCommand::ChangePresence {
            presence: Presence::Online,
            at: at(2),
        })
        .then_error(AgentError::NotActivated);
    given([invited(), activated()])
        .when(AgentCommand::ChangePresence {
            presence: Presence::Online,
            at: at(2),
        })
        .then([AgentEvent::PresenceChanged(AgentPresenceChanged {
            presence: Presence::Online,
            at: at(2),
        })]);
}

#[test]
fn notification_preference_and_capacity_are_recorded_when_they_change() {
    given([invited()])
        .when(AgentCommand::ChangeNotificationPreference {
            preference: NotificationPreference::NewConversationsOnly,
            at: at(2),
        })
        .then([AgentEvent::NotificationPreferenceChanged(
            NotificationPreferenceChanged {
                preference: NotificationPreference::NewConversationsOnly,
                at: at(2),
            },
        )]);
    given([invited()])
        .when(AgentCommand::ChangeCapacity {
            max_concurrent: DEFAULT_CAPACITY,
            at: at(2),
        })
        .then_nothing();
    given([invited()])
        .when(AgentCommand::ChangeCapacity {
            max_concurrent: 501,
            at: at(2),
        })
        .then_error(
            InputError::Invalid {
                field: "capacity",
                reason: "at most 500",
            }
            .into(),
        );
}

#[test]
fn a_display_name_longer_than_64_characters_is_rejected() {
    given([invited()])
        .when(AgentCommand::ChangeDisplayName {
            display_name: "a".repeat(65),
            at: at(2),
        })
        .then_error(
            InputError::TooLong {
                field: "display name",
                chars: 65,
                max: 64,
            }
            .into(),
        );
}

#[test]
fn setting_a_password_accepts_the_invitation_and_records_no_secret() {
    let set = AgentEvent::PasswordSet(AgentPasswordSet { at: at(3) });
    given([invited()])
        .when(AgentCommand::SetPassword { at: at(3) })
        .then([AgentEvent::Activated(AgentActivated { at: at(3) }), set.clone()]);
    let state = given([invited(), activated()])
        .when(AgentCommand::SetPassword { at: at(3) })
        .then([set]);
    assert!(matches!(state, AgentState::Active(_)));
    given_no_events::<Agent>()
        .when(AgentCommand::SetPassword { at: at(3) })
        .then_error(AgentError::NotInvited);
}
