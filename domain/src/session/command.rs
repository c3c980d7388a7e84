//! What the widget, agents and Livedesk's sweeps ask of a session.

use chrono::{DateTime, Utc};

use super::code::SessionCode;
use super::event::{ClientInfo, EndReason};
use crate::ids::{RequestId, SessionId, SiteId, VisitorId};
use crate::people::AgentRef;

/// A request to change a session. Every command carries its time (`at`).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Start a session in a tab.
    Start {
        /// The new session.
        session_id: SessionId,
        /// The site.
        site_id: SiteId,
        /// The visitor identity.
        visitor_id: VisitorId,
        /// The tab.
        tab_id: String,
        /// Browser, device, OS, country.
        client: ClientInfo,
        /// The first page's path.
        entry_path: String,
        /// Where the visitor came from.
        referrer: Option<String>,
        /// A fresh code (see [`SessionCode::from_random`]).
        code: SessionCode,
        /// The site's maximum session duration in seconds (3600 by default).
        max_duration_secs: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// Another tab joins (the site keeps sessions across tabs).
    JoinTab {
        /// The tab.
        tab_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor went to a page.
    ViewPage {
        /// Path and query.
        path: String,
        /// The page title.
        title: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The tab was hidden.
    BecomeIdle {
        /// When.
        at: DateTime<Utc>,
    },
    /// The tab is visible again.
    BecomeActive {
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor opts in to "connect by code".
    ShareCode {
        /// When.
        at: DateTime<Utc>,
    },
    /// An agent connects with the code the visitor read out.
    ConnectByCode {
        /// The code as typed.
        code: SessionCode,
        /// Who connects.
        agent: AgentRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// An agent asks the visitor to let them connect.
    RequestConnection {
        /// The new request.
        request_id: RequestId,
        /// Who asks.
        agent: AgentRef,
        /// When the request lapses; after `at`.
        expires_at: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor accepts a connection request.
    AcceptConnection {
        /// The request.
        request_id: RequestId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor declines a connection request.
    DeclineConnection {
        /// The request.
        request_id: RequestId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Livedesk records that a request lapsed.
    ExpireConnection {
        /// The request.
        request_id: RequestId,
        /// When; at or after the request's expiry.
        at: DateTime<Utc>,
    },
    /// A connected agent starts co-browsing.
    StartCoBrowsing {
        /// Who.
        agent: AgentRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// Co-browsing stops.
    EndCoBrowsing {
        /// When.
        at: DateTime<Utc>,
    },
    /// End the session.
    End {
        /// Why.
        reason: EndReason,
        /// When.
        at: DateTime<Utc>,
    },
}

impl SessionCommand {
    /// When the command happens.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Start { at, .. }
            | Self::JoinTab { at, .. }
            | Self::ViewPage { at, .. }
            | Self::BecomeIdle { at }
            | Self::BecomeActive { at }
            | Self::ShareCode { at }
            | Self::ConnectByCode { at, .. }
            | Self::RequestConnection { at, .. }
            | Self::AcceptConnection { at, .. }
            | Self::DeclineConnection { at, .. }
            | Self::ExpireConnection { at, .. }
            | Self::StartCoBrowsing { at, .. }
            | Self::EndCoBrowsing { at }
            | Self::End { at, .. } => *at,
        }
    }
}
