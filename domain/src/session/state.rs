//! A session folded from its events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::code::SessionCode;
use super::event::{ClientInfo, EndReason, SessionEvent};
use crate::ids::{AgentId, RequestId, SessionId, SiteId, VisitorId};
use crate::people::AgentRef;

/// The lifecycle of a session: not started, live, ended (for good).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SessionState {
    /// No events yet.
    #[default]
    NotStarted,
    /// On the Live View; see [`LiveSession`].
    Live(Box<LiveSession>),
    /// Over; see [`EndedSession`].
    Ended(EndedSession),
}

/// What decisions about a live session need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSession {
    /// This session.
    pub id: SessionId,
    /// The site.
    pub site_id: SiteId,
    /// The visitor identity.
    pub visitor_id: VisitorId,
    /// Browser, device, OS, country.
    pub client: ClientInfo,
    /// The code for "connect by code".
    pub code: SessionCode,
    /// Whether the visitor shared the code.
    pub code_shared: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The tabs in it.
    pub tabs: BTreeSet<String>,
    /// The current page's path.
    pub current_path: String,
    /// The current page's title.
    pub current_title: Option<String>,
    /// Whether the tab is hidden.
    pub idle: bool,
    /// When the visitor last did something.
    pub last_activity_at: DateTime<Utc>,
    /// Pages viewed, the entry page included.
    pub page_views: u64,
    /// Agents connected (by code or accepted request).
    pub connected_agents: BTreeSet<AgentId>,
    /// Connection requests and whether they are still open.
    pub connection_requests: BTreeMap<RequestId, ConnectionRequest>,
    /// The agent co-browsing, if any.
    pub co_browsing: Option<AgentRef>,
}

/// A connection request an agent sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// Who asked.
    pub agent: AgentRef,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
    /// Whether it was accepted, declined or expired.
    pub closed: bool,
}

/// What remains known of an ended session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    /// This session.
    pub id: SessionId,
    /// The site.
    pub site_id: SiteId,
    /// The visitor identity.
    pub visitor_id: VisitorId,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// Why.
    pub reason: EndReason,
}

/// Folds one event. Events that do not fit the state leave it unchanged.
pub(super) fn evolve(state: SessionState, event: &SessionEvent) -> SessionState {
    match (state, event) {
        (SessionState::NotStarted, SessionEvent::Started(e)) => SessionState::Live(Box::new(LiveSession {
            id: e.session_id,
            site_id: e.site_id,
            visitor_id: e.visitor_id,
            client: e.client.clone(),
            code: e.code.clone(),
            code_shared: false,
            started_at: e.at,
            expires_at: e.expires_at,
            tabs: BTreeSet::from([e.tab_id.clone()]),
            current_path: e.entry_path.clone(),
            current_title: None,
            idle: false,
            last_activity_at: e.at,
            page_views: 1,
            connected_agents: BTreeSet::new(),
            connection_requests: BTreeMap::new(),
            co_browsing: None,
        })),
        (SessionState::Live(s), SessionEvent::Ended(e)) => SessionState::Ended(EndedSession {
            id: s.id,
            site_id: s.site_id,
            visitor_id: s.visitor_id,
            started_at: s.started_at,
            ended_at: e.at,
            reason: e.reason,
        }),
        (SessionState::Live(mut s), event) => {
            s.apply(event);
            SessionState::Live(s)
        }
        (state, _) => state,
    }
}

impl LiveSession {
    fn apply(&mut self, event: &SessionEvent) {
        match event {
            SessionEvent::Started(_) | SessionEvent::Ended(_) => {}
            SessionEvent::TabJoined(e) => {
                self.tabs.insert(e.tab_id.clone());
                self.last_activity_at = e.at;
            }
            SessionEvent::PageViewed(e) => {
                self.current_path.clone_from(&e.path);
                self.current_title.clone_from(&e.title);
                self.page_views += 1;
                self.last_activity_at = e.at;
            }
            SessionEvent::BecameIdle(_) => self.idle = true,
            SessionEvent::BecameActive(e) => {
                self.idle = false;
                self.last_activity_at = e.at;
            }
            SessionEvent::CodeShared(_) => self.code_shared = true,
            SessionEvent::AgentConnectedByCode(e) => {
                self.connected_agents.insert(e.agent.id);
            }
            SessionEvent::ConnectionRequested(e) => {
                let request = ConnectionRequest {
                    agent: e.agent.clone(),
                    expires_at: e.expires_at,
                    closed: false,
                };
                self.connection_requests.insert(e.request_id, request);
            }
            SessionEvent::ConnectionAccepted(e) => {
                self.close_request(e.request_id);
                self.connected_agents.insert(e.agent.id);
            }
            SessionEvent::ConnectionDeclined(e) => self.close_request(e.request_id),
            SessionEvent::ConnectionExpired(e) => self.close_request(e.request_id),
            SessionEvent::CoBrowsingStarted(e) => self.co_browsing = Some(e.agent.clone()),
            SessionEvent::CoBrowsingEnded(_) => self.co_browsing = None,
        }
    }

    fn close_request(&mut self, id: RequestId) {
        if let Some(request) = self.connection_requests.get_mut(&id) {
            request.closed = true;
        }
    }
}
