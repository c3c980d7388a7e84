//! Sessions: nothing happens at or after the maximum duration or after the
//! end; co-browsing needs a connected agent; requests are answered in time.

use livedesk_domain::session::*;
use livedesk_domain::{Aggregate, EventCodec};
use proptest::prelude::*;

use crate::{at, id, staff};

/// Session commands over random time steps; the session expires at minute
/// 60.
fn session_command(minute: i64, (kind, who, small): (u8, u8, u8)) -> SessionCommand {
    let agent = staff(who).agent;
    let code = if small == 0 {
        SessionCode::from_random(99)
    } else {
        SessionCode::from_random(42)
    };
    let request_id = id(u128::from(small % 2));
    match kind {
        0 | 1 => SessionCommand::ViewPage {
            path: format!("/page/{small}"),
            title: None,
            at: at(minute),
        },
        2 => SessionCommand::BecomeIdle { at: at(minute) },
        3 => SessionCommand::BecomeActive { at: at(minute) },
        4 => SessionCommand::ShareCode { at: at(minute) },
        5 => SessionCommand::ConnectByCode {
            code,
            agent,
            at: at(minute),
        },
        6 => SessionCommand::RequestConnection {
            request_id,
            agent,
            expires_at: at(minute + i64::from(small) + 1),
            at: at(minute),
        },
        7 => SessionCommand::AcceptConnection {
            request_id,
            at: at(minute),
        },
        8 => SessionCommand::DeclineConnection {
            request_id,
            at: at(minute),
        },
        9 => SessionCommand::ExpireConnection {
            request_id,
            at: at(minute),
        },
        10 | 11 => SessionCommand::StartCoBrowsing { agent, at: at(minute) },
        12 => SessionCommand::EndCoBrowsing { at: at(minute) },
        13 => SessionCommand::JoinTab {
            tab_id: format!("tab-{small}"),
            at: at(minute),
        },
        _ => {
            let reasons = [
                EndReason::Closed,
                EndReason::TimedOut,
                EndReason::MaxDurationReached,
                EndReason::Reset,
            ];
            SessionCommand::End {
                reason: reasons[usize::from(small % 4)],
                at: at(minute),
            }
        }
    }
}

fn session_commands() -> impl Strategy<Value = Vec<SessionCommand>> {
    prop::collection::vec((0i64..8, (0u8..15, 0u8..3, 0u8..4)), 0..40).prop_map(|steps| {
        let start = SessionCommand::Start {
            session_id: id(1),
            site_id: id(2),
            visitor_id: id(3),
            tab_id: "tab-0".into(),
            client: ClientInfo::default(),
            entry_path: "/".into(),
            referrer: None,
            code: SessionCode::from_random(42),
            max_duration_secs: 3_600,
            at: at(0),
        };
        let mut minute = 0;
        std::iter::once(start)
            .chain(steps.into_iter().map(|(step, args)| {
                minute += step;
                session_command(minute, args)
            }))
            .collect()
    })
}

fn run_session(commands: Vec<SessionCommand>) -> Result<Vec<SessionEvent>, TestCaseError> {
    let mut state = SessionState::default();
    let mut history = Vec::new();
    for command in commands {
        let was_ended = matches!(state, SessionState::Ended(_));
        let Ok(events) = Session::decide(&state, command) else {
            continue;
        };
        prop_assert!(!was_ended || events.is_empty(), "events after the end: {events:?}");
        for event in &events {
            if let SessionState::Live(s) = &state {
                match event {
                    SessionEvent::Ended(e) => prop_assert!(e.at <= s.expires_at),
                    SessionEvent::CoBrowsingEnded(e) => prop_assert!(e.at <= s.expires_at),
                    SessionEvent::CoBrowsingStarted(e) => prop_assert!(s.connected_agents.contains(&e.agent.id)),
                    SessionEvent::ConnectionAccepted(e) => {
                        let request = s.connection_requests.get(&e.request_id);
                        prop_assert!(request.is_some_and(|r| !r.closed && e.at < r.expires_at));
                    }
                    other => prop_assert!(other.at() < s.expires_at, "{other:?} after expiry"),
                }
            }
            let payload = event.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let decoded = SessionEvent::decode(event.event_type(), event.schema_version(), &payload)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&decoded, event);
            state = Session::evolve(state, event);
        }
        history.extend(events);
    }
    Ok(history)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_session_commands_never_outlive_the_maximum_duration_or_the_end(commands in session_commands()) {
        run_session(commands)?;
    }

    #[test]
    fn evolve_never_panics_on_session_events_in_any_order(
        events in session_commands()
            .prop_map(|commands| run_session(commands).unwrap_or_default())
            .prop_flat_map(|events| Just(events).prop_shuffle())
    ) {
        let _state = events.iter().fold(SessionState::default(), Session::evolve);
    }
}
