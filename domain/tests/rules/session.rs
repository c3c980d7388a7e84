use livedesk_domain::AgentRef;
use livedesk_domain::session::*;

use crate::given::{Scenario, at, given, given_no_events, id};

fn code() -> SessionCode {
    SessionCode::parse("7K3QXM").expect("a valid code")
}
fn ana() -> AgentRef {
    AgentRef::new(id(101), "Ana")
}
fn client() -> ClientInfo {
    ClientInfo {
        browser: "Firefox 131".into(),
        device: DeviceClass::Desktop,
        os: "Linux".into(),
        country: Some("SI".into()),
        languages: Vec::new(),
    }
}

/// Started at minute 0, expires at minute 60.
fn started() -> SessionEvent {
    SessionEvent::Started(SessionStarted {
        session_id: id(1),
        site_id: id(2),
        visitor_id: id(3),
        tab_id: "tab-1".into(),
        client: client(),
        entry_path: "/pricing".into(),
        referrer: None,
        code: code(),
        expires_at: at(60),
        at: at(0),
    })
}

fn live() -> Scenario<Session> {
    given([started()])
}

fn shared() -> SessionEvent {
    SessionEvent::CodeShared(SessionCodeShared {
        code: code(),
        at: at(1),
    })
}

fn connected() -> SessionEvent {
    SessionEvent::AgentConnectedByCode(AgentConnectedByCode {
        agent: ana(),
        at: at(2),
    })
}

fn view(minute: i64) -> SessionCommand {
    SessionCommand::ViewPage {
        path: "/docs".into(),
        title: Some("Docs".into()),
        at: at(minute),
    }
}

#[test]
fn a_session_started_now_expires_after_the_sites_maximum_duration() {
    given_no_events::<Session>()
        .when(SessionCommand::Start {
            session_id: id(1),
            site_id: id(2),
            visitor_id: id(3),
            tab_id: "tab-1".into(),
            client: client(),
            entry_path: "/pricing".into(),
            referrer: None,
            code: code(),
            max_duration_secs: 3_600,
            at: at(0),
        })
        .then([started()]);
}

#[test]
fn a_page_view_before_the_maximum_duration_is_recorded() {
    live().when(view(59)).then([SessionEvent::PageViewed(PageViewed {
        path: "/docs".into(),
        title: Some("Docs".into()),
        at: at(59),
    })]);
}

#[test]
fn a_command_at_the_maximum_duration_is_rejected() {
    live()
        .when(view(60))
        .then_error(SessionError::MaxDurationReached { expires_at: at(60) });
}

#[test]
fn ending_after_the_maximum_duration_records_that_it_expired_at_its_expiry_time() {
    live()
        .when(SessionCommand::End {
            reason: EndReason::Closed,
            at: at(75),
        })
        .then([SessionEvent::Ended(SessionEnded {
            reason: EndReason::MaxDurationReached,
            at: at(60),
        })]);
}

#[test]
fn ending_for_maximum_duration_before_it_is_reached_is_rejected() {
    live()
        .when(SessionCommand::End {
            reason: EndReason::MaxDurationReached,
            at: at(30),
        })
        .then_error(SessionError::MaxDurationNotReached { expires_at: at(60) });
}

#[test]
fn commands_on_an_ended_session_are_rejected() {
    let ended = SessionEvent::Ended(SessionEnded {
        reason: EndReason::Closed,
        at: at(5),
    });
    given([started(), ended.clone()])
        .when(view(6))
        .then_error(SessionError::Ended {
            reason: EndReason::Closed,
        });
    given([started(), ended])
        .when(SessionCommand::End {
            reason: EndReason::TimedOut,
            at: at(7),
        })
        .then_error(SessionError::Ended {
            reason: EndReason::Closed,
        });
}

#[test]
fn idle_and_active_are_recorded_only_when_they_change() {
    let state = live()
        .when(SessionCommand::BecomeIdle { at: at(1) })
        .then([SessionEvent::BecameIdle(SessionBecameIdle { at: at(1) })]);
    assert!(matches!(&state, SessionState::Live(s) if s.idle));
    live().when(SessionCommand::BecomeActive { at: at(1) }).then_nothing();
}

#[test]
fn a_second_tab_joins_a_kept_session() {
    live()
        .when(SessionCommand::JoinTab {
            tab_id: "tab-2".into(),
            at: at(3),
        })
        .then([SessionEvent::TabJoined(SessionTabJoined {
            tab_id: "tab-2".into(),
            at: at(3),
        })]);
    live()
        .when(SessionCommand::JoinTab {
            tab_id: "tab-1".into(),
            at: at(3),
        })
        .then_nothing();
}

#[test]
fn an_agent_cannot_connect_by_code_before_the_visitor_shares_it() {
    live()
        .when(SessionCommand::ConnectByCode {
            code: code(),
            agent: ana(),
            at: at(2),
        })
        .then_error(SessionError::CodeNotShared);
}

#[test]
fn an_agent_connects_with_the_shared_code_typed_loosely() {
    let typed = SessionCode::parse("7k3-qxm").expect("a typed code");
    given([started(), shared()])
        .when(SessionCommand::ConnectByCode {
            code: typed,
            agent: ana(),
            at: at(2),
        })
        .then([connected()]);
}

#[test]
fn a_wrong_code_does_not_connect() {
    let wrong = SessionCode::parse("AAAAAA").expect("a valid code");
    given([started(), shared()])
        .when(SessionCommand::ConnectByCode {
            code: wrong,
            agent: ana(),
            at: at(2),
        })
        .then_error(SessionError::WrongCode);
}

fn requested() -> SessionEvent {
    SessionEvent::ConnectionRequested(ConnectionRequested {
        request_id: id(40),
        agent: ana(),
        expires_at: at(3),
        at: at(1),
    })
}

#[test]
fn an_accepted_connection_request_connects_the_agent() {
    let state = given([started(), requested()])
        .when(SessionCommand::AcceptConnection {
            request_id: id(40),
            at: at(2),
        })
        .then([SessionEvent::ConnectionAccepted(ConnectionAccepted {
            request_id: id(40),
            agent: ana(),
            at: at(2),
        })]);
    assert!(matches!(&state, SessionState::Live(s) if s.connected_agents.contains(&ana().id)));
}

#[test]
fn a_connection_request_cannot_be_answered_after_it_lapsed() {
    given([started(), requested()])
        .when(SessionCommand::AcceptConnection {
            request_id: id(40),
            at: at(3),
        })
        .then_error(SessionError::ConnectionRequestExpired(id(40)));
}

#[test]
fn a_connection_request_expires_only_after_its_time_and_only_once() {
    given([started(), requested()])
        .when(SessionCommand::ExpireConnection {
            request_id: id(40),
            at: at(2),
        })
        .then_error(SessionError::ConnectionRequestNotYetExpired {
            request_id: id(40),
            expires_at: at(3),
        });
    let expired = SessionEvent::ConnectionExpired(ConnectionExpired {
        request_id: id(40),
        at: at(4),
    });
    given([started(), requested()])
        .when(SessionCommand::ExpireConnection {
            request_id: id(40),
            at: at(4),
        })
        .then([expired.clone()]);
    given([started(), requested(), expired])
        .when(SessionCommand::DeclineConnection {
            request_id: id(40),
            at: at(5),
        })
        .then_error(SessionError::ConnectionRequestClosed(id(40)));
}

#[test]
fn co_browsing_needs_a_connected_agent() {
    live()
        .when(SessionCommand::StartCoBrowsing {
            agent: ana(),
            at: at(3),
        })
        .then_error(SessionError::AgentNotConnected(ana().id));
}

#[test]
fn ending_a_session_ends_its_co_browsing_first() {
    let co_browsing = SessionEvent::CoBrowsingStarted(CoBrowsingStarted {
        agent: ana(),
        at: at(3),
    });
    given([started(), shared(), connected(), co_browsing])
        .when(SessionCommand::End {
            reason: EndReason::Reset,
            at: at(9),
        })
        .then([
            SessionEvent::CoBrowsingEnded(CoBrowsingEnded {
                agent: ana(),
                at: at(9),
            }),
            SessionEvent::Ended(SessionEnded {
                reason: EndReason::Reset,
                at: at(9),
            }),
        ]);
}
