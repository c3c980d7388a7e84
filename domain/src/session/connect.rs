//! How agents get into a session: connect by code, connection requests,
//! and co-browsing.

use chrono::{DateTime, Utc};

use super::code::SessionCode;
use super::decide::Decision;
use super::error::SessionError;
use super::event::{
    AgentConnectedByCode, CoBrowsingStarted, ConnectionAccepted, ConnectionDeclined, ConnectionExpired,
};
use super::event::{ConnectionRequested, SessionEvent};
use super::state::{ConnectionRequest, LiveSession};
use crate::ids::RequestId;
use crate::limits::InputError;
use crate::people::AgentRef;

/// Only after the visitor shared the code, and only with that code.
pub(super) fn by_code(s: &LiveSession, code: SessionCode, agent: AgentRef, at: DateTime<Utc>) -> Decision {
    if !s.code_shared {
        return Err(SessionError::CodeNotShared);
    }
    if code != s.code {
        return Err(SessionError::WrongCode);
    }
    if s.connected_agents.contains(&agent.id) {
        return Ok(Vec::new());
    }
    Ok(vec![SessionEvent::AgentConnectedByCode(AgentConnectedByCode {
        agent,
        at,
    })])
}

pub(super) fn request(
    s: &LiveSession,
    request_id: RequestId,
    agent: AgentRef,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Decision {
    if s.connection_requests.contains_key(&request_id) {
        return Err(SessionError::DuplicateConnectionRequest(request_id));
    }
    if expires_at <= at {
        return Err(InputError::Invalid {
            field: "expires_at",
            reason: "must be after the request",
        }
        .into());
    }
    Ok(vec![SessionEvent::ConnectionRequested(ConnectionRequested {
        request_id,
        agent,
        expires_at,
        at,
    })])
}

/// Accepting connects the agent; only an open request, before it lapses.
pub(super) fn accept(s: &LiveSession, request_id: RequestId, at: DateTime<Utc>) -> Decision {
    let request = answerable(s, request_id, at)?;
    let agent = request.agent.clone();
    Ok(vec![SessionEvent::ConnectionAccepted(ConnectionAccepted {
        request_id,
        agent,
        at,
    })])
}

pub(super) fn decline(s: &LiveSession, request_id: RequestId, at: DateTime<Utc>) -> Decision {
    answerable(s, request_id, at)?;
    Ok(vec![SessionEvent::ConnectionDeclined(ConnectionDeclined {
        request_id,
        at,
    })])
}

/// Livedesk records a lapse only at or after the request's expiry.
pub(super) fn expire(s: &LiveSession, request_id: RequestId, at: DateTime<Utc>) -> Decision {
    let request = open_request(s, request_id)?;
    if at < request.expires_at {
        let expires_at = request.expires_at;
        return Err(SessionError::ConnectionRequestNotYetExpired { request_id, expires_at });
    }
    Ok(vec![SessionEvent::ConnectionExpired(ConnectionExpired {
        request_id,
        at,
    })])
}

/// Only a connected agent, and one at a time.
pub(super) fn start_co_browsing(s: &LiveSession, agent: AgentRef, at: DateTime<Utc>) -> Decision {
    if !s.connected_agents.contains(&agent.id) {
        return Err(SessionError::AgentNotConnected(agent.id));
    }
    match &s.co_browsing {
        Some(current) if current.id == agent.id => Ok(Vec::new()),
        Some(current) => Err(SessionError::CoBrowsingInProgress { with: current.clone() }),
        None => Ok(vec![SessionEvent::CoBrowsingStarted(CoBrowsingStarted { agent, at })]),
    }
}

fn answerable(s: &LiveSession, request_id: RequestId, at: DateTime<Utc>) -> Result<&ConnectionRequest, SessionError> {
    let request = open_request(s, request_id)?;
    if at >= request.expires_at {
        return Err(SessionError::ConnectionRequestExpired(request_id));
    }
    Ok(request)
}

fn open_request(s: &LiveSession, request_id: RequestId) -> Result<&ConnectionRequest, SessionError> {
    match s.connection_requests.get(&request_id) {
        None => Err(SessionError::UnknownConnectionRequest(request_id)),
        Some(request) if request.closed => Err(SessionError::ConnectionRequestClosed(request_id)),
        Some(request) => Ok(request),
    }
}
