//! What happens in a browsing session. Stored in `session-{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::code::SessionCode;
use crate::codec::event_codec;
use crate::ids::{RequestId, SessionId, SiteId, VisitorId};
use crate::people::AgentRef;

/// The kind of device a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// A desktop or laptop.
    Desktop,
    /// A phone.
    Mobile,
    /// A tablet.
    Tablet,
    /// Not recognised.
    #[default]
    Unknown,
}

/// What the widget API learned about the visitor's browser.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientInfo {
    /// Browser name and version ("Firefox 131").
    pub browser: String,
    /// Device class.
    pub device: DeviceClass,
    /// Operating system ("Windows 11").
    pub os: String,
    /// ISO 3166-1 alpha-2 country, when known.
    pub country: Option<String>,
    /// The browser's languages, preferred first (BCP 47 tags from
    /// `Accept-Language`); empty when unknown (and in events recorded
    /// before languages were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The tab (the last tab, with "keep session") was closed.
    Closed,
    /// No sign of life for the site's leave timeout.
    TimedOut,
    /// The site's maximum session duration (1 hour by default) was reached.
    MaxDurationReached,
    /// The visitor logged out (`reset`).
    Reset,
}

/// Everything that can happen in a browsing session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// See [`SessionStarted`].
    Started(SessionStarted),
    /// See [`SessionTabJoined`].
    TabJoined(SessionTabJoined),
    /// See [`PageViewed`].
    PageViewed(PageViewed),
    /// See [`SessionBecameIdle`].
    BecameIdle(SessionBecameIdle),
    /// See [`SessionBecameActive`].
    BecameActive(SessionBecameActive),
    /// See [`SessionCodeShared`].
    CodeShared(SessionCodeShared),
    /// See [`AgentConnectedByCode`].
    AgentConnectedByCode(AgentConnectedByCode),
    /// See [`ConnectionRequested`].
    ConnectionRequested(ConnectionRequested),
    /// See [`ConnectionAccepted`].
    ConnectionAccepted(ConnectionAccepted),
    /// See [`ConnectionDeclined`].
    ConnectionDeclined(ConnectionDeclined),
    /// See [`ConnectionExpired`].
    ConnectionExpired(ConnectionExpired),
    /// See [`CoBrowsingStarted`].
    CoBrowsingStarted(CoBrowsingStarted),
    /// See [`CoBrowsingEnded`].
    CoBrowsingEnded(CoBrowsingEnded),
    /// See [`SessionEnded`].
    Ended(SessionEnded),
}

event_codec! {
    SessionEvent {
        Started(SessionStarted): "SessionStarted", v = 1;
        TabJoined(SessionTabJoined): "SessionTabJoined", v = 1;
        PageViewed(PageViewed): "PageViewed", v = 1;
        BecameIdle(SessionBecameIdle): "SessionBecameIdle", v = 1;
        BecameActive(SessionBecameActive): "SessionBecameActive", v = 1;
        CodeShared(SessionCodeShared): "SessionCodeShared", v = 1;
        AgentConnectedByCode(AgentConnectedByCode): "AgentConnectedByCode", v = 1;
        ConnectionRequested(ConnectionRequested): "ConnectionRequested", v = 1;
        ConnectionAccepted(ConnectionAccepted): "ConnectionAccepted", v = 1;
        ConnectionDeclined(ConnectionDeclined): "ConnectionDeclined", v = 1;
        ConnectionExpired(ConnectionExpired): "ConnectionExpired", v = 1;
        CoBrowsingStarted(CoBrowsingStarted): "CoBrowsingStarted", v = 1;
        CoBrowsingEnded(CoBrowsingEnded): "CoBrowsingEnded", v = 1;
        Ended(SessionEnded): "SessionEnded", v = 1;
    }
}

impl SessionEvent {
    /// When it happened (the time the command carried).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Started(e) => e.at,
            Self::TabJoined(e) => e.at,
            Self::PageViewed(e) => e.at,
            Self::BecameIdle(e) => e.at,
            Self::BecameActive(e) => e.at,
            Self::CodeShared(e) => e.at,
            Self::AgentConnectedByCode(e) => e.at,
            Self::ConnectionRequested(e) => e.at,
            Self::ConnectionAccepted(e) => e.at,
            Self::ConnectionDeclined(e) => e.at,
            Self::ConnectionExpired(e) => e.at,
            Self::CoBrowsingStarted(e) => e.at,
            Self::CoBrowsingEnded(e) => e.at,
            Self::Ended(e) => e.at,
        }
    }
}

/// A visitor opened the site in a tab: a Live View row appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStarted {
    /// This session.
    pub session_id: SessionId,
    /// The site.
    pub site_id: SiteId,
    /// The visitor identity.
    pub visitor_id: VisitorId,
    /// The browser tab that started it.
    pub tab_id: String,
    /// Browser, device, OS, country.
    pub client: ClientInfo,
    /// The first page's path.
    pub entry_path: String,
    /// Where the visitor came from.
    pub referrer: Option<String>,
    /// The code the visitor may share for "connect by code".
    pub code: SessionCode,
    /// When the session ends at the latest (start + the site's maximum
    /// duration).
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Another tab joined the session (the site keeps sessions across tabs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTabJoined {
    /// The new tab.
    pub tab_id: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor went to a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageViewed {
    /// Path and query.
    pub path: String,
    /// The page title.
    pub title: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The tab was hidden: the visitor is doing something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBecameIdle {
    /// When.
    pub at: DateTime<Utc>,
}

/// The tab is visible again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBecameActive {
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor opted in to "connect by code" and was shown the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCodeShared {
    /// The code shown.
    pub code: SessionCode,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent typed the shared code and connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConnectedByCode {
    /// Who connected.
    pub agent: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// An agent asked the visitor to let them connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRequested {
    /// This request.
    pub request_id: RequestId,
    /// Who asks.
    pub agent: AgentRef,
    /// When the request lapses unanswered.
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor accepted; the agent is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionAccepted {
    /// The request.
    pub request_id: RequestId,
    /// The agent now connected.
    pub agent: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDeclined {
    /// The request.
    pub request_id: RequestId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Nobody answered before the request lapsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionExpired {
    /// The request.
    pub request_id: RequestId,
    /// When recorded.
    pub at: DateTime<Utc>,
}

/// A connected agent started co-browsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoBrowsingStarted {
    /// Who co-browses.
    pub agent: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// Co-browsing stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoBrowsingEnded {
    /// Who was co-browsing.
    pub agent: AgentRef,
    /// When.
    pub at: DateTime<Utc>,
}

/// The session is over: the Live View row goes away. Nothing happens in the
/// session afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnded {
    /// Why.
    pub reason: EndReason,
    /// When (for [`EndReason::MaxDurationReached`], the expiry time).
    pub at: DateTime<Utc>,
}
