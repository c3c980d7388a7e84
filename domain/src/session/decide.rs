//! Which events a session command produces.
//!
//! The maximum duration: a session's `expires_at` is fixed when it starts.
//! A command at or after it is rejected with
//! [`SessionError::MaxDurationReached`] (the caller starts a new session),
//! except `End`, which then records the end as
//! [`EndReason::MaxDurationReached`] at the expiry time, whatever reason it
//! gave: that is what happened. Ending for maximum duration earlier is
//! rejected. Commands on an ended session are rejected.

use chrono::{DateTime, TimeDelta, Utc};

use super::command::SessionCommand as Cmd;
use super::connect;
use super::error::SessionError;
use super::event::{
    CoBrowsingEnded, EndReason, PageViewed, SessionBecameActive, SessionBecameIdle, SessionCodeShared, SessionEnded,
    SessionEvent, SessionStarted, SessionTabJoined,
};
use super::state::{LiveSession, SessionState};
use crate::limits::{self, InputError, MAX_PAGE_CHARS, MAX_TAG_VALUE_CHARS};

pub(super) type Decision = Result<Vec<SessionEvent>, SessionError>;

pub(super) fn decide(state: &SessionState, command: Cmd) -> Decision {
    let s = match state {
        SessionState::Live(s) => s.as_ref(),
        SessionState::Ended(ended) => return Err(SessionError::Ended { reason: ended.reason }),
        SessionState::NotStarted => {
            return match command {
                Cmd::Start {
                    session_id,
                    site_id,
                    visitor_id,
                    tab_id,
                    client,
                    entry_path,
                    referrer,
                    code,
                    max_duration_secs,
                    at,
                } => {
                    let expires_at = expiry(at, max_duration_secs)?;
                    start(SessionStarted {
                        session_id,
                        site_id,
                        visitor_id,
                        tab_id,
                        client,
                        entry_path,
                        referrer,
                        code,
                        expires_at,
                        at,
                    })
                }
                _ => Err(SessionError::NotStarted),
            };
        }
    };
    let at = command.at();
    match command {
        Cmd::Start { .. } => Err(SessionError::AlreadyStarted),
        Cmd::End { reason, at } => end(s, reason, at),
        _ if at >= s.expires_at => Err(SessionError::MaxDurationReached {
            expires_at: s.expires_at,
        }),
        Cmd::JoinTab { tab_id, at } => {
            limits::required("tab id", &tab_id, MAX_TAG_VALUE_CHARS)?;
            if s.tabs.contains(&tab_id) {
                return Ok(Vec::new());
            }
            Ok(vec![SessionEvent::TabJoined(SessionTabJoined { tab_id, at })])
        }
        Cmd::ViewPage { path, title, at } => {
            limits::required("page path", &path, MAX_PAGE_CHARS)?;
            limits::at_most("page title", title.as_deref().unwrap_or_default(), MAX_PAGE_CHARS)?;
            Ok(vec![SessionEvent::PageViewed(PageViewed { path, title, at })])
        }
        Cmd::BecomeIdle { at } if !s.idle => Ok(vec![SessionEvent::BecameIdle(SessionBecameIdle { at })]),
        Cmd::BecomeActive { at } if s.idle => Ok(vec![SessionEvent::BecameActive(SessionBecameActive { at })]),
        Cmd::BecomeIdle { .. } | Cmd::BecomeActive { .. } => Ok(Vec::new()),
        Cmd::ShareCode { at } if !s.code_shared => Ok(vec![SessionEvent::CodeShared(SessionCodeShared {
            code: s.code.clone(),
            at,
        })]),
        Cmd::ShareCode { .. } => Ok(Vec::new()),
        Cmd::ConnectByCode { code, agent, at } => connect::by_code(s, code, agent, at),
        Cmd::RequestConnection {
            request_id,
            agent,
            expires_at,
            at,
        } => connect::request(s, request_id, agent, expires_at, at),
        Cmd::AcceptConnection { request_id, at } => connect::accept(s, request_id, at),
        Cmd::DeclineConnection { request_id, at } => connect::decline(s, request_id, at),
        Cmd::ExpireConnection { request_id, at } => connect::expire(s, request_id, at),
        Cmd::StartCoBrowsing { agent, at } => connect::start_co_browsing(s, agent, at),
        Cmd::EndCoBrowsing { at } => Ok(s
            .co_browsing
            .clone()
            .map(|agent| SessionEvent::CoBrowsingEnded(CoBrowsingEnded { agent, at }))
            .into_iter()
            .collect()),
    }
}

/// When a session started `at` expires.
fn expiry(at: DateTime<Utc>, max_duration_secs: u32) -> Result<DateTime<Utc>, SessionError> {
    if max_duration_secs == 0 {
        return Err(InputError::Invalid {
            field: "max_duration_secs",
            reason: "must be positive",
        }
        .into());
    }
    Ok(at + TimeDelta::seconds(i64::from(max_duration_secs)))
}

fn start(started: SessionStarted) -> Decision {
    limits::required("tab id", &started.tab_id, MAX_TAG_VALUE_CHARS)?;
    limits::at_most("browser", &started.client.browser, MAX_TAG_VALUE_CHARS)?;
    limits::at_most("operating system", &started.client.os, MAX_TAG_VALUE_CHARS)?;
    limits::at_most("country", started.client.country.as_deref().unwrap_or_default(), 2)?;
    limits::required("entry path", &started.entry_path, MAX_PAGE_CHARS)?;
    limits::at_most(
        "referrer",
        started.referrer.as_deref().unwrap_or_default(),
        MAX_PAGE_CHARS,
    )?;
    Ok(vec![SessionEvent::Started(started)])
}

/// Ends the session, closing co-browsing first so readers of either event
/// alone see it stop.
fn end(s: &LiveSession, reason: EndReason, at: DateTime<Utc>) -> Decision {
    let (reason, at) = if at >= s.expires_at {
        (EndReason::MaxDurationReached, s.expires_at)
    } else if reason == EndReason::MaxDurationReached {
        return Err(SessionError::MaxDurationNotReached {
            expires_at: s.expires_at,
        });
    } else {
        (reason, at)
    };
    let mut events = Vec::new();
    if let Some(agent) = s.co_browsing.clone() {
        events.push(SessionEvent::CoBrowsingEnded(CoBrowsingEnded { agent, at }));
    }
    events.push(SessionEvent::Ended(SessionEnded { reason, at }));
    Ok(events)
}
