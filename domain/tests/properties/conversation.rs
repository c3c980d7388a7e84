//! Conversations: the AI never posts while a human holds the conversation,
//! nobody's conversation is taken by accident, Done is only explicit, notes
//! never reach the visitor, client message ids post once.

use std::collections::HashSet;

use livedesk_domain::conversation::*;
use livedesk_domain::{Aggregate, EventCodec, Initiator, TeamRef};
use proptest::prelude::*;

use crate::{at, id, is_supervisor, staff};

fn assignee(target: u8) -> Assignee {
    match target % 5 {
        4 => Assignee::Team {
            team: TeamRef {
                id: id(201),
                name: "Support".into(),
            },
        },
        who => Assignee::Agent {
            agent: staff(who).agent,
        },
    }
}

/// One random conversation command: `kind` picks it, `who`, `target`,
/// `flag` and `small` fill it in.
fn conversation_command(step: usize, (kind, who, target, flag, small): (u8, u8, u8, bool, u8)) -> ConversationCommand {
    let n = step as u128 + 1_000;
    let minute = step as i64;
    let by = staff(who);
    let initiator = if flag {
        Initiator::System
    } else {
        Initiator::Staff(by.clone())
    };
    match kind {
        0 | 1 => {
            let message = ConversationCommand::post_visitor_message(id(n), id(7), format!("msg {n}"), at(minute));
            if flag {
                message.with_client_message_id(format!("client-{small}"))
            } else {
                message
            }
        }
        2 => ConversationCommand::post_agent_message(id(n), by.agent, format!("msg {n}"), at(minute)),
        3 | 4 => ConversationCommand::post_bot_message(id(n), "builtin", format!("msg {n}"), at(minute)),
        5 => ConversationCommand::post_note(id(n), by.agent, format!("note {n}"), at(minute)),
        6 => {
            let status = [
                ConversationStatus::Unread,
                ConversationStatus::Unresolved,
                ConversationStatus::Done,
            ];
            ConversationCommand::ChangeStatus {
                status: status[usize::from(small % 3)],
                by,
                at: at(minute),
            }
        }
        7 => ConversationCommand::AssignToMe { by, at: at(minute) },
        8 => ConversationCommand::Assign {
            assignee: assignee(target),
            by,
            reassign: flag,
            at: at(minute),
        },
        9 => {
            let reason = if flag {
                AssignmentReason::VisitorTag
            } else {
                AssignmentReason::RoutingRule { rule_id: id(301) }
            };
            ConversationCommand::AssignAutomatically {
                assignee: assignee(target),
                reason,
                at: at(minute),
            }
        }
        10 => ConversationCommand::Unassign {
            by: initiator,
            at: at(minute),
        },
        11 | 12 => ConversationCommand::TakeOver { by, at: at(minute) },
        13 | 14 => {
            let reason = [
                ReleaseReason::AgentLeft,
                ReleaseReason::TimedOut,
                ReleaseReason::HandedBack,
            ][usize::from(small % 3)];
            ConversationCommand::Release {
                by: initiator,
                reason,
                at: at(minute),
            }
        }
        15 => ConversationCommand::WatchSilently {
            agent: by.agent,
            at: at(minute),
        },
        16 => ConversationCommand::RequestHuman {
            by: HumanRequester::Visitor,
            at: at(minute),
        },
        17 => ConversationCommand::SendSpecialRequest {
            request_id: id(u128::from(small)),
            kind: SpecialRequestKind::VideoCall,
            by: by.agent,
            at: at(minute),
        },
        18 => ConversationCommand::AnswerSpecialRequest {
            request_id: id(u128::from(small)),
            answer: if flag {
                SpecialRequestAnswer::Accepted
            } else {
                SpecialRequestAnswer::Declined
            },
            at: at(minute),
        },
        19 => ConversationCommand::ApplySla {
            policy_id: id(60),
            targets: vec![SlaDue {
                target: SlaTarget::FirstResponse,
                due_at: at(minute + i64::from(small)),
            }],
            at: at(minute),
        },
        20 => ConversationCommand::FulfilSla {
            target: SlaTarget::FirstResponse,
            at: at(minute),
        },
        _ => ConversationCommand::BreachSla {
            target: SlaTarget::FirstResponse,
            at: at(minute),
        },
    }
}

fn conversation_commands() -> impl Strategy<Value = Vec<ConversationCommand>> {
    prop::collection::vec((0u8..22, 0u8..4, 0u8..5, any::<bool>(), 0u8..4), 0..80).prop_map(|steps| {
        let open = ConversationCommand::open(id(1), id(2), id(7), Some(id(3)), Provider::WebChat, at(0));
        std::iter::once(open)
            .chain(
                steps
                    .into_iter()
                    .enumerate()
                    .map(|(step, args)| conversation_command(step + 1, args)),
            )
            .collect()
    })
}

/// Checks one event against the state it is applied to.
fn check_conversation_event(c: &OpenConversation, event: &ConversationEvent) -> Result<(), TestCaseError> {
    match event {
        ConversationEvent::MessagePosted(m) => {
            if let Author::Bot { .. } = m.author {
                prop_assert!(
                    c.taken_over_by.is_none(),
                    "the bot posted while {:?} held it",
                    c.taken_over_by
                );
            }
            if let Some(client_id) = &m.client_message_id {
                prop_assert!(
                    !c.client_message_ids.contains(client_id),
                    "client id {client_id} posted twice"
                );
            }
        }
        ConversationEvent::TakenOver(_) => prop_assert!(c.taken_over_by.is_none(), "two holders"),
        ConversationEvent::Released(r) => {
            prop_assert_eq!(Some(&r.agent), c.taken_over_by.as_ref());
            if let Some(by) = &r.by {
                prop_assert!(
                    by.id == r.agent.id || is_supervisor(by),
                    "{} released {}'s take-over",
                    by,
                    r.agent
                );
            }
        }
        ConversationEvent::Assigned(a) => {
            prop_assert_eq!(&a.previous, &c.assignee);
            if let Some(Assignee::Agent { agent: holder }) = &c.assignee {
                let by = a.by.as_ref();
                let allowed = by.is_some_and(|by| by.id == holder.id || is_supervisor(by));
                prop_assert!(allowed, "{:?} took a conversation from {}", by, holder);
            }
        }
        ConversationEvent::StatusChanged(s) => {
            prop_assert_eq!(s.from, c.status);
            prop_assert_ne!(s.from, s.to);
            if s.to == ConversationStatus::Done {
                prop_assert!(matches!(s.cause, StatusCause::Agent { .. }), "Done set implicitly");
            }
        }
        _ => {}
    }
    let payload = event.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded = ConversationEvent::decode(event.event_type(), event.schema_version(), &payload)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, event);
    Ok(())
}

/// Runs the commands, checking every rule, and returns every event produced.
fn run_conversation(commands: Vec<ConversationCommand>) -> Result<Vec<ConversationEvent>, TestCaseError> {
    let mut state = ConversationState::default();
    let mut history = Vec::new();
    for command in commands {
        let bot_while_held = matches!(
            &command,
            ConversationCommand::PostMessage {
                author: Author::Bot { .. },
                ..
            }
        ) && state.open().is_some_and(|c| c.taken_over_by.is_some());
        let visitor_message = matches!(
            &command,
            ConversationCommand::PostMessage {
                author: Author::Visitor { .. },
                ..
            }
        );
        let result = Conversation::decide(&state, command);
        if bot_while_held {
            prop_assert!(
                matches!(result, Err(ConversationError::BotPausedByTakeOver { .. })),
                "{result:?}"
            );
        }
        let Ok(events) = result else { continue };
        for event in &events {
            if let Some(c) = state.open() {
                check_conversation_event(c, event)?;
            }
            state = Conversation::evolve(state, event);
        }
        if visitor_message && !events.is_empty() {
            prop_assert_eq!(state.open().map(|c| c.status), Some(ConversationStatus::Unread));
        }
        history.extend(events);
    }
    let refolded = history.iter().fold(ConversationState::default(), Conversation::evolve);
    prop_assert_eq!(&refolded, &state, "folding the history again gives another state");
    Ok(history)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_conversation_commands_never_break_a_rule(commands in conversation_commands()) {
        let history = run_conversation(commands)?;
        let seen = visitor_transcript(&history);
        prop_assert!(seen.iter().all(|line| !line.internal && !line.body.starts_with("note")));
        let notes = history.iter().filter(|e| matches!(e, ConversationEvent::NotePosted(_))).count();
        prop_assert_eq!(transcript(&history, Audience::Team).len(), seen.len() + notes);
    }

    #[test]
    fn evolve_never_panics_on_conversation_events_in_any_order(
        events in conversation_commands()
            .prop_map(|commands| run_conversation(commands).unwrap_or_default())
            .prop_flat_map(|events| Just(events).prop_shuffle())
    ) {
        let _state = events.iter().fold(ConversationState::default(), Conversation::evolve);
    }
}

proptest! {
    #[test]
    fn client_message_ids_are_posted_at_most_once(ids in prop::collection::vec(0u8..5, 1..30)) {
        let mut state = Conversation::evolve(
            ConversationState::default(),
            &Conversation::decide(
                &ConversationState::default(),
                ConversationCommand::open(id(1), id(2), id(7), None, Provider::Api, at(0)),
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?[0],
        );
        let mut posted = HashSet::new();
        for (n, client) in ids.into_iter().enumerate() {
            let command = ConversationCommand::post_visitor_message(id(n as u128 + 10), id(7), "hi", at(1))
                .with_client_message_id(format!("c-{client}"));
            let events = Conversation::decide(&state, command).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(events.is_empty(), !posted.insert(client));
            state = events.iter().fold(state, Conversation::evolve);
        }
    }
}
